"""The benchmark script runs end to end and prints every figure the README's performance table quotes."""

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
