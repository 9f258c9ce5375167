"""The engine on the standard networks pgmpy ships, against pyAgrum's junction tree (LazyPropagation).

Every node's marginal, observed or not, on random cases that are possible by construction: each case is drawn
forward from the network and each node is then kept as evidence with probability 0.3. The pyAgrum network is
built from pgmpy's own tables (pyAgrum's BIF reader refuses some of these files' state names), so the two
engines read the same numbers. The big networks are marked `slow`: `pytest -m slow` runs them.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from model import batch_marginals
from model.network.build import DiscreteBayesianNetwork

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    import pyagrum as gum
    from pgmpy.utils import get_example_model

TOLERANCE = 1e-9
SEEN = 0.3  # the chance that a node of a drawn case is kept as evidence

# (network, cases): fewer cases where pyAgrum's inference or the engine's contraction costs more per case.
# The default set runs in about half a minute on two cores, most of it pgmpy reading the BIF files.
NETWORKS = [
    ("asia", 300),
    ("alarm", 200),
    ("child", 200),
    ("insurance", 200),
    ("hailfinder", 200),
    ("hepar2", 200),
    ("win95pts", 150),
]
SLOW = [("water", 40), ("mildew", 20), ("barley", 20), ("pathfinder", 100), ("andes", 40), ("pigs", 15), ("munin1", 6)]


@functools.cache
def network(name: str) -> DiscreteBayesianNetwork:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return get_example_model(name)


def agrum_network(model: DiscreteBayesianNetwork) -> gum.BayesNet:
    """A pyAgrum BayesNet with the variables, states, arcs and tables of a pgmpy network, named as in pgmpy.

    A pgmpy CPD's values have the axes (node, *parents) in the CPD's order. A pyAgrum tensor names its
    variables node first, then the parents, and its array (toarray, or [:] to fill) holds the axes in the
    reverse of that order; so the pgmpy table is transposed into that order before it is written."""
    bn = gum.BayesNet()
    cpds = model.get_cpds()
    for cpd in cpds:
        node = cpd.variable
        bn.add(gum.LabelizedVariable(str(node), str(node), [str(s) for s in cpd.state_names[node]]))
    for cpd in cpds:
        for parent in cpd.variables[1:]:
            bn.addArc(str(parent), str(cpd.variable))
    for cpd in cpds:
        tensor = bn.cpt(str(cpd.variable))
        axes = [cpd.variables.index(name) for name in reversed(tensor.names)]
        values = np.asarray(cpd.values, dtype=np.float64).reshape([len(cpd.state_names[v]) for v in cpd.variables])
        tensor[:] = np.ascontiguousarray(np.transpose(values, axes))
    return bn


def agrum_posteriors(inference: Any, evidences: list[dict[str, str]], nodes: list[str]) -> None:
    """pyAgrum's posteriors of `nodes`, one case at a time, as the benchmarks time them."""
    for evidence in evidences:
        inference.eraseAllEvidence()
        inference.setEvidence(evidence)
        inference.makeInference()
        for node in nodes:
            inference.posterior(node)


def drawn_cases(
    model: DiscreteBayesianNetwork, n: int, seed: int, seen: float = SEEN, nodes: Iterable[str] | None = None
) -> pd.DataFrame:
    """n cases of state names drawn forward from the network, each node (of `nodes`, if given; the others never)
    then unknown (missing) with probability 1 - `seen`. Drawn from the network, a case always has a probability
    above zero."""
    rng = np.random.default_rng(seed)
    drawn: dict[str, np.ndarray] = {}
    for node in nx.topological_sort(model):
        cpd = model.get_cpds(node)
        values = np.asarray(cpd.values, dtype=np.float64)
        parents = cpd.variables[1:]
        column = np.ravel_multi_index([drawn[p] for p in parents], values.shape[1:]) if parents else np.zeros(n, int)
        p = values.reshape(values.shape[0], -1)[:, column].T  # (cases, states)
        u = rng.random((n, 1)) * p.sum(axis=1, keepdims=True)
        drawn[node] = np.minimum((p.cumsum(axis=1) < u).sum(axis=1), values.shape[0] - 1)
    frame = {}
    for cpd in model.get_cpds():
        node = cpd.variable
        names = np.array([str(s) for s in cpd.state_names[node]], dtype=object)[drawn[node]]
        frame[node] = np.where(rng.random(n) < seen, names, None)
    if nodes is not None:
        frame = {node: frame[node] for node in nodes}
    return pd.DataFrame(frame)


def check(name: str, n: int) -> None:
    model = network(name)
    cases = drawn_cases(model, n, seed=sum(map(ord, name)))
    found = batch_marginals(model, cases)
    inference = gum.LazyPropagation(agrum_network(model))
    worst = 0.0
    for i, case in enumerate(cases.to_dict("records")):
        inference.eraseAllEvidence()
        inference.setEvidence({node: state for node, state in case.items() if isinstance(state, str)})
        inference.makeInference()
        for node, table in found.items():
            error = np.abs(table.iloc[i].to_numpy() - inference.posterior(str(node)).toarray()).max()
            assert error <= TOLERANCE, (name, i, node, error)
            worst = max(worst, error)
    assert worst <= TOLERANCE


@pytest.mark.parametrize(("name", "n"), NETWORKS, ids=[name for name, _ in NETWORKS])
def test_every_marginal_equals_pyagrum(name: str, n: int) -> None:
    check(name, n)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "n"), SLOW, ids=[name for name, _ in SLOW])
def test_every_marginal_of_a_big_network_equals_pyagrum(name: str, n: int) -> None:
    check(name, n)


def test_the_pyagrum_network_holds_pgmpys_tables() -> None:
    # the helper's axis order, checked entry by entry on alarm's largest table: CATECHOL, four parents of 2-3 states
    model = network("alarm")
    bn = agrum_network(model)
    cpd = max(model.get_cpds(), key=lambda cpd: len(cpd.variables))
    tensor = bn.cpt(cpd.variable)
    values = np.asarray(cpd.values).reshape([len(cpd.state_names[v]) for v in cpd.variables])
    for index in np.ndindex(values.shape):
        at = {v: str(cpd.state_names[v][k]) for v, k in zip(cpd.variables, index, strict=True)}
        assert tensor[at] == values[index]
