"""Scoring a CSV file in chunks: check it, read it, score it and write it without ever holding the whole file.

The run itself: csv_input checks and reads the file, csv_output writes the scored chunks as text, and this module
joins them, with worker processes for a big file and nothing left behind when the run stops."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from model.inference.engine import load_engine
from model.scoring.batch import output_columns
from model.scoring.csv_input import (
    Reading,
    check_header,
    chunks,
    count_rows,
    is_stream,
    opened,
    spooled,
    standard_input,
)
from model.scoring.csv_output import csv_line, score_batch, score_batch_to_file
from model.scoring.memory import return_freed_memory, reuse_freed_memory
from model.scoring.output import Target, output_target, replacing, spreadsheet_safe
from model.scoring.schedule import MIN_CHUNK_ROWS, chunk_sizes
from model.scoring.workers import held_signals, worker_pool

# Below this many rows (estimated from the file size, a row taken at the fewest bytes one usually has) a run
# stays in one process: two chunks (schedule.MIN_CHUNK_ROWS) take a few seconds at the second edition's tens to
# hundreds of rows a second a processor, and a worker starts in about one (its engine built).
PARALLEL_MIN_ROWS = 2 * MIN_CHUNK_ROWS
_BYTES_PER_ROW_GUESS = 60


@dataclass(frozen=True)
class Summary:
    """How a run went: rows written, and how many of them have an error."""

    rows: int
    errors: int


def default_jobs() -> int:
    """The number of processors this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def usable_jobs(jobs: int | None) -> int:
    """The workers a run asking for `jobs` (None: as many as it may) gets: at most one per processor, since more
    only add engines to memory and switches between them."""
    return min(jobs or default_jobs(), default_jobs())


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
    a regular file (a pipe), is copied to a temporary file for that, at most csv_input.STDIN_SPOOL_BYTES of it,
    its header checked as soon as it has arrived. Raises WorkerError when a worker process dies. A file output is
    written beside its target and renamed into place at the end. On any exception (KeyboardInterrupt, or whatever a
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
    rows, block_bytes = count_rows(path, name, header)
    if on_total is not None:
        on_total(rows)
    reading = Reading(path, name, header, block_bytes)
    return _write(reading, sink, pool, jobs if pool else 0, rows, scratch, progress, spreadsheet_safe)


# ------------------------------------------------------------------------------------------------ scoring


def _start_worker() -> None:
    reuse_freed_memory()  # each worker's own: the reading process that forked it gives freed blocks back instead
    load_engine().engine.threads = 1  # the workers share the processors already


def _write(
    reading: Reading,
    sink: BinaryIO,
    pool: ProcessPoolExecutor | None,
    workers: int,
    total: int,
    scratch: Path,
    progress: Callable[[int], None] | None,
    safe: bool,
) -> Summary:
    header = [spreadsheet_safe(name) for name in reading.header] if safe else reading.header
    sink.write(csv_line([*header, *output_columns()]))
    rows = errors = 0
    batches = chunks(reading, chunk_sizes(total))
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


__all__ = ["Summary", "default_jobs", "score_csv", "usable_jobs"]
