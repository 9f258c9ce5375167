"""Benchmark figures (printed, never asserted): the engine against pyAgrum's junction trees (LazyPropagation and
Shafer-Shenoy) and pgmpy's variable elimination on pgmpy's networks.

Run with `.venv/bin/python scripts/bench_networks.py [NAME:ENGINE_ROWS:PYAGRUM_ROWS[:VE_ROWS] ...]`; with no
argument, the networks of the README's table. For each network: the engine's build time, its first call (build and
plans) and its later calls on ENGINE_ROWS cases; pyAgrum's LazyPropagation and Shafer-Shenoy one case at a time on
the first PYAGRUM_ROWS of them, their junction trees built beforehand; and pgmpy's VariableElimination on the first
VE_ROWS (default PYAGRUM_ROWS; 0 skips it), asked as model.inference.reference.reference_marginals asks it. A first
call's counterpart for pyAgrum is its build: LazyPropagation's junction tree and one propagation without evidence.
Every node's marginal in all of them, medians of --runs runs (default 3), side by side in one process. The cases are
drawn as in tests/test_standard_networks.py: forward from the network, each node then kept as evidence with
probability 0.3.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import batch_marginals
from model.inference.engine import Engine
from model.inference.reference import reference_marginals
from model.network.build import eliminator
from tests.test_standard_networks import agrum_network, agrum_posteriors, drawn_cases, gum, network

DEFAULT = [  # the README's table: every network pgmpy ships that pyAgrum solves here, in about ten minutes
    "asia:2000:300:20",
    "child:2000:300:20",
    "insurance:2000:300:10",
    "alarm:2000:300:10",
    "hailfinder:2000:200:10",
    "hepar2:2000:200:10",
    "win95pts:1000:100:5",
    "barley:100:20:0",
    "water:100:20:1",
    "mildew:50:10:1",
    "pathfinder:500:50:2",
    "andes:300:30:1",
    "diabetes:100:20:0",
    "pigs:200:20:0",
    "munin1:40:8:0",
    "munin:20:10:0",
    "munin2:40:10:0",
    "munin3:40:10:0",
    "munin4:40:10:0",
]


def rate(per_second: float) -> str:
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
    print(
        "| network (nodes) | engine build | engine first call | LazyPropagation build | engine rows/s "
        "| LazyPropagation rows/s | Shafer-Shenoy rows/s | pgmpy VE rows/s | engine against the fastest peer |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for spec in args.networks:
        name, engine_rows, agrum_rows, *rest = spec.split(":")
        ve_rows = int(rest[0]) if rest else int(agrum_rows)
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
            for case in cases.head(max(int(agrum_rows), ve_rows)).to_dict("records")
        ]
        bn = agrum_network(model)
        nodes = [str(cpd.variable) for cpd in model.get_cpds()]
        engine_rate = int(engine_rows) / again
        agrum_build = median_seconds(lambda bn=bn: gum.LazyPropagation(bn).makeInference(), args.runs)
        peers = {}
        for kind in (gum.LazyPropagation, gum.ShaferShenoyInference):
            inference = kind(bn)  # every node a target, pyAgrum's default
            inference.makeInference()  # its junction tree built once, as the engine's plans are before `again`

            def agrum(inference: Any = inference, seen: list[dict[str, str]] = seen[: int(agrum_rows)]) -> None:
                agrum_posteriors(inference, seen, nodes)  # noqa: B023 (nodes is read before the next network)

            peers[kind.__name__] = int(agrum_rows) / median_seconds(agrum, args.runs)
        if ve_rows:
            eliminate = eliminator(model)

            def ve(
                seen: list[dict[str, str]] = seen[:ve_rows], eliminate: Any = eliminate, nodes: list[str] = nodes
            ) -> None:
                for evidence in seen:
                    reference_marginals(evidence, tuple(n for n in nodes if n not in evidence), eliminate)

            peers["VariableElimination"] = ve_rows / median_seconds(ve, args.runs)
        fastest = max(peers.values())
        print(
            f"| {name} ({len(nodes)}) | {build:.2f} s | {first:.2f} s | {agrum_build:.2f} s | {rate(engine_rate)} "
            f"| {rate(peers['LazyPropagation'])} | {rate(peers['ShaferShenoyInference'])} "
            f"| {rate(peers['VariableElimination']) if ve_rows else '-'} | {engine_rate / fastest:,.1f}x |",
            flush=True,
        )


if __name__ == "__main__":
    main()
