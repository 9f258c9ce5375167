"""Exact posteriors: the functions the rest of the project calls, and pgmpy's reference answer."""

from __future__ import annotations

import numpy as np

from model.network import reference_eliminator
from model.spec import PRESENT, load_spec


def reference_marginals(evidence: dict[str, str], nodes: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """{node: {state: P(state | evidence)}} by pgmpy's exact variable elimination (the reference).

    One query per node: pgmpy's multi-variable query can build a joint table of tens of GiB here.
    """
    eliminator = reference_eliminator()
    out = {}
    for node in nodes:
        factor = eliminator.query([node], evidence=evidence, show_progress=False)
        out[node] = {state: float(factor.get_value(**{node: state})) for state in load_spec().states(node)}
    return out


def reference_posteriors(evidence: dict[str, str], nodes: tuple[str, ...] | None = None) -> dict[str, float]:
    """P(present | evidence) for each cause (or each binary node in `nodes`), by pgmpy's exact VE."""
    nodes = nodes or load_spec().cause_ids
    return {node: dist[PRESENT] for node, dist in reference_marginals(evidence, nodes).items()}


def marginals(evidence: dict[str, str], nodes: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """{node: {state: P(state | evidence)}} for any unobserved nodes of the network."""
    return reference_marginals(evidence, nodes)


def posteriors(evidence: dict[str, str]) -> dict[str, float]:
    """P(present | evidence) for every cause, exact."""
    return reference_posteriors(evidence)


def posteriors_batch(evidences: list[dict[str, str]]) -> np.ndarray:
    """An (n, causes) array of P(present | evidence) for many cases, causes in spec order."""
    causes = load_spec().cause_ids
    return np.array([[posteriors(ev)[c] for c in causes] for ev in evidences]).reshape(len(evidences), len(causes))
