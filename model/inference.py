"""Exact posteriors of the causes: pgmpy's variable elimination, the reference answer."""

from __future__ import annotations

from model.network import reference_eliminator
from model.spec import PRESENT, load_spec


def reference_posteriors(evidence: dict[str, str], nodes: tuple[str, ...] | None = None) -> dict[str, float]:
    """P(present | evidence) for each cause (or each binary node in `nodes`), by pgmpy's exact VE."""
    nodes = nodes or load_spec().cause_ids
    result = reference_eliminator().query(list(nodes), evidence=evidence, joint=False, show_progress=False)
    return {node: float(result[node].get_value(**{node: PRESENT})) for node in nodes}
