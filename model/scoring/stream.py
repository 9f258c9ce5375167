"""Scoring a CSV file in chunks: check it, read it, score it and write it without ever holding the whole file."""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import io
import os
import re
import shutil
import stat
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
import pyarrow.csv as pa_csv

from model.cases.fields import FIELD_BY_NAME, UnknownFieldError
from model.inference.engine import load_engine
from model.scoring.batch import Column, check_columns, output_columns, score_columns
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

# Arrow reads the file in blocks of this many bytes; its parser holds about twenty times a block in memory.
BLOCK_BYTES = 2 * 2**20
# This many blocks make one chunk of rows scored together: about 80,000 rows of the contract's 34 fields.
# Bigger chunks spread the engine's per-plan work over more rows; smaller ones bound each process's memory.
CHUNK_BLOCKS = 4
# Towards the end of a file, a chunk takes at most this share of the blocks left (chunk_sizes).
_TAIL_SHARE = 4
# CSV text is built this many rows at a time, so a chunk's text never exists twice over in memory.
TEXT_ROWS = 8192
# Below this many rows (estimated from the file size) a run stays in one process: starting workers costs
# more than it saves.
PARALLEL_MIN_ROWS = 50_000
_BYTES_PER_ROW_GUESS = 60
# A row (the header too) may be this long; Arrow's block grows to twice this to hold one.
MAX_ROW_BYTES = 128 * 2**20
# Standard input (or a pipe given by name) is copied to a temporary file to be checked before scoring, and
# at most this much of it: an endless stream would otherwise fill the disk. A bigger file is read in place.
STDIN_SPOOL_BYTES = 2 * 2**30
_PIECE_BYTES = 2**20
_DECODE_BYTES = 8 * 2**20
# Arrow's message about a malformed file is quoted up to this many characters.
_QUOTED_CHARACTERS = 200
_QUOTE_OR_BREAK = re.compile(rb'["\r\n]')
_EMPTY = "{name}: is empty; a CSV file of cases starts with a header row of column names"
_HEADER_FIRST = "a CSV file of cases starts with a header row of column names"
_NOT_UTF8 = "{name}: is not UTF-8 text (line {line} holds the byte 0x{byte}); save it as 'CSV UTF-8' and try again"
_NEEDS_QUOTES = '[",\r\n]'


class InputError(Exception):
    """A problem with the input that stops the run. The message is one line, meant for the user."""


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
        header = _spooled(_stdin(), path, name, keep)
    else:
        path, name = Path(source), source
        if _is_stream(path, name):
            spool = scratch / "input.csv"
            with _opened(path, name) as raw:
                header = _spooled(raw, spool, name, keep)
            path = spool
        else:
            header = _check_header(path, name, keep)
    sink = sys.stdout.buffer if target is None else stack.enter_context(replacing(target))
    # Workers are forked before this process starts any Arrow threads, which a forked child cannot inherit.
    pool = None
    if jobs > 1 and path.stat().st_size > PARALLEL_MIN_ROWS * _BYTES_PER_ROW_GUESS:
        pool = stack.enter_context(worker_pool(jobs, _start_worker))
    rows, blocks, block_bytes = _count(path, name, header)
    if on_total is not None:
        on_total(rows)
    reading = _Reading(path, name, header, block_bytes)
    return _write(reading, sink, pool, jobs if pool else 0, blocks, scratch, progress, spreadsheet_safe)


@dataclass(frozen=True)
class _Reading:
    """How to read the checked file: where it is, what to call it, its header and Arrow's block size for it."""

    path: Path
    name: str
    header: list[str]
    block_bytes: int


# ----------------------------------------------------------------------------------------------- checking


def _stdin() -> BinaryIO:
    if sys.stdin is None:  # started with standard input closed (`<&-`)
        raise InputError("standard input: is closed; give a file name, or pipe the cases in")
    return sys.stdin.buffer


def _is_stream(path: Path, name: str) -> bool:
    """Whether `path` is something to read once (a pipe, /dev/stdin), not a regular file; InputError if missing."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{name}: is a directory, not a CSV file")
    return not stat.S_ISREG(mode)


@contextlib.contextmanager
def _opened(path: Path, name: str) -> Iterator[BinaryIO]:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise InputError(f"{name}: cannot be read ({exc.strerror or exc})") from None
    with raw:
        yield raw


def _pieces(raw: BinaryIO, name: str) -> Iterator[bytes]:
    """What `raw` holds, as it arrives (a pipe gives what has been written so far, not a full MiB)."""
    read = getattr(raw, "read1", raw.read)
    while True:
        try:
            piece = read(_PIECE_BYTES)
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({exc.strerror or exc})") from None
        except ValueError:  # a closed file object
            raise InputError(f"{name}: is closed; give a file name, or pipe the cases in") from None
        if not piece:
            return
        yield piece


def _spooled(raw: BinaryIO, path: Path, name: str, keep: Iterable[str]) -> list[str]:
    """Copy `raw` to `path` and return its header, checked as soon as the header row has arrived.

    At most STDIN_SPOOL_BYTES are copied: an endless stream would otherwise fill the disk before the run could
    say anything; a bigger file is scored by its name, without a copy."""

    def copied() -> Iterator[bytes]:
        size = 0
        for piece in _pieces(raw, name):
            size += len(piece)
            if size > STDIN_SPOOL_BYTES:
                raise InputError(
                    f"{name}: holds more than {STDIN_SPOOL_BYTES / 2**30:g} GiB, more than the scorer copies "
                    "from a stream; save it to a file and score the file by its name"
                )
            copy.write(piece)
            yield piece

    with path.open("wb") as copy:
        pieces = copied()
        header = _header(_header_record(pieces, name), name, keep)
        for _ in pieces:
            pass
    return header


def _check_header(path: Path, name: str, keep: Iterable[str] | None) -> list[str]:
    """The file's column names, once the file is known to exist, to be text and to have acceptable columns (any
    unknown one too when `keep` is None)."""
    with _opened(path, name) as raw:
        return _header(_header_record(_pieces(raw, name), name), name, keep)


def _header_record(pieces: Iterator[bytes], name: str) -> bytes:
    """The header row's bytes (its line break left off), read from `pieces` only as far as needed: up to the first
    line break outside quotes. InputError for an empty or binary input, a blank first line or a header over
    MAX_ROW_BYTES."""
    head = bytearray()
    position, quoted = 0, False
    for piece in pieces:
        head += piece
        if b"\x00" in piece:
            raise InputError(_binary(name, head, 1))
        for found in _QUOTE_OR_BREAK.finditer(head, position):
            if found[0] == b'"':
                quoted = not quoted
            elif not quoted:
                record = bytes(head[: found.start()])
                if _blank(record):
                    if _blank(head) and all(_blank(piece) for piece in pieces):
                        raise InputError(_EMPTY.format(name=name))
                    raise InputError(f"{name}: line 1 is blank; {_HEADER_FIRST}")
                return record
        position = len(head)
        if position > MAX_ROW_BYTES:
            raise InputError(f"{name}: the header row is longer than {MAX_ROW_BYTES // 2**20} MiB")
    if _blank(head):
        raise InputError(_EMPTY.format(name=name))
    return bytes(head)


def _binary(name: str, data: bytes | bytearray, first_line: int) -> str:
    """The message for a NUL byte in `data`, whose first byte is on line `first_line`."""
    line = first_line + data.count(b"\n", 0, data.find(b"\x00"))
    return (
        f"{name}: holds binary data, not CSV text (line {line:,} holds a NUL byte; a spreadsheet file? "
        "save it as CSV UTF-8)"
    )


def _blank(data: bytes | bytearray) -> bool:
    return not data.removeprefix(b"\xef\xbb\xbf").strip()


def _header(record: bytes, name: str, keep: Iterable[str] | None) -> list[str]:
    """The column names in the header row's bytes, once they are known to be UTF-8 CSV text naming acceptable
    columns (with `keep` None, unknown columns are left to the caller)."""
    try:
        text = record.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = record.count(b"\n", 0, exc.start) + 1
        raise InputError(_NOT_UTF8.format(name=name, line=line, byte=record[exc.start : exc.start + 1].hex())) from None
    try:
        with _unlimited_fields():
            header = next(csv.reader(io.StringIO(text, newline="")))
    except (csv.Error, StopIteration) as exc:
        raise InputError(f"{name}: the header row is not valid CSV ({exc})") from None
    try:
        check_columns(header, header if keep is None else keep)
    except UnknownFieldError as exc:
        raise InputError(f"{name}: {exc}; to pass an extra column through, name it with --keep") from None
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None
    return header


@contextlib.contextmanager
def _unlimited_fields() -> Iterator[None]:
    """Lift the csv module's limit on a field (128 KiB by default; process-wide, so it is put back after)."""
    before = csv.field_size_limit(MAX_ROW_BYTES)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _count(path: Path, name: str, header: list[str]) -> tuple[int, int, int]:
    """The file's rows and blocks, and the block size that reads it, once the whole file is known to be UTF-8 text
    without NUL and valid CSV (InputError if not).

    Arrow splits every row into its fields, which finds a row with the wrong number of them, but converts only
    the first column: converting them all took twice as long. Python's decoder checks the text instead, the
    same strict UTF-8 that Arrow checks when it converts a column (about a tenth of a second per 100 MB).
    Arrow cannot read a row longer than its block: the block doubles, from BLOCK_BYTES up to MAX_ROW_BYTES * 2,
    until every row fits."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 1
    try:
        with _opened(path, name) as raw:
            while piece := raw.read(_DECODE_BYTES):
                if b"\x00" in piece:
                    raise InputError(_binary(name, piece, lines))
                lines += piece.count(b"\n")
                decoder.decode(piece)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError(_not_utf8(path, name)) from None
    block_bytes = BLOCK_BYTES
    while True:
        rows = blocks = 0
        try:
            for batch in _batches(_Reading(path, name, header, block_bytes), header[:1]):
                rows, blocks = rows + batch.num_rows, blocks + 1
        except _RowTooLong:
            if block_bytes >= 2 * MAX_ROW_BYTES:
                raise InputError(f"{name}: holds a row longer than {MAX_ROW_BYTES // 2**20} MiB") from None
            block_bytes *= 2
            continue
        pa.default_memory_pool().release_unused()
        return rows, blocks, block_bytes


class _RowTooLong(InputError):
    """Arrow met a row longer than its block (_count then tries a bigger one)."""


def _batches(reading: _Reading, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """The file's rows in blocks, every value a string exactly as written (only `columns`, if given); InputError
    on a malformed file.

    Arrow reads through a Python file object and on this thread: given a path, it reads many blocks ahead,
    and memory would grow with the gap between reading and scoring.
    """
    try:
        with _opened(reading.path, reading.name) as raw:
            yield from _parsed(raw, reading.header, reading.block_bytes, columns)
    except pa.ArrowInvalid as exc:
        if "straddling" in str(exc):
            raise _RowTooLong(f"{reading.name}: holds a row longer than {reading.block_bytes // 2**20} MiB") from None
        raise InputError(_explain(exc, reading.path, reading.name, reading.header)) from None


def _chunks(reading: _Reading, sizes: Iterable[int]) -> Iterator[pa.RecordBatch]:
    """The file's rows in chunks, each one record batch of as many blocks as `sizes` says in turn (then of
    CHUNK_BLOCKS, should the file have grown since its blocks were counted)."""
    sizes = iter(sizes)
    size = next(sizes, CHUNK_BLOCKS)
    blocks: list[pa.RecordBatch] = []
    for block in _batches(reading):
        blocks.append(block)
        if len(blocks) == size:
            yield _joined(blocks)
            blocks, size = [], next(sizes, CHUNK_BLOCKS)
    if blocks:
        yield _joined(blocks)


def chunk_sizes(blocks: int) -> list[int]:
    """How many blocks each chunk of a file of `blocks` blocks takes.

    CHUNK_BLOCKS, until a chunk would be more than a _TAIL_SHARE-th of what is left; from there on each takes
    that share, down to one block. With equal chunks, one worker could be left scoring the last of them alone
    for as long as a chunk takes (4.5 s on the benchmark file); shrinking chunks make two workers finish
    within about a block's time of each other, for the price of a few more, smaller chunks. The schedule
    does not depend on the number of workers: a row's last digits depend on the rows scored with it (see
    Engine's plan merging), and a file gives the same bytes whatever --jobs says."""
    sizes = []
    left = blocks
    while left > 0:
        sizes.append(min(CHUNK_BLOCKS, max(1, -(-left // _TAIL_SHARE))))
        left -= sizes[-1]
    return sizes


def _joined(blocks: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(blocks) == 1:
        return blocks[0]
    return pa.Table.from_batches(blocks).combine_chunks().to_batches()[0]


def _parsed(
    raw: BinaryIO, header: list[str], block_bytes: int, columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    reader = pa_csv.open_csv(
        raw,
        read_options=pa_csv.ReadOptions(block_size=block_bytes, use_threads=False),
        # A blank line is no row, except in a one-column file, where it is an empty value.
        parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=len(header) > 1),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            include_columns=columns or [],  # empty: every column
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    yield from reader


def _explain(exc: pa.ArrowInvalid, path: Path, name: str, header: list[str]) -> str:
    message = str(exc)
    # Arrow's first line can quote the whole row it stopped at, megabytes of it
    first = message.splitlines()[0] if message else type(exc).__name__
    first = first if len(first) <= _QUOTED_CHARACTERS else first[:_QUOTED_CHARACTERS] + "..."
    if "invalid UTF8" in message:
        return _not_utf8(path, name)
    if "Expected" in message and "columns, got" in message:
        return _ragged(path, name, len(header)) or f"{name}: {first}"
    return f"{name}: is not a valid CSV file ({first})"


def _not_utf8(path: Path, name: str) -> str:
    """Where the file stops being UTF-8 (the slow way: only once it is known not to be)."""
    with path.open("rb") as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                return _NOT_UTF8.format(name=name, line=number, byte=line[exc.start : exc.start + 1].hex())
    return f"{name}: is not UTF-8 text; save it as 'CSV UTF-8' and try again"


def _ragged(path: Path, name: str, width: int) -> str | None:
    """Which line holds a row with the wrong number of fields (the slow way: only once one is known to)."""
    with path.open(encoding="utf-8-sig", newline="") as text, _unlimited_fields():
        reader = csv.reader(text)
        next(reader)
        for row in reader:
            if row and len(row) != width:
                return (
                    f"{name}: line {reader.line_num} has {len(row)} field{'s' * (len(row) != 1)} "
                    f"but the header has {width}; every row needs one value per column (empty for unknown)"
                )
    return None


def read_csv_bytes(data: bytes, name: str) -> pa.Table:
    """A CSV file held in memory (the app's upload), every value a string exactly as written.

    Checked as score_csv checks a file, with the same messages: InputError for an empty, binary or non-UTF-8
    file, a row whose field count differs from the header's, or a duplicate or clashing column. Unknown columns
    are read: the caller says which to keep (batch.check_columns), as the command line's --keep does."""
    with tempfile.TemporaryDirectory(prefix="backcheck-") as scratch:
        path = Path(scratch) / "upload.csv"
        path.write_bytes(data)
        header = _check_header(path, name, None)
        _, _, block_bytes = _count(path, name, header)
        batches = list(_batches(_Reading(path, name, header, block_bytes)))
    return pa.Table.from_batches(batches, schema=pa.schema([(column, pa.string()) for column in header]))


# ------------------------------------------------------------------------------------------------ scoring


def _start_worker() -> None:
    reuse_freed_memory()  # each worker's own: the reading process that forked it gives freed blocks back instead
    load_engine()


def _write(
    reading: _Reading,
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
    batches = _chunks(reading, chunk_sizes(blocks))
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
