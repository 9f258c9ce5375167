"""Exact posteriors: the functions the rest of the project calls (the compiled engine), and pgmpy's reference answer."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import numpy as np

from model.inference.engine import load_engine
from model.network.build import reference_eliminator
from model.network.spec import PRESENT, load_spec

if TYPE_CHECKING:
    from pgmpy.inference import VariableElimination

# The most entries of the joint table one pgmpy query may build (2**24 doubles: 128 MiB); the causes of the
# built-in network take 2**21.
JOINT_ENTRIES = 2**24


def reference_marginals(
    evidence: dict[str, str], nodes: tuple[str, ...], eliminator: VariableElimination | None = None
) -> dict[str, dict[str, float]]:
    """{node: {state: P(state | evidence)}} by pgmpy's exact variable elimination (the reference), over the built-in
    network or over `eliminator`'s (model.network.build.eliminator(model) for any other).

    pgmpy at its best: one query for all the nodes (joint=False), about five times faster for the causes than a
    query per node; but pgmpy computes that query through the joint table of the nodes asked for, so beyond
    JOINT_ENTRIES entries (a third of the nodes of alarm would take terabytes), one query per node.
    """
    if eliminator is None:
        eliminator = reference_eliminator()
    nodes = tuple(dict.fromkeys(nodes))
    if joint_entries(eliminator.model.get_cardinality(), nodes) <= JOINT_ENTRIES:
        found = eliminator.query(list(nodes), evidence=evidence, joint=False, show_progress=False) if nodes else {}
    else:
        found = {node: eliminator.query([node], evidence=evidence, show_progress=False) for node in nodes}
    out = {}
    for node in nodes:
        factor = found[node]
        out[node] = {state: float(factor.get_value(**{node: state})) for state in factor.state_names[node]}
    return out


def joint_entries(cards: Mapping[str, int], nodes: Iterable[str]) -> int:
    """The entries of the joint table of `nodes`, as a Python int (pgmpy's cardinalities are int64, whose
    product wraps around past 2**63: alarm's 37 nodes did)."""
    return math.prod(int(cards[node]) for node in nodes)


def reference_posteriors(
    evidence: dict[str, str], nodes: tuple[str, ...] | None = None, eliminator: VariableElimination | None = None
) -> dict[str, float]:
    """P(present | evidence) for each cause (or each binary node in `nodes`), by pgmpy's exact VE (see
    reference_marginals)."""
    nodes = nodes or load_spec().cause_ids
    return {node: dist[PRESENT] for node, dist in reference_marginals(evidence, nodes, eliminator).items()}


def marginals(evidence: dict[str, str], nodes: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """{node: {state: P(state | evidence)}} for any nodes of the network (an observed one gets its state at 1).

    Raises ValueError for an unknown node or state.
    """
    engine = load_engine()
    found = engine.marginals(engine.encode([evidence]), nodes)
    return {node: dict(zip(engine.states[node], found[node][0].tolist(), strict=True)) for node in nodes}


def posteriors(evidence: dict[str, str]) -> dict[str, float]:
    """P(present | evidence) for every cause, exact."""
    causes = load_spec().cause_ids
    return dict(zip(causes, posteriors_array(load_engine().encode([evidence]))[0].tolist(), strict=True))


def posteriors_batch(evidences: list[dict[str, str]]) -> np.ndarray:
    """An (n, causes) array of P(present | evidence) for many cases, causes in spec order."""
    return posteriors_array(load_engine().encode(evidences))


def posteriors_array(codes: np.ndarray) -> np.ndarray:
    """P(present | evidence) for every cause, (cases, causes), from an engine evidence array (see Engine.encode)."""
    engine = load_engine()
    causes = load_spec().cause_ids
    found = engine.marginals(codes, causes)
    out = np.empty((len(codes), len(causes)))
    for j, cause in enumerate(causes):
        out[:, j] = found[cause][:, engine.states[cause].index(PRESENT)]
    return out
