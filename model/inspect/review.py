"""Readable views of the network for reviewers: every node's states, priors by activity, numbers beside sources."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from model.inference.reference import marginals
from model.inspect.graph import node_kind
from model.network.sources import load_sources
from model.network.spec import PRESENT, ContextNode, FindingNode, NetworkSpec, Sourced

if TYPE_CHECKING:
    from pgmpy.models import DiscreteBayesianNetwork


def node_states(spec: NetworkSpec) -> pd.DataFrame:
    """One row per node: its kind, label, parents and states (numeric bins shown with their ranges)."""
    rows = []
    for node_id, node in spec.nodes.items():
        bins = getattr(node, "bins", ())
        states = [
            f"{b.state} [{b.low:g}, {b.high:g}{']' if i == len(bins) - 1 else ')'}" for i, b in enumerate(bins)
        ] or list(node.states)
        rows.append(
            {
                "node": node_id,
                "kind": node_kind(spec, node_id),
                "label": node.label,
                "parents": ", ".join(spec.parents(node_id)),
                "states": ", ".join(states),
            }
        )
    return pd.DataFrame(rows)


def prior_by_activity(spec: NetworkSpec, causes: tuple[str, ...] | None = None) -> pd.DataFrame:
    """P(cause present | activity) before any other answer: causes as rows, activities as columns.

    Every other context node keeps its prior, so a row reads "of everyone whose pain followed this activity".
    """
    causes = causes or spec.cause_ids
    columns = {
        activity: {c: dist[PRESENT] for c, dist in marginals({"activity": activity}, causes).items()}
        for activity in spec.states("activity")
    }
    return pd.DataFrame(columns).loc[list(causes)]


def _source_text(source: tuple[str, ...]) -> str:
    known = load_sources()
    return " | ".join(f"{s}: {known[s].line}" if s in known else f"{s}: (not in sources.toml)" for s in source)


def _row(row: str, value: str, sourced: Sourced) -> dict[str, str]:
    return {
        "row": row,
        "value": value,
        "source": ", ".join(sourced.source),
        "why": sourced.why,
        "sources say": _source_text(sourced.source),
    }


def _distribution(states: tuple[str, ...], p: tuple[float, ...]) -> str:
    if len(states) == 2:
        return f"P({states[1]}) = {p[1]:g}"
    return ", ".join(f"{s} {v:g}" for s, v in zip(states, p, strict=True))


def sourced_rows(spec: NetworkSpec, node: str) -> pd.DataFrame:
    """The numbers that define `node`'s table, each beside its source ids, its rationale and what the sources say."""
    n = spec.nodes[node]
    if isinstance(n, ContextNode):
        return pd.DataFrame([_row("prior", _distribution(n.states, n.prior), n.prior_source)])
    if isinstance(n, FindingNode):
        rows = [_row(f"leak ({n.kind})", _link_value(n, n.leak.p, n.leak.weight), n.leak.sourced)]
        rows += [_row(f"link from {link.cause}", _link_value(n, link.p, link.weight), link.sourced) for link in n.links]
        return pd.DataFrame(rows)
    rows = []
    if n.sourced is not None:  # a union: present when any of its parents is
        rows.append(_row(f"present when any of {', '.join(n.parents)} is", "deterministic OR", n.sourced))
    if n.leak is not None:  # the first step of the back pain chain
        rows.append(_row("back pain from no modelled cause (leak)", f"{n.leak.p:g}", n.leak.sourced))
    if n.pain is not None:
        rows.append(_row(f"back pain from {n.pain.cause}", f"{n.pain.p:g}", n.pain.sourced))
    for base in n.base:
        where = "every activity" if base.activities is None else ", ".join(base.activities)
        rows.append(_row(f"base P(present) after {where}", f"{base.p:g}", base.sourced))
    rows += [_row(f"odds ratio if {o.parent} = {o.state}", f"x {o.ratio:g}", o.sourced) for o in n.odds]
    return pd.DataFrame(rows)


def _link_value(finding: FindingNode, p: tuple[float, ...], weight: float | None) -> str:
    text = _distribution(finding.states, p)
    return text if weight is None else f"{text} (weight {weight:g})"


def cpt_frame(network: DiscreteBayesianNetwork, node: str) -> pd.DataFrame:
    """The full table pgmpy holds for `node`: one row per combination of parent states, one column per state."""
    cpd = network.get_cpds(node)
    parents = cpd.variables[1:]
    values = cpd.get_values()
    index = (
        pd.MultiIndex.from_product([cpd.state_names[p] for p in parents], names=parents)
        if parents
        else pd.Index(["(no parents)"])
    )
    return pd.DataFrame(np.asarray(values).T, index=index, columns=pd.Index(cpd.state_names[node], name=node))
