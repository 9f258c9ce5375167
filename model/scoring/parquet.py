"""Scoring Parquet: a file, or a directory of files (a dataset), checked first (parquet_input), then read, scored
and written by row groups, each row group scored in slices (schedule.chunk_sizes) and written whole."""

from __future__ import annotations

import contextlib
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from model.cases.fields import FIELD_BY_NAME
from model.inference.engine import load_engine
from model.scoring.batch import arrow_distinct, output_columns, score_columns
from model.scoring.csv_input import InputError
from model.scoring.memory import reuse_freed_memory
from model.scoring.output import OutputError, output_directory, output_target, replacing, replacing_directory
from model.scoring.parquet_input import Dataset, ParquetFile, first_line, read_dataset
from model.scoring.schedule import CHUNK_ROWS, MIN_CHUNK_ROWS, chunk_sizes, cut
from model.scoring.stream import Summary
from model.scoring.workers import held_signals, worker_pool

# A row group is scored in slices of the rows schedule.chunk_sizes gives for its size, here and on a Dask cluster
# alike, so that both give the same digits (a row's last digits depend on the rows scored with it; see Engine's plan
# merging): the workers share even a file of one row group, and each process's memory stays bounded whatever the
# row groups' size. The slices of a row group are written back as one row group, up to CHUNK_ROWS rows a group.


def score_parquet(
    source: str,
    output: str | None,
    keep: Iterable[str] = (),
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> Summary:
    """Score the Parquet file, or the directory of Parquet files, at `source` into `output`.

    A file's scores go to the file `output`; a directory's to the directory `output` (new or empty), one file
    for each input file under the same relative path, with the same rows in the same order. The output holds
    every input column unchanged (its type too), then the contract's columns: float64 probabilities (null for
    a row with an error) and strings.

    Raises OutputError, before reading anything, for an output that must not be written (output.output_target,
    output.output_directory); InputError, before writing anything, for a missing or empty input, a file that
    is not Parquet, a duplicate, unknown (not in `keep`) or clashing column, a column whose type cannot hold its
    field's values, or files of a dataset whose columns differ (read_dataset). A file found corrupt while it is
    read stops the run with InputError too; nothing is written then, since the output appears only at the end
    (renamed into place). With `jobs` > 1 and more than one slice of rows, worker processes score the slices.
    """
    if output is None:
        raise OutputError("Parquet output goes to a file or directory: name it with -o")
    directory = Path(source).is_dir()
    target = output_directory(output, source) if directory else output_target(output, source)
    stack = contextlib.ExitStack()
    try:
        dataset = read_dataset(source, keep)
        if on_total is not None:
            on_total(dataset.rows)
        pool = None
        jobs = min(jobs, _engine_calls(dataset))  # a worker for each slice at most
        if jobs > 1:
            # forked after the checks, which start no Arrow threads, and before the reading, which does
            pool = stack.enter_context(worker_pool(jobs, _start_worker))
        with held_signals():
            if directory:
                sinks = _directory_sinks(stack.enter_context(replacing_directory(target)))
            else:
                sinks = _file_sink(stack.enter_context(replacing(target)))
        summary = _write(dataset, sinks, pool, jobs if pool else 0, progress)
    except BaseException:
        with held_signals():
            stack.__exit__(*sys.exc_info())
        raise
    with held_signals():
        stack.close()  # renames the partial file or directory into place
    return summary


# ------------------------------------------------------------------------------------------------ scoring


def errors_in(column: pa.Array | pa.ChunkedArray) -> int:
    """How many rows of an output's error column have an error."""
    return int(pc.sum(pc.not_equal(column, "")).as_py() or 0)


def output_schema(schema: pa.Schema) -> pa.Schema:
    """The input's columns and metadata, then the contract's output columns: float64 probabilities, strings."""
    for name in output_columns():
        schema = schema.append(pa.field(name, pa.float64() if name.startswith("p_") else pa.string()))
    return schema


def score_arrays(scores: dict[str, np.ndarray]) -> list[pa.Array]:
    """Scores.columns() as Arrow arrays: a probability is null where its row has an error."""
    arrays = []
    for values in scores.values():
        if values.dtype == object:
            arrays.append(pa.array(values, type=pa.string()))
        else:
            arrays.append(pa.array(values, type=pa.float64(), mask=np.isnan(values)))
    return arrays


def scored_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """The batch's columns unchanged, then its scores (output_schema). Each contract column's distinct values are
    read once, by the contract's own parser, as score_cases reads them."""
    columns = {
        name: arrow_distinct(batch.column(name))
        for name in batch.schema.names
        if name in FIELD_BY_NAME and FIELD_BY_NAME[name].kind != "text"
    }
    scores = score_columns(columns, batch.num_rows).columns()
    return pa.RecordBatch.from_arrays([*batch.columns, *score_arrays(scores)], schema=output_schema(batch.schema))


def row_group_slices(file: pq.ParquetFile, group: int, least: int | None = None) -> Iterator[pa.RecordBatch]:
    """The row group's rows in slices of the sizes chunk_sizes(rows, least) gives (none for no rows); `least`
    MIN_CHUNK_ROWS unless given."""
    sizes = chunk_sizes(file.metadata.row_group(group).num_rows, MIN_CHUNK_ROWS if least is None else least)
    batches = file.iter_batches(batch_size=sizes[0] if sizes else 1, row_groups=[group], use_threads=False)
    return cut(batches, sizes, file.schema_arrow)


def _engine_calls(dataset: Dataset) -> int:
    """How many engine calls score the dataset (see chunk_sizes)."""
    return sum(len(chunk_sizes(rows)) for file in dataset.files for rows in file.row_groups)


def _start_worker() -> None:
    reuse_freed_memory()
    load_engine().engine.threads = 1  # the workers share the processors already


def _slices(dataset: Dataset) -> Iterator[tuple[tuple[int, int], pa.RecordBatch]]:
    """((file number, row group), slice) for every slice of every file, in order; InputError for a file that turns
    out to be damaged past its footer."""
    for number, source in enumerate(dataset.files):
        try:
            with pq.ParquetFile(source.path) as file:
                for group in range(file.num_row_groups):
                    for batch in row_group_slices(file, group):
                        yield (number, group), batch
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{source.name}: cannot be read ({first_line(exc)})") from None


def _write(
    dataset: Dataset,
    sinks: Callable[[ParquetFile], contextlib.AbstractContextManager[BinaryIO]],
    pool: ProcessPoolExecutor | None,
    workers: int,
    progress: Callable[[int], None] | None,
) -> Summary:
    rows = errors = 0
    schema = output_schema(dataset.schema)
    with _Writers(dataset, sinks, schema) as writers:

        def written(where: tuple[int, int], scored: pa.RecordBatch) -> None:
            nonlocal rows, errors
            writers.write(where, scored)
            rows += scored.num_rows
            errors += errors_in(scored.column("error"))
            if progress is not None:
                progress(scored.num_rows)

        if pool is None:
            reuse_freed_memory()
            for where, batch in _slices(dataset):
                written(where, scored_batch(batch))
        else:
            # as the CSV path does: one slice in flight beyond the workers keeps them busy and bounds memory
            pending: deque[tuple[tuple[int, int], Future[pa.RecordBatch]]] = deque()
            for where, batch in _slices(dataset):
                pending.append((where, pool.submit(scored_batch, batch)))
                while pending and (len(pending) > workers or pending[0][1].done()):
                    done, future = pending.popleft()
                    written(done, future.result())
            while pending:
                done, future = pending.popleft()
                written(done, future.result())
    return Summary(rows, errors)


def _directory_sinks(directory: Path) -> Callable[[ParquetFile], contextlib.AbstractContextManager[BinaryIO]]:
    """A file for each input file, under the same relative path in the (partial) output directory."""

    def open_sink(file: ParquetFile) -> contextlib.AbstractContextManager[BinaryIO]:
        path = directory / file.relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("wb")

    return open_sink


def _file_sink(sink: BinaryIO) -> Callable[[ParquetFile], contextlib.AbstractContextManager[BinaryIO]]:
    """The one output file of a one-file input (output.replacing closes it)."""
    return lambda file: contextlib.nullcontext(sink)


class _Writers:
    """Writes scored slices to their files in order, each row group's slices as one row group (a row group of more
    than CHUNK_ROWS rows as several, so that memory stays bounded), opening each file's writer when its first slice
    (or a later file's) arrives, so that a file without rows still gets its output file with the columns."""

    def __init__(
        self,
        dataset: Dataset,
        open_sink: Callable[[ParquetFile], contextlib.AbstractContextManager[BinaryIO]],
        schema: pa.Schema,
    ):
        self.files, self.open_sink, self.schema = dataset.files, open_sink, schema
        self.current = -1
        self.writer: pq.ParquetWriter | None = None
        self.open = contextlib.ExitStack()
        self.group: tuple[int, int] | None = None  # the row group whose scored slices are held
        self.held: list[pa.RecordBatch] = []

    def __enter__(self) -> _Writers:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self._flush()
            self._advance(len(self.files))
        self.open.close()  # after an exception, the partial output is removed anyway

    def write(self, where: tuple[int, int], batch: pa.RecordBatch) -> None:
        """Take a scored slice of row group where = (file number, row group)."""
        if where != self.group:
            self._flush()
            self._advance(where[0])
            self.group = where
        elif sum(b.num_rows for b in self.held) + batch.num_rows > CHUNK_ROWS:  # memory bounded, whatever the size
            self._flush()
        self.held.append(batch)

    def _flush(self) -> None:
        """Write the held slices as one row group."""
        if self.held:
            assert self.writer is not None
            table = pa.Table.from_batches(self.held, self.schema)
            self.writer.write_table(table, row_group_size=max(1, table.num_rows))
        self.held = []

    def _advance(self, number: int) -> None:
        """Close the current file's writer and open each file's up to `number` (closing those in between)."""
        while self.current < number:
            if self.writer is not None:
                self.writer.close()
                self.open.close()
                self.writer = None
            self.current += 1
            if self.current < len(self.files):
                sink = self.open.enter_context(self.open_sink(self.files[self.current]))
                self.writer = pq.ParquetWriter(sink, self.schema)


__all__ = [
    "errors_in",
    "output_schema",
    "row_group_slices",
    "score_arrays",
    "score_parquet",
    "scored_batch",
]
