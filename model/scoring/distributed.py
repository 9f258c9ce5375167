"""Scoring cases on a Dask cluster: score_dask for a Dask DataFrame, and a Parquet dataset scored by a cluster.

Needs the dask extra (`pip install 'backcheck[dask]'`); nothing else in the project imports this module. Each
worker builds the engine once (load_engine is cached per process, and EngineLoader builds it as the worker
starts); a task carries only its partition and the name of the function that scores it.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import dask.dataframe as dd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from distributed import Client, LocalCluster, WorkerPlugin

from model.cases.fields import FIELD_BY_NAME
from model.inference.engine import load_engine
from model.scoring import parquet, parquet_input
from model.scoring.batch import check_columns, output_columns, score_columns, series_distinct
from model.scoring.csv_input import InputError
from model.scoring.output import output_directory, replacing_directory
from model.scoring.schedule import MIN_CHUNK_ROWS, chunk_sizes
from model.scoring.stream import Summary
from model.scoring.workers import held_signals

LOCAL = "local"


class EngineLoader(WorkerPlugin):
    """Builds the engine on each worker as it joins, so that no task pays for it and none ships it."""

    name = "backcheck-engine"

    def setup(self, worker: object) -> None:
        load_engine().engine.threads = 1  # a worker is one process of a cluster that shares out the processors


def score_dask(cases: dd.DataFrame, keep: Iterable[str] = (), least_rows: int | None = None) -> dd.DataFrame:
    """score_cases for every partition of `cases`, lazily: the input columns unchanged, then the contract's.

    The output's types are given to Dask (no partition is scored to find them): each p_<cause> is a float64
    (null for a row with an error), the other output columns strings, all backed by Arrow. A partition is scored
    in the slices schedule.chunk_sizes gives for its rows (`least_rows` their least size, by default the one
    `backcheck score` slices a row group by), so a partition that is a Parquet row group gets the digits
    `backcheck score` gives it. Columns are checked at
    once: an unknown column (not in `keep`) raises UnknownFieldError, a duplicate or clashing one ValueError.
    Read Parquet with `dtype_backend="pyarrow"`: a column of NumPy integers with gaps is floats, and a yes/no
    field refuses 1.0.
    """
    keep = tuple(keep)
    check_columns(cases.columns, keep)
    least = parquet.MIN_CHUNK_ROWS if least_rows is None else least_rows
    meta = pd.concat([cases._meta, _empty_scores(cases._meta.index)], axis=1)
    return cases.map_partitions(scored_partition, least, meta=meta, enforce_metadata=False)


def scored_partition(cases: pd.DataFrame, least_rows: int = MIN_CHUNK_ROWS) -> pd.DataFrame:
    """One partition scored (see score_dask), in the slices chunk_sizes(rows, least_rows) gives; its index is kept."""
    pieces = []
    start = 0
    for size in chunk_sizes(len(cases), least_rows):
        part = cases.iloc[start : start + size]
        start += size
        columns = {
            name: series_distinct(part[name])
            for name in part.columns
            if name in FIELD_BY_NAME and FIELD_BY_NAME[name].kind != "text"
        }
        arrays = parquet.score_arrays(score_columns(columns, len(part)).columns())
        pieces.append(_frame(arrays, part.index))
    scores = pd.concat(pieces) if pieces else _empty_scores(cases.index)
    return pd.concat([cases, scores], axis=1)


def _frame(arrays: list[pa.Array], index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(
        {name: pd.arrays.ArrowExtensionArray(array) for name, array in zip(output_columns(), arrays, strict=True)},
        index=index,
    )


def _empty_scores(index: pd.Index) -> pd.DataFrame:
    types = [pa.float64() if name.startswith("p_") else pa.string() for name in output_columns()]
    return _frame([pa.array([], type=t) for t in types], index[:0])


# ------------------------------------------------------------------------------------ a dataset on a cluster


def score_dataset_dask(source: str, output: str, scheduler: str, keep: Iterable[str] = (), workers: int = 1) -> Summary:
    """Score the Parquet file or dataset at `source` on the Dask cluster at `scheduler` (an address, or "local"
    for a LocalCluster of `workers` processes) into the new or empty directory `output`.

    The input is checked as parquet.score_parquet checks it, before the cluster is asked for; each of its row
    groups is a partition, read by the worker that scores it; the output directory holds one file per row group,
    part.<n>.parquet with n zero-padded, in the input's order (files in order, row groups in order), with
    parquet.output_schema's columns. The input and the output directory must be reachable by the same paths from
    every worker (a shared file system). The output appears only when every partition is written (renamed into
    place); on any exception the partial directory is removed.
    """
    keep = tuple(keep)
    target = output_directory(output, source)
    dataset = parquet_input.read_dataset(source, keep)
    parts = [(str(file.path), group) for file in dataset.files for group in range(len(file.row_groups))]
    schema = dataset.schema.remove_metadata()
    stack = contextlib.ExitStack()
    try:
        client = stack.enter_context(_client(scheduler, workers))
        client.register_plugin(EngineLoader())
        with held_signals():
            partial = stack.enter_context(replacing_directory(target))
        if parts:
            meta = schema.empty_table().to_pandas(types_mapper=pd.ArrowDtype)
            cases = dd.from_map(read_row_group, parts, meta=meta, label="read-row-group", enforce_metadata=False)
            scored = score_dask(cases, (*keep, *parquet_input.pandas_index_columns(dataset.schema)))
            width = len(str(len(parts) - 1))
            scored.to_parquet(
                partial,
                write_index=False,
                schema=parquet.output_schema(schema),
                name_function=lambda n: f"part.{n:0{width}d}.parquet",
                write_metadata_file=False,
            )
        errors = _errors(partial)
    except BaseException:
        with held_signals():
            stack.__exit__(*sys.exc_info())
        raise
    with held_signals():
        stack.close()
    return Summary(dataset.rows, errors)


def read_row_group(part: tuple[str, int]) -> pd.DataFrame:
    """One row group of a Parquet file as a pandas DataFrame of Arrow-backed columns (types as stored); runs on a
    worker. InputError when the file turns out to be damaged past its footer."""
    path, group = part
    try:
        with pq.ParquetFile(path) as file:
            table = file.read_row_group(group, use_threads=False)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: row group {group} cannot be read ({parquet_input.first_line(exc)})") from None
    return table.replace_schema_metadata(None).to_pandas(types_mapper=pd.ArrowDtype)


@contextlib.contextmanager
def _client(scheduler: str, workers: int) -> Iterator[Client]:
    """A client of the scheduler at `scheduler`, or of a LocalCluster of `workers` single-threaded processes."""
    if scheduler == LOCAL:
        with (
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, ValueError) as exc:
        raise InputError(f"{scheduler}: no Dask scheduler answers there ({parquet_input.first_line(exc)})") from None
    with client:
        yield client


def _errors(directory: Path) -> int:
    """How many rows of the scored dataset in `directory` have an error (only the error column is read)."""
    errors = 0
    for path in sorted(directory.glob("*.parquet")):
        errors += parquet.errors_in(pq.read_table(path, columns=["error"]).column("error"))
    return errors


__all__ = ["LOCAL", "EngineLoader", "read_row_group", "score_dask", "score_dataset_dask", "scored_partition"]
