"""The engine on every shape a small network can take, against pgmpy's exact variable elimination.

The engine treats nodes differently by where they sit: a childless node is summed against its evidence (or, in a
state whose column factorises, split into one vector per parent); a root with two or more children may be fixed
per case or enumerated; any other root has no tensor of its own and rides on the table of one of its children.
Each of those paths has to give every node's marginal, observed or not, so these tests build networks that put
nodes in each position: by hand for the known answers, and at random with hypothesis for the rest.
"""

from __future__ import annotations

import numpy as np
import pytest

from model.engine import UNKNOWN, Engine
from model.network import DiscreteBayesianNetwork, TabularCPD, eliminator

EXACT = 1e-12


def network(edges: list[tuple[str, str]], tables: dict[str, list[list[float]]], cards: dict[str, int]):
    """A checked pgmpy network from its edges and each node's table (rows: states; columns: parents' states,
    the last parent fastest), its parents in the order the edges name them."""
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(cards)
    model.add_edges_from(edges)
    for node, values in tables.items():
        parents = [a for a, b in edges if b == node]
        model.add_cpds(
            TabularCPD(
                node,
                cards[node],
                values,
                evidence=parents or None,
                evidence_card=[cards[p] for p in parents] or None,
            )
        )
    model.check_model()
    return model


def engine_marginals(model: DiscreteBayesianNetwork, evidence: dict[str, int]) -> dict[str, np.ndarray]:
    """Every node's marginal by the engine, for one case."""
    engine = Engine(model)
    codes = np.full((1, len(engine.nodes)), UNKNOWN, dtype=np.int16)
    for node, state in evidence.items():
        codes[0, engine.index[node]] = state
    return {node: table[0] for node, table in engine.marginals(codes, engine.nodes).items()}


def reference(model: DiscreteBayesianNetwork, evidence: dict[str, int], node: str) -> np.ndarray:
    """P(node | evidence) by pgmpy's variable elimination; an observed node is certain of its state."""
    card = model.get_cardinality(node)
    if node in evidence:
        return np.eye(card)[evidence[node]]
    factor = eliminator(model).query([node], evidence=evidence, show_progress=False)
    return np.asarray(factor.values, dtype=np.float64).reshape(card)


# ------------------------------------------------------------------------------------------- known answers

A_TO_B = network([("A", "B")], {"A": [[0.3], [0.7]], "B": [[0.9, 0.2], [0.1, 0.8]]}, {"A": 2, "B": 2})


def test_a_root_whose_only_child_is_childless() -> None:
    # P(B = 0) = 0.3 * 0.9 + 0.7 * 0.2 = 0.41; given B = 0, P(A = 0) = 0.27 / 0.41
    found = engine_marginals(A_TO_B, {})
    assert found["A"] == pytest.approx([0.3, 0.7], abs=EXACT)
    assert found["B"] == pytest.approx([0.41, 0.59], abs=EXACT)
    found = engine_marginals(A_TO_B, {"B": 0})
    assert found["A"] == pytest.approx([0.27 / 0.41, 0.14 / 0.41], abs=EXACT)
    assert found["B"].tolist() == [1.0, 0.0]
    found = engine_marginals(A_TO_B, {"A": 1})
    assert found["B"] == pytest.approx([0.2, 0.8], abs=EXACT)


def test_a_lone_node() -> None:
    lone = network([], {"A": [[0.25], [0.75]]}, {"A": 2})
    assert engine_marginals(lone, {})["A"] == pytest.approx([0.25, 0.75], abs=EXACT)
    assert engine_marginals(lone, {"A": 1})["A"].tolist() == [0.0, 1.0]


def test_a_root_whose_children_are_all_childless() -> None:
    # R -> B, R -> C: B and C are independent given R. With C = 1 seen, P(R = 0) = 0.4 * 0.5 / (0.2 + 0.6 * 0.1)
    model = network(
        [("R", "B"), ("R", "C")],
        {"R": [[0.4], [0.6]], "B": [[0.7, 0.2], [0.3, 0.8]], "C": [[0.5, 0.9], [0.5, 0.1]]},
        {"R": 2, "B": 2, "C": 2},
    )
    r = 0.2 / 0.26
    found = engine_marginals(model, {"C": 1})
    assert found["R"] == pytest.approx([r, 1 - r], abs=EXACT)
    assert found["B"] == pytest.approx([0.7 * r + 0.2 * (1 - r), 0.3 * r + 0.8 * (1 - r)], abs=EXACT)
