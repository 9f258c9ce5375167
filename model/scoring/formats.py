"""The file formats the scorer reads and writes, told apart by name, without importing any reader."""

from __future__ import annotations

from pathlib import Path

# What a Parquet file's name ends in; a dataset's other files (_SUCCESS, _metadata, .crc ones) are not read.
PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def is_parquet(source: str) -> bool:
    """Whether `source` names Parquet input by itself: a directory, or a file ending in one of PARQUET_SUFFIXES."""
    return source != "-" and (Path(source).suffix.lower() in PARQUET_SUFFIXES or Path(source).is_dir())
