"""The rows each engine call of `backcheck score` scores (model.scoring.schedule.chunk_sizes, and csv_input.chunks
cutting a CSV file by it): every row once and in order, every worker a share of a small file, chunks shrinking
towards the end."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from pytest import MonkeyPatch

from model.scoring import stream
from model.scoring.csv_input import Reading, check_header, chunks, count_rows
from model.scoring.schedule import CHUNK_ROWS, MIN_CHUNK_ROWS, chunk_sizes


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 3_000_000))
def test_chunks_shrink_towards_the_end_so_the_workers_finish_together(rows: int) -> None:
    sizes = chunk_sizes(rows)
    assert sum(sizes) == rows  # every row, once
    assert all(1 <= size <= CHUNK_ROWS for size in sizes)
    assert all(size >= MIN_CHUNK_ROWS for size in sizes[:-1])  # only the last may be smaller: what is left
    assert sizes == sorted(sizes, reverse=True)
    left = rows
    for size in sizes:  # none takes more than a quarter of what is left, rounded up, beyond the least chunk
        assert size <= max(MIN_CHUNK_ROWS, -(-left // 4))
        left -= size
    if rows >= 8 * MIN_CHUNK_ROWS:  # a file of a few thousand rows is cut for every worker, not one chunk
        assert len(sizes) >= 8
    if rows >= 80 * CHUNK_ROWS // 10:  # a big file is mostly full chunks
        assert sizes.count(CHUNK_ROWS) * CHUNK_ROWS >= rows / 2


def test_the_schedule_of_files_met_in_the_benchmarks() -> None:
    assert chunk_sizes(1_000_000)[:11] == [CHUNK_ROWS] * 9 + [70_000, 52_500]  # the million rows, 33 chunks
    assert chunk_sizes(3000) == [375] * 5 + [282, 250, 250, 250, 93]
    assert chunk_sizes(100) == [100]
    assert chunk_sizes(7, least=3) == [3, 3, 1]  # a smaller least, as the Parquet and Dask tests use


def test_chunks_cut_arrow_blocks_into_the_schedule_rows_in_order(tmp_path: Path) -> None:
    # blocks of 64 KiB (about 1,500 rows here) cut into chunks that straddle them
    path = tmp_path / "cases.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["case_id", "activity", "age"])
        writer.writerows([f"c{i}", "lifting" if i % 3 else "", str(20 + i % 60)] for i in range(10_000))
    header = check_header(path, str(path), None)
    rows, _ = count_rows(path, str(path), header)
    assert rows == 10_000
    sizes = chunk_sizes(rows)
    found = list(chunks(Reading(path, str(path), header, 2**16), sizes))
    assert [chunk.num_rows for chunk in found] == sizes
    ids = [value for chunk in found for value in chunk.column("case_id").to_pylist()]
    assert ids == [f"c{i}" for i in range(10_000)]
    assert all(chunk.schema.names == header for chunk in found)


def test_a_file_of_a_thousand_rows_is_shared_out_to_the_workers(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    # 1,200 rows of about 60 bytes: workers start (from about 500 rows, guessed from the file's size) and take
    # five chunks; stand-in workers are threads here
    path = tmp_path / "cases.csv"
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["case_id", "activity", "age", "fever", "note"])
        writer.writerows(
            [f"c{i}", ["lifting", "yoga", ""][i % 3], str(20 + i % 60), "no", "x" * 30] for i in range(1200)
        )
    pools = []

    @contextlib.contextmanager
    def worker_pool(workers: int, initializer: object) -> Iterator[ThreadPoolExecutor]:
        with ThreadPoolExecutor(workers) as pool:
            pools.append(workers)
            yield pool

    monkeypatch.setattr(stream, "worker_pool", worker_pool)
    chunks_done: list[int] = []
    scored, one = tmp_path / "scored.csv", tmp_path / "one.csv"
    summary = stream.score_csv(str(path), str(scored), ["note"], jobs=2, progress=chunks_done.append)
    assert pools == [2] and summary.rows == 1200
    assert chunks_done == chunk_sizes(1200) == [250, 250, 250, 250, 200]
    assert stream.score_csv(str(path), str(one), ["note"], jobs=1) == summary and pools == [2]  # one job: no workers
    assert scored.read_bytes() == one.read_bytes()
