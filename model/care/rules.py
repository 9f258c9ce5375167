"""When to seek care: the rules of data/care.toml, applied to many cases at once or to one.

One evaluator (`care_columns`) serves both: batch scoring calls it with columns of answers, `care_level` with a
single row. Its rules: every flag whose `when` conditions all hold, and every posterior rule at or above its
threshold, none of whose `unless` conditions holds, is a hit; the level is the most urgent hit; the reasons are
the hits from most to least urgent (rule order within a level, flags before posterior rules); with no hit it is
self-care with the likeliest cause, worded as "no warning signs" only when every warning sign was answered no.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from model.cases.fields import FIELD_BY_NAME, WARNING_SIGNS
from model.network.spec import SpecError, load_spec

LEVELS = ("self_care", "routine", "urgent", "emergency")
RANK = {level: i for i, level in enumerate(LEVELS)}
REASON_SEPARATOR = " | "


@dataclass(frozen=True)
class Column:
    """A column as its distinct values and, per row, the index of the row's value among them."""

    index: np.ndarray
    values: Sequence[Any]


@dataclass(frozen=True)
class Condition:
    field: str
    values: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def holds(self, answers: Mapping[str, Any]) -> bool:
        value = answers.get(self.field)
        if value is None:
            return False
        if self.values:
            return value in self.values
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class Flag:
    id: str
    level: str
    when: tuple[Condition, ...]
    reason: str
    source: tuple[str, ...]
    unless: tuple[Condition, ...] = ()

    def fires(self, answers: Mapping[str, Any]) -> bool:
        return all(c.holds(answers) for c in self.when) and not any(c.holds(answers) for c in self.unless)


@dataclass(frozen=True)
class PosteriorRule:
    cause: str
    at_least: float
    level: str
    reason: str
    source: tuple[str, ...]
    why: str
    unless: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class CareRules:
    advice: dict[str, str]
    flags: tuple[Flag, ...]
    posteriors: tuple[PosteriorRule, ...]
    self_care_reason: str
    self_care_reason_unasked: str
    self_care_source: tuple[str, ...]


@dataclass(frozen=True)
class Care:
    """The advice for a case: its level, the advice sentence, the reasons that set it (and the ids of the rules
    behind them), and the warning signs the case left unanswered."""

    level: str
    advice: str
    reasons: tuple[str, ...]
    flags: tuple[str, ...]
    unasked: tuple[str, ...] = ()


def _condition(raw: dict[str, Any], where: str) -> Condition:
    name = raw.get("field")
    field = FIELD_BY_NAME.get(name)
    if field is None or field.kind == "text":
        raise SpecError(f"{where}: '{name}' is not an input field")
    if "is" in raw:
        values = (raw["is"],) if isinstance(raw["is"], str) else tuple(raw["is"])
        for value in values:
            field.parse(value)  # a typo in the rules fails here, at load time
        return Condition(name, values=tuple(field.parse(v) for v in values))
    if field.kind not in ("integer", "number") or ("min" not in raw and "max" not in raw):
        raise SpecError(f"{where}: give 'is' for {name}, or 'min'/'max' for a number field")
    return Condition(name, low=raw.get("min"), high=raw.get("max"))


def _check_warning_signs(flags: list[Flag], posteriors: list[PosteriorRule]) -> None:
    """Every warning sign answered yes must fire a flag of its own (so it never leaves care at self-care), and a
    rule may be silenced by a warning sign only where that sign alone fires a flag at least as urgent as the rule
    (so adding one never lowers care: what it silences, its own flag matches or outranks). That lets a reason
    whose words say what to do if a sign appears ("go to an emergency department if ...") give way when the sign
    is there, instead of telling a person to wait for what they already have."""
    # a sign's own flag: when that sign alone is yes, silenced (if at all) only by signs whose own flags, without
    # an `unless`, are at least as urgent
    alone = [f for f in flags if len(f.when) == 1 and f.when[0].values == ("yes",) and f.when[0].field in WARNING_SIGNS]
    plain = {}
    for f in alone:
        if not f.unless:
            plain[f.when[0].field] = max(plain.get(f.when[0].field, -1), RANK[f.level])
    own = dict(plain)
    for f in alone:
        if f.unless and all(plain.get(c.field, -1) >= RANK[f.level] for c in f.unless):
            own[f.when[0].field] = max(own.get(f.when[0].field, -1), RANK[f.level])
    for sign in WARNING_SIGNS:
        if sign not in own:
            raise SpecError(f"care rules: the warning sign '{sign}' needs a flag of its own (when it alone is yes)")
    rules = [(f"care flag '{f.id}'", f) for f in flags] + [(f"care posterior rule ({r.cause})", r) for r in posteriors]
    for where, rule in rules:
        for c in rule.unless:
            if c.field in WARNING_SIGNS and own[c.field] < RANK[rule.level]:
                raise SpecError(
                    f"{where}: 'unless' names the warning sign {c.field}, whose own flag is less urgent than "
                    f"{rule.level}: adding it would lower the care level"
                )


def parse_rules(raw: dict[str, Any]) -> CareRules:
    """Check and build the care rules; raise SpecError naming the rule."""
    if tuple(raw.get("levels", ())) != LEVELS:
        raise SpecError(f"care rules: levels must be {', '.join(LEVELS)}")
    causes = set(load_spec().cause_ids)
    flags = []
    for i, row in enumerate(raw.get("flag", []), start=1):
        where = f"care flag {i} ({row.get('id')})"
        if row.get("level") not in LEVELS:
            raise SpecError(f"{where}: level {row.get('level')!r} is not one of {', '.join(LEVELS)}")
        # A flag that allowed self-care could be out-ranked by a posterior rule, and adding it could
        # then lower the care level; every flag must send the person to a doctor.
        if RANK[row["level"]] < RANK["routine"]:
            raise SpecError(f"{where}: a flag must be routine or more urgent")
        if not row.get("reason") or not row.get("source") or not row.get("when"):
            raise SpecError(f"{where}: needs 'when', 'reason' and 'source'")
        when = tuple(_condition(c, where) for c in row["when"])
        unless = tuple(_condition(c, where) for c in row.get("unless", ()))
        flags.append(Flag(row["id"], row["level"], when, row["reason"], tuple(row["source"]), unless))
    posteriors = []
    for i, row in enumerate(raw.get("posterior", []), start=1):
        where = f"care posterior rule {i} ({row.get('cause')})"
        if row.get("cause") not in causes:
            raise SpecError(f"{where}: '{row.get('cause')}' is not a cause")
        if row.get("level") not in LEVELS or RANK[row["level"]] > RANK["routine"]:
            raise SpecError(f"{where}: a posterior rule may raise care to routine at most")
        if not 0 < row.get("at_least", -1) < 1:
            raise SpecError(f"{where}: 'at_least' must lie between 0 and 1")
        if not row.get("reason") or not row.get("source") or not row.get("why"):
            raise SpecError(f"{where}: needs 'reason', 'source' and 'why'")
        unless = tuple(_condition(c, where) for c in row.get("unless", ()))
        posteriors.append(
            PosteriorRule(
                row["cause"], row["at_least"], row["level"], row["reason"], tuple(row["source"]), row["why"], unless
            )
        )
    _check_warning_signs(flags, posteriors)
    advice = raw.get("advice", {})
    if set(advice) != set(LEVELS):
        raise SpecError("care rules: [advice] must give one sentence per level")
    self_care = raw.get("self_care", {})
    return CareRules(
        advice,
        tuple(flags),
        tuple(posteriors),
        self_care["reason"],
        self_care["reason_unasked"],
        tuple(self_care["source"]),
    )


@cache
def load_rules() -> CareRules:
    """The built-in care rules (model/data/care.toml)."""
    text = resources.files("model").joinpath("data/care.toml").read_text(encoding="utf-8")
    return parse_rules(tomllib.loads(text))


def _percent(p: float) -> str:
    return f"{p:.0%}" if p >= 0.01 else "under 1%"


# _percent's words for a probability: "under 1%", then "1%" to "100%"
_PERCENT_WORDS = ("under 1%", *(f"{k}%" for k in range(1, 101)))


def _percent_index(p: np.ndarray) -> np.ndarray:
    """Where _percent's word for each probability sits in _PERCENT_WORDS. Its format rounds p * 100 (a double)
    to the nearest integer, ties to even, as np.rint does."""
    return np.where(p >= 0.01, np.rint(p * 100.0), 0.0).astype(np.intp)


@dataclass(frozen=True)
class _Texts:
    """Every reason text a probability can give, formatted once per process (per rule and percent word)."""

    rules: tuple[np.ndarray, ...]  # per posterior rule, its text for each of _PERCENT_WORDS
    self_care: np.ndarray  # (ranked cause, word, all answered / some unasked)


_TEXTS: dict[int, tuple[CareRules, _Texts]] = {}


def _texts(rules: CareRules) -> _Texts:
    """The texts of `rules`, made once per rules object (the rules hold a dict, so functools.cache cannot key them)."""
    kept = _TEXTS.get(id(rules))
    if kept is None or kept[0] is not rules:
        kept = _TEXTS[id(rules)] = (rules, _made_texts(rules))
    return kept[1]


def _made_texts(rules: CareRules) -> _Texts:
    spec = load_spec()
    labels = {c.id: c.label for c in spec.causes}
    rule_texts = tuple(
        np.asarray([rule.reason.format(p=word) for word in _PERCENT_WORDS], dtype=object) for rule in rules.posteriors
    )
    self_care = np.asarray(
        [
            [
                [
                    template.format(cause=labels[c].lower(), p=word)
                    for template in (rules.self_care_reason, rules.self_care_reason_unasked)
                ]
                for word in _PERCENT_WORDS
            ]
            for c in spec.ranked_cause_ids
        ],
        dtype=object,
    )
    return _Texts(rule_texts, self_care)


def _unasked(answers: Mapping[str, Column], n: int, rows: np.ndarray) -> np.ndarray:
    """(rows, warning signs) bool: which warning signs each row left unknown."""
    out = np.ones((len(rows), len(WARNING_SIGNS)), dtype=bool)
    for j, sign in enumerate(WARNING_SIGNS):
        column = answers.get(sign)
        if column is not None:
            known = np.array([v is not None for v in column.values], dtype=bool)
            out[:, j] = ~known[column.index[rows]]
    return out


def _holds(condition: Condition, column: Column | None, rows: np.ndarray) -> np.ndarray:
    if column is None:
        return np.zeros(len(rows), dtype=bool)
    holds = np.array([condition.holds({condition.field: v}) for v in column.values], dtype=bool)
    return holds[column.index[rows]]


def care_columns(
    answers: Mapping[str, Column], probabilities: np.ndarray, rows: np.ndarray, rules: CareRules | None = None
) -> tuple[np.ndarray, list[list[tuple[str, str]]], np.ndarray]:
    """The care of each of `rows`: its level, its hits as (rule id, reason text) from most to least urgent (one
    self-care text when nothing fired), and which warning signs it left unanswered ((rows, signs) bool).

    `answers` are the contract fields as read (Field.parse), column by column; `probabilities` is (cases, causes)
    in spec.cause_ids order. Each condition is worked out once per distinct value of its column, so a million rows
    cost little more than their distinct answers.
    """
    rules = rules or load_rules()
    spec = load_spec()
    texts = _texts(rules)
    causes = spec.cause_ids
    probs = probabilities[rows]
    n, n_flags = len(rows), len(rules.flags)
    hit = np.ones((n, n_flags + len(rules.posteriors)), dtype=bool)
    for j, flag in enumerate(rules.flags):
        for condition in flag.when:
            hit[:, j] &= _holds(condition, answers.get(condition.field), rows)
        for condition in flag.unless:
            hit[:, j] &= ~_holds(condition, answers.get(condition.field), rows)
    words = np.empty((n, len(rules.posteriors)), dtype=object)
    for k, rule in enumerate(rules.posteriors):
        p = probs[:, causes.index(rule.cause)]
        hit[:, n_flags + k] = p >= rule.at_least
        for condition in rule.unless:
            hit[:, n_flags + k] &= ~_holds(condition, answers.get(condition.field), rows)
        fired = np.flatnonzero(hit[:, n_flags + k])
        words[fired, k] = texts.rules[k][_percent_index(p[fired])]
    rank = np.array([RANK[f.level] for f in rules.flags] + [RANK[r.level] for r in rules.posteriors])
    order = np.array(sorted(range(len(rank)), key=lambda j: -rank[j]))  # stable: rule order within a level
    hit, rank = hit[:, order], rank[order]
    level = np.full(n, "self_care", dtype=object)
    any_hit = hit.any(axis=1)
    level[any_hit] = np.asarray(LEVELS, dtype=object)[rank[np.argmax(hit[any_hit], axis=1)]]
    ids = [f.id for f in rules.flags] + [f"p_{r.cause}" for r in rules.posteriors]
    flag_texts = [f.reason for f in rules.flags]
    unasked = _unasked(answers, n, rows)
    ranked = [causes.index(c) for c in spec.ranked_cause_ids]
    top = np.argmax(probs[:, ranked], axis=1)
    hits: list[list[tuple[str, str]]] = []
    for i in range(n):
        if not any_hit[i]:
            word = _percent_index(probs[i, ranked[top[i]]])
            hits.append([("", texts.self_care[top[i], word, int(unasked[i].any())])])
            continue
        row = []
        for j in order[hit[i]]:
            row.append((ids[j], flag_texts[j] if j < n_flags else words[i, j - n_flags]))
        hits.append(row)
    return level, hits, unasked


def care_level(answers: Mapping[str, Any], posteriors: Mapping[str, float], rules: CareRules | None = None) -> Care:
    """The care advice for one case's read answers ({field: value or None}) and cause posteriors."""
    rules = rules or load_rules()
    columns = {name: Column(np.zeros(1, dtype=np.intp), [value]) for name, value in answers.items()}
    probs = np.asarray([[posteriors[c] for c in load_spec().cause_ids]], dtype=float)
    level, hits, unasked = care_columns(columns, probs, np.zeros(1, dtype=np.intp), rules)
    flags = tuple(rule for rule, _ in hits[0] if rule)
    signs = tuple(s for s, open_ in zip(WARNING_SIGNS, unasked[0], strict=True) if open_)
    return Care(level[0], rules.advice[level[0]], tuple(t for _, t in hits[0]), flags, signs)
