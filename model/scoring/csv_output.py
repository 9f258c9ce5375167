"""Scored chunks as CSV text: each row's input values unchanged (spreadsheet-safe when asked), then its scores,
fields quoted only where CSV needs it."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from model.cases.fields import FIELD_BY_NAME
from model.scoring.batch import Column, output_columns, score_columns
from model.scoring.output import SPREADSHEET_ESCAPE, SPREADSHEET_TRIGGERS, scratch_error

# CSV text is built this many rows at a time, so a chunk's text never exists twice over in memory.
TEXT_ROWS = 8192
_NEEDS_QUOTES = '[",\r\n]'


def score_batch_to_file(batch: pa.RecordBatch, chunk: str, safe: bool = False) -> tuple[str, int, int]:
    """score_batch, written to the file `chunk`: (its path, rows, rows with errors). Runs in a worker."""
    bad = 0
    try:
        with open(chunk, "wb") as out:
            for text, n_bad in score_batch(batch, safe):
                out.write(text)
                bad += n_bad
    except OSError as exc:
        raise scratch_error(exc, Path(chunk).parent) from None
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


def csv_line(values: list[str]) -> bytes:
    """One row of CSV text, such as the header row, quoted as the csv module quotes."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerow(values)
    return text.getvalue().encode("utf-8")
