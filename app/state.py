"""The person's answers: kept in Streamlit's session state under each contract field's name, read as a case.

A question nobody has answered holds None; "don't know" is an answer of its own (the contract's "unknown"). Both
leave the field out of the case, but only an answered warning sign counts as asked.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.texts import UNKNOWN
from model.cases.fields import EVIDENCE_FIELDS, WARNING_SIGNS
from model.inspect.explain import representative_value

# The number fields: (lowest, highest) of their input; duration has no upper limit in the contract.
NUMBERS: dict[str, tuple[int, int | None]] = {"age": (10, 110), "severity": (0, 10), "duration_days": (0, None)}
CaseKey = tuple[tuple[str, Any], ...]


def dont_know_key(field: str) -> str:
    """The key of a number field's "don't know" tick box."""
    return f"{field}_unknown"


def init() -> None:
    """Every answer not yet given. Widgets read their values from here only (no default of their own), so the
    callbacks below can set them."""
    for field in EVIDENCE_FIELDS:
        st.session_state.setdefault(field, None)
        if field in NUMBERS:
            st.session_state.setdefault(dont_know_key(field), False)


def value(field: str) -> Any:
    """The field's answer: None if not answered, UNKNOWN for "don't know", else the contract's value."""
    if field in NUMBERS and st.session_state[dont_know_key(field)]:
        return UNKNOWN
    return st.session_state[field]


def case() -> dict[str, Any]:
    """The answers as a case in the contract's fields; unanswered and "don't know" are left out."""
    found = {}
    for field in EVIDENCE_FIELDS:
        answer = value(field)
        if answer is not None and answer != UNKNOWN:
            found[field] = answer
    return found


def key(found: dict[str, Any]) -> CaseKey:
    """A case as a hashable key, for caches."""
    return tuple(found.items())


def unanswered(fields: tuple[str, ...]) -> tuple[str, ...]:
    """The fields among `fields` that have no answer yet ("don't know" is an answer)."""
    return tuple(field for field in fields if value(field) is None)


def open_warning_signs() -> tuple[str, ...]:
    """The warning signs not answered yet, in the contract's order."""
    return unanswered(WARNING_SIGNS)


def set_answer(field: str, answer: Any) -> None:
    """Answer a question (a callback: it runs before the widgets are drawn)."""
    if field in NUMBERS:
        st.session_state[dont_know_key(field)] = answer == UNKNOWN
        st.session_state[field] = None if answer == UNKNOWN else answer
    else:
        st.session_state[field] = answer


def set_state(field: str, state: str) -> None:
    """Answer a question with a value inside one of the network's states (the suggested answers)."""
    set_answer(field, state if state == UNKNOWN else representative_value(field, state))


def none_of(fields: tuple[str, ...]) -> None:
    """Answer "no" to every question of `fields` not answered yet."""
    for field in fields:
        if value(field) is None:
            set_answer(field, "no")


def clear() -> None:
    """Every answer back to not answered."""
    for field in EVIDENCE_FIELDS:
        st.session_state[field] = None
        if field in NUMBERS:
            st.session_state[dont_know_key(field)] = False


def fill(answers: dict[str, Any]) -> None:
    """Start again from these answers (an example case)."""
    clear()
    for field, answer in answers.items():
        set_answer(field, int(answer) if field in NUMBERS else answer)


def fill_example(examples: dict[str, dict[str, Any]]) -> None:
    """Start again from the example chosen in the `example` select."""
    if (chosen := st.session_state["example"]) is not None:
        fill(examples[chosen])
