"""Scoring a table of cases: the contract's output columns, one row per input row, bad rows flagged."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from model.diagnose import diagnose
from model.fields import FIELD_NAMES, CaseError, UnknownFieldError
from model.spec import load_spec

REASON_SEPARATOR = " | "


def output_columns() -> list[str]:
    """The columns scoring adds after the input's own, in order."""
    return [f"p_{c}" for c in load_spec().cause_ids] + ["top_cause", "care", "care_reasons", "error"]


def check_columns(columns: Iterable[str], keep: Iterable[str] = ()) -> None:
    """Raise UnknownFieldError for a column that is neither a contract field nor named in `keep`."""
    columns = [str(c) for c in columns]
    keep = set(keep)
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise ValueError(f"duplicate column {', '.join(repr(c) for c in duplicates)}")
    unknown = [c for c in columns if c not in FIELD_NAMES and c not in keep]
    if unknown:
        raise UnknownFieldError(unknown, FIELD_NAMES)


def score_cases(cases: pd.DataFrame, keep: Iterable[str] = ()) -> pd.DataFrame:
    """Every input column unchanged, then p_<cause>, top_cause, care, care_reasons and error.

    A row with a bad value keeps its place: its error names the column, the value and what was expected,
    and its probabilities are empty. An unknown column (not in `keep`) raises UnknownFieldError.
    """
    keep = tuple(keep)
    check_columns(cases.columns, keep)
    causes = load_spec().cause_ids
    fields = [c for c in cases.columns if c in FIELD_NAMES]
    probs = np.full((len(cases), len(causes)), np.nan)
    top, care, reasons, errors = [], [], [], []
    for i, row in enumerate(cases[fields].itertuples(index=False, name=None)):
        try:
            result = diagnose(dict(zip(fields, row, strict=True)))
        except CaseError as exc:
            top.append(""), care.append(""), reasons.append(""), errors.append(str(exc))
            continue
        probs[i] = [result.posteriors[c] for c in causes]
        top.append(result.top_cause)
        care.append(result.care.level)
        reasons.append(REASON_SEPARATOR.join(result.care.reasons))
        errors.append("")
    out = cases.copy()
    for j, cause in enumerate(causes):
        out[f"p_{cause}"] = probs[:, j]
    out["top_cause"] = top
    out["care"] = care
    out["care_reasons"] = reasons
    out["error"] = errors
    return out
