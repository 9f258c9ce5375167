"""The one adapter to pgmpy: builds and checks the DiscreteBayesianNetwork from the spec's tables."""

from __future__ import annotations

import warnings
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

with warnings.catch_warnings():
    # pgmpy 1.1 announces on import that an estimator module we never use will move.
    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

if TYPE_CHECKING:
    from pgmpy.inference import VariableElimination

from model.network.spec import NetworkSpec, SpecError, load_spec
from model.network.tables import all_tables

_COLUMN_TOLERANCE = 1e-9


def _tabular_cpd(node: str, table: np.ndarray, parents: tuple[str, ...], spec: NetworkSpec) -> TabularCPD:
    card = table.shape[0]
    values = table.reshape(card, -1)
    sums = values.sum(axis=0)
    bad = np.flatnonzero((np.abs(sums - 1.0) > _COLUMN_TOLERANCE) | (values < 0).any(axis=0))
    if bad.size:
        raise SpecError(f"node '{node}': table column {int(bad[0]) + 1} sums to {sums[bad[0]]:.6g}, not 1")
    return TabularCPD(
        variable=node,
        variable_card=card,
        values=values,
        evidence=list(parents) or None,
        evidence_card=[len(spec.states(p)) for p in parents] or None,
        state_names={node: list(spec.states(node)), **{p: list(spec.states(p)) for p in parents}},
    )


def build_network(spec: NetworkSpec) -> DiscreteBayesianNetwork:
    """A new, checked pgmpy network for `spec`; raises SpecError if any table is malformed."""
    tables = all_tables(spec)
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(tables)
    model.add_edges_from((parent, node) for node, (_, parents) in tables.items() for parent in parents)
    model.add_cpds(*(_tabular_cpd(node, table, parents, spec) for node, (table, parents) in tables.items()))
    try:
        model.check_model()
    except ValueError as exc:
        raise SpecError(f"the network failed pgmpy's check: {exc}") from exc
    return model


@cache
def load_network() -> DiscreteBayesianNetwork:
    """The built-in network, built once and checked. Treat it as read-only."""
    return build_network(load_spec())


def eliminator(model: DiscreteBayesianNetwork) -> VariableElimination:
    """pgmpy's exact variable elimination over `model`. pgmpy's inference package is imported here, on first
    use: it pulls in statsmodels and takes over a second to import, and only reference answers need it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from pgmpy.inference import VariableElimination
    return VariableElimination(model)


@cache
def reference_eliminator() -> VariableElimination:
    """pgmpy's exact variable elimination over the built-in network: the reference answer."""
    return eliminator(load_network())
