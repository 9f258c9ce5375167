"""Reading a CSV file of cases: opened (standard input or a pipe copied to a file first), checked whole before
anything is scored, then read in chunks of string columns; every problem is one line for the user (InputError)."""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
import re
import stat
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
import pyarrow.csv as pa_csv

from model.cases.fields import UnknownFieldError
from model.scoring.batch import check_columns
from model.scoring.schedule import cut

# Arrow reads the file in blocks of this many bytes; its parser holds about twenty times a block in memory.
BLOCK_BYTES = 2 * 2**20
# A row (the header too) may be this long; Arrow's block grows to twice this to hold one.
MAX_ROW_BYTES = 128 * 2**20
# Standard input (or a pipe given by name) is copied to a temporary file to be checked before scoring, and
# at most this much of it: an endless stream would otherwise fill the disk. A bigger file is read in place.
STDIN_SPOOL_BYTES = 2 * 2**30
_PIECE_BYTES = 2**20
_DECODE_BYTES = 8 * 2**20
# Arrow's message about a malformed file is quoted up to this many characters.
_QUOTED_CHARACTERS = 200
_QUOTE_COMMA_OR_BREAK = re.compile(rb'["\r\n,]')
_BOM = b"\xef\xbb\xbf"
# The byte-order marks of the encodings a spreadsheet's "Unicode text" may be (their text is full of NUL bytes);
# UTF-32's first, since UTF-16 LE's mark begins it.
_OTHER_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
_EMPTY = "{name}: is empty; a CSV file of cases starts with a header row of column names"
_HEADER_FIRST = "a CSV file of cases starts with a header row of column names"
_NOT_UTF8 = "{name}: is not UTF-8 text (line {line} holds the byte 0x{byte}); save it as 'CSV UTF-8' and try again"


class InputError(Exception):
    """A problem with the input that stops the run. The message is one line, meant for the user."""


@dataclass(frozen=True)
class Reading:
    """How to read the checked file: where it is, what to call it, its header and Arrow's block size for it."""

    path: Path
    name: str
    header: list[str]
    block_bytes: int


def standard_input() -> BinaryIO:
    """This process's standard input, as bytes; InputError when it was started with standard input closed."""
    if sys.stdin is None:  # started with standard input closed (`<&-`)
        raise InputError("standard input: is closed; give a file name, or pipe the cases in")
    return sys.stdin.buffer


def is_stream(path: Path, name: str) -> bool:
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
def opened(path: Path, name: str) -> Iterator[BinaryIO]:
    """`path` open for reading bytes; InputError, calling it `name`, when it cannot be opened."""
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


def spooled(raw: BinaryIO, path: Path, name: str, keep: Iterable[str]) -> list[str]:
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

    # the reading's own errors are InputError already (_pieces): an OSError here is the copy's, a write or the
    # flush at the end, most often a temporary folder that is full
    try:
        with path.open("wb") as copy:
            pieces = copied()
            header = _header(_header_record(pieces, name), name, keep)
            for _ in pieces:
                pass
    except OSError as exc:
        raise InputError(
            f"{name}: cannot be copied to the temporary folder {path.parent} ({exc.strerror or exc}); "
            "make room there, or set TMPDIR to a folder with room"
        ) from None
    return header


def check_header(path: Path, name: str, keep: Iterable[str] | None) -> list[str]:
    """The file's column names, once the file is known to exist, to be text and to have acceptable columns (any
    unknown one too when `keep` is None)."""
    with opened(path, name) as raw:
        return _header(_header_record(_pieces(raw, name), name), name, keep)


def _header_record(pieces: Iterator[bytes], name: str) -> bytes:
    """The header row's bytes (its line break left off), read from `pieces` only as far as needed: up to the first
    line break outside quotes. InputError for an empty or binary input, a blank first line or a header over
    MAX_ROW_BYTES.

    Quotes are read as the CSV parsers read them (Arrow's and Python's csv): a quote opens a quoted value only as
    a value's first character, two quotes inside one are a quote, and a quote elsewhere (no"te) is a character
    of its value; a toggle at every quote took the rest of the file for the header."""
    head = bytearray()
    position, quoted, start, closed = 0, False, -1, -1  # start: where the current value began; closed: a quote's end
    for piece in pieces:
        head += piece
        if b"\x00" in piece:
            for mark, encoding in _OTHER_BOMS:
                if head.startswith(mark):
                    raise InputError(f"{name}: is {encoding} text, not UTF-8; save it as 'CSV UTF-8' and try again")
            raise InputError(_binary(name, _Lines().at(head, head.find(b"\x00"))))
        if start < 0:
            if len(head) < len(_BOM) and _BOM.startswith(bytes(head)):
                continue  # the byte-order mark may still be arriving
            start = len(_BOM) if head.startswith(_BOM) else 0
        for found in _QUOTE_COMMA_OR_BREAK.finditer(head, position):
            if found[0] == b'"':
                if quoted:
                    quoted, closed = False, found.end()
                elif found.start() in (start, closed):  # opening a value, or the second of two quotes in one
                    quoted = True
            elif quoted:
                continue
            elif found[0] == b",":
                start = found.end()
            else:
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


def line_breaks(data: bytes | bytearray, end: int | None = None) -> int:
    """How many line breaks `data[:end]` holds: CR LF, LF and a CR alone (a file saved with CR line ends) are one
    each, as the CSV readers count them. A CR at the end may be the first half of a CR LF: see _Lines."""
    end = len(data) if end is None else end
    return data.count(b"\n", 0, end) + data.count(b"\r", 0, end) - data.count(b"\r\n", 0, end)


class _Lines:
    """The line count of a file read piece by piece: a CR LF cut between two pieces is one line break."""

    def __init__(self) -> None:
        self.count = 1
        self._cr = False  # the last piece ended with a CR

    def at(self, data: bytes | bytearray, end: int) -> int:
        """The line of the byte at `end` in `data`, which follows the pieces added so far."""
        return self.count + line_breaks(data, end) - (self._cr and end > 0 and data.startswith(b"\n"))

    def add(self, piece: bytes) -> None:
        self.count = self.at(piece, len(piece))
        self._cr = piece.endswith(b"\r")


def _binary(name: str, line: int) -> str:
    """The message for a NUL byte on line `line`."""
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


def count_rows(path: Path, name: str, header: list[str]) -> tuple[int, int]:
    """The file's rows, and the block size that reads it, once the whole file is known to be UTF-8 text
    without NUL and valid CSV (InputError if not).

    Arrow splits every row into its fields, which finds a row with the wrong number of them, but converts only
    the first column: converting them all took twice as long. Python's decoder checks the text instead, the
    same strict UTF-8 that Arrow checks when it converts a column (about a tenth of a second per 100 MB).
    Arrow cannot read a row longer than its block: the block doubles, from BLOCK_BYTES up to MAX_ROW_BYTES * 2,
    until every row fits."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = _Lines()
    try:
        with opened(path, name) as raw:
            while piece := raw.read(_DECODE_BYTES):
                if b"\x00" in piece:
                    raise InputError(_binary(name, lines.at(piece, piece.find(b"\x00"))))
                lines.add(piece)
                decoder.decode(piece)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError(_not_utf8(path, name)) from None
    block_bytes = BLOCK_BYTES
    while True:
        rows = 0
        try:
            for batch in _batches(Reading(path, name, header, block_bytes), header[:1]):
                rows += batch.num_rows
        except _RowTooLong:
            if block_bytes >= 2 * MAX_ROW_BYTES:
                raise InputError(f"{name}: holds a row longer than {MAX_ROW_BYTES // 2**20} MiB") from None
            block_bytes *= 2
            continue
        pa.default_memory_pool().release_unused()
        return rows, block_bytes


class _RowTooLong(InputError):
    """Arrow met a row longer than its block (count_rows then tries a bigger one)."""


def _batches(reading: Reading, columns: list[str] | None = None) -> Iterator[pa.RecordBatch]:
    """The file's rows in blocks, every value a string exactly as written (only `columns`, if given); InputError
    on a malformed file.

    Arrow reads through a Python file object and on this thread: given a path, it reads many blocks ahead,
    and memory would grow with the gap between reading and scoring.
    """
    try:
        with opened(reading.path, reading.name) as raw:
            yield from _parsed(raw, reading.header, reading.block_bytes, columns)
    except pa.ArrowInvalid as exc:
        if "straddling" in str(exc):
            raise _RowTooLong(f"{reading.name}: holds a row longer than {reading.block_bytes // 2**20} MiB") from None
        raise InputError(_explain(exc, reading.path, reading.name, reading.header)) from None


def chunks(reading: Reading, sizes: Iterable[int]) -> Iterator[pa.RecordBatch]:
    """The file's rows in chunks, each one record batch of as many rows as `sizes` says in turn (schedule.cut),
    cut from Arrow's blocks as they come."""
    return cut(_batches(reading), sizes)


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
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines, done = _Lines(), 0  # bytes decoded before this piece
    with path.open("rb") as raw:
        while piece := raw.read(_DECODE_BYTES):
            try:
                decoder.decode(piece)
            except UnicodeDecodeError:
                # the piece again, by itself from the last complete character, to find the bad byte's place
                raw.seek(done - len(decoder.getstate()[0]))
                data = raw.read(len(piece) + 4)
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError as exc:
                    line = lines.at(data, exc.start)
                    return _NOT_UTF8.format(name=name, line=line, byte=data[exc.start : exc.start + 1].hex())
            lines.add(piece)
            done += len(piece)
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
        header = check_header(path, name, None)
        _, block_bytes = count_rows(path, name, header)
        batches = list(_batches(Reading(path, name, header, block_bytes)))
    return pa.Table.from_batches(batches, schema=pa.schema([(column, pa.string()) for column in header]))
