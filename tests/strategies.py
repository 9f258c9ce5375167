"""Hypothesis strategies for random cases in the contract's values (valid, with any field unknown)."""

from __future__ import annotations

from hypothesis import strategies as st

from model.cases.fields import FIELDS, Field


def field_value(field: Field) -> st.SearchStrategy:
    if field.kind == "yesno":
        return st.sampled_from(["yes", "no"])
    if field.kind == "choice":
        return st.sampled_from(list(field.choices))
    if field.kind == "integer":
        return st.integers(int(field.low), int(field.high))
    if field.kind == "number":
        high = field.high if field.high is not None else 400.0
        return st.floats(field.low, high, allow_nan=False, allow_infinity=False)
    return st.text(max_size=8)


@st.composite
def cases(draw: st.DrawFn, unknown_rate: float = 0.5) -> dict:
    """A valid case: each field independently unknown (left out) or a valid value."""
    case = {}
    for field in FIELDS:
        if field.kind == "text":
            continue
        if draw(st.floats(0, 1)) >= unknown_rate:
            case[field.name] = draw(field_value(field))
    return case
