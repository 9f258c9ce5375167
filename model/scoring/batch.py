"""Scoring a table of cases: the contract's output columns, one row per input row, bad rows flagged."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from model.care.rules import REASON_SEPARATOR, Column, care_columns
from model.cases.evidence import evidence_from_values
from model.cases.fields import (
    FIELD_NAMES,
    FIELDS,
    WARNING_SIGNS,
    FieldProblem,
    UnknownFieldError,
    load_contract,
    names_in_words,
)
from model.cases.values import STORED_NAN
from model.inference.engine import UNKNOWN, load_engine
from model.inference.reference import posteriors_array
from model.network.spec import load_spec

IMPOSSIBLE = "the network gives this combination of answers probability zero; check the answers"


def output_columns() -> list[str]:
    """The columns scoring adds after the input's own, in order (the contract's [[output]] columns)."""
    causes = load_spec().cause_ids
    return [name for column in load_contract().outputs for name in column.names(causes)]


def check_columns(columns: Iterable[str], keep: Iterable[str] = ()) -> None:
    """Raise ValueError for a duplicate column or one that an output column would overwrite, and
    UnknownFieldError for a column that is neither a contract field nor named in `keep`."""
    columns = [str(c) for c in columns]
    keep = set(keep)
    duplicates = sorted(c for c, n in Counter(columns).items() if n > 1)
    if duplicates:
        raise ValueError(f"duplicate column{'s' * (len(duplicates) > 1)} {names_in_words(duplicates)}")
    unknown = [c for c in columns if c not in FIELD_NAMES and c not in keep]
    if unknown:
        raise UnknownFieldError(unknown, FIELD_NAMES)
    outputs = set(output_columns())
    clashes = [c for c in columns if c in outputs]
    if clashes:
        raise ValueError(f"column {names_in_words(clashes)} would be overwritten by the scores")


@dataclass(frozen=True)
class Scores:
    """The scores of n cases. Rows with an error have NaN probabilities and, in the output, empty texts.

    The care advice is worked out per block of rows when the columns are asked for, so that a long file's
    reasons (the longest texts) never exist for all of its rows at once.
    """

    probabilities: np.ndarray  # (n, causes), causes in spec order
    error: np.ndarray  # object array of str, "" for a valid row
    answers: Mapping[str, Column]  # the contract fields as read (Field.parse), for the care rules

    def columns(self, rows: slice = slice(None)) -> dict[str, np.ndarray]:
        """{output column: values} for `rows`, in output_columns() order."""
        names = output_columns()
        probabilities = self.probabilities[rows]
        k = probabilities.shape[1]
        n = len(probabilities)
        top_cause, care, reasons, unasked = (np.full(n, "", dtype=object) for _ in range(4))
        valid = np.flatnonzero(self.error[rows] == "")
        if valid.size:
            spec = load_spec()
            ranked = [spec.cause_ids.index(c) for c in spec.ranked_cause_ids]
            top = np.argmax(probabilities[valid][:, ranked], axis=1)
            top_cause[valid] = np.asarray(spec.ranked_cause_ids, dtype=object)[top]
            offset = range(len(self.probabilities))[rows].start
            level, hits, open_signs = care_columns(self.answers, self.probabilities, valid + offset)
            care[valid] = level
            reasons[valid] = [REASON_SEPARATOR.join(text for _, text in row) for row in hits]
            signs = np.asarray(WARNING_SIGNS, dtype=object)
            unasked[valid] = [" ".join(signs[row]) for row in open_signs]
        texts = (top_cause, care, reasons, unasked, self.error[rows])
        return {name: probabilities[:, j] for j, name in enumerate(names[:k])} | dict(
            zip(names[k:], texts, strict=True)
        )


def distinct(values: Sequence[Any] | np.ndarray | pd.Series) -> Column:
    """The column's distinct values, telling apart values that compare equal but read differently (1, 1.0, True)."""
    array = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if array.dtype != object or pd.api.types.infer_dtype(array, skipna=False) in ("string", "empty"):
        index, uniques = pd.factorize(array, use_na_sentinel=False)
        return Column(index, list(uniques))
    seen: dict[tuple[type, Any], int] = {}
    uniques = []
    index = np.empty(len(array), dtype=np.intp)
    for i, value in enumerate(array):
        key = (type(value), "nan" if isinstance(value, float) and math.isnan(value) else value)
        try:
            j = seen.get(key)
        except TypeError:  # unhashable (a list or a dict in a cell): a value of its own, for the reader to refuse
            key = (type(value), id(value))
            j = seen.get(key)
        if j is None:
            j = seen[key] = len(uniques)
            uniques.append(value)
        index[i] = j
    return Column(index, uniques)


def arrow_distinct(array: pa.Array | pa.ChunkedArray) -> Column:
    """An Arrow column's distinct values as Python values (None for null), and which row holds which.

    Arrow finds them without a Python object per row; a column holds one type, so 1 and True never meet.
    A dictionary-encoded column (a pandas categorical) is read as the values it stands for. A NaN stored in a
    floating column is not a gap (that is a null) but a value that is no number: an error for its row."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    encoded = pc.dictionary_encode(array, null_encoding="encode")
    values = encoded.dictionary.to_pylist()
    # a gap is a null here, so a NaN is a value the column stores, and no number (STORED_NAN)
    values = [STORED_NAN if isinstance(v, float) and math.isnan(v) else v for v in values]
    return Column(encoded.indices.to_numpy(zero_copy_only=False), values)


def series_distinct(series: pd.Series) -> Column:
    """A pandas column's distinct values as the contract reads them (see distinct and arrow_distinct).

    A column backed by Arrow is read through Arrow, and one of pandas' nullable types (Int64, boolean) as Python
    values with None for a gap: asked for a NumPy array, both give floats for an integer column with gaps, and a
    yes/no field refuses 1.0 where the data held 1."""
    if isinstance(series.dtype, pd.ArrowDtype):
        return arrow_distinct(pa.array(series))
    if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) and not isinstance(
        series.dtype, pd.CategoricalDtype | pd.StringDtype
    ):
        return distinct(series.to_numpy(dtype=object, na_value=None))
    return distinct(series.to_numpy())


def score_columns(columns: Mapping[str, Column], n_rows: int) -> Scores:
    """Scores for n_rows cases whose contract fields are given as columns (missing fields are unknown).

    Each distinct value of a column is read once, by the contract's own Field.parse; one engine call scores
    every valid row; the care rules run column by column when Scores.columns is called (see _care).
    """
    engine = load_engine()
    evidence = np.full((n_rows, len(engine.nodes)), UNKNOWN, dtype=np.int16)
    for node, state in load_spec().fixed_evidence.items():
        evidence[:, engine.index[node]] = engine.state_codes(node, [state])[0]
    problems: list[np.ndarray] = []  # per field with a bad value somewhere: its message per row, "" if fine
    answers: dict[str, Column] = {}
    for field in FIELDS:
        column = columns.get(field.name)
        if column is None or field.kind == "text":
            continue
        parsed, messages, states = [], [], []
        for raw in column.values:
            try:
                value = field.parse(raw)
            except ValueError as bad:
                value, message = None, FieldProblem(field.name, raw, str(bad)).message
            else:
                message = ""
            parsed.append(value)
            messages.append(message)
            state = evidence_from_values({field.name: value}).get(field.name)  # fixed evidence aside
            states.append(UNKNOWN if state is None else engine.state_codes(field.name, [state])[0])
        answers[field.name] = Column(column.index, parsed)
        if any(messages):
            problems.append(np.asarray(messages, dtype=object)[column.index])
        if field.name in engine.index:
            evidence[:, engine.index[field.name]] = np.asarray(states, dtype=np.int16)[column.index]
    error = np.full(n_rows, "", dtype=object)
    if problems:
        stacked = np.stack(problems, axis=1)
        for row in np.flatnonzero((stacked != "").any(axis=1)):
            error[row] = "; ".join(m for m in stacked[row] if m)
    valid = np.flatnonzero(error == "")
    probabilities = np.full((n_rows, len(load_spec().cause_ids)), np.nan)
    probabilities[valid] = posteriors_array(evidence[valid])
    impossible = valid[~np.isfinite(probabilities[valid]).all(axis=1)]
    probabilities[impossible] = np.nan
    error[impossible] = IMPOSSIBLE
    return Scores(probabilities, error, answers)


def score_cases(cases: pd.DataFrame, keep: Iterable[str] = ()) -> pd.DataFrame:
    """Every input column unchanged, then p_<cause>, top_cause, care, care_reasons, unasked_warning_signs, error.

    A row with a bad value keeps its place: its error names the column, the value and what was expected,
    and its probabilities are empty. An unknown column (not in `keep`) raises UnknownFieldError; a duplicate
    column, or one named like an output column, raises ValueError.
    """
    check_columns(cases.columns, keep)
    columns = {name: series_distinct(cases[name]) for name in cases.columns if name in FIELD_NAMES}
    out = cases.copy()
    for name, values in score_columns(columns, len(cases)).columns().items():
        out[name] = values
    return out
