"""Benchmark figures (printed, never asserted): the engine against pgmpy's variable elimination and pyAgrum's
junction trees per row, on random cases and on cases drawn from the network; one case; a CLI run; and the same rows
as CSV, as Parquet, and as Parquet on a local Dask cluster of one and of two workers.

Run with `make bench`. Options: --cases N (cases for the engine comparison, default 300), --peer-cases N (how many
of those pgmpy and pyAgrum answer one at a time, default 20), --rows N (generated CSV rows for the command-line run,
default 2,000; 0 skips it), --runs N (timed runs of each, default 3), --unknown P (share of fields left unknown,
default 0.4), --jobs N, --formats-rows N (generated rows for the comparison of formats and of Dask, default 600; 0
skips it), --formats-runs N (timed runs of each, default 3).
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
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' helpers: pyAgrum's network, drawn cases

from model.cases.evidence import evidence_from_case
from model.cases.fields import FIELDS
from model.inference.engine import load_engine
from model.inference.reference import posteriors, posteriors_batch, reference_posteriors
from model.network.build import load_network, reference_eliminator
from model.network.spec import load_spec
from scripts.bench_networks import median_seconds


def random_values(rng: np.random.Generator, n: int, unknown: float) -> dict[str, list[str]]:
    """n random valid cases as CSV text, column by column: each field empty (unknown) with probability `unknown`,
    roots included, otherwise any value the contract accepts, uniformly."""
    columns: dict[str, list[str]] = {}
    for field in FIELDS:
        if field.kind == "text":
            values = np.char.add("c", np.arange(n).astype(str))
        elif field.kind == "yesno":
            values = np.array(["yes", "no"])[rng.integers(0, 2, n)]
        elif field.kind == "choice":
            values = np.array(field.choices)[rng.integers(0, len(field.choices), n)]
        elif field.kind == "integer":
            values = rng.integers(int(field.low), int(field.high) + 1, n).astype(str)
        else:
            values = np.char.mod("%.1f", rng.uniform(field.low, field.high if field.high is not None else 90, n))
        if field.kind != "text":
            values = np.where(rng.random(n) < unknown, "", values)
        columns[field.name] = values.tolist()
    return columns


def write_cases(path: Path, rows: int, unknown: float = 0.4, seed: int = 3) -> None:
    """A CSV file of `rows` random valid cases (random_values), written 100,000 rows at a time. The tests use it
    for files big enough to be mid-run when they stop one."""
    rng = np.random.default_rng(seed)
    with path.open("w", encoding="utf-8") as out:
        for offset in range(0, rows, 100_000):
            columns = random_values(rng, min(100_000, rows - offset), unknown)
            columns["case_id"] = [f"c{offset + i}" for i in range(len(columns["case_id"]))]
            if offset == 0:
                out.write(",".join(columns) + "\n")
            out.write("\n".join(",".join(row) for row in zip(*columns.values(), strict=True)) + "\n")


def random_evidences(seed: int, n: int, unknown: float) -> list[dict[str, str]]:
    columns = random_values(np.random.default_rng(seed), n, unknown)
    fields = [name for name in columns if name != "case_id"]
    return [evidence_from_case({name: columns[name][i] for name in fields}) for i in range(n)]


def drawn_evidences(seed: int, n: int, seen: float) -> list[dict[str, str]]:
    """n cases drawn forward from the built-in network among people whose back hurts, each answer (the contract's
    fields, never a cause) then kept with probability `seen`: cases as they come, unlike random_evidences."""
    from tests.test_standard_networks import drawn_cases

    spec = load_spec()
    observed = spec.fixed_evidence  # every case carries it: the person has back pain
    answers = [field.name for field in FIELDS if field.name in load_network().nodes]
    found: list[dict[str, str]] = []
    draw = 0
    while len(found) < n:
        cases = drawn_cases(load_network(), 4 * n, seed=seed + draw, seen=1.0, nodes=[*answers, *observed])
        draw += 1
        cases = cases[(cases[list(observed)] == pd.Series(observed)).all(axis=1)]
        keep = np.random.default_rng(seed + draw).random(cases[answers].shape) < seen
        for row, kept in zip(cases[answers].to_numpy(), keep, strict=True):
            found.append({**{a: v for a, v, k in zip(answers, row, kept, strict=True) if k}, **observed})
    return found[:n]


def _median_rate(run: Callable[[], object], rows: int, runs: int) -> float:
    """Rows a second, the median of `runs` timed runs."""
    return rows / median_seconds(run, runs)


def engine_vs_peers(cases: int, peer_cases: int, unknown: float, runs: int) -> None:
    """The engine against pgmpy's variable elimination (every cause in one query, joint=False) and pyAgrum's
    LazyPropagation and Shafer-Shenoy (the causes as targets, the junction tree built beforehand), one row at a
    time for the peers: random cases, and cases drawn from the network; side by side in one process, medians."""
    import pyagrum as gum

    from tests.test_standard_networks import agrum_network, agrum_posteriors

    start = time.perf_counter()
    engine = load_engine()
    print(f"engine compiled from the pgmpy network in {time.perf_counter() - start:.1f} s")
    causes = list(load_spec().cause_ids)
    ve = reference_eliminator()
    ve.query(causes, evidence={}, joint=False, show_progress=False)  # its structures built on first use
    bn = agrum_network(load_network())
    inferences = {}
    for name, kind in (
        ("pyAgrum LazyPropagation", gum.LazyPropagation),
        ("pyAgrum Shafer-Shenoy", gum.ShaferShenoyInference),
    ):
        inference = kind(bn)
        for cause in causes:
            inference.addTarget(cause)
        inference.makeInference()
        inferences[name] = inference
    sets = (
        (f"random cases, {unknown:.0%} of the fields unknown", random_evidences(1, cases, unknown)),
        (
            f"cases drawn from the network, {1 - unknown:.0%} of the answers kept",
            drawn_evidences(1, cases, 1 - unknown),
        ),
    )
    for label, evidences in sets:
        start = time.perf_counter()
        first = posteriors_batch(evidences)
        cold = time.perf_counter() - start
        rates = {"backcheck engine, one batch": _median_rate(lambda e=evidences: posteriors_batch(e), cases, runs)}
        few = evidences[:peer_cases]

        def ve_rows(few: list[dict[str, str]] = few) -> None:
            for evidence in few:
                ve.query(causes, evidence=evidence, joint=False, show_progress=False)

        rates["pgmpy VE, joint=False"] = _median_rate(ve_rows, len(few), runs)
        for name, inference in inferences.items():
            rates[name] = _median_rate(lambda i=inference, f=few: agrum_posteriors(i, f, causes), len(few), runs)
        worst = 0.0
        for i, evidence in enumerate(few):
            reference = reference_posteriors(evidence)
            worst = max(worst, max(abs(first[i, j] - reference[c]) for j, c in enumerate(causes)))
        engine_rate = rates["backcheck engine, one batch"]
        print(f"{cases:,} {label} (peers on the first {len(few)}, one row at a time; medians of {runs} runs)")
        for name, rate in rates.items():
            ratio = "" if rate == engine_rate else f"   engine {engine_rate / rate:,.1f}x"
            print(f"  {name + ':':34s}{rate:10,.1f} rows/s{ratio}")
        print(
            f"  engine on first use:              {cases / cold:10,.1f} rows/s  ({engine.plans_compiled} plans so far)"
        )
        print(f"  largest difference from pgmpy:    {worst:10.1e}")
    cases_ = random_evidences(2, 300, unknown)
    for label, note in (("first", "may compile its plan, a few ms"), ("again", "plan compiled")):
        latencies = []
        for evidence in cases_:
            start = time.perf_counter()
            posteriors(evidence)
            latencies.append(time.perf_counter() - start)
        print(
            f"  one case, the app's path, {label}:  median {statistics.median(latencies) * 1e3:.1f} ms, "
            f"95th percentile {np.percentile(latencies, 95) * 1e3:.1f} ms  ({note})"
        )


def _pss(pid: int) -> int:
    """Proportional set size in bytes: the process's own pages plus its share of pages it shares (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """The process and its descendants (Linux). Each thread lists the children it started: a Dask LocalCluster
    starts its workers from its event loop's thread, not the main one."""
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        try:
            threads = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for thread in threads:
            try:
                pending += [int(c) for c in (thread / "children").read_text().split()]
            except OSError:
                continue
    return found


def watched_run(command: list[str]) -> tuple[int, float, int]:
    """Run `command` with its memory sampled every 50 ms: (peak proportional set size of all its processes in
    bytes, seconds, exit status)."""
    start = time.perf_counter()
    process = subprocess.Popen(command)
    peak = 0
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, sum(_pss(p) for p in _tree(process.pid)))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    code = process.wait()
    done.set()
    watcher.join()
    return peak, time.perf_counter() - start, code


def command_line(rows: int, unknown: float, jobs: int | None, runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "cases.csv", Path(tmp) / "scored.csv"
        write_cases(source, rows, unknown)
        print(f"{rows:,} generated rows ({source.stat().st_size / 2**20:,.0f} MiB), same kind of cases")
        command = [sys.executable, "-m", "model", "score", str(source), "-o", str(target), "--quiet"]
        if jobs:
            command += ["--jobs", str(jobs)]
        # Several timed runs with nothing watching them: on a shared machine one run says little. Then one run
        # whose memory is sampled: reading a process's memory map every 50 ms holds locks the process needs to
        # fault in pages, and slows it by a fifth, so that run's time is printed only to show the cost of watching.
        times, cpus, codes = [], [], []
        for _ in range(runs):
            target.unlink(missing_ok=True)
            start = time.perf_counter()
            cpu_before = os.times()
            codes.append(subprocess.run(command, check=False).returncode)
            times.append(time.perf_counter() - start)
            cpus.append(sum(os.times()[2:4]) - sum(cpu_before[2:4]))
        with target.open(encoding="utf-8") as scored:
            written = sum(1 for _ in scored) - 1
        peak, watched, watched_code = watched_run(command)
        elapsed = statistics.median(times)
        each = ", ".join(f"{t:.1f}" for t in times)
        cpu_each = ", ".join(f"{c:.1f}" for c in cpus)
        print(f"  backcheck score, CSV to CSV:     {elapsed:10.1f} s  median of {runs} runs ({each} s)")
        print(f"  rows per second, that median:    {rows / elapsed:10,.0f}")
        if rows < 1_000_000:
            hours = 1_000_000 / (rows / elapsed) / 3600
            print(f"  a million rows at that rate:     {hours:10.2f} h  (extrapolated, not measured)")
        print(f"  exit statuses:                   {' '.join(str(c) for c in codes):>10}")
        print(f"  processor time, all processes:   {statistics.median(cpus):10.1f} s  median ({cpu_each} s)")
        print(f"  rows written:                    {written:10,}")
        print(f"  peak memory, all processes:      {peak / 2**20:10,.0f} MiB  (proportional set size, sampled every")
        print(f"                                   50 ms in a separate run: {watched:.1f} s, exit {watched_code})")


# A Dask partition is a row group: the Parquet file of the formats comparison has this many, for the workers
# to share.
FORMATS_ROW_GROUPS = 8


def formats(rows: int, unknown: float, runs: int) -> None:
    """The same rows scored CSV to CSV, Parquet to Parquet, and on a local Dask cluster of 1 and of 2 workers:
    medians of `runs` runs taken in turns, then one run of each with its memory sampled."""
    with tempfile.TemporaryDirectory() as tmp:
        csv_file, parquet_file = Path(tmp) / "cases.csv", Path(tmp) / "cases.parquet"
        write_cases(csv_file, rows, unknown, seed=4)
        options = pa_csv.ConvertOptions(strings_can_be_null=False, column_types=dict.fromkeys(_columns(), "string"))
        table = pa_csv.read_csv(csv_file, convert_options=options)
        pq.write_table(table, parquet_file, row_group_size=-(-rows // FORMATS_ROW_GROUPS))
        score = [sys.executable, "-m", "model", "score", "--quiet"]
        dask = [*score, str(parquet_file), "--dask", "local", "--jobs"]
        commands = {
            "CSV, one process": [*score, str(csv_file), "-o", f"{tmp}/out.csv", "--jobs", "1"],
            "Parquet, one process": [*score, str(parquet_file), "-o", f"{tmp}/out.parquet", "--jobs", "1"],
            "Dask, 1 local worker": [*dask, "1", "-o", f"{tmp}/dask1"],
            "Dask, 2 local workers": [*dask, "2", "-o", f"{tmp}/dask2"],
        }
        outputs = [Path(tmp) / name for name in ("out.csv", "out.parquet", "dask1", "dask2")]
        times: dict[str, list[float]] = {label: [] for label in commands}
        codes: list[int] = []
        for _ in range(runs):  # in turns, so that the machine's moments fall on every command alike
            for (label, command), output in zip(commands.items(), outputs, strict=True):
                _remove(output)
                start = time.perf_counter()
                codes.append(subprocess.run(command, check=False).returncode)
                times[label].append(time.perf_counter() - start)
        peaks = {}
        for (label, command), output in zip(commands.items(), outputs, strict=True):
            _remove(output)
            peaks[label] = watched_run(command)[0]
        print(
            f"{rows:,} generated rows, as CSV ({csv_file.stat().st_size / 2**10:,.0f} KiB) and as Parquet "
            f"({parquet_file.stat().st_size / 2**10:,.0f} KiB, {FORMATS_ROW_GROUPS} row groups: a Dask partition each)"
        )
        print(f"  {'backcheck score':<24}{'rows/s':>10}{'ratio':>8}{'peak MiB':>10}  seconds, median of {runs} runs")
        rates = {label: rows / statistics.median(each) for label, each in times.items()}
        base = rates["CSV, one process"]
        for label, each in times.items():
            every = ", ".join(f"{t:.1f}" for t in each)
            print(
                f"  {label:<24}{rates[label]:10,.1f}{rates[label] / base:7.2f}x{peaks[label] / 2**20:10,.0f}"
                f"  {statistics.median(each):.1f} ({every})"
            )
        efficiency = rates["Dask, 2 local workers"] / (2 * rates["Dask, 1 local worker"])
        print(f"  Dask scaling efficiency, 2 workers against 1: {efficiency:.0%} (100% = twice the rows/s)")
        print(f"  exit statuses: {' '.join(str(c) for c in codes)}")
        print("  (each run includes starting Python; a Dask run also starts its cluster and builds the engine on")
        print("  each worker; peak memory is of all processes, sampled every 50 ms in a separate run)")


def _columns() -> list[str]:
    return [field.name for field in FIELDS]


def _remove(path: Path) -> None:
    if path.is_dir():
        for child in path.iterdir():
            child.unlink()
        path.rmdir()
    else:
        path.unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Defaults sized for the second edition's network (tens of random rows a second a core, pgmpy a fifth of a
    # row a second): the whole of `make bench` in about a quarter of an hour. The million-row figure is
    # `--rows 1000000`; the command-line figures print what a million rows would take at the measured rate.
    parser.add_argument("--cases", type=int, default=300, help="cases for the engine in one batch")
    parser.add_argument(
        "--peer-cases", type=int, default=20, help="of them, cases for pgmpy and pyAgrum, one at a time"
    )
    parser.add_argument("--rows", type=int, default=2_000, help="generated rows for backcheck score, CSV to CSV")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--unknown", type=float, default=0.4)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--formats-rows", type=int, default=600)
    parser.add_argument("--formats-runs", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} processors, load average {load:.1f} at the start (other work slows every figure)")
    engine_vs_peers(args.cases, min(args.peer_cases or args.cases, args.cases), args.unknown, max(1, args.runs))
    if args.rows:
        command_line(args.rows, args.unknown, args.jobs, max(1, args.runs))
    if args.formats_rows:
        formats(args.formats_rows, args.unknown, max(1, args.formats_runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
