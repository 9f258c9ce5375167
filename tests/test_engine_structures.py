"""The engine on every shape a small network can take, against pgmpy's exact variable elimination.

The engine treats nodes differently by where they sit: a childless node is summed against its evidence (or, in a
state whose column factorises, split into one vector per parent); a root with two or more children may be fixed
per case or enumerated; any other root has no tensor of its own and rides on the table of one of its children.
Each of those paths has to give every node's marginal, observed or not, so these tests build networks that put
nodes in each position: by hand for the known answers, and at random with hypothesis for the rest.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from model.inference import paths
from model.inference.engine import UNKNOWN, Engine
from model.network.build import DiscreteBayesianNetwork, TabularCPD, eliminator

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


def evidence_codes(engine: Engine, batch: list[dict[str, int]]) -> np.ndarray:
    """The engine's evidence array for cases of {node: state index}."""
    codes = np.full((len(batch), len(engine.nodes)), UNKNOWN, dtype=np.int16)
    for i, evidence in enumerate(batch):
        for node, state in evidence.items():
            codes[i, engine.index[node]] = state
    return codes


def engine_marginals(model: DiscreteBayesianNetwork, evidence: dict[str, int]) -> dict[str, np.ndarray]:
    """Every node's marginal by the engine, for one case."""
    engine = Engine(model)
    codes = evidence_codes(engine, [evidence])
    return {node: table[0] for node, table in engine.marginals(codes, engine.nodes).items()}


def reference(model: DiscreteBayesianNetwork, evidence: dict[str, int], node: str) -> np.ndarray:
    """P(node | evidence) by pgmpy's variable elimination; an observed node is certain of its state."""
    card = model.get_cardinality(node)
    if node in evidence:
        return np.eye(card)[evidence[node]]
    factor = eliminator(model).query([node], evidence=evidence, show_progress=False)
    return np.asarray(factor.values, dtype=np.float64).reshape(card)


def enumerated(model: DiscreteBayesianNetwork, evidence: dict[str, int], node: str) -> np.ndarray:
    """P(node | evidence) from the product of every table: the definition, for networks of a few nodes."""
    joint = functools.reduce(lambda a, b: a * b, (cpd.to_factor() for cpd in model.get_cpds()))
    if evidence:
        joint.reduce(list(evidence.items()), inplace=True)
    if node in evidence:
        return np.eye(model.get_cardinality(node))[evidence[node]]
    joint.marginalize([v for v in joint.variables if v != node], inplace=True)
    values = np.asarray(joint.values, dtype=np.float64)
    return values / values.sum()


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


def test_a_root_whose_only_child_is_split_into_vectors() -> None:
    # F's lowest state is noisy-OR over R and S: seen in it, F becomes one vector per parent and has no table,
    # so neither root can ride on F's table; the roots' priors must still count.
    low = 0.9 * np.outer([0.9, 0.5], [0.8, 0.3]).reshape(-1)
    model = network(
        [("R", "F"), ("S", "F")],
        {"R": [[0.3], [0.7]], "S": [[0.6], [0.4]], "F": np.vstack([low, 1 - low]).tolist()},
        {"R": 2, "S": 2, "F": 2},
    )
    for evidence in ({"F": 0}, {"F": 0, "S": 1}, {"F": 1}):
        found = engine_marginals(model, evidence)
        for node in ("R", "S", "F"):
            assert found[node] == pytest.approx(reference(model, evidence, node), abs=EXACT), (node, evidence)


def noisy_max_network() -> DiscreteBayesianNetwork:
    """Roots R, S, T (R with two states, S three, T two) and two childless three-state noisy-MAX findings, F over
    R and S and G over S and T: P(F <= s | parents) is a product of one vector per parent, so each state is a
    difference of two such products, and only the lowest state's own column factorises."""

    def noisy_max(a: list[list[float]], b: list[list[float]]) -> list[list[float]]:
        # a[p][s], b[q][s]: P(below or at s) from each parent in state p, q; the leak lets 0.95 through
        cumulative = [0.95 * np.outer(np.array(a)[:, s], np.array(b)[:, s]).reshape(-1) for s in range(2)]
        cumulative.append(np.ones_like(cumulative[0]))
        return np.diff(np.vstack([np.zeros_like(cumulative[0]), *cumulative]), axis=0).tolist()

    return network(
        [("R", "F"), ("S", "F"), ("S", "G"), ("T", "G")],
        {
            "R": [[0.3], [0.7]],
            "S": [[0.5], [0.2], [0.3]],
            "T": [[0.6], [0.4]],
            "F": noisy_max([[1.0, 1.0], [0.4, 0.7]], [[1.0, 1.0], [0.5, 0.9], [0.2, 0.6]]),
            "G": noisy_max([[1.0, 1.0], [0.3, 0.8], [0.1, 0.5]], [[1.0, 1.0], [0.6, 0.7]]),
        },
        {"R": 2, "S": 3, "T": 2, "F": 3, "G": 3},
    )


@pytest.mark.parametrize(
    ("cancellation", "split", "again"), [(np.inf, True, False), (0.0, False, False), (1.0, True, True)]
)
def test_a_noisy_max_finding_seen_in_any_state_is_a_difference_of_two_factorised_cases(
    cancellation: float, split: bool, again: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Seen above its lowest state, F (and G) is computed as P(F <= s) - P(F <= s - 1), two cases in which it is
    # split into vectors: the same answers whether the terms are kept (no limit), no finding is split (limit 0:
    # every split is expected to cancel beyond it), or every split case is computed again without its terms
    # (splits expected to cancel by a factor of 1, a limit of 1 that no difference of two nonzero terms meets).
    monkeypatch.setattr("model.inference.engine._CANCELLATION", cancellation)
    model = noisy_max_network()
    engine = Engine(model)
    assert engine.factorised["F"].expands.tolist() == [False, True, True]
    if again:
        monkeypatch.setattr(
            engine, "_cancelling", {n: np.where(np.isfinite(v), 1.0, np.inf) for n, v in engine._cancelling.items()}
        )
    evidences = [{"F": f, "G": g} for f in range(3) for g in range(3)] + [{"F": 2, "R": 1}, {"G": 1, "S": 2}]
    codes = np.full((len(evidences), len(engine.nodes)), UNKNOWN, dtype=np.int16)
    for row, evidence in enumerate(evidences):
        for node, state in evidence.items():
            codes[row, engine.index[node]] = state
    rows = []
    plain = engine._plain_joint
    monkeypatch.setattr(engine, "_plain_joint", lambda codes, *rest: rows.append(len(codes)) or plain(codes, *rest))
    # the roots: F and G are expanded where seen above their lowest state (a node asked for never is)
    found = engine.marginals(codes, ["R", "S", "T"])
    # 2**k terms for a case that sees k of F and G above their lowest state
    k = [sum(e.get(f, 0) > 0 for f in ("F", "G")) for e in evidences]
    assert rows[0] == (sum(2**n for n in k) if split else len(evidences))
    assert rows[1:] == ([sum(n > 0 for n in k)] if again else [])
    for row, evidence in enumerate(evidences):
        for node in ("R", "S", "T"):
            assert found[node][row] == pytest.approx(enumerated(model, evidence, node), abs=EXACT), (node, evidence)


def test_a_case_splits_the_findings_expected_to_cancel_least() -> None:
    # F is expected to cancel by a factor of 3 and G by 30 (monkeypatched priors): under a limit of 1e4 a case
    # seeing both splits both; under 50 only F (3 * 30 = 90 would be past it), G keeping its table.
    model = noisy_max_network()
    engine = Engine(model)
    codes = np.full((1, len(engine.nodes)), UNKNOWN, dtype=np.int16)
    codes[0, engine.index["F"]] = 1
    codes[0, engine.index["G"]] = 1
    engine._cancelling = {"F": np.array([np.inf, 3.0, 3.0]), "G": np.array([np.inf, 30.0, 30.0])}
    rows = []
    plain = engine._plain_joint
    engine._plain_joint = lambda codes, *rest: rows.append(codes.copy()) or plain(codes, *rest)
    for limit, terms in ((1e4, 4), (50.0, 2)):
        rows.clear()
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("model.inference.engine._CANCELLATION", limit)
            found = engine.marginals(codes, ["R"])
        assert len(rows[0]) == terms
        assert found["R"][0] == pytest.approx(enumerated(model, {"F": 1, "G": 1}, "R"), abs=EXACT)


def test_every_table_fixed_or_split_but_one_over_no_free_node() -> None:
    # R and S have two children each; seen, they are fixed per case. F, seen in its noisy-OR state, is split
    # into vectors; G, seen, is summed against its evidence into a single number per case: that number is a
    # factor of P(evidence) even with nothing left to contract.
    low = 0.9 * np.outer([0.9, 0.5], [0.8, 0.3]).reshape(-1)
    model = network(
        [("R", "F"), ("S", "F"), ("R", "G"), ("S", "G")],
        {
            "R": [[0.3], [0.7]],
            "S": [[0.6], [0.4]],
            "F": np.vstack([low, 1 - low]).tolist(),
            "G": [[0.1, 0.5, 0.7, 0.2], [0.9, 0.5, 0.3, 0.8]],
        },
        {"R": 2, "S": 2, "F": 2, "G": 2},
    )
    for evidence in ({"R": 0, "S": 1, "F": 0, "G": 1}, {"F": 0, "G": 1}, {"R": 1, "F": 0, "G": 0}, {"F": 0}):
        found = engine_marginals(model, evidence)
        for node in ("R", "S", "F", "G"):
            assert found[node] == pytest.approx(reference(model, evidence, node), abs=EXACT), (node, evidence)


def test_columns_that_sum_to_1_only_to_1e_7_are_taken_as_they_are() -> None:
    # alarm's and hepar2's tables are like this. The answer is then the sum of the product of the tables as
    # given, in which an unseen childless node still tells a little about its parents: pyAgrum's junction tree
    # gives that, while pgmpy's variable elimination drops unseen nodes that no query needs (right only for
    # columns that sum to 1), so the reference here is the whole joint. C factorises in its lowest state.
    off = [1e-7, -1e-7, 0.0, 2e-7]
    low = 0.9 * np.outer([0.9, 0.5], [0.8, 0.3]).reshape(-1)
    model = network(
        [("R", "B"), ("R", "C"), ("S", "C")],
        {
            "R": [[0.3], [0.7]],
            "S": [[0.6], [0.4]],
            "B": [[0.7, 0.2], [0.3 + 1e-7, 0.8 - 1e-7]],
            "C": np.vstack([low, 1 - low + off]).tolist(),
        },
        {"R": 2, "S": 2, "B": 2, "C": 2},
    )
    for evidence in ({}, {"B": 1}, {"C": 0}, {"C": 1, "R": 0}):
        found = engine_marginals(model, evidence)
        for node in ("R", "S", "B", "C"):
            assert found[node] == pytest.approx(enumerated(model, evidence, node), abs=1e-15), (node, evidence)


def test_a_network_of_more_nodes_than_einsum_has_labels() -> None:
    # numpy's einsum names axes by 52 letters; the contraction holds 80 nodes, each step only a few
    n = 80
    names = [f"x{i}" for i in range(n)]
    edges = [(names[i - 1], names[i]) for i in range(1, n)] + [(names[i - 2], names[i]) for i in range(2, n, 3)]
    rng = np.random.default_rng(3)
    tables = {}
    for name in names:
        k = sum(1 for _, b in edges if b == name)
        tables[name] = rng.dirichlet(np.ones(2), size=2**k).T.tolist()
    model = network(edges, tables, dict.fromkeys(names, 2))
    evidence = {names[5]: 1, names[40]: 0, names[79]: 1}
    found = engine_marginals(model, evidence)
    for node in (names[0], names[20], names[41], names[78]):
        assert found[node] == pytest.approx(reference(model, evidence, node), abs=EXACT), node


# ------------------------------------------------------------------ evidence below float64's range

# Evidence of a thousand findings has a probability far below float64's smallest number (about 1e-308, and
# digits go from there down to 5e-324): the engine computes such a case scaled (execute.py), so its answers are
# exact however small P(evidence) is.


def star(k: int, roots: int) -> tuple[DiscreteBayesianNetwork, np.ndarray, list[str]]:
    """`roots` binary roots R0.. and k binary children X0000.., each a child of every root, with random
    tables; returns the network, each child's P(on | roots) as (k, 2 ** roots) (the last root fastest), and
    the children's names."""
    rng = np.random.default_rng(k + roots)
    parents = [f"R{i}" for i in range(roots)]
    children = [f"X{i:04d}" for i in range(k)]
    on = rng.uniform(0.05, 0.95, size=(k, 2**roots))
    edges = [(r, c) for c in children for r in parents]
    tables = {r: [[0.3 + 0.2 * i], [0.7 - 0.2 * i]] for i, r in enumerate(parents)}
    tables.update({c: [list(1 - on[i]), list(on[i])] for i, c in enumerate(children)})
    return network(edges, tables, dict.fromkeys(parents + children, 2)), on, children


def star_posterior(model: DiscreteBayesianNetwork, on: np.ndarray, seen: dict[int, int]) -> np.ndarray:
    """P(the roots' joint states | seen children {index: state}), in log space: (2 ** roots,)."""
    roots = sorted(n for n in model.nodes() if n.startswith("R"))
    log = np.zeros((2,) * len(roots))
    for i, root in enumerate(roots):
        log = log + np.log(model.get_cpds(root).values).reshape([2 if a == i else 1 for a in range(len(roots))])
    log = log.ravel()
    for child, state in seen.items():
        log += np.log(on[child] if state else 1 - on[child])
    return np.exp(log - np.logaddexp.reduce(log))


@pytest.mark.parametrize("roots", [1, 2])
def test_a_thousand_findings_below_float64s_range_are_exact(roots: int) -> None:
    k = 1200
    model, on, children = star(k, roots)
    engine = Engine(model)
    rng = np.random.default_rng(7)
    states = (rng.random(k) < on[:, 0]).astype(int)
    seen_sets = [dict(enumerate(states)), {i: states[i] for i in range(0, k, 2)}, {i: states[i] for i in range(40)}]
    codes = evidence_codes(engine, [{children[i]: s for i, s in seen.items()} for seen in seen_sets])
    found = engine.marginals(codes, [*engine.nodes[:roots], children[-1]])
    for row, seen in enumerate(seen_sets):
        joint = star_posterior(model, on, seen).reshape((2,) * roots)
        for i in range(roots):
            expected = joint.sum(axis=tuple(a for a in range(roots) if a != i))
            assert found[f"R{i}"][row] == pytest.approx(expected, rel=1e-9, abs=1e-300), (row, i)
        if k - 1 not in seen:
            p_on = float((joint.ravel() * on[-1]).sum())
            assert found[children[-1]][row] == pytest.approx([1 - p_on, p_on], abs=1e-12), row


def test_uninformative_findings_below_float64s_range_change_nothing() -> None:
    # k findings as likely whatever the root: P(evidence) = 0.5 ** k * P(Z = on) and P(R | evidence) = P(R | Z = on)
    # exactly; before, k = 1,070 gave 0.625 for 0.6 (the numbers below 2.2e-308 keep fewer digits) and 1,100 NaN
    for k in (1000, 1030, 1070, 1100, 3000):
        children = [f"X{i:04d}" for i in range(k)]
        tables = {"R": [[0.5], [0.5]], "Z": [[0.4, 0.6], [0.6, 0.4]]}
        tables.update({child: [[0.5, 0.5], [0.5, 0.5]] for child in children})
        model = network([("R", c) for c in [*children, "Z"]], tables, dict.fromkeys(["R", "Z", *children], 2))
        engine = Engine(model)
        codes = evidence_codes(engine, [{c: 1 for c in [*children, "Z"]}])
        assert engine.marginals(codes, ["R"])["R"][0] == pytest.approx([0.6, 0.4], rel=1e-12), k
        evidence, joints = engine.joint(codes, ["R"])
        if k <= 1000:  # still a float64 number: the unnormalised answers as they are, scaled back
            assert evidence[0] == pytest.approx(0.5**k * 0.5, rel=1e-12)
            assert joints["R"][0] == pytest.approx([0.5**k * 0.3, 0.5**k * 0.2], rel=1e-12)


def test_findings_split_into_vectors_below_float64s_range() -> None:
    # 55 noisy-OR findings of roots A, B and of U (a child of P), each seen absent with A and B present: each is
    # split into one vector per parent (factorised), their scales multiplying the sub-row's weight (about 1e-330
    # in all). A's and B's vectors go there too (they are conditioned) and U's multiply U's own tensor (it has a
    # parent, so it stays in the contraction). Each vector is 1 at its parent's first state; the first 28 of
    # U's are [1, 1e12], and their product overflows (1e336) before the other 27 ([1, 1e-12]) bring it back.
    k = 55
    findings = [f"F{i:02d}" for i in range(k)]
    keep_u = [[1e-12, 1.0] if i < 28 else [1.0, 1e-12] for i in range(k)]  # P(absent) factor per U state
    tables = {"A": [[0.6], [0.4]], "B": [[0.7], [0.3]], "P": [[0.3], [0.7]], "U": [[0.5, 0.5], [0.5, 0.5]]}
    tables.update({"G": [[0.9, 0.2], [0.1, 0.8]]})
    for f, u in zip(findings, keep_u, strict=True):
        absent = 0.99 * np.einsum("a,b,u->abu", [1.0, 1e-3], [1.0, 1e-3], u).ravel()
        tables[f] = [list(absent), list(1 - absent)]
    edges = [(p, f) for f in findings for p in ("A", "B", "U")] + [("P", "U"), ("U", "G")]
    model = network(edges, tables, dict.fromkeys(["A", "B", "P", "U", "G", *findings], 2))
    engine = Engine(model)
    assert set(findings) <= set(engine.plan_bits) and {"A", "B"} <= {*engine.plan_bits, *engine.enumerated}
    codes = evidence_codes(engine, [{"A": 1, "B": 1, **dict.fromkeys(findings, 0)}])
    found = engine.marginals(codes, ["U", "G"])
    u = np.array([1e-12, 1.0]) / (1 + 1e-12)  # 28 findings favour U = 1, 27 U = 0
    assert found["U"][0] == pytest.approx(u, rel=1e-12)
    assert found["G"][0] == pytest.approx([0.9 * u[0] + 0.2 * u[1], 0.1 * u[0] + 0.8 * u[1]], rel=1e-12)


def test_a_long_chain_whose_evidence_is_below_float64s_range() -> None:
    # a hidden chain H0 -> H1 -> ... of 1,100 nodes, each seen through a finding O_i: the contraction's steps carry
    # the small numbers (not a weight or a product of vectors), each rescaled; against forward-backward
    n = 1100
    hidden, seen = [f"H{i:04d}" for i in range(n)], [f"O{i:04d}" for i in range(n)]
    move, show = np.array([[0.9, 0.2], [0.1, 0.8]]), np.array([[0.7, 0.4], [0.3, 0.6]])
    edges = [(hidden[i - 1], hidden[i]) for i in range(1, n)] + list(zip(hidden, seen, strict=True))
    tables = {hidden[0]: [[0.5], [0.5]]}
    tables.update({h: move.tolist() for h in hidden[1:]})
    tables.update({o: show.tolist() for o in seen})
    model = network(edges, tables, dict.fromkeys(hidden + seen, 2))
    engine = Engine(model)
    states = np.random.default_rng(1).integers(0, 2, n)
    cases = [dict(zip(seen, states.tolist(), strict=True)), dict(zip(seen[:50], states[:50].tolist(), strict=True))]
    asked = [hidden[0], hidden[n // 2], hidden[-1]]
    found = engine.marginals(evidence_codes(engine, cases), asked)
    for row, case in enumerate(cases):
        likelihood = [show[case[o]] if o in case else np.ones(2) for o in seen]
        forward, backward = np.zeros((n, 2)), np.ones((n, 2))
        forward[0] = 0.5 * likelihood[0] / (0.5 * likelihood[0]).sum()
        for i in range(1, n):
            step = (move @ forward[i - 1]) * likelihood[i]
            forward[i] = step / step.sum()
        for i in range(n - 2, -1, -1):
            step = move.T @ (backward[i + 1] * likelihood[i + 1])
            backward[i] = step / step.sum()
        posterior = forward * backward
        posterior /= posterior.sum(axis=1, keepdims=True)
        for node, i in zip(asked, (0, n // 2, n - 1), strict=True):
            assert found[node][row] == pytest.approx(posterior[i], abs=1e-12), (row, node)


def test_no_inner_node_is_searched_for_slicing_where_the_search_costs_too_much() -> None:
    # a chain a -> b -> c -> d with findings: with every slice worth its plans, b and c are plan bits; where the
    # search (a path search per inner node) would pass _SLICE_SEARCH, none is searched for, and answers hold
    names = ["a", "b", "c", "d", "x", "y"]
    edges = [("a", "b"), ("b", "c"), ("c", "d"), ("b", "x"), ("c", "y")]
    rng = np.random.default_rng(5)
    tables = {n: rng.dirichlet(np.ones(2), size=2 ** sum(1 for _, t in edges if t == n)).T.tolist() for n in names}
    model = network(edges, tables, dict.fromkeys(names, 2))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("model.inference.keys._SLICE_SAVES", -np.inf)
        assert {"b", "c"} <= set(Engine(model).plan_bits)
        patch.setattr("model.inference.keys._SLICE_SEARCH", len(names) * 2 - 1)  # 2 inner nodes x 6 nodes = 12
        engine = Engine(model)
    assert not {"b", "c"} & set(engine.plan_bits)
    evidence = {"b": 1, "d": 0, "x": 1}
    found = engine.marginals(evidence_codes(engine, [evidence]), engine.nodes)
    for node in names:
        assert found[node][0] == pytest.approx(reference(model, evidence, node), abs=EXACT), node


def test_plan_bits_are_compared_by_one_rule_where_the_comparisons_cost_too_much() -> None:
    # roots r, s with two children each and findings x, y with two parents: 4 candidates x 6 nodes = 24; at or
    # under _RANKING_SEARCH the comparisons search by paths.ELIMINATION_RULES ("size" first; these paths are too
    # cheap for the others), over it by "growth" alone, and the answers hold either way
    names = ["r", "s", "a", "b", "x", "y"]
    edges = [("r", "a"), ("r", "b"), ("s", "a"), ("s", "b"), ("a", "x"), ("b", "x"), ("a", "y"), ("b", "y")]
    rng = np.random.default_rng(7)
    tables = {n: rng.dirichlet(np.ones(2), size=2 ** sum(1 for _, t in edges if t == n)).T.tolist() for n in names}
    model = network(edges, tables, dict.fromkeys(names, 2))
    searched: list[str] = []
    search = paths.elimination_path

    def spy(masks: list[int], cards: list[int], rule: str, sizes: dict[int, int]):  # type: ignore[no-untyped-def]
        searched.append(rule)
        return search(masks, cards, rule, sizes)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(paths, "elimination_path", spy)
        patch.setattr("model.inference.keys._RANKING_SEARCH", 24)
        Engine(model)
        assert "size" in searched
        searched.clear()
        patch.setattr("model.inference.keys._RANKING_SEARCH", 23)
        engine = Engine(model)
    assert searched and set(searched) == {"growth"}
    evidence = {"x": 1, "y": 0, "s": 1}
    found = engine.marginals(evidence_codes(engine, [evidence]), engine.nodes)
    for node in names:
        assert found[node][0] == pytest.approx(reference(model, evidence, node), abs=EXACT), node


# --------------------------------------------------------------------------------------- random networks


@st.composite
def networks(draw: st.DrawFn, most: int = 7) -> DiscreteBayesianNetwork:
    """A random network of up to `most` nodes: any DAG over them (lone nodes, roots with one child or many,
    childless nodes with several parents), two or three states a node, tables positive. Some childless
    nodes get a noisy-OR table, whose lowest state's column factorises over the parents, so that the engine
    splits them into vectors when they are seen in that state."""
    n = draw(st.integers(1, most))
    names = [f"n{i}" for i in range(n)]
    cards = {name: draw(st.integers(2, 3)) for name in names}
    parents = {name: [p for p in names[:i] if draw(st.booleans())] if i else [] for i, name in enumerate(names)}
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    noisy = {name for name in names if len(parents[name]) >= 2 and draw(st.booleans())}
    model = DiscreteBayesianNetwork()
    model.add_nodes_from(names)
    model.add_edges_from((p, name) for name in names for p in parents[name])
    for name in names:
        shape = [cards[p] for p in parents[name]]
        if name in noisy:
            # P(lowest state) = leak * product over parents of a keep term per parent state
            keep = [rng.uniform(0.2, 1.0, size=cards[p]) for p in parents[name]]
            low = rng.uniform(0.5, 1.0) * functools.reduce(np.multiply.outer, keep).reshape(-1)
            rest = rng.dirichlet(np.ones(cards[name] - 1), size=low.size).T * (1 - low)
            values = np.vstack([low, rest])
        else:
            values = rng.dirichlet(np.ones(cards[name]), size=int(np.prod(shape))).T
        model.add_cpds(
            TabularCPD(
                name,
                cards[name],
                values,
                evidence=parents[name] or None,
                evidence_card=shape or None,
            )
        )
    model.check_model()
    return model


def described(model: DiscreteBayesianNetwork) -> str:
    """The network's nodes, parents and tables, for hypothesis to print with a failing example."""
    return "\n".join(f"{cpd.variable} | {cpd.variables[1:]}: {cpd.get_values().tolist()}" for cpd in model.get_cpds())


@st.composite
def cases(draw: st.DrawFn, model: DiscreteBayesianNetwork) -> dict[str, int]:
    """Any subset of the nodes observed, each in any state (the tables are positive, so any case is possible)."""
    found = {}
    for node in model.nodes():
        if draw(st.booleans()):
            found[node] = draw(st.integers(0, model.get_cardinality(node) - 1))
    return found


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_marginal_of_a_random_network_equals_pgmpy(data: st.DataObject) -> None:
    model = data.draw(networks())
    note(described(model))
    evidence = data.draw(cases(model))
    found = engine_marginals(model, evidence)
    for node in model.nodes():
        assert found[node] == pytest.approx(reference(model, evidence, node), abs=1e-10), (node, evidence)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_batch_of_a_random_network_equals_one_case_at_a_time(data: st.DataObject) -> None:
    # a batch sorts its cases into plans and merges small groups: every case must come out as it does alone
    model = data.draw(networks())
    note(described(model))
    batch = data.draw(st.lists(cases(model), min_size=1, max_size=12))
    engine = Engine(model)
    codes = evidence_codes(engine, batch)
    found = engine.marginals(codes, engine.nodes)
    for i, evidence in enumerate(batch):
        alone = engine_marginals(model, evidence)
        for node in engine.nodes:
            assert found[node][i] == pytest.approx(alone[node], abs=1e-12), (node, evidence)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_observed_inner_nodes_sliced_out_give_every_marginal(data: st.DataObject) -> None:
    # Every node with parents and children a plan bit, however little slicing it saves: an observed one is
    # taken at its state (its table and its children's), and every node's marginal stays exact, in a batch too.
    model, engine, batch, codes = slicing_everything(data)
    inner = {n for n in engine.nodes if engine.parents[n] and engine.children[n]}
    assert inner <= set(engine.plan_bits)
    assert_every_marginal_is_pgmpys(model, batch, engine.marginals(codes, engine.nodes))


def slicing_everything(data: st.DataObject) -> tuple[DiscreteBayesianNetwork, Engine, list[dict[str, int]], np.ndarray]:
    """A random network, an engine for it with every inner node a plan bit however little slicing it saves, a
    batch of its cases and their evidence array."""
    model = data.draw(networks())
    note(described(model))
    batch = data.draw(st.lists(cases(model), min_size=1, max_size=6))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("model.inference.keys._SLICE_SAVES", -np.inf)
        engine = Engine(model)
    return model, engine, batch, evidence_codes(engine, batch)


def assert_every_marginal_is_pgmpys(
    model: DiscreteBayesianNetwork, batch: list[dict[str, int]], found: dict[str, np.ndarray]
) -> None:
    for i, evidence in enumerate(batch):
        for node in model.nodes():
            assert found[node][i] == pytest.approx(reference(model, evidence, node), abs=1e-10), (node, evidence)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_case_computed_scaled_gives_every_marginal(data: st.DataObject) -> None:
    # The scaled run (execute.py) is what a case whose evidence is below float64's range gets: here every case,
    # on any structure (conditioned, enumerated, hosted and sliced nodes, factorised and absorbed findings, with
    # every inner node a plan bit), with its powers of two checked against the unscaled run's P(evidence).
    model, engine, batch, codes = slicing_everything(data)
    plain, _ = engine.joint(codes, engine.nodes)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("model.inference.engine._UNDERFLOW", np.inf)
        scaled, shift = engine._scaled_joint(codes, list(engine.nodes))
        found = engine.marginals(codes, engine.nodes)
    assert np.ldexp(scaled[:, 0], shift) == pytest.approx(plain, rel=1e-12)
    assert_every_marginal_is_pgmpys(model, batch, found)
