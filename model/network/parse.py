"""Reading the network's TOML: each node parsed into spec's classes, then the whole network checked (its structure,
no cycles); a SpecError names the node and the row."""

from __future__ import annotations

import itertools
import math
import tomllib
from typing import Any

from model.network.spec import (
    KINDS,
    PRESENT,
    BaseRow,
    Bin,
    CauseNode,
    ContextNode,
    FindingNode,
    Link,
    NetworkSpec,
    OddsRow,
    PainLink,
    Sourced,
    SpecError,
)

_SUM_TOLERANCE = 1e-6


def _sourced(raw: dict[str, Any], where: str) -> Sourced:
    source = raw.get("source")
    if isinstance(source, str):
        source = [source]
    if not source or not all(isinstance(s, str) and s.strip() for s in source):
        raise SpecError(f"{where}: no source given")
    why = raw.get("why")
    if not isinstance(why, str) or not why.strip():
        raise SpecError(f"{where}: no rationale ('why') given")
    return Sourced(tuple(source), why.strip())


def _probability(value: Any, where: str, *, open_interval: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SpecError(f"{where}: {value!r} is not a number")
    if open_interval and not 0.0 < value < 1.0:
        raise SpecError(f"{where}: p={value} must lie strictly between 0 and 1")
    if not 0.0 <= value <= 1.0:
        raise SpecError(f"{where}: p={value} is outside 0-1")
    return float(value)


def _distribution(value: Any, states: tuple[str, ...], where: str) -> tuple[float, ...]:
    if not isinstance(value, list):
        if len(states) != 2:
            raise SpecError(f"{where}: give a list of {len(states)} probabilities for {', '.join(states)}")
        p = _probability(value, where)
        return (1.0 - p, p)
    if len(value) != len(states):
        raise SpecError(f"{where}: {len(value)} probabilities for {len(states)} states ({', '.join(states)})")
    dist = tuple(_probability(v, where) for v in value)
    if abs(sum(dist) - 1.0) > _SUM_TOLERANCE:
        raise SpecError(f"{where}: probabilities sum to {sum(dist):.6g}, not 1")
    return dist


def _states(raw: dict[str, Any], where: str) -> tuple[str, ...]:
    states = raw.get("states")
    if not isinstance(states, list) or len(states) < 2 or len(set(states)) != len(states):
        raise SpecError(f"{where}: 'states' must list two or more distinct states")
    return tuple(states)


def _bins(raw: dict[str, Any], states: tuple[str, ...], where: str) -> tuple[Bin, ...]:
    if "bins" not in raw:
        return ()
    bins = tuple(Bin(b["state"], float(b["min"]), float(b["max"])) for b in raw["bins"])
    if tuple(b.state for b in bins) != states:
        raise SpecError(f"{where}: bins must cover the states in order ({', '.join(states)})")
    for i, (a, b) in enumerate(itertools.pairwise(bins), start=1):
        if not a.low < a.high == b.low:
            raise SpecError(f"{where}, bin {i} ({a.state}): ranges must be increasing and contiguous")
    if not bins[-1].low < bins[-1].high:
        raise SpecError(f"{where}, bin {len(bins)} ({bins[-1].state}): empty range")
    return bins


def _context(raw: dict[str, Any]) -> ContextNode:
    where = f"context '{raw.get('id')}'"
    states = _states(raw, where)
    prior = raw.get("prior", {})
    return ContextNode(
        id=raw["id"],
        label=raw.get("label", raw["id"]),
        states=states,
        prior=_distribution(prior.get("p"), states, f"{where}, prior"),
        prior_source=_sourced(prior, f"{where}, prior"),
        bins=_bins(raw, states, where),
    )


def _cause(raw: dict[str, Any]) -> CauseNode:
    where = f"cause '{raw.get('id')}'"
    if "any_of" in raw:
        any_of = raw["any_of"]
        if not isinstance(any_of, list) or len(any_of) < 2 or set(raw) & {"base", "odds", "parents"}:
            raise SpecError(f"{where}: 'any_of' lists two or more causes, and takes no parents, base or odds")
        return CauseNode(
            raw["id"],
            raw.get("label", raw["id"]),
            tuple(any_of),
            (),
            (),
            kind="any_of",
            sourced=_sourced(raw, where),
        )
    base = []
    for i, row in enumerate(raw.get("base", []), start=1):
        acts = row.get("activity")
        base.append(
            BaseRow(
                activities=None if acts is None else tuple(acts),
                p=_probability(row.get("p"), f"{where}, base row {i}", open_interval=True),
                sourced=_sourced(row, f"{where}, base row {i}"),
            )
        )
    odds = []
    for i, row in enumerate(raw.get("odds", []), start=1):
        ratio = row.get("ratio")
        if not isinstance(ratio, int | float) or isinstance(ratio, bool) or not 0 < ratio < math.inf:
            raise SpecError(f"{where}, odds row {i}: ratio {ratio!r} must be a positive number")
        odds.append(OddsRow(row["parent"], row["state"], float(ratio), _sourced(row, f"{where}, odds row {i}")))
    if not base:
        raise SpecError(f"{where}: no base rows")
    intermediate = raw.get("intermediate", False)
    if not isinstance(intermediate, bool):
        raise SpecError(f"{where}: 'intermediate' must be true or false")
    return CauseNode(
        raw["id"], raw.get("label", raw["id"]), tuple(raw.get("parents", [])), tuple(base), tuple(odds), intermediate
    )


def _finding(raw: dict[str, Any]) -> FindingNode:
    where = f"finding '{raw.get('id')}'"
    states = _states(raw, where)
    kind = raw.get("kind")
    if kind not in KINDS:
        raise SpecError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")

    def link(row: dict[str, Any], label: str, cause: str | None) -> Link:
        weight = row.get("weight")
        if kind == "mixture" and (not isinstance(weight, int | float) or weight <= 0):
            raise SpecError(f"{where}, {label}: a mixture needs a positive 'weight'")
        if kind == "noisy_max" and weight is not None:
            raise SpecError(f"{where}, {label}: 'weight' belongs to mixtures only")
        return Link(
            cause, _distribution(row.get("p"), states, f"{where}, {label}"), weight, _sourced(row, f"{where}, {label}")
        )

    leak = link(raw.get("leak", {}), "leak", None)
    links = tuple(
        link(row, f"link {i} ({row.get('cause')})", row.get("cause")) for i, row in enumerate(raw.get("links", []), 1)
    )
    return FindingNode(raw["id"], raw.get("label", raw["id"]), kind, states, leak, links, _bins(raw, states, where))


def _pain_chain(raw: dict[str, Any]) -> tuple[tuple[CauseNode, ...], tuple[tuple[str, str], ...]]:
    """The [pain] section as a chain of binary steps, the last one named `id` and always observed present.

    A noisy-OR of every cause would be one table over all of them (2**causes columns) and would tie them all
    into one factor for exact inference; the same distribution as a chain of steps, each the OR of the step
    before it and one cause's link, keeps every table small (the classic "divorcing" of a noisy-OR).
    """
    if not raw:
        return (), ()
    node_id = raw.get("id")
    where = f"pain '{node_id}'"
    links = raw.get("links", [])
    if not isinstance(node_id, str) or not links:
        raise SpecError(f"{where}: needs an 'id' and 'links'")
    leak_raw = raw.get("leak", {})
    leak = PainLink(None, _probability(leak_raw.get("p"), f"{where}, leak"), _sourced(leak_raw, f"{where}, leak"))
    steps = []
    for i, row in enumerate(links, start=1):
        cause = row.get("cause")
        link = PainLink(
            cause,
            _probability(row.get("p"), f"{where}, link {i} ({cause})"),
            _sourced(row, f"{where}, link {i} ({cause})"),
        )
        last = i == len(links)
        step_id = node_id if last else f"{node_id}_upto_{cause}"
        parents = (cause,) if i == 1 else (steps[-1].id, cause)
        label = raw.get("label", node_id) if last else f"Back pain from the first {i} causes of the chain"
        steps.append(
            CauseNode(
                step_id,
                label,
                parents,
                (),
                (),
                intermediate=True,
                kind="pain_step",
                pain=link,
                leak=leak if i == 1 else None,
            )
        )
    return tuple(steps), ((node_id, PRESENT),)


def _check_structure(spec: NetworkSpec) -> None:
    nodes: dict[str, Any] = {}
    for node in (*spec.contexts, *spec.causes, *spec.findings):
        if node.id in nodes:
            raise SpecError(f"node '{node.id}' is defined twice")
        nodes[node.id] = node
    cause_ids = {c.id for c in spec.causes if c.kind != "pain_step"}
    for cause in spec.causes:
        where = f"cause '{cause.id}'"
        for parent in cause.parents:
            if parent not in nodes or isinstance(nodes[parent], FindingNode):
                raise SpecError(f"{where}: parent '{parent}' is not a context or cause node")
        if len(set(cause.parents)) != len(cause.parents):
            raise SpecError(f"{where}: a parent is listed twice")
        if cause.kind == "any_of":
            if not all(p in cause_ids for p in cause.parents):
                raise SpecError(f"{where}: 'any_of' must list causes")
            continue
        if cause.kind == "pain_step":
            if cause.pain.cause not in cause_ids:
                raise SpecError(f"{where}: back pain linked from '{cause.pain.cause}', which is not a cause")
            continue
        activity_parent = "activity" in cause.parents
        if activity_parent:
            covered = [a for row in cause.base for a in (row.activities or ())]
            expected = nodes["activity"].states
            missing = [a for a in expected if a not in covered]
            extra = [a for a in covered if a not in expected]
            twice = sorted({a for a in covered if covered.count(a) > 1})
            if missing or extra or twice or any(row.activities is None for row in cause.base):
                raise SpecError(
                    f"{where}: base rows must cover each activity once "
                    f"(missing {missing}, unknown {extra}, repeated {twice})"
                )
        elif len(cause.base) != 1 or cause.base[0].activities is not None:
            raise SpecError(f"{where}: without an activity parent, give exactly one base row and no activities")
        for i, row in enumerate(cause.odds, start=1):
            if row.parent not in cause.parents or row.parent == "activity":
                raise SpecError(f"{where}, odds row {i}: '{row.parent}' is not a non-activity parent")
            if row.state not in nodes[row.parent].states:
                raise SpecError(f"{where}, odds row {i}: '{row.state}' is not a state of '{row.parent}'")
        for parent in cause.parents:
            if parent == "activity":
                continue
            listed = [r.state for r in cause.odds if r.parent == parent]
            if len(set(listed)) != len(listed):
                raise SpecError(f"{where}: an odds ratio for '{parent}' is given twice")
            if len(nodes[parent].states) - len(listed) != 1:
                raise SpecError(f"{where}: '{parent}' needs odds ratios for all states but one reference state")
    for finding in spec.findings:
        where = f"finding '{finding.id}'"
        for link in finding.links:
            if link.cause not in cause_ids:
                raise SpecError(f"{where}: link from '{link.cause}', which is not a cause")
        if len(set(finding.parents)) != len(finding.parents):
            raise SpecError(f"{where}: a cause is linked twice")
    _check_acyclic(spec)


def _check_acyclic(spec: NetworkSpec) -> None:
    binary = {c.id for c in spec.causes}
    parents = {c.id: [p for p in c.parents if p in binary] for c in spec.causes}
    done: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        if node in path:
            raise SpecError(f"cause '{node}' depends on itself through {' -> '.join((*path, node))}")
        if node not in done:
            for parent in parents[node]:
                visit(parent, (*path, node))
            done.add(node)

    for cause in parents:
        visit(cause, ())


def parse_spec(raw: dict[str, Any]) -> NetworkSpec:
    """Build and check a NetworkSpec from the parsed TOML; raise SpecError naming the node and row."""
    pain, observed = _pain_chain(raw.get("pain", {}))
    spec = NetworkSpec(
        contexts=tuple(_context(r) for r in raw.get("context", [])),
        causes=(*(_cause(r) for r in raw.get("cause", [])), *pain),
        findings=tuple(_finding(r) for r in raw.get("finding", [])),
        observed=observed,
    )
    if not any(c.id == "activity" for c in spec.contexts):
        raise SpecError("the network has no 'activity' context node")
    _check_structure(spec)
    return spec


def read_spec(text: str) -> NetworkSpec:
    """Parse network TOML text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"network definition is not valid TOML: {exc}") from exc
    return parse_spec(raw)
