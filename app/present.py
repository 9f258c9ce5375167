"""Plain-words views of the model: labels, sources, cause tables and the network rows behind an answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from model.cases.evidence import evidence_from_case
from model.cases.fields import FIELDS, UNKNOWN
from model.inspect.explain import LinkNote, link_notes, representative_value
from model.network.sources import Source
from model.network.spec import CauseNode, load_spec

# An effect smaller than this (half a percentage point) is shown as "no real effect".
NOTABLE_DELTA = 0.005

CARE_TITLES = {
    "emergency": "Emergency",
    "urgent": "Urgent",
    "routine": "See a doctor",
    "self_care": "Self-care",
}

# The words a person reads for each contract value; a value missing here reads as itself with spaces.
VALUE_WORDS = {
    UNKNOWN: "not known",
    "during": "during or right after",
    "after_hours": "later the same day",
    "next_day": "the next day or later",
    "none": "none",
    "local": "over the back",
    "legs": "in the legs",
    "buttock_thigh": "buttock or thigh",
    "below_knee": "past the knee",
    "positive": "positive",
    "negative": "negative",
    "from_70": "70 or over",
    "from_50_to_59": "50 to 59",
    "from_60_to_69": "60 to 69",
}

# Each question's help text, from the contract (model/data/contract.toml).
HELP = {f.name: f.help for f in FIELDS if f.help}


@dataclass(frozen=True)
class Effect:
    """How one answer moved one cause: P(cause) without that answer, with it, and the links behind it."""

    field: str
    label: str
    value: str
    p_without: float
    p_with: float
    links: tuple[LinkNote, ...]

    @property
    def delta(self) -> float:
        return self.p_with - self.p_without

    @property
    def sources(self) -> tuple[Source, ...]:
        """The sources behind all of its links, each once, in order of first citation."""
        return tuple({s.id: s for link in self.links for s in link.sources}.values())


def field_label(field: str) -> str:
    """The network's label of an input field ("Worst pain (0-10)")."""
    return load_spec().nodes[field].label


def cause_label(cause: str) -> str:
    """The network's label of a cause ("Vertebral compression fracture")."""
    return load_spec().nodes[cause].label


def value_words(value: Any) -> str:
    """An answer as a person reads it."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    return VALUE_WORDS.get(text, text.replace("_", " "))


def _bin_range(field: str, state: str) -> tuple[float, float] | None:
    for b in getattr(load_spec().nodes[field], "bins", ()):
        if b.state == state:
            return b.low, b.high
    return None


def state_words(field: str, state: str) -> str:
    """A network state of a field in words; a binned state named without numbers gets its range ("severe, 7-10")."""
    span = _bin_range(field, state)
    words = value_words(state)
    if span is None or any(ch.isdigit() for ch in state):
        return words
    low, high = span
    last = load_spec().nodes[field].bins[-1].state == state
    # Bins are [low, high) except the last, and sliders move in whole steps.
    return f"{words}, {low:g}-{high if last else high - 1:g}"


def value_for_state(field: str, state: str) -> Any:
    """A value of the field inside the network state `state`, to set the field's widget (see model.inspect.explain)."""
    return representative_value(field, state)


def cause_frame(now: dict[str, float], before: dict[str, float]) -> pd.DataFrame:
    """One row per cause, most probable first: cause, label, now, before, change."""
    rows = [(c, cause_label(c), p, before[c], p - before[c]) for c, p in now.items()]
    frame = pd.DataFrame(rows, columns=["cause", "label", "now", "before", "change"])
    return frame.sort_values(["now", "cause"], ascending=[False, True], ignore_index=True)


def _applies(note: LinkNote, field: str, value: Any) -> bool:
    """Whether a network row speaks to this answer.

    For an activity, only its own base row; for another parent, the odds row of the answer's state (at the
    reference state every odds row does, since the answer's effect is the contrast with them).
    """
    spec = load_spec()
    node = spec.nodes[note.node]
    if not isinstance(node, CauseNode) or value is None:
        return True
    if field == "activity":
        rows = [row for row in node.base if row.sourced == note.sourced]
        return not rows or any(value in (row.activities or ()) for row in rows)
    odds = [row for row in node.odds if row.parent == field and row.sourced == note.sourced]
    if not odds:
        return True
    state = evidence_from_case({field: value})[field]
    listed = {row.state for row in node.odds if row.parent == field}
    return state not in listed or any(row.state == state for row in odds)


def _links(field: str, cause: str, value: Any) -> tuple[LinkNote, ...]:
    return tuple(note for note in link_notes(field, cause) if _applies(note, field, value))


def cause_effects(effects: pd.DataFrame, cause: str) -> list[Effect]:
    """Each answer's effect on `cause`, largest first, with the network rows and sources tying them.

    `effects` is model.inspect.explain.answer_effects(case) for the case.
    """
    rows = effects[effects["cause"] == cause]
    rows = rows.reindex(rows["delta"].abs().sort_values(ascending=False, kind="stable").index)
    return [
        Effect(
            row.field,
            field_label(row.field),
            value_words(row.value),
            row.p_without,
            row.p_with,
            _links(row.field, cause, row.value),
        )
        for row in rows.itertuples(index=False)
    ]


def points(delta: float) -> str:
    """A change of probability in percentage points, signed ("+37 points")."""
    return f"{delta * 100:+.0f} points" if abs(delta) >= NOTABLE_DELTA else "no real change"
