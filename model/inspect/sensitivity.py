"""How much the answers and the network's numbers move the posteriors: tornado charts and link sweeps."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from model.care.rules import care_level
from model.cases.fields import UNKNOWN
from model.inference.reference import posteriors, reference_posteriors
from model.network.build import build_network, eliminator
from model.network.spec import CauseNode, FindingNode, NetworkSpec, OddsRow, load_spec

# Below this swing a bar is too short to carry a label at each end.
_NARROW = 0.08


def answer_swings(evidence: dict[str, str], causes: Iterable[str] | None = None) -> pd.DataFrame:
    """Each answered node set to each of its states in turn (the other answers kept), and left unknown.

    Columns: field, state, cause, p, current (the state the case gave). One row per field, state and cause.
    """
    spec = load_spec()
    causes = tuple(causes or spec.cause_ids)
    rows = []
    for field, given in evidence.items():
        if field in spec.fixed_evidence:  # every case carries it: not an answer to swing
            continue
        others = {k: v for k, v in evidence.items() if k != field}
        for state in (*spec.states(field), UNKNOWN):
            probs = posteriors(others if state == UNKNOWN else {**others, field: state})
            rows += [(field, state, c, probs[c], state == given) for c in causes]
    return pd.DataFrame(rows, columns=["field", "state", "cause", "p", "current"])


def tornado_frame(swings: pd.DataFrame, cause: str) -> pd.DataFrame:
    """Per answered field: the lowest and highest P(cause) over its states, the current value and 'unknown'.

    Sorted with the widest swing first: the answers the cause's probability depends on most.
    """
    rows = []
    for field, group in swings[swings["cause"] == cause].groupby("field", sort=False):
        known = group[group["state"] != UNKNOWN]
        low, high = known.loc[known["p"].idxmin()], known.loc[known["p"].idxmax()]
        rows.append(
            {
                "field": field,
                "low": low["p"],
                "low_state": low["state"],
                "high": high["p"],
                "high_state": high["state"],
                "current": known.loc[known["current"], "p"].item(),
                "current_state": known.loc[known["current"], "state"].item(),
                "unknown": group.loc[group["state"] == UNKNOWN, "p"].item(),
            }
        )
    frame = pd.DataFrame(rows).set_index("field")
    frame["swing"] = frame["high"] - frame["low"]
    return frame.sort_values("swing", ascending=False)


def draw_tornado(frame: pd.DataFrame, ax: Axes, title: str = "") -> Axes:
    """A tornado chart of `tornado_frame`: a bar from the lowest to the highest probability per answer.

    The vertical line is the case as given; a diamond marks the answer left unknown.
    """
    fields = list(frame.index)[::-1]
    y = range(len(fields))
    rows = frame.loc[fields]
    ax.barh(y, rows["high"] - rows["low"], left=rows["low"], color="#9ecae1", edgecolor="#3182bd")
    current = rows["current"].iloc[0] if len(rows) else 0.0
    ax.axvline(current, color="#d62728", linewidth=1.5, label="the case as given")
    ax.scatter(rows["unknown"], y, marker="D", color="#333333", zorder=3, label="answer left unknown")
    for i, (_, row) in enumerate(rows.iterrows()):
        if row["swing"] < _NARROW:
            # Two labels would overprint on a sliver of a bar: name both ends on the right instead.
            ax.text(row["high"], i, f"  {row['low_state']} to {row['high_state']}", ha="left", va="center", fontsize=8)
            continue
        ax.text(row["low"], i, f"{row['low_state']} ", ha="right", va="center", fontsize=8)
        ax.text(row["high"], i, f" {row['high_state']}", ha="left", va="center", fontsize=8)
    ax.set_yticks(list(y), [f"{f} = {s}" for f, s in zip(fields, rows["current_state"], strict=True)])
    ax.set_xlim(-0.12, 1.12)
    ax.set_xlabel("probability of the cause")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize=8, frameon=False)
    return ax


def with_link(spec: NetworkSpec, finding: str, cause: str, p: float | tuple[float, ...]) -> NetworkSpec:
    """A copy of `spec` with one finding's link from `cause` set to `p` (a float for a two-state finding)."""
    node = spec.nodes.get(finding)
    if not isinstance(node, FindingNode):
        raise ValueError(f"'{finding}' is not a finding")
    if cause not in node.parents:
        raise ValueError(f"'{finding}' has no link from '{cause}'; its causes are {', '.join(node.parents)}")
    dist = (1.0 - p, p) if isinstance(p, int | float) else tuple(p)
    if len(dist) != len(node.states) or not math.isclose(sum(dist), 1.0) or min(dist) < 0:
        raise ValueError(f"link {finding} <- {cause}: {p!r} is not a distribution over {', '.join(node.states)}")
    links = tuple(
        dataclasses.replace(link, p=tuple(float(v) for v in dist)) if link.cause == cause else link
        for link in node.links
    )
    return _replace_node(spec, dataclasses.replace(node, links=links))


def with_odds(spec: NetworkSpec, cause: str, parent: str, state: str, ratio: float) -> NetworkSpec:
    """A copy of `spec` with one odds ratio of a cause's table set to `ratio`."""
    node = spec.nodes.get(cause)
    if not isinstance(node, CauseNode):
        raise ValueError(f"'{cause}' is not a cause")
    if not ratio > 0:
        raise ValueError(f"odds ratio {ratio!r} must be positive")
    rows = [o for o in node.odds if (o.parent, o.state) == (parent, state)]
    if not rows:
        listed = ", ".join(f"{o.parent}={o.state}" for o in node.odds)
        raise ValueError(f"'{cause}' has no odds ratio for {parent}={state}; it has {listed}")
    odds: tuple[OddsRow, ...] = tuple(
        dataclasses.replace(o, ratio=float(ratio)) if o is rows[0] else o for o in node.odds
    )
    return _replace_node(spec, dataclasses.replace(node, odds=odds))


def _replace_node(spec: NetworkSpec, node: CauseNode | FindingNode) -> NetworkSpec:
    if isinstance(node, FindingNode):
        return dataclasses.replace(spec, findings=tuple(node if f.id == node.id else f for f in spec.findings))
    return dataclasses.replace(spec, causes=tuple(node if c.id == node.id else c for c in spec.causes))


def sweep(
    variants: dict[float, NetworkSpec],
    evidence: dict[str, str],
    causes: Iterable[str],
    answers: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """P(cause | evidence) under each variant of the network, by pgmpy's exact variable elimination.

    One row per variant (indexed by its value), one column per cause; with the case's read `answers`, a `care`
    column gives the care level those posteriors lead to.
    """
    causes = tuple(causes)
    rows = {}
    for value, spec in variants.items():
        needed = (*causes, *spec.cause_ids) if answers is not None else causes
        probs = reference_posteriors(evidence, tuple(dict.fromkeys(needed)), eliminator(build_network(spec)))
        row: dict[str, Any] = {c: probs[c] for c in causes}
        if answers is not None:
            row["care"] = care_level(answers, {c: probs[c] for c in spec.cause_ids}).level
        rows[value] = row
    return pd.DataFrame.from_dict(rows, orient="index")
