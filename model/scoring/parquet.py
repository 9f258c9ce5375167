"""Scoring Parquet: a file, or a directory of files (a dataset), checked first, then read, scored and written by
row groups, each row group in slices of SCORE_ROWS rows."""

from __future__ import annotations

import contextlib
import json
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from model.cases.fields import FIELD_BY_NAME, Field, UnknownFieldError, names_in_words
from model.inference.engine import load_engine
from model.scoring.batch import arrow_distinct, check_columns, output_columns, score_columns
from model.scoring.csv_input import InputError
from model.scoring.formats import PARQUET_SUFFIXES
from model.scoring.memory import reuse_freed_memory
from model.scoring.output import OutputError, output_directory, output_target, replacing, replacing_directory
from model.scoring.stream import Summary
from model.scoring.workers import held_signals, worker_pool

# Rows scored together by one engine call: a row group is scored in slices of this many rows, here and on a Dask
# cluster alike, so that both give the same digits (a row's last digits depend on the rows scored with it; see
# Engine's plan merging). About the CSV path's chunk: big enough to spread the engine's per-plan work, small enough
# to bound a process's memory whatever the row groups' size.
SCORE_ROWS = 65_536
_QUOTED_CHARACTERS = 200
_SCORE_TYPES = {"top_cause": pa.string(), "care": pa.string(), "care_reasons": pa.string()}


@dataclass(frozen=True)
class ParquetFile:
    """One file to score: where it is, its name in messages, where its scores go in an output directory, and the
    rows of each of its row groups."""

    path: Path
    name: str
    relative: Path
    row_groups: tuple[int, ...]


@dataclass(frozen=True)
class Dataset:
    """Checked Parquet input: its files in order (one, or a directory's), their shared schema and whether the
    input was a directory."""

    files: tuple[ParquetFile, ...]
    schema: pa.Schema
    directory: bool

    @property
    def rows(self) -> int:
        return sum(sum(file.row_groups) for file in self.files)

    def slices(self) -> int:
        """How many engine calls score the dataset (see SCORE_ROWS)."""
        return sum(-(-rows // SCORE_ROWS) for file in self.files for rows in file.row_groups)


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
        if jobs > 1 and dataset.slices() > 1:
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


# ----------------------------------------------------------------------------------------------- checking


def read_dataset(source: str, keep: Iterable[str] = ()) -> Dataset:
    """The Parquet input at `source` once every file's footer has been read and its columns checked.

    InputError for a missing path, a directory without Parquet files, a file that is not Parquet (or whose footer
    is damaged), columns that check_columns refuses, a column whose type cannot hold its field's values
    (column_type_problem), or a file whose columns (names and types) differ from the first file's. Columns a
    pandas index was stored in are passed through, as a column named with `keep` is.
    """
    path = Path(source)
    if not path.exists():
        raise InputError(f"{source}: no such file or directory")
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if _is_data_file(p.relative_to(path)) and p.is_file())
        if not found:
            raise InputError(f"{source}: is a directory with no Parquet files (*.parquet) in it")
        files = [(p, str(p), p.relative_to(path)) for p in found]
    else:
        files = [(path, source, Path(path.name))]
    keep = tuple(keep)
    checked, schema, first = [], None, ""
    for file, name, relative in files:
        metadata = _metadata(file, name)
        found_schema = metadata.schema.to_arrow_schema()
        if schema is None:
            schema, first = found_schema, name
            _check_columns(schema, name, keep)
        elif not found_schema.remove_metadata().equals(schema.remove_metadata()):
            raise InputError(f"{name}: {_difference(found_schema, schema)} ({first} is read first); {_SAME}")
        groups = tuple(metadata.row_group(i).num_rows for i in range(metadata.num_row_groups))
        checked.append(ParquetFile(file, name, relative, groups))
    assert schema is not None
    return Dataset(tuple(checked), schema, path.is_dir())


_SAME = "every file of a dataset needs the same columns of the same types"


def _is_data_file(relative: Path) -> bool:
    """A Parquet file of a dataset; not one that a name starting with "." or "_" hides (a writer's own files)."""
    hidden = any(part.startswith((".", "_")) for part in relative.parts)
    return relative.suffix.lower() in PARQUET_SUFFIXES and not hidden


def _metadata(path: Path, name: str) -> pq.FileMetaData:
    try:
        return pq.read_metadata(path)
    except (pa.ArrowException, OSError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, pa.ArrowException) and exc.strerror:
            raise InputError(f"{name}: cannot be read ({exc.strerror})") from None
        if path.stat().st_size == 0:
            raise InputError(f"{name}: is empty; a Parquet file of cases holds at least its columns") from None
        raise InputError(f"{name}: is not a Parquet file, or a damaged one ({first_line(exc)})") from None


def first_line(exc: BaseException) -> str:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return message if len(message) <= _QUOTED_CHARACTERS else message[:_QUOTED_CHARACTERS] + "..."


def _check_columns(schema: pa.Schema, name: str, keep: tuple[str, ...]) -> None:
    try:
        check_columns(schema.names, (*keep, *pandas_index_columns(schema)))
    except UnknownFieldError as exc:
        raise InputError(f"{name}: {exc}; to pass an extra column through, name it with --keep") from None
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None
    for column in schema:
        field = FIELD_BY_NAME.get(column.name)
        if field is not None:
            problem = column_type_problem(field, column.type)
            if problem:
                raise InputError(f"{name}: {problem}")


def pandas_index_columns(schema: pa.Schema) -> list[str]:
    """The columns that pandas (or Dask) stored a DataFrame's index in, by the pandas metadata of the file."""
    try:
        stored = json.loads((schema.metadata or {}).get(b"pandas", b"{}"))
    except ValueError:
        return []
    return [c for c in stored.get("index_columns", []) if isinstance(c, str)]


def column_type_problem(field: Field, type_: pa.DataType) -> str | None:
    """Why a column of this Arrow type cannot hold the field's values, or None when it can.

    Text can hold any field's values, in the spellings the contract reads (yes/no, a choice, a plain decimal);
    a yes/no field may also be a boolean or an integer column (1 and 0), a number field an integer, floating or
    decimal column. A column of nulls only is a column of unknowns. A dictionary column is judged by its values.
    A value the type holds but the field does not accept (an age of 300, a yes/no of 2) is a row error.
    """
    if pa.types.is_dictionary(type_):
        type_ = type_.value_type
    if field.kind == "text" or pa.types.is_null(type_) or _is_text(type_):
        return None
    if field.kind == "yesno" and (pa.types.is_boolean(type_) or pa.types.is_integer(type_)):
        return None
    if field.kind in ("integer", "number") and (
        pa.types.is_integer(type_) or pa.types.is_floating(type_) or pa.types.is_decimal(type_)
    ):
        return None
    expected = {
        "yesno": "booleans, integers (1 and 0) or text",
        "choice": "text",
        "integer": "integers, numbers or text",
        "number": "numbers or text",
    }[field.kind]
    return f"column '{field.name}' holds values of type {type_}; expected {expected} ({field.expected})"


def _is_text(type_: pa.DataType) -> bool:
    return pa.types.is_string(type_) or pa.types.is_large_string(type_) or pa.types.is_string_view(type_)


def _difference(found: pa.Schema, expected: pa.Schema) -> str:
    if found.names != expected.names:
        return f"its columns are {names_in_words(found.names)}, not {names_in_words(expected.names)}"
    for a, b in zip(found, expected, strict=True):
        if not a.type.equals(b.type):
            return f"its column '{a.name}' holds values of type {a.type}, not {b.type}"
    return "its columns differ"


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


def row_group_slices(file: pq.ParquetFile, group: int) -> Iterator[pa.RecordBatch]:
    """The row group's rows in slices of exactly SCORE_ROWS rows, the last one shorter (none for no rows)."""
    held: list[pa.RecordBatch] = []
    rows = 0
    for batch in file.iter_batches(batch_size=SCORE_ROWS, row_groups=[group], use_threads=False):
        held.append(batch)
        rows += batch.num_rows
        while rows >= SCORE_ROWS:
            table = pa.Table.from_batches(held, file.schema_arrow)
            yield _one_batch(table.slice(0, SCORE_ROWS))
            rest = table.slice(SCORE_ROWS)
            held, rows = rest.to_batches(), rest.num_rows
    if rows:
        yield _one_batch(pa.Table.from_batches(held, file.schema_arrow))


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    return table.combine_chunks().to_batches()[0]


def _start_worker() -> None:
    reuse_freed_memory()
    load_engine()


def _slices(dataset: Dataset) -> Iterator[tuple[int, pa.RecordBatch]]:
    """(file number, slice) for every slice of every file, in order; InputError for a file that turns out to be
    damaged past its footer."""
    for number, source in enumerate(dataset.files):
        try:
            with pq.ParquetFile(source.path) as file:
                for group in range(file.num_row_groups):
                    for batch in row_group_slices(file, group):
                        yield number, batch
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

        def written(number: int, scored: pa.RecordBatch) -> None:
            nonlocal rows, errors
            writers.write(number, scored)
            rows += scored.num_rows
            errors += errors_in(scored.column("error"))
            if progress is not None:
                progress(scored.num_rows)

        if pool is None:
            reuse_freed_memory()
            for number, batch in _slices(dataset):
                written(number, scored_batch(batch))
        else:
            # as the CSV path does: one slice in flight beyond the workers keeps them busy and bounds memory
            pending: deque[tuple[int, Future[pa.RecordBatch]]] = deque()
            for number, batch in _slices(dataset):
                pending.append((number, pool.submit(scored_batch, batch)))
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
    """Writes scored slices to their files in order, opening each file's writer when its first slice (or a later
    file's) arrives, so that a file without rows still gets its output file with the columns."""

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

    def __enter__(self) -> _Writers:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is None:
            self._advance(len(self.files))
        self.open.close()  # after an exception, the partial output is removed anyway

    def write(self, number: int, batch: pa.RecordBatch) -> None:
        self._advance(number)
        assert self.writer is not None
        self.writer.write_batch(batch)

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
    "SCORE_ROWS",
    "Dataset",
    "ParquetFile",
    "column_type_problem",
    "errors_in",
    "first_line",
    "output_schema",
    "read_dataset",
    "row_group_slices",
    "score_arrays",
    "score_parquet",
    "scored_batch",
]
