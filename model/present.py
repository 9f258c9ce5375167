"""Plain-words views of the model for the app: labels, sources, cause tables, explanations and CSV reading."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import pandas as pd

from model.batch import output_columns
from model.care import LEVELS
from model.evidence import evidence_from_case
from model.explain import LinkNote, Question, link_notes, representative_value
from model.fields import FIELD_NAMES, FIELDS, UNKNOWN, parse_case
from model.output import spreadsheet_safe
from model.sources import Source
from model.spec import CauseNode, load_spec

# The app's upload limit; .streamlit/config.toml's server.maxUploadSize must say the same (a test checks).
MAX_UPLOAD_MB = 5
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
# The engine scores about 30 random cases a second on the second edition's network (README, Performance); beyond
# about a minute a browser session waits too long, and the command line is the tool.
MAX_ROWS = 2_000
# An effect smaller than this (half a percentage point) is shown as "no real effect".
NOTABLE_DELTA = 0.005

CONTEXT_FIELDS = tuple(f.name for f in FIELDS if f.group == "context" and f.kind != "text")

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


class UploadError(ValueError):
    """An uploaded file that cannot be read as a CSV of cases; the message says what is wrong in one line."""


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


@dataclass(frozen=True)
class AnswerChoice:
    """One possible answer to a suggested question: the value to set, how likely it is, what it would move most."""

    state: str
    label: str
    value: Any
    p_answer: float
    cause: str
    p_before: float
    p_after: float


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


def context_case(case: dict[str, Any]) -> dict[str, Any]:
    """The case restricted to the context answers (what was done and who did it): the app's "before symptoms"."""
    return {k: v for k, v in case.items() if k in CONTEXT_FIELDS}


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


def answer_choices(question: Question, now: dict[str, float]) -> list[AnswerChoice]:
    """The answers to a suggested question in the network's order, each with the cause it would move most."""
    choices = []
    for state, (p_answer, after) in question.answers.items():
        cause = max(after, key=lambda c: (abs(after[c] - now[c]), c))
        choices.append(
            AnswerChoice(
                state,
                state_words(question.field, state),
                value_for_state(question.field, state),
                p_answer,
                cause,
                now[cause],
                after[cause],
            )
        )
    return choices


def points(delta: float) -> str:
    """A change of probability in percentage points, signed ("+37 points")."""
    return f"{delta * 100:+.0f} points" if abs(delta) >= NOTABLE_DELTA else "no real change"


def read_cases_csv(data: bytes) -> pd.DataFrame:
    """The cases of an uploaded CSV, every cell as text (as the CLI reads them); raises UploadError."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise UploadError(
            f"The file is {len(data) / 1024 / 1024:.1f} MB; the app takes files up to {MAX_UPLOAD_MB} MB."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UploadError(
            "The file is not UTF-8 text. Save it as 'CSV UTF-8' from your spreadsheet and upload it again."
        ) from None
    if not text.strip():
        raise UploadError("The file is empty.")
    if "\x00" in text:
        raise UploadError("The file is not a CSV: it holds binary data.")
    limit = csv.field_size_limit(MAX_UPLOAD_BYTES)  # the csv module's own is 128 KiB a field
    try:
        header = next(csv.reader(io.StringIO(text, newline="")), [])
    except csv.Error as exc:
        raise UploadError(f"The file's header row is not readable CSV: {exc}") from None
    finally:
        csv.field_size_limit(limit)
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise UploadError(f"The file repeats the column {', '.join(repr(c) for c in duplicates)}.")
    try:
        cases = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise UploadError(f"The file is not a readable CSV: {str(exc).strip().splitlines()[0]}") from None
    if cases.empty:
        raise UploadError("The file has a header row but no cases.")
    if len(cases) > MAX_ROWS:
        raise UploadError(
            f"The file has {len(cases):,} cases; the app scores up to {MAX_ROWS:,}. "
            "Score bigger files with the command line: backcheck score FILE.csv -o scored.csv"
        )
    return cases


def scored_csv(scored: pd.DataFrame, safe: bool = False) -> bytes:
    """The scored cases as the app's download: with `safe`, every input cell (and column name) that a
    spreadsheet would run as a formula gets an apostrophe before it, as `backcheck score --spreadsheet-safe`
    writes them; the scores are never changed."""
    if safe:
        outputs = set(output_columns())
        scored = scored.copy()
        for name in [c for c in scored.columns if c not in outputs]:
            scored[name] = scored[name].map(lambda v: spreadsheet_safe(v) if isinstance(v, str) else v)
        scored.columns = [c if c in outputs else spreadsheet_safe(str(c)) for c in scored.columns]
    return scored.to_csv(index=False).encode("utf-8")


def example_cases(data: bytes) -> dict[str, dict[str, Any]]:
    """Example cases by case_id: each case's known answers, read as the contract reads them."""
    examples = {}
    for row in read_cases_csv(data).to_dict(orient="records"):
        values = parse_case(row)
        examples[row["case_id"]] = {k: v for k, v in values.items() if v is not None and k != "case_id"}
    return examples


def example_words(case_id: str, answers: dict[str, Any]) -> str:
    """A one-line summary of an example case, e.g. "E07: jumping, age 30, female, fall or impact, pain 9/10, ..."."""
    numbers = {"age": "age {:g}", "severity": "pain {:g}/10", "duration_days": "{:g} days"}
    parts = []
    for field, value in answers.items():
        if value in ("no", "none", "negative"):
            continue
        if field in numbers:
            parts.append(numbers[field].format(value))
        elif value == "yes":
            parts.append(field.replace("_", " "))
        else:
            parts.append(f"{field.replace('_', ' ')} {value.replace('_', ' ')}" if field != "activity" else value)
    return f"{case_id}: {', '.join(parts[:8])}{', ...' if len(parts) > 8 else ''}"


def extra_columns(cases: pd.DataFrame) -> list[str]:
    """The file's columns that are not fields of the case contract."""
    return [str(c) for c in cases.columns if c not in FIELD_NAMES]


def care_counts(scored: pd.DataFrame) -> pd.DataFrame:
    """Rows per care level, most urgent first, then the rows with errors."""
    order = [*reversed(LEVELS)]
    counts = [(CARE_TITLES[level], int((scored["care"] == level).sum())) for level in order]
    counts.append(("Not scored (error)", int((scored["error"] != "").sum())))
    return pd.DataFrame(counts, columns=["care", "rows"])
