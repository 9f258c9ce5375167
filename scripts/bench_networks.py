"""Benchmark figures (printed, never asserted): the engine against pyAgrum's LazyPropagation on pgmpy's networks.

Run with `.venv/bin/python scripts/bench_networks.py [NAME:ENGINE_ROWS:PYAGRUM_ROWS ...]`; with no argument, the
networks of the README's table. For each network: the engine's build time, its first call (build and plans) and
its later calls on ENGINE_ROWS cases, and pyAgrum one case at a time on the first PYAGRUM_ROWS of them, its junction
tree built beforehand; every node's marginal in both, medians of --runs runs (default 3), side by side in one
process. The cases are drawn as in
tests/test_standard_networks.py: forward from the network, each node then kept as evidence with probability 0.3.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import batch_marginals
from model.inference.engine import Engine
from tests.test_standard_networks import agrum_network, drawn_cases, gum, network

DEFAULT = [
    "alarm:2000:300",
    "hepar2:2000:200",
    "win95pts:2000:200",
    "pathfinder:1000:100",
    "andes:500:50",
    "pigs:200:20",
    "water:100:20",
    "mildew:50:10",
    "munin1:4:4",
]


def rate(rows: float, seconds: float) -> str:
    per_second = rows / seconds
    return f"{per_second:,.0f}" if per_second >= 10 else f"{per_second:.2f}"


def median_seconds(run: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("networks", nargs="*", default=DEFAULT, help="NAME:ENGINE_ROWS:PYAGRUM_ROWS")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print("| network (nodes) | engine build | engine first call | engine rows/s | pyAgrum rows/s |")
    print("|---|---|---|---|---|")
    for spec in args.networks:
        name, engine_rows, agrum_rows = spec.split(":")
        model = network(name)
        build = median_seconds(lambda model=model: Engine(model), args.runs)
        cases = drawn_cases(model, int(engine_rows), seed=1)
        fresh = model.copy()  # a network of its own, so that the first call builds its engine
        start = time.perf_counter()
        batch_marginals(fresh, cases)
        first = time.perf_counter() - start
        again = median_seconds(lambda fresh=fresh, cases=cases: batch_marginals(fresh, cases), args.runs)
        seen = [
            {node: state for node, state in case.items() if isinstance(state, str)}
            for case in cases.head(int(agrum_rows)).to_dict("records")
        ]
        bn = agrum_network(model)
        nodes = [str(cpd.variable) for cpd in model.get_cpds()]

        inference = gum.LazyPropagation(bn)
        inference.makeInference()  # its junction tree built once, as the engine's plans are before `again`

        def agrum(
            inference: gum.LazyPropagation = inference, seen: list[dict[str, str]] = seen, nodes: list[str] = nodes
        ) -> None:
            for evidence in seen:
                inference.eraseAllEvidence()
                inference.setEvidence(evidence)
                inference.makeInference()
                for node in nodes:
                    inference.posterior(node)

        other = median_seconds(agrum, args.runs)
        print(
            f"| {name} ({len(nodes)}) | {build:.2f} s | {first:.2f} s | {rate(int(engine_rows), again)} "
            f"| {rate(len(seen), other)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
