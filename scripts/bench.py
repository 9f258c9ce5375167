"""Benchmark figures (printed, never asserted): engine vs pgmpy per row, single-case latency, 1M-row CLI run.

Run with `make bench`. Options: --rows N (CSV rows for the command-line run, default 1,000,000),
--cases N (random cases for the engine comparison, default 2,000), --ve-cases N (how many of those pgmpy
scores one by one, default all).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from model.evidence import evidence_from_case
from model.fields import FIELDS
from model.inference import posteriors, posteriors_batch, reference_posteriors

UNKNOWN_RATE = 0.4


def random_values(rng: np.random.Generator, n: int) -> dict[str, list[str]]:
    """n random valid values per field, ~40% of them empty (unknown), as CSV text."""
    columns: dict[str, list[str]] = {"case_id": [f"c{i}" for i in range(n)]}
    for field in FIELDS:
        if field.kind == "text":
            continue
        if field.kind == "yesno":
            pool = np.array(["yes", "no"])
            values = pool[rng.integers(0, 2, n)]
        elif field.kind == "choice":
            pool = np.array(field.choices)
            values = pool[rng.integers(0, len(pool), n)]
        elif field.kind == "integer":
            values = rng.integers(int(field.low), int(field.high) + 1, n).astype(str)
        else:
            high = field.high if field.high is not None else 90
            values = np.char.mod("%.1f", rng.uniform(field.low, high, n))
        values = np.where(rng.random(n) < UNKNOWN_RATE, "", values)
        columns[field.name] = values.tolist()
    return columns


def engine_vs_pgmpy(cases: int, ve_cases: int) -> None:
    columns = random_values(np.random.default_rng(1), cases)
    rows = [{k: v[i] for k, v in columns.items() if k != "case_id"} for i in range(cases)]
    evidences = [evidence_from_case(r) for r in rows]
    posteriors_batch(evidences[:10])  # compile outside the timing
    start = time.perf_counter()
    posteriors_batch(evidences)
    engine_rate = cases / (time.perf_counter() - start)
    reference_posteriors({})
    start = time.perf_counter()
    for evidence in evidences[:ve_cases]:
        reference_posteriors(evidence)
    ve_rate = ve_cases / (time.perf_counter() - start)
    print(f"{cases:,} random cases, {UNKNOWN_RATE:.0%} of fields unknown")
    print(f"  compiled engine, one batch:    {engine_rate:12,.0f} rows/s")
    print(f"  pgmpy VE, one row at a time:   {ve_rate:12,.1f} rows/s  (on {ve_cases:,} of them)")
    print(f"  ratio:                         {engine_rate / ve_rate:12,.0f}x")
    latencies = []
    for evidence in evidences[:300]:
        start = time.perf_counter()
        posteriors(evidence)
        latencies.append(time.perf_counter() - start)
    print(
        f"  single case (the app's path):  median {statistics.median(latencies) * 1e3:.2f} ms, "
        f"95th percentile {np.percentile(latencies, 95) * 1e3:.2f} ms"
    )


def _tree_rss(pid: int) -> int:
    """Resident memory in bytes of a process and all its descendants (Linux /proc)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            with open(f"/proc/{current}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending += [int(c) for c in children]
    return total


def command_line(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "cases.csv", Path(tmp) / "scored.csv"
        start = time.perf_counter()
        rng = np.random.default_rng(2)
        with source.open("w", encoding="utf-8") as fh:
            for offset in range(0, rows, 100_000):
                columns = random_values(rng, min(100_000, rows - offset))
                if offset == 0:
                    fh.write(",".join(columns) + "\n")
                fh.write("\n".join(",".join(row) for row in zip(*columns.values(), strict=True)) + "\n")
        print(
            f"{rows:,} generated rows ({source.stat().st_size / 2**20:,.0f} MiB) in {time.perf_counter() - start:.1f} s"
        )
        command = [sys.executable, "-m", "model", "score", str(source), "-o", str(target), "--quiet"]
        start = time.perf_counter()
        process = subprocess.Popen(command)
        peak = 0
        done = threading.Event()

        def watch() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(process.pid))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        code = process.wait()
        done.set()
        watcher.join()
        elapsed = time.perf_counter() - start
        print(f"  backcheck score CSV to CSV:    {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s), exit {code}")
        print(f"  peak memory (all processes):   {peak / 2**20:,.0f} MiB on {os.cpu_count()} processors")
        with target.open(encoding="utf-8") as fh:
            written = sum(1 for _ in fh) - 1
        print(f"  rows written:                  {written:,}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=2_000)
    parser.add_argument("--ve-cases", type=int, default=None)
    args = parser.parse_args()
    engine_vs_pgmpy(args.cases, args.ve_cases or args.cases)
    command_line(args.rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
