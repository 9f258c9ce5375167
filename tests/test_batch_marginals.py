"""model.batch_marginals: any pgmpy network, a DataFrame of cases in, a DataFrame per node out."""

from __future__ import annotations

import functools
import gc
import warnings
import weakref

import numpy as np
import pandas as pd
import pytest

import model.inference.marginals
from model import batch_marginals
from model.network.build import DiscreteBayesianNetwork, TabularCPD, eliminator

with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.utils import get_example_model


@functools.cache
def asia() -> DiscreteBayesianNetwork:
    """pgmpy's asia network, read once: pgmpy's BIF reader takes a few seconds to build its grammar. Tests
    that count engines take a copy, a network of its own."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return get_example_model("asia")


def two_nodes(p_b_given_a: float) -> DiscreteBayesianNetwork:
    """a -> b with P(b = 1 | a = 1) = p_b_given_a, and integer state names, as pgmpy gives them when none are named."""
    network = DiscreteBayesianNetwork([("a", "b")])
    network.add_cpds(
        TabularCPD("a", 2, [[0.5], [0.5]]),
        TabularCPD("b", 2, [[0.5, 1 - p_b_given_a], [0.5, p_b_given_a]], evidence=["a"], evidence_card=[2]),
    )
    return network


def test_every_node_for_every_row_equals_pgmpy() -> None:
    network = asia()
    evidence = pd.DataFrame(
        {"smoke": ["yes", None, "no", np.nan], "xray": ["yes", "no", pd.NA, ""], "dysp": [None, "yes", "yes", None]},
        index=pd.Index([10, 20, 30, 40], name="case"),
    )
    found = batch_marginals(network, evidence)
    # every node, parents first and then by name (tables.node_order), whatever the order of the CPD list
    order = ["asia", "smoke", "bronc", "lung", "tub", "either", "dysp", "xray"]
    assert list(found) == order != [cpd.variable for cpd in network.get_cpds()]
    eliminate = eliminator(network)
    for row, case in zip(evidence.index, evidence.to_dict("records"), strict=True):
        seen = {node: state for node, state in case.items() if isinstance(state, str) and state}
        for node, table in found.items():
            assert table.index.equals(evidence.index)
            assert list(table.columns) == network.get_cpds(node).state_names[node]
            if node in seen:
                assert table.loc[row].to_dict() == {s: float(s == seen[node]) for s in table.columns}
                continue
            reference = eliminate.query([node], evidence=seen, show_progress=False)
            expected = [reference.get_value(**{node: s}) for s in table.columns]
            assert table.loc[row].to_numpy() == pytest.approx(expected, abs=1e-12), (row, node)


def test_only_the_nodes_asked_for() -> None:
    found = batch_marginals(asia(), pd.DataFrame({"smoke": ["yes"]}), nodes=["lung", "tub"])
    assert list(found) == ["lung", "tub"]


def test_no_rows_and_no_columns() -> None:
    network = asia()
    assert batch_marginals(network, pd.DataFrame(columns=["smoke"]))["lung"].shape == (0, 2)
    nothing_seen = batch_marginals(network, pd.DataFrame(index=range(3)))["smoke"]
    assert nothing_seen.to_numpy() == pytest.approx(np.full((3, 2), 0.5))


def test_integer_state_names_from_text_integers_or_a_column_widened_by_nan() -> None:
    network = two_nodes(0.9)
    for column in (["1", None], [1, None], [1.0, np.nan]):
        found = batch_marginals(network, pd.DataFrame({"a": column}))["b"]
        assert list(found.columns) == [0, 1]
        assert found.iloc[0].tolist() == pytest.approx([0.1, 0.9])
        assert found.iloc[1].tolist() == pytest.approx([0.3, 0.7])


def test_unknown_nodes_and_states_are_refused_by_name() -> None:
    network = asia()
    with pytest.raises(ValueError, match=r"evidence column 'smoker' is not a node of the network \(asia, bronc"):
        batch_marginals(network, pd.DataFrame({"smoker": ["yes"]}))
    with pytest.raises(ValueError, match=r"evidence column 'smoke': 'often' is not a state of 'smoke' \(yes, no\)"):
        batch_marginals(network, pd.DataFrame({"smoke": ["yes", "often"]}))
    with pytest.raises(ValueError, match="'cough' is not a node of the network"):
        batch_marginals(network, pd.DataFrame({"smoke": ["yes"]}), nodes=["lung", "cough"])
    with pytest.raises(TypeError, match="DataFrame"):
        batch_marginals(network, {"smoke": "yes"})  # type: ignore[arg-type]
    for cell in (["yes"], {"yes": 1}, np.array(["yes"]), ("yes", ["no"])):  # no state name, and not hashable
        with pytest.raises(ValueError, match=r"evidence column 'smoke': .* is not a state of 'smoke' \(yes, no\)"):
            batch_marginals(network, pd.DataFrame({"smoke": ["no", cell]}))
    # a string is iterable: it would have asked for the nodes 'a', 's', 'i', 'a'
    with pytest.raises(
        TypeError, match=r"nodes must be a list of node names, not str 'asia' \(for one node: nodes=\['asia'\]\)"
    ):
        batch_marginals(network, pd.DataFrame({"smoke": ["yes"]}), nodes="asia")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="nodes must be a list of node names, not int 5"):
        batch_marginals(network, pd.DataFrame({"smoke": ["yes"]}), nodes=5)  # type: ignore[arg-type]
    assert list(batch_marginals(network, pd.DataFrame({"smoke": ["yes"]}), nodes=("lung",))) == ["lung"]
    incomplete = DiscreteBayesianNetwork([("a", "b")])
    incomplete.add_cpds(TabularCPD("a", 2, [[0.5], [0.5]]))
    with pytest.raises(ValueError, match="no CPD for b"):
        batch_marginals(incomplete, pd.DataFrame({"a": [0]}))


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[weakref.ref]:
    """Weak references to every engine batch_marginals builds while the test runs."""
    engines: list[weakref.ref] = []
    real = model.inference.marginals.Engine

    def counted(network: DiscreteBayesianNetwork) -> model.inference.marginals.Engine:
        engine = real(network)
        engines.append(weakref.ref(engine))
        return engine

    monkeypatch.setattr(model.inference.marginals, "Engine", counted)
    return engines


def test_an_engine_per_network_built_once(built: list[weakref.ref]) -> None:
    network = asia().copy()
    for _ in range(3):
        batch_marginals(network, pd.DataFrame({"smoke": ["yes"]}))
    assert len(built) == 1


def test_networks_of_one_structure_get_engines_of_their_own(built: list[weakref.ref]) -> None:
    # pgmpy's networks compare equal when their nodes and edges do, whatever their tables
    sure, unsure = two_nodes(0.9), two_nodes(0.6)
    assert sure == unsure
    evidence = pd.DataFrame({"a": ["1"]})
    assert batch_marginals(sure, evidence)["b"].iloc[0, 1] == pytest.approx(0.9)
    assert batch_marginals(unsure, evidence)["b"].iloc[0, 1] == pytest.approx(0.6)
    assert len(built) == 2


def test_a_replaced_cpd_compiles_again(built: list[weakref.ref]) -> None:
    network = two_nodes(0.9)
    evidence = pd.DataFrame({"a": ["1"]})
    batch_marginals(network, evidence)
    network.add_cpds(TabularCPD("b", 2, [[0.5, 0.9], [0.5, 0.1]], evidence=["a"], evidence_card=[2]))
    assert batch_marginals(network, evidence)["b"].iloc[0, 1] == pytest.approx(0.1)
    assert len(built) == 2


def test_an_engine_goes_with_its_network(built: list[weakref.ref]) -> None:
    network = two_nodes(0.9)
    batch_marginals(network, pd.DataFrame({"a": ["1"]}))
    assert built[0]() is not None
    del network
    gc.collect()
    assert built[0]() is None
