"""The case contract (model/data/contract.toml): input fields, how their values are read, and the errors bad
values get; the causes and output columns it fixes."""

from __future__ import annotations

import difflib
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from model.cases.values import (
    SHOWN_CHARACTERS,
    Bad,
    is_blank,
    is_unknown,
    parse_choice,
    parse_number,
    parse_yesno,
    show,
)

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
            close = difflib.get_close_matches(name.strip().lower()[:SHOWN_CHARACTERS], known, n=1, cutoff=0.6)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            parts.append(f"{show(name)}{hint}")
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
    shown = ", ".join(show(name) for name in names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN:,} more" if len(names) > NAMES_SHOWN else "")


@dataclass(frozen=True)
class FieldProblem:
    field: str
    value: Any
    expected: str

    @property
    def message(self) -> str:
        return f"{self.field}: {show(self.value)}{_unusual(self.value)} {self.expected}"


def _unusual(value: Any) -> str:
    """The first character of a text value that is not ASCII, named: a look-alike (a Cyrillic 'у' in 'yes', the
    Kelvin sign in 'WALKING') or an invisible one (a zero-width space) looks right in the quoted value."""
    if not isinstance(value, str) or value.isascii():
        return ""
    c = next(c for c in value if not c.isascii())
    return f" (with U+{ord(c):04X} {unicodedata.name(c, 'an unnamed character')})"


@dataclass(frozen=True)
class Field:
    """One input column. kind: text, choice, yesno, integer or number; the words are the contract's (see the
    comment at the top of model/data/contract.toml): `question` as the app asks it, `meaning` for the schema,
    `help` the app's help text ("" where there is none)."""

    name: str
    kind: str
    group: str
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    unit: str = ""
    question: str = ""
    meaning: str = ""
    help: str = ""

    def parse(self, value: Any) -> Any:
        """The value as the contract reads it (None when unknown); raises ValueError with `expected` text."""
        if self.kind == "text":
            return None if is_blank(value) else value
        if is_unknown(value, UNKNOWN_WORDS):
            return None
        if self.kind == "yesno":
            return parse_yesno(value, YES_WORDS, other_yes_no())
        if self.kind == "choice":
            return parse_choice(value, self.choices)
        return parse_number(value, self)

    @property
    def expected(self) -> str:
        """What a valid value looks like, in words."""
        if self.kind == "yesno":
            return f"yes or no (also {other_yes_no()})"
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "integer":
            return f"a whole number from {self.low:g} to {self.high:g}"
        if self.kind == "number":
            return f"a number from {self.low:g}" + (f" to {self.high:g}" if self.high is not None else " up")
        return "any text"


def other_yes_no() -> str:
    """The other spellings of yes and no, in words: "y/n, true/false, 1/0"."""
    return ", ".join(f"{yes}/{no}" for yes, no in load_contract().yes_no[1:])


CONTRACT = "data/contract.toml"
KINDS = ("text", "yesno", "choice", "integer", "number")
_NUMBERS = ("integer", "number")
# Every key an entry of the contract may have; anything else is most likely a misspelt one.
_KEYS = {
    "top": {"warning_signs", "step", "reading", "group", "field", "cause", "output"},
    "step": {"id", "title", "fields", "warning_signs"},
    "reading": {"yes_no", "unknown"},
    "group": {"id", "title"},
    "field": {"name", "group", "kind", "values", "low", "high", "unit", "question", "meaning", "help"},
    "cause": {"id", "meaning", "article"},
    "output": {"name", "meaning"},
}
# The placeholder in an output column's name that stands for each cause id in turn (p_<cause id>).
CAUSE_PLACEHOLDER = "<cause id>"
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class ContractError(ValueError):
    """The contract data (model/data/contract.toml) is malformed; the message names the entry and the key."""


@dataclass(frozen=True)
class Group:
    """A group of fields, as the schema lists them under one heading."""

    id: str
    title: str


@dataclass(frozen=True)
class Step:
    """A step of the app's questions: its title, and its fields in the order asked."""

    id: str
    title: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Cause:
    """A candidate cause whose id the contract fixes: what it is, and the article paragraphs behind it."""

    id: str
    meaning: str
    article: str


@dataclass(frozen=True)
class OutputColumn:
    """A column batch scoring adds; a name with CAUSE_PLACEHOLDER stands for one column per cause."""

    name: str
    meaning: str

    def names(self, cause_ids: tuple[str, ...]) -> list[str]:
        if CAUSE_PLACEHOLDER in self.name:
            return [self.name.replace(CAUSE_PLACEHOLDER, cause) for cause in cause_ids]
        return [self.name]


@dataclass(frozen=True)
class Contract:
    """The contract as model/data/contract.toml states it, checked."""

    yes_no: tuple[tuple[str, str], ...]
    unknown: str
    groups: tuple[Group, ...]
    fields: tuple[Field, ...]
    warning_signs: tuple[str, ...]
    steps: tuple[Step, ...]
    causes: tuple[Cause, ...]
    outputs: tuple[OutputColumn, ...]


def read_contract(text: str, where: str = "contract") -> Contract:
    """The contract in `text` (TOML, as model/data/contract.toml); raises ContractError naming what is wrong."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ContractError(f"{where}: not valid TOML: {exc}") from None
    _check_keys(raw, "top", where)
    missing = sorted(_KEYS["top"] - set(raw))
    if missing:
        raise ContractError(f"{where}: {', '.join(repr(k) for k in missing)} missing")
    reading = raw["reading"]
    _check_keys(reading, "reading", f"{where} [reading]")
    yes_no = tuple(tuple(pair) for pair in reading.get("yes_no", ()))
    if not yes_no or any(len(pair) != 2 or not all(isinstance(w, str) for w in pair) for pair in yes_no):
        raise ContractError(f"{where} [reading]: yes_no must list pairs of words, the word for yes first")
    unknown = _text(reading, "unknown", f"{where} [reading]")
    if any(unknown in pair for pair in yes_no):
        raise ContractError(f"{where} [reading]: {unknown!r} means not known; it cannot be a yes/no word")
    groups = tuple(_group(row, f"{where} [[group]] {i + 1}") for i, row in enumerate(raw["group"]))
    group_ids = tuple(g.id for g in groups)
    fields = tuple(_field(row, group_ids, f"{where} [[field]] {i + 1}") for i, row in enumerate(raw["field"]))
    by_name = {f.name: f for f in fields}
    for field in fields:
        if unknown in field.choices:
            raise ContractError(f"{where}: field {field.name!r}: {unknown!r} means not known; it cannot be a value")
    for kind, items in (("group", group_ids), ("field", [f.name for f in fields])):
        repeated = sorted({n for n in items if items.count(n) > 1})
        if repeated:
            raise ContractError(f"{where}: {kind} {', '.join(repr(n) for n in repeated)} is defined twice")
    signs = tuple(raw["warning_signs"])
    for sign in signs:
        if sign not in by_name or by_name[sign].kind != "yesno":
            raise ContractError(f"{where}: warning sign {sign!r} is not a yes/no field")
    if len(set(signs)) != len(signs):
        raise ContractError(f"{where}: warning_signs lists a field twice")
    steps = _steps(raw["step"], signs, fields, where)
    causes = []
    for i, row in enumerate(raw["cause"]):
        _check_keys(row, "cause", f"{where} [[cause]] {i + 1}")
        cause = Cause(**{key: _text(row, key, f"{where} [[cause]] {i + 1}") for key in ("id", "meaning", "article")})
        causes.append(cause)
    outputs = []
    for i, row in enumerate(raw["output"]):
        _check_keys(row, "output", f"{where} [[output]] {i + 1}")
        outputs.append(OutputColumn(*(_text(row, key, f"{where} [[output]] {i + 1}") for key in ("name", "meaning"))))
    for kind, items in (("cause", [c.id for c in causes]), ("output column", [o.name for o in outputs])):
        if len(set(items)) != len(items):
            raise ContractError(f"{where}: a {kind} is listed twice")
    return Contract(
        yes_no,
        unknown,
        groups,
        fields,
        signs,
        steps,
        tuple(causes),
        tuple(outputs),
    )


@cache
def load_contract() -> Contract:
    """The built-in contract, model/data/contract.toml, read and checked once."""
    text = resources.files("model").joinpath(CONTRACT).read_text(encoding="utf-8")
    return read_contract(text, "model/" + CONTRACT)


def _check_keys(row: Any, kind: str, where: str) -> None:
    if not isinstance(row, dict):
        raise ContractError(f"{where}: expected a table of keys, got {show(row)}")
    unknown = sorted(set(row) - _KEYS[kind])
    if unknown:
        raise ContractError(
            f"{where}: unknown key {', '.join(repr(k) for k in unknown)}; the keys are {', '.join(sorted(_KEYS[kind]))}"
        )


def _text(row: dict[str, Any], key: str, where: str, required: bool = True) -> str:
    value = row.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ContractError(f"{where}: '{key}' must be {'a non-empty' if required else 'a'} text")
    return value


def _steps(rows: Any, signs: tuple[str, ...], fields: tuple[Field, ...], where: str) -> tuple[Step, ...]:
    """The [[step]] entries, checked: the warning signs' step first, and every input field in exactly one step."""
    steps = []
    for i, row in enumerate(rows):
        at = f"{where} [[step]] {i + 1}"
        _check_keys(row, "step", at)
        if row.get("warning_signs", False) is True:
            if i != 0 or "fields" in row:
                raise ContractError(f"{at}: the warning signs are the first step, and their fields are warning_signs")
            names: Any = signs
        else:
            names = row.get("fields")
            if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
                raise ContractError(f"{at}: 'fields' must list the step's field names")
        steps.append(Step(_text(row, "id", at), _text(row, "title", at), tuple(names)))
    if not steps or steps[0].fields != signs:
        raise ContractError(f"{where}: the first [[step]] is the warning signs (warning_signs = true)")
    asked = [name for step in steps for name in step.fields]
    inputs = [f.name for f in fields if f.kind != "text"]
    for name in asked:
        if name not in inputs:
            raise ContractError(f"{where}: [[step]] names {name!r}, which is not an input field")
    twice = sorted({n for n in asked if asked.count(n) > 1})
    never = [n for n in inputs if n not in asked]
    if twice or never:
        problem = f"{', '.join(twice)} in two steps" if twice else f"{', '.join(never)} in no step"
        raise ContractError(f"{where}: every input field is asked in exactly one [[step]]: {problem}")
    return tuple(steps)


def _group(row: Any, where: str) -> Group:
    _check_keys(row, "group", where)
    return Group(_text(row, "id", where), _text(row, "title", where))


def _field(row: Any, group_ids: tuple[str, ...], where: str) -> Field:
    _check_keys(row, "field", where)
    name = _text(row, "name", where)
    where = f"{where} ('{name}')"
    if not _NAME.fullmatch(name):
        raise ContractError(f"{where}: a name is lower-case letters, digits and underscores")
    kind = _text(row, "kind", where)
    if kind not in KINDS:
        raise ContractError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    group = _text(row, "group", where)
    if group not in group_ids:
        raise ContractError(f"{where}: group {group!r} is not one of {', '.join(group_ids)}")
    values = tuple(row.get("values", ()))
    if (kind == "choice") != bool(values):
        raise ContractError(f"{where}: 'values' lists the choices of a choice field, and only of one")
    if any(not isinstance(v, str) or not _NAME.fullmatch(v) for v in values) or len(set(values)) != len(values):
        raise ContractError(f"{where}: values are distinct lower-case words (letters, digits, underscores)")
    low, high = row.get("low"), row.get("high")
    if kind in _NUMBERS:
        if not isinstance(low, int | float) or (high is not None and not isinstance(high, int | float)):
            raise ContractError(f"{where}: a number field needs a numeric 'low' (and may have a 'high')")
        if kind == "integer" and high is None:
            raise ContractError(f"{where}: an integer field needs a 'high'")
        if high is not None and high <= low:
            raise ContractError(f"{where}: 'high' ({high:g}) must be above 'low' ({low:g})")
    elif low is not None or high is not None or "unit" in row:
        raise ContractError(f"{where}: only a number field has 'low', 'high' or 'unit'")
    question = _text(row, "question", where, required=kind != "text")
    if question and not question.endswith("?"):
        raise ContractError(f"{where}: a question ends with '?'")
    return Field(
        name,
        kind,
        group,
        values,
        low,
        high,
        unit=_text(row, "unit", where, required=False),
        question=question,
        meaning=_text(row, "meaning", where, required=False),
        help=_text(row, "help", where, required=False),
    )


_CONTRACT = load_contract()
UNKNOWN = _CONTRACT.unknown
# The words a yes/no field reads, and what each means: "y" is "yes", "0" is "no".
YES_WORDS = {word: answer for pair in _CONTRACT.yes_no for word, answer in zip(pair, _CONTRACT.yes_no[0], strict=True)}
UNKNOWN_WORDS = {"", UNKNOWN}
FIELDS: tuple[Field, ...] = _CONTRACT.fields
# The red-flag questions guidelines ask before a person is reassured (the contract's "Warning signs"): a "yes"
# never leaves care at self-care, and "no warning signs" may be said only when every one was answered "no".
WARNING_SIGNS: tuple[str, ...] = _CONTRACT.warning_signs
# The app's questions, a step at a time, in the order asked (the warning signs first).
STEPS: tuple[Step, ...] = _CONTRACT.steps
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
        except Bad as bad:
            problems.append(FieldProblem(field.name, raw, bad.expected))
    if problems:
        raise CaseError(problems)
    return values
