"""Search every plan of the built-in network for a cheaper contraction path, and store the paths found.

Run with `make paths` after changing the network's structure (tests/test_paths.py says when). The engine finds a
plan's path when it first meets the plan, greedily, in about a millisecond; a random search (opt_einsum's
RandomGreedy: many greedy trials, each step chosen at random with a preference for cheap ones) finds paths
with a tenth fewer operations over the benchmark's cases (up to two fifths fewer on single plans), but takes
about a second per plan, too slow to run while scoring. So it runs here, once, over every plan the engine
can compile, and model/data/paths.json keeps each path that counts fewer operations than the greedy one;
load_engine hands them to the engine. The trials are seeded by their number and the script runs with a fixed
hash seed, so a run gives the same file every time.

Options: --trials N (random trials per plan, default 256), --jobs N (processes, default all processors),
--output FILE (default model/data/paths.json).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from functools import cache
from pathlib import Path

import opt_einsum

from model.engine import Engine, fingerprint, load_engine
from model.pain import pain_factorised_network
from model.stream import default_jobs

OUTPUT = Path(__file__).resolve().parent.parent / "model" / "data" / "paths.json"


def search(job: tuple[tuple[tuple[str, ...], ...], int]) -> tuple[list[list[int]] | None, float, float]:
    """(the random search's path if it beats the greedy one, else None; the greedy cost; the cost kept)."""
    scopes, trials = job
    engine = _engine()
    _, greedy_cost = engine.greedy_path(list(scopes))
    variables = sorted({v for scope in scopes for v in scope})
    symbol = {v: opt_einsum.get_symbol(i) for i, v in enumerate(variables)}
    inputs = [frozenset(symbol[v] for v in scope) for scope in scopes]
    sizes = {symbol[v]: engine.card[v] for v in variables}
    optimizer = opt_einsum.RandomGreedy(max_repeats=trials, minimize="flops")
    optimizer(inputs, frozenset(), sizes)
    path = [list(group) for group in optimizer.best["ssa_path"]]
    cost = engine.path_cost(scopes, path)
    return (path, greedy_cost, cost) if cost < greedy_cost else (None, greedy_cost, greedy_cost)


@cache
def _engine() -> Engine:
    """An engine without stored paths, so the greedy paths it gives are the ones to beat: on the network the
    built-in engine contracts, with back pain factorised (model/pain.py)."""
    return Engine(pain_factorised_network())


def main(argv: list[str] | None = None) -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # opt_einsum breaks ties in the order its sets of index names iterate, which follows the hash seed
        arguments = sys.argv[1:] if argv is None else argv
        os.execve(sys.executable, [sys.executable, __file__, *arguments], {**os.environ, "PYTHONHASHSEED": "0"})
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=256)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    contractions = load_engine().contractions()
    signatures = sorted(contractions)
    started = time.perf_counter()
    jobs = [(contractions[s], args.trials) for s in signatures]
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        results = pool.map(search, jobs, chunksize=1)
    kept = {s: path for s, (path, _, _) in zip(signatures, results, strict=True) if path is not None}
    greedy = sum(g for _, g, _ in results)
    best = sum(c for _, _, c in results)
    lines = [
        "{",
        '  "about": "Contraction paths for the plans of the built-in network, from scripts/paths.py (make paths).",',
        f'  "contractions": "{fingerprint(signatures)}",',
        f'  "trials": {args.trials},',
        '  "paths": {',
        ",\n".join(f'    "{s}": {json.dumps(path, separators=(",", ":"))}' for s, path in kept.items()),
        "  }",
        "}",
    ]
    args.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(
        f"{len(signatures)} plans, {len(kept)} with a cheaper path than the greedy one; operations summed over all"
        f" plans {best:,.0f} instead of {greedy:,.0f} ({1 - best / greedy:.1%} fewer);"
        f" {time.perf_counter() - started:.0f} s; written to {args.output}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
