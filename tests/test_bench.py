"""The benchmark scripts run end to end and print every figure the README's performance tables quote."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # the benchmark script, a minute or more
def test_the_benchmark_prints_its_figures_on_a_small_run() -> None:
    command = [sys.executable, str(ROOT / "scripts" / "bench.py")]
    command += ["--cases", "40", "--peer-cases", "3", "--rows", "300", "--runs", "2", "--jobs", "1"]
    command += ["--formats-rows", "16", "--formats-runs", "1"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for figure in (
        "rows/s",
        "random cases",
        "cases drawn from the network",
        "pgmpy VE, joint=False",
        "pyAgrum LazyPropagation",
        "pyAgrum Shafer-Shenoy",
        "largest difference",
        "one case, the app's path",
        "median of 2 runs",
        "processor time, all processes",
        "peak memory, all processes",
        "a million rows at that rate",
    ):
        assert figure in out, (figure, out)
    differences = [line for line in out.splitlines() if "largest difference from pgmpy" in line]
    assert len(differences) == 2 and all(float(line.split(":")[1]) < 1e-9 for line in differences), differences
    assert out.count("   engine ") == 6, out  # the engine's ratio to each peer, on both kinds of cases
    assert "exit statuses:                          0 0" in out
    assert "rows written:                           300" in out
    for figure in (
        "16 generated rows, as CSV",
        "CSV, one process",
        "Parquet, one process",
        "Dask, 1 local worker",
        "Dask, 2 local workers",
        "Dask scaling efficiency, 2 workers against 1:",
        "seconds, median of 1 runs",
    ):
        assert figure in out, (figure, out)
    assert "exit statuses: 0 0 0 0\n" in out


@pytest.mark.slow  # a warming start and a counted one, then the changes: a minute or more
@pytest.mark.browser
def test_the_app_benchmark_times_the_start_on_a_small_run() -> None:
    command = [sys.executable, str(ROOT / "scripts" / "bench_app.py"), "--starts", "1", "--changes", "2"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, timeout=900)
    assert result.returncode == 0, result.stderr
    medians = {}
    for line in result.stdout.splitlines():
        name, _, figures = line.partition(" median ")
        medians[name.strip()] = float(figures.split(" ms ")[0])
        assert figures.endswith("; 1 starts)") or figures.endswith("; 2 changes)"), line
    start = [
        medians["start: launching the server to its health check answering"],
        medians["start: launching the server to the loading notice"],
        medians["start: launching the server to the page usable"],
    ]
    assert 0 < start[0] < start[1] < start[2], result.stdout  # the server answers, the notice shows, then the page
    assert medians["start: a second session, opening the page to usable"] > 0, result.stdout
    for name in (
        "browser: widget change to the new advice on the page",
        "our work per rerun (AppTest, the whole script)",
        "of which the model's diagnosis (uncached)",
    ):
        assert medians[name] > 0, (name, result.stdout)


def test_the_networks_benchmark_prints_a_row_of_figures_per_network() -> None:
    command = [sys.executable, str(ROOT / "scripts" / "bench_networks.py"), "asia:60:6:3", "child:60:6:0"]
    command += ["--runs", "1"]
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    header, rule, *rows = result.stdout.splitlines()
    columns = [cell.strip() for cell in header.strip("|").split("|")]
    assert columns[0] == "network (nodes)" and "LazyPropagation build" in columns and len(rule.split("|")) == 11
    assert [row.split("|")[1].strip() for row in rows] == ["asia (8)", "child (20)"]
    for row in rows:
        cells = dict(zip(columns, (cell.strip() for cell in row.strip("|").split("|")), strict=True))
        assert cells["engine build"].endswith(" s") and cells["LazyPropagation build"].endswith(" s"), cells
        assert float(cells["engine against the fastest peer"].rstrip("x").replace(",", "")) > 0, cells
    assert rows[1].split("|")[8].strip() == "-"  # pgmpy skipped where asked to (VE_ROWS 0)
