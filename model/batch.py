"""Scoring a table of cases: the contract's output columns, one row per input row, bad rows flagged."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from model.care import LEVELS, RANK, load_rules
from model.engine import UNKNOWN, load_engine
from model.evidence import evidence_from_values
from model.fields import FIELD_NAMES, FIELDS, FieldProblem, UnknownFieldError, names_in_words
from model.inference import posteriors_array
from model.spec import load_spec

REASON_SEPARATOR = " | "
IMPOSSIBLE = "the network gives this combination of answers probability zero; check the answers"


def output_columns() -> list[str]:
    """The columns scoring adds after the input's own, in order."""
    return [f"p_{c}" for c in load_spec().cause_ids] + ["top_cause", "care", "care_reasons", "error"]


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
        top_cause, care, reasons = (np.full(n, "", dtype=object) for _ in range(3))
        valid = np.flatnonzero(self.error[rows] == "")
        if valid.size:
            top_cause[valid] = np.asarray(load_spec().cause_ids, dtype=object)[np.argmax(probabilities[valid], axis=1)]
            offset = range(len(self.probabilities))[rows].start
            care[valid], reasons[valid] = _care(self.answers, self.probabilities, valid + offset)
        texts = (top_cause, care, reasons, self.error[rows])
        return {name: probabilities[:, j] for j, name in enumerate(names[:k])} | dict(
            zip(names[k:], texts, strict=True)
        )


@dataclass(frozen=True)
class Column:
    """A column as its distinct values and, per row, the index of the row's value among them."""

    index: np.ndarray
    values: Sequence[Any]


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


def score_columns(columns: Mapping[str, Column], n_rows: int) -> Scores:
    """Scores for n_rows cases whose contract fields are given as columns (missing fields are unknown).

    Each distinct value of a column is read once, by the contract's own Field.parse; one engine call scores
    every valid row; the care rules run column by column when Scores.columns is called (see _care).
    """
    engine = load_engine()
    evidence = np.full((n_rows, len(engine.nodes)), UNKNOWN, dtype=np.int16)
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
            state = evidence_from_values({field.name: value}).get(field.name)
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


def _care(answers: Mapping[str, Column], probabilities: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """care.care_level's level and joined reasons for each of `rows`, worked out column by column.

    care_level takes one case and costs ~0.1 ms, which alone would take minutes for a million rows, and its
    inputs rarely repeat (the warning signs fire in tens of thousands of combinations), so it cannot be
    memoised either. This follows its rules exactly: every flag whose conditions all hold and every posterior
    rule at or above its threshold is a hit; the level is the most urgent hit, the reasons are the hits from
    most to least urgent (rule order within a level, flags before posterior rules), and with no hit it is
    self-care with the top cause. tests/test_batch.py checks it against care_level on random cases.
    """
    rules = load_rules()
    causes = load_spec().cause_ids
    probs = probabilities[rows]
    n, n_flags = len(rows), len(rules.flags)
    hit = np.ones((n, n_flags + len(rules.posteriors)), dtype=bool)
    for j, flag in enumerate(rules.flags):
        for condition in flag.when:
            column = answers.get(condition.field)
            if column is None:
                hit[:, j] = False
                continue
            holds = np.array([condition.holds({condition.field: v}) for v in column.values], dtype=bool)
            hit[:, j] &= holds[column.index[rows]]
    # a posterior rule's reason quotes the probability: its text for that word, per (row, rule) that fires
    rule_texts, self_care = _worded_reasons()
    quoted = np.empty((n, len(rules.posteriors)), dtype=object)
    for k, rule in enumerate(rules.posteriors):
        p = probs[:, causes.index(rule.cause)]
        hit[:, n_flags + k] = p >= rule.at_least
        fired = np.flatnonzero(hit[:, n_flags + k])
        quoted[fired, k] = rule_texts[k][_percent_index(p[fired])]
    rank = np.array([RANK[f.level] for f in rules.flags] + [RANK[r.level] for r in rules.posteriors])
    order = np.array(sorted(range(len(rank)), key=lambda j: -rank[j]))  # stable: rule order within a level
    hit, rank = hit[:, order], rank[order]
    level = np.full(n, "self_care", dtype=object)
    any_hit = hit.any(axis=1)
    level[any_hit] = np.asarray(LEVELS, dtype=object)[rank[np.argmax(hit[any_hit], axis=1)]]
    # every hit's text, row by row and within a row from most to least urgent
    at_row, at = np.nonzero(hit)
    item = order[at]
    texts = np.asarray([f.reason for f in rules.flags] + [""] * len(rules.posteriors), dtype=object)[item]
    from_rule = item >= n_flags
    texts[from_rule] = quoted[at_row[from_rule], item[from_rule] - n_flags]
    texts = texts.tolist()
    reasons = np.empty(n, dtype=object)
    start = 0
    for i, end in enumerate(np.cumsum(hit.sum(axis=1)).tolist()):
        reasons[i] = REASON_SEPARATOR.join(texts[start:end])
        start = end
    quiet = np.flatnonzero(~any_hit)
    top = np.argmax(probs[quiet], axis=1)
    reasons[quiet] = self_care[top, _percent_index(probs[quiet, top])]
    return level, reasons


# care._percent's words for a probability: "under 1%", then "1%" to "100%"
_PERCENT_WORDS = ("under 1%", *(f"{k}%" for k in range(1, 101)))


@cache
def _worded_reasons() -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Every reason text a probability can give, formatted once per process: per posterior rule, its text for
    each of _PERCENT_WORDS; and the self-care text per (cause, word)."""
    rules = load_rules()
    labels = {c.id: c.label for c in load_spec().causes}
    rule_texts = tuple(
        np.asarray([rule.reason.format(p=word) for word in _PERCENT_WORDS], dtype=object) for rule in rules.posteriors
    )
    self_care = np.asarray(
        [
            [rules.self_care_reason.format(cause=labels[c].lower(), p=word) for word in _PERCENT_WORDS]
            for c in load_spec().cause_ids
        ],
        dtype=object,
    )
    return rule_texts, self_care


def _percent_index(p: np.ndarray) -> np.ndarray:
    """Where care._percent's word for each probability sits in _PERCENT_WORDS. Its format rounds p * 100 (a
    double) to the nearest integer, ties to even, as np.rint does."""
    return np.where(p >= 0.01, np.rint(p * 100.0), 0.0).astype(np.intp)


def score_cases(cases: pd.DataFrame, keep: Iterable[str] = ()) -> pd.DataFrame:
    """Every input column unchanged, then p_<cause>, top_cause, care, care_reasons and error.

    A row with a bad value keeps its place: its error names the column, the value and what was expected,
    and its probabilities are empty. An unknown column (not in `keep`) raises UnknownFieldError; a duplicate
    column, or one named like an output column, raises ValueError.
    """
    check_columns(cases.columns, keep)
    columns = {name: distinct(cases[name].to_numpy()) for name in cases.columns if name in FIELD_NAMES}
    out = cases.copy()
    for name, values in score_columns(columns, len(cases)).columns().items():
        out[name] = values
    return out
