"""When to seek care: the rules of data/care.toml applied to a case's answers and posteriors."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from model.fields import FIELD_BY_NAME
from model.spec import SpecError, load_spec

LEVELS = ("self_care", "routine", "urgent", "emergency")
RANK = {level: i for i, level in enumerate(LEVELS)}


@dataclass(frozen=True)
class Condition:
    field: str
    values: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def holds(self, answers: dict[str, Any]) -> bool:
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

    def fires(self, answers: dict[str, Any]) -> bool:
        return all(c.holds(answers) for c in self.when)


@dataclass(frozen=True)
class PosteriorRule:
    cause: str
    at_least: float
    level: str
    reason: str
    source: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class CareRules:
    advice: dict[str, str]
    flags: tuple[Flag, ...]
    posteriors: tuple[PosteriorRule, ...]
    self_care_reason: str
    self_care_source: tuple[str, ...]


@dataclass(frozen=True)
class Care:
    """The advice for a case: its level, the advice sentence, and the reasons that set it."""

    level: str
    advice: str
    reasons: tuple[str, ...]
    flags: tuple[str, ...]


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
        flags.append(Flag(row["id"], row["level"], when, row["reason"], tuple(row["source"])))
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
        posteriors.append(
            PosteriorRule(row["cause"], row["at_least"], row["level"], row["reason"], tuple(row["source"]), row["why"])
        )
    advice = raw.get("advice", {})
    if set(advice) != set(LEVELS):
        raise SpecError("care rules: [advice] must give one sentence per level")
    self_care = raw.get("self_care", {})
    return CareRules(advice, tuple(flags), tuple(posteriors), self_care["reason"], tuple(self_care["source"]))


@cache
def load_rules() -> CareRules:
    """The built-in care rules (model/data/care.toml)."""
    text = resources.files("model").joinpath("data/care.toml").read_text(encoding="utf-8")
    return parse_rules(tomllib.loads(text))


def _percent(p: float) -> str:
    return f"{p:.0%}" if p >= 0.01 else "under 1%"


def care_level(answers: dict[str, Any], posteriors: dict[str, float], rules: CareRules | None = None) -> Care:
    """The care advice for read answers ({field: value or None}) and cause posteriors."""
    rules = rules or load_rules()
    spec = load_spec()
    labels = {c.id: c.label for c in spec.causes}
    hits: list[tuple[str, str, str]] = []
    for flag in rules.flags:
        if flag.fires(answers):
            hits.append((flag.level, flag.reason, flag.id))
    for rule in rules.posteriors:
        p = posteriors[rule.cause]
        if p >= rule.at_least:
            hits.append((rule.level, rule.reason.format(p=_percent(p)), f"p_{rule.cause}"))
    if not hits:
        top = max(posteriors, key=posteriors.__getitem__)
        reason = rules.self_care_reason.format(cause=labels[top].lower(), p=_percent(posteriors[top]))
        return Care("self_care", rules.advice["self_care"], (reason,), ())
    hits.sort(key=lambda h: -RANK[h[0]])  # stable: rule order within a level
    level = hits[0][0]
    return Care(level, rules.advice[level], tuple(h[1] for h in hits), tuple(h[2] for h in hits))
