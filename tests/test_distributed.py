"""Scoring on Dask: a LocalCluster of two worker processes gives exactly what one process gives, the engine once
per worker, the output's types known before anything runs."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dask.dataframe as dd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from distributed import Client, LocalCluster

from model.cases.fields import UnknownFieldError
from model.cli import main
from model.inference.engine import load_engine
from model.scoring import parquet
from model.scoring.batch import output_columns
from model.scoring.distributed import EngineLoader, score_dask, scored_partition

DATA = Path(__file__).resolve().parent / "data"
ROOT = DATA.parents[1]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["score", *args])


def cases() -> pd.DataFrame:
    return pd.concat(
        [pd.read_csv(DATA / name, dtype=str, keep_default_na=False) for name in ("valid.csv", "row_errors.csv")] * 2,
        ignore_index=True,
    )


def in_order(directory: Path) -> pa.Table:
    """Every file of a scored dataset, in the order of their names, as one table (schema metadata left out)."""
    tables = [pq.read_table(path) for path in sorted(directory.rglob("*.parquet"))]
    return pa.concat_tables(tables).replace_schema_metadata(None)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=logging.ERROR
        ) as cluster,
        Client(cluster) as client,
    ):
        client.register_plugin(EngineLoader())
        yield client


def test_two_local_workers_give_exactly_the_single_process_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parquet, "MIN_CHUNK_ROWS", 4)  # row groups of 7 and 5 rows: slices of 4, 3; 4, 1
    source = tmp_path / "cases"
    (source / "clinic=b").mkdir(parents=True)
    # ages as integers with gaps (one out of range), as a data lake holds them
    frame = cases().assign(age=pd.array([35, None, 19, 300, 40] * 5 + [41], dtype="Int64"))
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pq.write_table(table.slice(0, 14), source / "a.parquet", row_group_size=7)
    pq.write_table(table.slice(14), source / "clinic=b/b.parquet", row_group_size=5)
    single, dask = tmp_path / "single", tmp_path / "dask"
    one = run(str(source), "-o", str(single))
    assert one.exit_code == 0, one.output
    two = run(str(source), "-o", str(dask), "--dask", "local", "--jobs", "2")
    assert two.exit_code == 0, two.output
    assert two.stderr == one.stderr == "backcheck: 26 rows scored, 10 with errors (see the error column)\n"
    assert sorted(p.name for p in dask.iterdir()) == [f"part.{n}.parquet" for n in range(5)]  # one per row group
    assert in_order(dask).equals(in_order(single))  # values, order, types: to the last digit
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases", "dask", "single"]


def test_score_dask_gives_score_cases_columns_with_types_known_before_it_runs(client: Client) -> None:
    frame = cases().astype(pd.ArrowDtype(pa.string()))
    lazy = score_dask(dd.from_pandas(frame, npartitions=3))
    assert list(lazy.columns) == [*frame.columns, *output_columns()]
    scored = lazy.compute()
    assert scored.dtypes.equals(lazy.dtypes)  # the meta was right: nothing had to run to find it
    assert scored["p_doms"].dtype == pd.ArrowDtype(pa.float64()) and scored["care"].dtype == pd.ArrowDtype(pa.string())
    partitions = dd.from_pandas(frame, npartitions=3)
    parts = [partitions.get_partition(n).compute(scheduler="sync") for n in range(3)]
    expected = pd.concat([scored_partition(part) for part in parts])
    pd.testing.assert_frame_equal(scored, expected)
    assert scored["error"].tolist()[5:8] == [
        "activity: 'lifitng' is not one of lifting, deadlift, squats, running, walking, jumping, swimming, "
        "sitting, bending, yoga, other (did you mean 'lifting'?)",
        "age: '300' is outside 10-110",
        "severity: 'six' is not a number; expected a number from 0 to 10",
    ]
    # each worker built the engine once, as it started, and every task used that one
    built = client.run(lambda: load_engine.cache_info().misses)
    assert list(built.values()) == [1, 1]


def test_score_dask_checks_the_columns_at_once() -> None:
    frame = dd.from_pandas(pd.DataFrame({"severty": ["1"], "clinic": ["a"]}), npartitions=1)
    with pytest.raises(UnknownFieldError, match="severty"):
        score_dask(frame, keep=["clinic"])


def test_a_scheduler_address_is_used_and_a_bad_input_stops_before_the_cluster(client: Client, tmp_path: Path) -> None:
    source = tmp_path / "cases.parquet"
    pq.write_table(pa.Table.from_pandas(cases(), preserve_index=False), source, row_group_size=9)
    target = tmp_path / "scored"
    result = run(str(source), "-o", str(target), "--dask", client.scheduler.address)
    assert result.exit_code == 0, result.output
    assert in_order(target).num_rows == 26 and len(list(target.iterdir())) == 3
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    result = run(str(bad), "-o", str(tmp_path / "nothing"), "--dask", "tcp://127.0.0.1:9")  # no one listens there
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {bad}: is not a Parquet file")
    result = run(str(source), "-o", str(tmp_path / "nothing"), "--dask", "tcp://127.0.0.1:9")
    assert result.exit_code == 1 and "tcp://127.0.0.1:9: no Dask scheduler answers there" in result.stderr
    assert not (tmp_path / "nothing").exists()


def test_dask_is_for_parquet_and_jobs_only_for_a_local_cluster(tmp_path: Path) -> None:
    result = run(str(DATA / "valid.csv"), "-o", str(tmp_path / "o"), "--format", "csv", "--dask", "local")
    assert result.exit_code == 2 and "--dask scores Parquet files and datasets, not CSV" in result.stderr
    result = run(str(tmp_path), "-o", str(tmp_path / "o"), "--dask", "tcp://127.0.0.1:9", "--jobs", "2")
    assert result.exit_code == 2 and "--jobs sets the workers of --dask local" in result.stderr


def test_the_csv_path_never_imports_dask_and_dask_missing_is_one_line(tmp_path: Path) -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from model.cli import main\n"
        f"result = CliRunner().invoke(main, ['score', {str(DATA / 'valid.csv')!r}, '--quiet'])\n"
        "assert result.exit_code == 0, result.output\n"
        "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')], 'dask imported'\n"
        "sys.modules['dask'] = None  # as if the extra were not installed\n"
        f"result = CliRunner().invoke(main, ['score', {str(tmp_path)!r}, '-o', 'x', '--dask', 'local'])\n"
        "print(result.exit_code, result.stderr, end='')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("1 Error: --dask needs Dask (")
    assert done.stdout.endswith("install it with: pip install 'backcheck[dask]'\n")
