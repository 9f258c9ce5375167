"""Conditional probability tables computed from the spec, as plain numpy arrays."""

from __future__ import annotations

import itertools
import math

import numpy as np

from model.network.spec import PRESENT, CauseNode, FindingNode, NetworkSpec


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def cause_table(cause: CauseNode, spec: NetworkSpec) -> np.ndarray:
    """P(cause | parents) with shape (2, *parent cards): a logistic in the parents' odds ratios, a union of its
    (binary) parents, or one step of the back pain chain."""
    cards = [len(spec.states(p)) for p in cause.parents]
    if cause.kind == "any_of":
        present = np.ones(cards)
        present[(0,) * len(cards)] = 0.0  # absent only when every parent is absent
        return np.stack([1.0 - present, present])
    if cause.kind == "pain_step":
        return _pain_step(cause)
    table = np.empty((2, *cards))
    base_by_activity = {}
    for row in cause.base:
        for activity in row.activities or (None,):
            base_by_activity[activity] = _logit(row.p)
    log_odds = {(o.parent, o.state): math.log(o.ratio) for o in cause.odds}
    for config in itertools.product(*(range(c) for c in cards)):
        states = {parent: spec.states(parent)[i] for parent, i in zip(cause.parents, config, strict=True)}
        logit = base_by_activity[states.get("activity")]
        logit += sum(log_odds.get((parent, state), 0.0) for parent, state in states.items())
        p = 1.0 / (1.0 + math.exp(-logit))
        table[(1, *config)] = p
        table[(0, *config)] = 1.0 - p
    return table


def _pain_step(step: CauseNode) -> np.ndarray:
    """P(step | [step before,] cause): a noisy-OR built up one cause at a time (see parse._pain_chain)."""
    p = step.pain.p
    if step.leak is not None:  # the first step: the leak or its cause
        q = step.leak.p
        present = np.array([q, 1.0 - (1.0 - q) * (1.0 - p)])
    else:  # axes (step before, cause): present if the step before is, else if its cause gives the pain
        present = np.array([[0.0, p], [1.0, 1.0]])
    return np.stack([1.0 - present, present])


def finding_table(finding: FindingNode) -> np.ndarray:
    """P(finding | its causes) with shape (card, 2, 2, ...), one axis per linked cause (absent, present)."""
    n = len(finding.links)
    card = len(finding.states)
    table = np.empty((card, *([2] * n)))
    leak = np.asarray(finding.leak.p)
    dists = [np.asarray(link.p) for link in finding.links]
    for config in itertools.product((0, 1), repeat=n):
        present = [d for d, on in zip(dists, config, strict=True) if on]
        if finding.kind == "noisy_max":
            cdf = np.cumsum(leak)
            for dist in present:
                cdf = cdf * np.cumsum(dist)
            column = np.diff(cdf, prepend=0.0)
        else:
            weights = [finding.leak.weight] + [
                link.weight for link, on in zip(finding.links, config, strict=True) if on
            ]
            column = sum(w * d for w, d in zip(weights, [leak, *present], strict=True)) / sum(weights)
        table[(slice(None), *config)] = column
    return table


def prior_table(node_prior: tuple[float, ...]) -> np.ndarray:
    return np.asarray(node_prior, dtype=float)


def all_tables(spec: NetworkSpec) -> dict[str, tuple[np.ndarray, tuple[str, ...]]]:
    """Every node's table and its parents, in a topological order (contexts, causes, findings)."""
    tables: dict[str, tuple[np.ndarray, tuple[str, ...]]] = {}
    for ctx in spec.contexts:
        tables[ctx.id] = (prior_table(ctx.prior), ())
    pending = list(spec.causes)
    while pending:
        for cause in list(pending):
            if all(p in tables for p in cause.parents):
                tables[cause.id] = (cause_table(cause, spec), cause.parents)
                pending.remove(cause)
    for finding in spec.findings:
        tables[finding.id] = (finding_table(finding), finding.parents)
    return tables


__all__ = ["PRESENT", "all_tables", "cause_table", "finding_table"]
