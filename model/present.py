"""Plain-words views of the model: labels, sources, cause tables and the network rows behind an answer."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

from model.evidence import evidence_from_case
from model.explain import LinkNote, link_notes, representative_value
from model.spec import CauseNode, load_spec

UNKNOWN = "unknown"
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

# What each question means, from the "meaning" column of docs/case-schema.md.
HELP = {
    "activity": "What the pain followed. Lifting: a heavy object or weight training in general. Jumping includes "
    "trampolines. Sitting: long sitting (work, games). Bending: bending forward. Other: e.g. digging a garden.",
    "age": "Age in whole years.",
    "new_to_activity": "A beginner, or the first sessions after a long break.",
    "more_than_usual": "Longer, faster, heavier or longer without rest than you are used to.",
    "warmed_up": "Warmed up before the activity.",
    "fall_or_impact": "A fall, slip, bad landing, or a hit (e.g. the trampoline frame).",
    "sedentary": "Sedentary work or lifestyle.",
    "known_spine_condition": "A diagnosed spine condition: disc degeneration (osteochondrosis), disc hernia or "
    "protrusion, curvature.",
    "onset": "During or right after the activity; later the same day; the next morning or later.",
    "duration_days": "Days since the pain began.",
    "severity": "Worst pain: 0 none, 10 worst imaginable.",
    "numbness": "Reduced skin sensation over the back, or numb legs.",
    "radiating_pain": "Pain spreading into the buttock or back of the thigh, or down past the knee to the shin.",
    "night_pain": "Pain that gets worse at night or at rest in a comfortable position.",
    "worse_cough_breath": "Worse on coughing, deep breathing or straightening up.",
    "pain_bending_forward": "Leaning forward is very painful or nearly impossible.",
    "straight_leg_raise": "Lying on your back, lift the straight leg on the painful side: positive if this brings "
    "pain that shoots to the back or leg.",
    "morning_stiffness": "Stiff in the morning, easing after moving about.",
    "relieved_by_rest": "Rest brings clear relief.",
    "abdominal_pain": "The stomach or lower abdomen hurts too.",
    "headache_dizziness": "Headaches or dizziness with the back or neck pain.",
    "loss_of_consciousness": "Passed out or fainted, at the injury or with the pain.",
    "major_trauma": "Significant trauma: a fall from above standing height, a road accident, a heavy blow (a slip or a "
    "bad landing on a trampoline is a fall or impact, not this).",
    "smoker": "Smokes now, or smoked for many years.",
    "thoracic_pain": "Pain in the middle or upper back, between or below the shoulder blades.",
    "pain_constant": "Constant pain that no position, movement or rest eases.",
    "both_legs": "Pain, numbness or weakness in both legs.",
    "weakness_worsening": "Leg weakness that is spreading or getting worse by the hour or the day.",
    "leg_pain_walking_eased_sitting": "Leg pain or heaviness that comes on when walking or standing and eases on "
    "sitting or bending forward.",
    "improves_with_exercise": "The pain and stiffness ease with exercise and not with rest.",
    "flank_pain": "Pain in the side, below the ribs, that may spread towards the groin.",
    "steroid_use": "Has taken steroid tablets (e.g. prednisolone) for three months or more.",
    "osteoporosis": "Diagnosed osteoporosis, or a bone broken before by a minor fall.",
    "immunosuppressed": "A weakened immune system: HIV, chemotherapy, an organ transplant or other "
    "immune-suppressing medicine.",
    "iv_drug_use": "Injects drugs.",
    "recent_infection_or_procedure": "In the past three months: a bacterial infection (urine, skin, blood), or a "
    "spinal operation, injection or catheter.",
    "blood_thinners": "Takes blood-thinning medicine (warfarin, apixaban, rivaroxaban, heparin, ...).",
    "saddle_numbness": "Numbness around the groin, buttocks or inner thighs.",
    "bladder_bowel_change": "New trouble passing or holding urine or stool.",
    "leg_weakness": "A leg or foot getting weaker.",
    "cancer_history": "Ever had cancer.",
    "weight_loss": "Weight loss you cannot explain.",
    "urinary_symptoms": "Pain or burning on passing urine, or blood in it.",
}

_CONFIDENCE_WORDS = {
    "primary": "",
    "secondary": "figure quoted by another source",
    "mixed": "some figures quoted by another source",
    "unsure": "figure not confirmed",
}


@dataclass(frozen=True)
class Source:
    """A source behind a number: an article paragraph (paraphrased) or a published figure."""

    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Link:
    """One row of the network tying an answer to a cause: its rationale and its sources."""

    row: str
    why: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Effect:
    """How one answer moved one cause: P(cause) without that answer, with it, and the links behind it."""

    field: str
    label: str
    value: str
    p_without: float
    p_with: float
    links: tuple[Link, ...]

    @property
    def delta(self) -> float:
        return self.p_with - self.p_without

    @property
    def sources(self) -> tuple[Source, ...]:
        """The sources behind all of its links, each once, in order of first citation."""
        return tuple({s.id: s for link in self.links for s in link.sources}.values())


@cache
def sources() -> dict[str, Source]:
    """Every source of model/data/sources.toml by id."""
    raw = tomllib.loads(resources.files("model").joinpath("data/sources.toml").read_text(encoding="utf-8"))
    found = {}
    article = raw["article"]
    sections = {row["id"]: row["title"] for row in raw["section"]}
    for row in raw.get("paragraph", []):
        section, number = row["id"].split(".")
        title = f'"{article["title"]}" ({article["kind"]}), section "{sections[section]}", paragraph {number}'
        found[row["id"]] = Source(row["id"], title, row["summary"])
    for row in raw.get("citation", []):
        caution = _CONFIDENCE_WORDS.get(row.get("confidence", "unsure"), _CONFIDENCE_WORDS["unsure"])
        title = row["reference"] + (f" ({caution})" if caution else "")
        found[row["id"]] = Source(row["id"], title, row["figures"])
    return found


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
    """A value of the field inside the network state `state`, to set the field's widget (see model.explain)."""
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


def _links(field: str, cause: str, value: Any) -> tuple[Link, ...]:
    known = sources()
    return tuple(
        Link(note.row, note.sourced.why, tuple(known[s] for s in note.sourced.source))
        for note in link_notes(field, cause)
        if _applies(note, field, value)
    )


def cause_effects(effects: pd.DataFrame, cause: str) -> list[Effect]:
    """Each answer's effect on `cause`, largest first, with the network rows and sources tying them.

    `effects` is model.explain.answer_effects(case) for the case.
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
