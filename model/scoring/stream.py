"""Scoring a CSV file in chunks: check it, read it, score it and write it without ever holding the whole file."""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import os
import shutil
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model.cases.fields import FIELD_BY_NAME
from model.inference.engine import load_engine
from model.scoring.batch import Column, output_columns, score_columns
from model.scoring.csv_input import (
    InputError,
    Reading,
    check_header,
    chunk_sizes,
    chunks,
    count_rows,
    is_stream,
    opened,
    read_csv_bytes,
    spooled,
    standard_input,
)
from model.scoring.memory import return_freed_memory, reuse_freed_memory
from model.scoring.output import (
    SPREADSHEET_ESCAPE,
    SPREADSHEET_TRIGGERS,
    Target,
    output_target,
    replacing,
    spreadsheet_safe,
)
from model.scoring.workers import held_signals, worker_pool

# CSV text is built this many rows at a time, so a chunk's text never exists twice over in memory.
TEXT_ROWS = 8192
# Below this many rows (estimated from the file size) a run stays in one process: starting workers costs
# more than it saves.
PARALLEL_MIN_ROWS = 50_000
_BYTES_PER_ROW_GUESS = 60
_NEEDS_QUOTES = '[",\r\n]'


@dataclass(frozen=True)
class Summary:
    """How a run went: rows written, and how many of them have an error."""

    rows: int
    errors: int


def default_jobs() -> int:
    """The number of processors this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def score_csv(
    source: str,
    output: str | None,
    keep: Iterable[str] = (),
    jobs: int = 1,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    spreadsheet_safe: bool = False,
) -> Summary:
    """Score the CSV at `source` ("-" for standard input) into `output` (None for standard output).

    Raises OutputError, before reading anything, for an output that is no regular file or new path, or that is
    the input itself (see output.output_target). Raises InputError, before writing anything, for a missing,
    empty, binary or non-UTF-8 file, a row whose field count differs from the header's, or a duplicate, unknown
    (not in `keep`) or clashing column: the whole file is checked first. Standard input, or an input that is not
    a regular file (a pipe), is copied to a temporary file for that, at most STDIN_SPOOL_BYTES of it, its header
    checked as soon as it has arrived. Raises WorkerError when a worker process dies. A file output is written
    beside its target and renamed into place at the end. On any exception (KeyboardInterrupt, or whatever a
    signal handler raises, included) the workers are killed and every partial and temporary file is removed,
    with the stop signals held so that a second one cannot cut that short. `on_total(rows)` is called once the
    rows are counted and `progress(rows)` after each chunk. `spreadsheet_safe` puts an apostrophe before input
    cells a spreadsheet would read as a formula (output.SPREADSHEET_TRIGGERS). Memory is tuned for the job,
    process-wide: a process that scores keeps what it frees (reuse_freed_memory), one that only reads and
    writes for workers gives large blocks back.
    """
    target = None if output is None else output_target(output, None if source == "-" else source)
    stack = contextlib.ExitStack()
    try:
        summary = _score(stack, source, target, keep, jobs, progress, on_total, spreadsheet_safe)
    except BaseException:
        with held_signals():
            stack.__exit__(*sys.exc_info())
        raise
    with held_signals():
        stack.close()  # renames the partial file into place
    return summary


def _score(
    stack: contextlib.ExitStack,
    source: str,
    target: Target | None,
    keep: Iterable[str],
    jobs: int,
    progress: Callable[[int], None] | None,
    on_total: Callable[[int], None] | None,
    spreadsheet_safe: bool,
) -> Summary:
    with held_signals():  # the folder exists only once its removal is on the stack
        scratch = Path(tempfile.mkdtemp(prefix="backcheck-"))
        stack.callback(shutil.rmtree, scratch, ignore_errors=True)
    if source == "-":
        path, name = scratch / "stdin.csv", "standard input"
        header = spooled(standard_input(), path, name, keep)
    else:
        path, name = Path(source), source
        if is_stream(path, name):
            spool = scratch / "input.csv"
            with opened(path, name) as raw:
                header = spooled(raw, spool, name, keep)
            path = spool
        else:
            header = check_header(path, name, keep)
    sink = sys.stdout.buffer if target is None else stack.enter_context(replacing(target))
    # Workers are forked before this process starts any Arrow threads, which a forked child cannot inherit.
    pool = None
    if jobs > 1 and path.stat().st_size > PARALLEL_MIN_ROWS * _BYTES_PER_ROW_GUESS:
        pool = stack.enter_context(worker_pool(jobs, _start_worker))
    rows, blocks, block_bytes = count_rows(path, name, header)
    if on_total is not None:
        on_total(rows)
    reading = Reading(path, name, header, block_bytes)
    return _write(reading, sink, pool, jobs if pool else 0, blocks, scratch, progress, spreadsheet_safe)


# ------------------------------------------------------------------------------------------------ scoring


def _start_worker() -> None:
    reuse_freed_memory()  # each worker's own: the reading process that forked it gives freed blocks back instead
    load_engine()


def _write(
    reading: Reading,
    sink: BinaryIO,
    pool: ProcessPoolExecutor | None,
    workers: int,
    blocks: int,
    scratch: Path,
    progress: Callable[[int], None] | None,
    safe: bool,
) -> Summary:
    header = [spreadsheet_safe(name) for name in reading.header] if safe else reading.header
    sink.write(_csv_line([*header, *output_columns()]))
    rows = errors = 0
    batches = chunks(reading, chunk_sizes(blocks))
    if pool is None:
        reuse_freed_memory()
        for batch in batches:
            bad = 0
            for text, n_bad in score_batch(batch, safe):
                sink.write(text)
                bad += n_bad
            rows, errors = rows + batch.num_rows, errors + bad
            if progress is not None:
                progress(batch.num_rows)
    else:
        # The workers score the chunks, each taking the next one as it finishes; this process reads the file and
        # copies the scored chunks out in order. Every chunk goes to a file of its own. One chunk in flight beyond
        # the workers keeps them all busy and bounds the memory this process holds.
        return_freed_memory()
        pending: deque[Future[tuple[str, int, int]]] = deque()
        for number, batch in enumerate(batches):
            pending.append(pool.submit(score_batch_to_file, batch, str(scratch / f"chunk{number}.csv"), safe))
            while pending and (len(pending) > workers or pending[0].done()):
                rows, errors = _copy_out(pending.popleft().result(), sink, rows, errors, progress)
        while pending:
            rows, errors = _copy_out(pending.popleft().result(), sink, rows, errors, progress)
    sink.flush()
    return Summary(rows, errors)


def _copy_out(
    done: tuple[str, int, int], sink: BinaryIO, rows: int, errors: int, progress: Callable[[int], None] | None
) -> tuple[int, int]:
    chunk, n, bad = done
    with open(chunk, "rb") as text:
        shutil.copyfileobj(text, sink, 2**20)
    os.unlink(chunk)
    pa.default_memory_pool().release_unused()  # Arrow's allocator keeps the pages of chunks already read
    if progress is not None:
        progress(n)
    return rows + n, errors + bad


def score_batch_to_file(batch: pa.RecordBatch, chunk: str, safe: bool = False) -> tuple[str, int, int]:
    """score_batch, written to the file `chunk`: (its path, rows, rows with errors). Runs in a worker."""
    bad = 0
    with open(chunk, "wb") as out:
        for text, n_bad in score_batch(batch, safe):
            out.write(text)
            bad += n_bad
    pa.default_memory_pool().release_unused()
    return chunk, batch.num_rows, bad


def score_batch(batch: pa.RecordBatch, safe: bool = False) -> Iterator[tuple[bytes, int]]:
    """A chunk of rows scored, as CSV text (input values unchanged, then the scores) in pieces, each with
    how many of its rows have an error. With `safe`, an input value a spreadsheet would read as a formula gets
    an apostrophe before it (output.spreadsheet_safe); the scores never need one."""
    columns = {}
    plain = []  # per column of the output: True when no value can need quotes, so none is searched
    for name in batch.schema.names:
        field = FIELD_BY_NAME.get(name)
        if field is not None and field.kind != "text":
            encoded = pc.dictionary_encode(batch.column(name))
            values = encoded.dictionary.to_pylist()
            columns[name] = Column(encoded.indices.to_numpy(zero_copy_only=False), values)
            plain.append(not any(c in v for v in values for c in ',"\r\n'))
        else:
            plain.append(False)
    plain += [name not in ("care_reasons", "error") for name in output_columns()]
    scores = score_columns(columns, batch.num_rows)
    for start in range(0, batch.num_rows, TEXT_ROWS):
        part = slice(start, start + TEXT_ROWS)
        arrays = [column.slice(start, TEXT_ROWS) for column in batch.columns]
        if safe:
            arrays = [_spreadsheet_safe(array) for array in arrays]
        for values in scores.columns(part).values():
            if values.dtype == object:
                arrays.append(pa.array(values, type=pa.string()))
            else:
                arrays.append(pa.array(values, mask=np.isnan(values)).cast(pa.string()))
        yield _csv_lines(arrays, plain), int(np.count_nonzero(scores.error[part] != ""))


def _spreadsheet_safe(array: pa.Array) -> pa.Array:
    """output.spreadsheet_safe for a column of strings."""
    risky = functools.reduce(pc.or_, [pc.starts_with(array, trigger) for trigger in SPREADSHEET_TRIGGERS])
    return pc.if_else(risky, pc.binary_join_element_wise(SPREADSHEET_ESCAPE, array, ""), array)


def _csv_lines(arrays: list[pa.Array], plain: list[bool]) -> bytes:
    """The rows of these string columns as CSV text: fields quoted only when they must be, one line per row.

    A column marked plain holds no value that needs quotes and is not searched.
    """
    if not len(arrays[0]):
        return b""
    fields = []
    for array, clean in zip(arrays, plain, strict=True):
        array = pc.fill_null(array, "")
        if not clean:
            needs = pc.match_substring_regex(array, _NEEDS_QUOTES)
            if pc.any(needs).as_py():
                quoted = pc.binary_join_element_wise('"', pc.replace_substring(array, '"', '""'), '"', "")
                array = pc.if_else(needs, quoted, array)
        fields.append(array)
    fields[-1] = pc.binary_join_element_wise(fields[-1], "\n", "")
    lines = pc.binary_join_element_wise(*fields, ",")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    return bytes(memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]])


def _csv_line(values: list[str]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(values)
    return text.getvalue().encode("utf-8")


# InputError and read_csv_bytes live in csv_input; the app (app/files.py) imports them from here.
__all__ = ["InputError", "Summary", "default_jobs", "read_csv_bytes", "score_batch", "score_batch_to_file", "score_csv"]
