"""Reading Parquet input: a file or a directory of files (a dataset) found, every footer read and the columns
checked before anything is scored; every problem is one line for the user (InputError)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from model.cases.fields import FIELD_BY_NAME, Field, UnknownFieldError, names_in_words
from model.scoring.batch import check_columns
from model.scoring.csv_input import InputError
from model.scoring.formats import PARQUET_SUFFIXES

# An Arrow message is quoted up to this many characters.
_QUOTED_CHARACTERS = 200


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


__all__ = [
    "Dataset",
    "ParquetFile",
    "column_type_problem",
    "first_line",
    "pandas_index_columns",
    "read_dataset",
]
