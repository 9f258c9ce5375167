"""How many rows one engine call scores: the chunks of a CSV file, the slices of a Parquet row group or of a Dask
partition. One schedule for all of them, so that a row gets the same digits whichever way it is scored."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa

# The rows of one chunk, scored together by one engine call in one process (chunk_sizes): at most CHUNK_ROWS,
# which bounds each process's memory; at least MIN_CHUNK_ROWS, since bigger calls share more of the engine's
# per-plan work (cases drawn from the network, new to the engine: 148 rows/s in calls of 250 rows, 190 of 1,000,
# 230 of 4,000); and a file is cut into _SPREAD chunks or more where that minimum allows, so that every worker
# gets a share of a small file (a whole file under 80,000 rows was once one chunk, scored on one processor).
CHUNK_ROWS = 80_000
MIN_CHUNK_ROWS = 250
_SPREAD = 8
# Towards the end of a file, a chunk takes at most this share of the rows left (chunk_sizes).
_TAIL_SHARE = 4


def chunk_sizes(rows: int, least: int = MIN_CHUNK_ROWS) -> list[int]:
    """How many rows each chunk of a file (or slice of a Parquet row group, or of a Dask partition) of `rows` rows
    takes, in order.

    A full chunk is a _SPREAD-th of the rows, within `least` and CHUNK_ROWS; towards the end each takes at most a
    _TAIL_SHARE-th of the rows left, down to `least`. With equal chunks, one worker could be left scoring the
    last of them alone for as long as a chunk takes; shrinking chunks make the workers finish within about the
    smallest chunk's time of each other. The schedule depends on the number of rows alone, never on the number
    of workers or where they run: a row's last digits depend on the rows scored with it (see Engine's plan
    merging), so a file gives the same bytes whatever --jobs says, and a row group the same digits on a cluster."""
    full = min(CHUNK_ROWS, max(least, -(-rows // _SPREAD)))
    sizes = []
    left = rows
    while left > 0:
        sizes.append(min(left, full, max(least, -(-left // _TAIL_SHARE))))
        left -= sizes[-1]
    return sizes


def cut(
    batches: Iterable[pa.RecordBatch], sizes: Iterable[int], schema: pa.Schema | None = None
) -> Iterator[pa.RecordBatch]:
    """The rows of `batches` (as Arrow reads them) in record batches of as many rows as `sizes` says in turn, then
    of CHUNK_ROWS should there be more rows than the sizes add up to (a file grown since its rows were counted),
    the last one of what is left; each one contiguous batch, scored as one."""
    sizes = iter(sizes)
    size = next(sizes, CHUNK_ROWS)
    held: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        held.append(batch)
        rows += batch.num_rows
        while rows >= size:
            table = pa.Table.from_batches(held, schema)
            yield _one_batch(table.slice(0, size))
            rest = table.slice(size)
            held, rows = rest.to_batches(), rest.num_rows
            size = next(sizes, CHUNK_ROWS)
    if rows:
        yield _one_batch(pa.Table.from_batches(held, schema))


def _one_batch(table: pa.Table) -> pa.RecordBatch:
    return table.combine_chunks().to_batches()[0]


__all__ = ["CHUNK_ROWS", "MIN_CHUNK_ROWS", "chunk_sizes", "cut"]
