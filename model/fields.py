"""The case contract: input fields, how their values are read, and the errors bad values get."""

from __future__ import annotations

import decimal
import difflib
import math
import numbers
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

YES_WORDS = {"yes": "yes", "y": "yes", "true": "yes", "1": "yes", "no": "no", "n": "no", "false": "no", "0": "no"}
UNKNOWN_WORDS = {"", "unknown"}
NOT_A_CASE = "is not a case; expected a mapping of field names to values (a dict or a pandas row)"


class CaseError(ValueError):
    """A case's field holds a value outside the contract. `problems` lists every bad field."""

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))


class UnknownFieldError(ValueError):
    """A field or column name that the contract does not define."""

    def __init__(self, names: list[str], known: tuple[str, ...]):
        self.names = names
        parts = []
        for name in names[:NAMES_SHOWN]:
            close = difflib.get_close_matches(name.strip().lower()[:_SHOWN_CHARACTERS], known, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            parts.append(f"{_show(name)}{hint}")
        more = f" and {len(names) - NAMES_SHOWN:,} more" if len(names) > NAMES_SHOWN else ""
        super().__init__(
            f"unknown column{'s' * (len(names) > 1)} {', '.join(parts)}{more}; "
            "the known columns are listed in the case schema"
        )


# A message that lists names (unknown or duplicate columns) shows this many and counts the rest: a file with
# 100,000 columns would otherwise get an error of a megabyte.
NAMES_SHOWN = 5


def names_in_words(names: list[str]) -> str:
    """Names for a one-line message: the first NAMES_SHOWN quoted (each cut short if long), then how many more."""
    shown = ", ".join(_show(name) for name in names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN:,} more" if len(names) > NAMES_SHOWN else "")


@dataclass(frozen=True)
class FieldProblem:
    field: str
    value: Any
    expected: str

    @property
    def message(self) -> str:
        return f"{self.field}: {_show(self.value)} {self.expected}"


@dataclass(frozen=True)
class Field:
    """One input column. kind: text, choice, yesno, integer or number."""

    name: str
    kind: str
    group: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def parse(self, value: Any) -> Any:
        """The value as the contract reads it (None when unknown); raises ValueError with `expected` text."""
        if self.kind == "text":
            return None if _is_blank(value) else value
        if _is_unknown(value):
            return None
        if self.kind == "yesno":
            return _parse_yesno(value)
        if self.kind == "choice":
            return _parse_choice(value, self.choices)
        return _parse_number(value, self)

    @property
    def expected(self) -> str:
        """What a valid value looks like, in words."""
        if self.kind == "yesno":
            return "yes or no (also y/n, true/false, 1/0)"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "integer":
            return f"a whole number from {self.low:g} to {self.high:g}"
        if self.kind == "number":
            return f"a number from {self.low:g}" + (f" to {self.high:g}" if self.high is not None else " up")
        return "any text"


def _show(value: Any) -> str:
    """The value as an error message quotes it: a string in quotes, anything else as Python writes it, a
    long one cut short (a 4 MiB cell would otherwise be copied into its row's error)."""
    if isinstance(value, np.generic):
        value = value.item()  # True, not np.True_
    if isinstance(value, str):
        # a line break or other control character is shown escaped: a message stays one line
        shown = _CONTROL.sub(lambda c: c[0].encode("unicode_escape").decode("ascii"), value[:_SHOWN_CHARACTERS])
        if len(value) > _SHOWN_CHARACTERS:
            return f"'{shown}...' ({len(value):,} characters)"
        return f"'{shown}'"
    try:
        shown = repr(value)
    except ValueError:  # an int of more than 4,300 digits has no repr (sys.set_int_max_str_digits)
        return f"an integer of {value.bit_length():,} bits"
    if len(shown) > _SHOWN_CHARACTERS:
        return f"{shown[:_SHOWN_CHARACTERS]}... ({len(shown):,} characters)"
    return shown


_SHOWN_CHARACTERS = 80
# What str.splitlines() breaks at, and the other C0 and C1 control characters.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# The contract's numbers: an optional sign, ASCII digits, an optional decimal point (7, 7.5, +7, -0, 7.).
# Python's float() also reads 1_0, 1e3, nan, inf and digits of other scripts; the contract reads none of them.
_PLAIN_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?")


def _is_blank(value: Any) -> bool:
    """None, NaN, pandas' NA and NaT, or a string of spaces: a cell left empty."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def _is_unknown(value: Any) -> bool:
    return _is_blank(value) or (isinstance(value, str) and value.strip().lower() in UNKNOWN_WORDS)


class _Bad(ValueError):
    def __init__(self, expected: str):
        super().__init__(expected)
        self.expected = expected


def _parse_yesno(value: Any) -> str:
    # bool and numpy's bool_ (a pandas bool column), and the integers 1 and 0 (numpy's too); not 1.0
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return "yes" if value else "no"
    if isinstance(value, str) and value.strip().lower() in YES_WORDS:
        return YES_WORDS[value.strip().lower()]
    raise _Bad("is not yes or no (also accepted: y/n, true/false, 1/0)")


def _parse_choice(value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise _Bad(f"is not one of {', '.join(choices)}")
    if value.strip().lower() in choices:
        return value.strip().lower()
    close = difflib.get_close_matches(value.strip().lower()[:_SHOWN_CHARACTERS], choices, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise _Bad(f"is not one of {', '.join(choices)}{hint}")


def _parse_number(value: Any, field: Field) -> float:
    """The number `value` holds: text in the contract's plain decimals, or a Python or numpy int or float.

    True is not 1 here, and no text Python's float() reads beyond plain decimals (1_0, 1e3, nan) is a number."""
    if isinstance(value, bool | np.bool_):
        raise _Bad(f"is not a number; expected {field.expected}")
    if isinstance(value, str):
        text = value.strip()
        if not _PLAIN_DECIMAL.fullmatch(text):
            raise _Bad(f"is not {_number_words(text)}; expected {field.expected}")
        number: float | int = float(text)  # inf for more digits than a float holds
    elif isinstance(value, numbers.Integral):
        number = int(value)  # compared with the range exactly, however many digits
    elif isinstance(value, numbers.Real | decimal.Decimal):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            raise _Bad(f"is not a finite number; expected {field.expected}")
    else:
        raise _Bad(f"is not a number; expected {field.expected}")
    if field.kind == "integer" and isinstance(number, float) and math.isfinite(number) and not number.is_integer():
        raise _Bad(f"is not a whole number; expected {field.expected}")
    if (field.low is not None and number < field.low) or (field.high is not None and number > field.high):
        span = f"{field.low:g}-{field.high:g}" if field.high is not None else f"at least {field.low:g}"
        raise _Bad(f"is outside {span}")
    try:
        read = float(number)
    except OverflowError:
        read = math.inf
    if not math.isfinite(read):
        raise _Bad(f"is too large to read as a number; expected {field.expected}")
    return int(read) if field.kind == "integer" else read


def _number_words(text: str) -> str:
    """What a text that is not a plain decimal is not: Python would read some of them (1_0, 1e3, nan)."""
    try:
        float(text)
    except ValueError:
        return "a number"
    return "a plain decimal number (such as 7, 7.5 or -0)"


_YN = "yesno"
FIELDS: tuple[Field, ...] = (
    Field("case_id", "text", "context"),
    Field(
        "activity",
        "choice",
        "context",
        choices=(
            "lifting",
            "deadlift",
            "squats",
            "running",
            "walking",
            "jumping",
            "swimming",
            "sitting",
            "bending",
            "yoga",
            "other",
        ),
    ),
    Field("age", "integer", "context", low=10, high=110),
    Field("sex", "choice", "context", choices=("female", "male")),
    Field("new_to_activity", _YN, "context"),
    Field("more_than_usual", _YN, "context"),
    Field("warmed_up", _YN, "context"),
    Field("fall_or_impact", _YN, "context"),
    Field("overweight", _YN, "context"),
    Field("sedentary", _YN, "context"),
    Field("known_spine_condition", _YN, "context"),
    Field("major_trauma", _YN, "context"),
    Field("smoker", _YN, "context"),
    Field("onset", "choice", "symptom", choices=("during", "after_hours", "next_day")),
    Field("duration_days", "number", "symptom", low=0),
    Field("severity", "number", "symptom", low=0, high=10),
    Field("numbness", "choice", "symptom", choices=("none", "local", "legs")),
    Field("radiating_pain", "choice", "symptom", choices=("none", "buttock_thigh", "below_knee")),
    Field("bruising", _YN, "symptom"),
    Field("swelling", _YN, "symptom"),
    Field("night_pain", _YN, "symptom"),
    Field("worse_cough_breath", _YN, "symptom"),
    Field("pain_bending_forward", _YN, "symptom"),
    Field("straight_leg_raise", "choice", "symptom", choices=("positive", "negative")),
    Field("morning_stiffness", _YN, "symptom"),
    Field("relieved_by_rest", _YN, "symptom"),
    Field("abdominal_pain", _YN, "symptom"),
    Field("headache_dizziness", _YN, "symptom"),
    Field("loss_of_consciousness", _YN, "symptom"),
    Field("thoracic_pain", _YN, "symptom"),
    Field("pain_constant", _YN, "symptom"),
    Field("both_legs", _YN, "symptom"),
    Field("weakness_worsening", _YN, "symptom"),
    Field("leg_pain_walking_eased_sitting", _YN, "symptom"),
    Field("improves_with_exercise", _YN, "symptom"),
    Field("flank_pain", _YN, "symptom"),
    Field("saddle_numbness", _YN, "warning"),
    Field("bladder_bowel_change", _YN, "warning"),
    Field("leg_weakness", _YN, "warning"),
    Field("fever", _YN, "warning"),
    Field("cancer_history", _YN, "warning"),
    Field("weight_loss", _YN, "warning"),
    Field("urinary_symptoms", _YN, "warning"),
    Field("steroid_use", _YN, "risk"),
    Field("osteoporosis", _YN, "risk"),
    Field("immunosuppressed", _YN, "risk"),
    Field("iv_drug_use", _YN, "risk"),
    Field("recent_infection_or_procedure", _YN, "risk"),
    Field("blood_thinners", _YN, "risk"),
)
# The red-flag questions guidelines ask before a person is reassured (the contract's "Warning signs"): a "yes"
# never leaves care at self-care, and "no warning signs" may be said only when every one was answered "no".
WARNING_SIGNS: tuple[str, ...] = (
    "saddle_numbness",
    "bladder_bowel_change",
    "leg_weakness",
    "weakness_worsening",
    "both_legs",
    "major_trauma",
    "loss_of_consciousness",
    "fever",
    "cancer_history",
    "weight_loss",
    "steroid_use",
    "immunosuppressed",
    "iv_drug_use",
    "thoracic_pain",
    "pain_constant",
)
FIELD_BY_NAME = {f.name: f for f in FIELDS}
FIELD_NAMES = tuple(FIELD_BY_NAME)
EVIDENCE_FIELDS = tuple(f.name for f in FIELDS if f.kind != "text")


def parse_case(case: Any) -> dict[str, Any]:
    """Read a case (a mapping or a pandas row) into {field: value or None} for every contract field.

    Raises UnknownFieldError for a key the contract does not define and CaseError listing every bad value (or
    saying that `case` is no mapping at all: None, a number, a string).
    """
    try:
        items = dict(case.items()) if hasattr(case, "items") else dict(case)
    except (TypeError, ValueError):
        raise CaseError([FieldProblem("case", case, NOT_A_CASE)]) from None
    unknown = [str(k) for k in items if k not in FIELD_BY_NAME]
    if unknown:
        raise UnknownFieldError(unknown, FIELD_NAMES)
    values: dict[str, Any] = {}
    problems = []
    for field in FIELDS:
        raw = items.get(field.name)
        try:
            values[field.name] = field.parse(raw)
        except _Bad as bad:
            problems.append(FieldProblem(field.name, raw, bad.expected))
    if problems:
        raise CaseError(problems)
    return values
