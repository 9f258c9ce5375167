"""Why the network says what it says: each answer's effect on each cause, and the most useful next question."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model.care.rules import Column, care_columns, care_level
from model.cases.evidence import evidence_from_values
from model.cases.fields import FIELD_BY_NAME, parse_case
from model.inference.reference import marginals, posteriors, posteriors_batch
from model.network.sources import Source, load_sources
from model.network.spec import ContextNode, FindingNode, NetworkSpec, Sourced, load_spec


@dataclass(frozen=True)
class LinkNote:
    """One row of the network that ties an answer to a cause, with its rationale and sources."""

    node: str
    row: str
    sourced: Sourced

    @property
    def why(self) -> str:
        return self.sourced.why

    @property
    def sources(self) -> tuple[Source, ...]:
        """The sources the row cites, as sources.toml gives them."""
        known = load_sources()
        return tuple(known[s] for s in self.sourced.source)


@dataclass(frozen=True)
class Question:
    """An unanswered field, how much answering it is expected to move the causes, and each answer's effect."""

    field: str
    expected_change: float
    p_care_changes: float
    answers: dict[str, tuple[float, dict[str, float]]]


def answer_effects(case: Any) -> pd.DataFrame:
    """For every answered field and every cause: P(cause) with all answers, and with that answer left out.

    Columns: field, value, cause, p_with, p_without, delta (p_with - p_without). Sorted by |delta|.
    """
    answers = parse_case(case)
    evidence = evidence_from_values(answers)
    full = posteriors(evidence)
    causes = load_spec().cause_ids
    # Every leave-one-out case in one batch: the engine's cost is per batch far more than per row.
    answered = [field for field in evidence if field in answers]  # not the evidence every case carries
    reduced = [{k: v for k, v in evidence.items() if k != field} for field in answered]
    without_all = posteriors_batch(reduced) if reduced else []
    rows = []
    for field, without in zip(answered, without_all, strict=True):
        for j, cause in enumerate(causes):
            rows.append((field, answers[field], cause, full[cause], without[j], full[cause] - without[j]))
    frame = pd.DataFrame(rows, columns=["field", "value", "cause", "p_with", "p_without", "delta"])
    return frame.reindex(frame["delta"].abs().sort_values(ascending=False).index).reset_index(drop=True)


def answer_steps(case: Any) -> pd.DataFrame:
    """Every cause moved by the answers one at a time, in the contract's order of fields, so that the steps add up:
    the first starts from no answers at all, each starts where the one before it ended, and the last ends with
    every answer given.

    Columns: field, value, cause, p_before, p_after. One engine call for all the steps.
    """
    answers = parse_case(case)
    evidence = evidence_from_values(answers)
    answered = [field for field in FIELD_BY_NAME if field in evidence and field in answers]
    prefix = {k: v for k, v in evidence.items() if k not in answered}  # the evidence every case carries
    prefixes = [dict(prefix)]
    for field in answered:
        prefix[field] = evidence[field]
        prefixes.append(dict(prefix))
    found = posteriors_batch(prefixes)
    causes = load_spec().cause_ids
    rows = [
        (field, answers[field], cause, found[i, j], found[i + 1, j])
        for i, field in enumerate(answered)
        for j, cause in enumerate(causes)
    ]
    return pd.DataFrame(rows, columns=["field", "value", "cause", "p_before", "p_after"])


def _edge_rows(parent: str, child: str, spec: NetworkSpec) -> list[LinkNote]:
    node = spec.nodes[child]
    if isinstance(node, FindingNode):
        return [LinkNote(child, f"link from {parent}", link.sourced) for link in node.links if link.cause == parent]
    if isinstance(node, ContextNode):
        return []
    if parent == "activity":
        return [
            LinkNote(child, f"base P(present) after {', '.join(row.activities or ())}", row.sourced)
            for row in node.base
        ]
    return [LinkNote(child, f"odds ratio for {o.parent}={o.state}", o.sourced) for o in node.odds if o.parent == parent]


def link_notes(field: str, cause: str, spec: NetworkSpec | None = None) -> list[LinkNote]:
    """The network's rows on the paths between an answer's node and a cause (through at most one hidden node)."""
    spec = spec or load_spec()
    children: dict[str, list[str]] = {}
    for node in spec.nodes:
        for parent in spec.parents(node):
            children.setdefault(parent, []).append(node)
    notes: list[LinkNote] = []

    def paths(start: str, goal: str) -> list[list[str]]:
        found = []
        for mid in children.get(start, []):
            if mid == goal:
                found.append([start, goal])
            elif goal in children.get(mid, []):
                found.append([start, mid, goal])
        return found

    # A union of hidden ways (a fracture of fragile or of strong bone) is tied to answers through each way.
    node = spec.nodes[cause]
    ways = (
        node.parents
        if getattr(node, "kind", "") == "any_of" and all(p in spec.hidden_ids for p in node.parents)
        else ()
    )
    for start in (cause, *ways):
        for path in paths(start, field) + paths(field, start):
            for parent, child in itertools.pairwise(path):
                notes.extend(n for n in _edge_rows(parent, child, spec) if n not in notes)
    return notes


def representative_value(field: str, state: str, spec: NetworkSpec | None = None) -> Any:
    """A value of the field that falls in the network state `state`: for a binned field, the middle of its range
    in whole steps (an open-ended last range counts as 60 wide); otherwise the state itself.

    The next-question ranking applies the care rules to this value; the app sets its sliders to it.
    """
    spec = spec or load_spec()
    for b in getattr(spec.nodes[field], "bins", ()):
        if b.state == state:
            return math.floor((b.low + min(b.high, b.low + 60)) / 2)
    return state


def next_questions(case: Any, top: int | None = 3, fields: Iterable[str] | None = None) -> list[Question]:
    """Unanswered fields (of `fields`, or all), the one most likely to change the care level first.

    The order: every question whose answer changes the care level with a chance of at least CARE_CHANCE, most
    likely first; then the rest by the expected total change of the cause posteriors; ties by the contract's
    order of fields (so the warning signs before the risk factors). The expectations are over the network's own
    prediction of the answer given what is known. Every hypothetical answer is one row of a single engine call,
    and the care rules run once over all of them, so the work grows with the number of candidate answers.
    """
    spec = load_spec()
    answers = parse_case(case)
    evidence = evidence_from_values(answers)
    now = posteriors(evidence)
    level_now = care_level(answers, now).level
    wanted = FIELD_BY_NAME if fields is None else set(fields)
    open_fields = [f for f in FIELD_BY_NAME if f in wanted and f in spec.nodes and f not in evidence]
    if not open_fields:
        return []
    predicted = marginals(evidence, tuple(open_fields))
    hypothetical = [(field, state) for field in open_fields for state in predicted[field]]
    causes = spec.cause_ids
    batch = posteriors_batch([{**evidence, field: state} for field, state in hypothetical])
    levels = _care_levels(answers, hypothetical, batch, spec)
    order = {field: i for i, field in enumerate(FIELD_BY_NAME)}
    questions = []
    for field in open_fields:
        change = p_care = 0.0
        outcomes = {}
        for state, p_state in predicted[field].items():
            row = hypothetical.index((field, state))
            after = dict(zip(causes, batch[row].tolist(), strict=True))
            outcomes[state] = (p_state, after)
            change += p_state * sum(abs(after[c] - now[c]) for c in now)
            if levels[row] != level_now:
                p_care += p_state
        questions.append(Question(field, change, p_care, outcomes))
    questions.sort(
        key=lambda q: (
            -q.p_care_changes if q.p_care_changes >= CARE_CHANCE else 0.0,
            -q.expected_change,
            order[q.field],
        )
    )
    return questions if top is None else questions[:top]


# A question that changes the care level with a smaller chance than this ranks by how much it moves the causes.
CARE_CHANCE = 0.01


def _care_levels(
    answers: dict[str, Any], hypothetical: list[tuple[str, str]], probabilities: np.ndarray, spec: NetworkSpec
) -> np.ndarray:
    """The care level of each hypothetical answer (a row), with the posteriors it gives: one run of the rules."""
    n = len(hypothetical)
    columns = {}
    for name, value in answers.items():
        columns[name] = Column(np.zeros(n, dtype=np.intp), [value])
    for row, (field, state) in enumerate(hypothetical):
        column = columns[field]
        columns[field] = Column(column.index, [*column.values, representative_value(field, state, spec)])
        column.index[row] = len(column.values)
    level, _, _ = care_columns(columns, probabilities, np.arange(n))
    return level


def odds_change(p_with: float, p_without: float) -> float:
    """The factor by which an answer multiplied the odds of a cause (inf/0 at the extremes)."""
    if p_without in (0.0, 1.0) or p_with in (0.0, 1.0):
        return math.inf if p_with > p_without else 0.0 if p_with < p_without else 1.0
    return (p_with / (1 - p_with)) / (p_without / (1 - p_without))
