"""The words the app shows for the contract's fields and answers, read through these functions only, so that
their source (today app.present) can change in one place."""

from __future__ import annotations

from typing import Any

from app import present
from model.cases.fields import FIELD_BY_NAME, UNKNOWN

NOT_A_DIAGNOSIS = (
    "**This is not a diagnosis.** backcheck cannot examine you and does not replace a doctor: its numbers come from "
    "a patient article and published figures, not from your body. If you are worried or the pain is severe, see a "
    "doctor."
)


def question(field: str) -> str:
    """The question a field asks, as the contract words it ("Do you have numbness in the groin or inner thighs?")."""
    return FIELD_BY_NAME[field].question


def label(field: str) -> str:
    """A field's short label, to name an answer already given ("Numbness in the groin or inner thighs")."""
    return present.field_label(field)


def explanation(field: str) -> str | None:
    """What the question means, in a sentence (None when the label says it all)."""
    return present.HELP.get(field)


def answer(value: Any) -> str:
    """An answer as a person reads it: "don't know" for unknown, the contract's values in words."""
    return "don't know" if value == UNKNOWN else present.value_words(value)


def cause(cause_id: str) -> str:
    """A cause's name ("Vertebral compression fracture")."""
    return present.cause_label(cause_id)


def care_title(level: str) -> str:
    """A care level's title ("See a doctor")."""
    return present.CARE_TITLES[level]


def state_words(field: str, network_state: str) -> str:
    """A network state of a field in words, a number range with its numbers ("severe, 7-10")."""
    return answer(UNKNOWN) if network_state == UNKNOWN else present.state_words(field, network_state)
