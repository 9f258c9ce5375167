"""The compiled engine against pgmpy's exact variable elimination, and the inference API built on it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.inference import engine as engine_module
from model.inference import keys as keys_module
from model.inference import plans as plans_module
from model.inference.engine import UNKNOWN, Engine, load_engine
from model.inference.keys import merged_keys, pattern, shared_keys
from model.inference.pain import PainEngine, pain_factorised_network
from model.inference.paths import (
    CHEAP_PATH,
    COMPILE_CHEAP_PATH,
    COMPILE_RULES,
    ELIMINATION_RULES,
    cheapest_path,
    elimination_path,
)
from model.inference.plans import compile_plan, greedy_path, sketch_plan
from model.inference.reference import (
    marginals,
    posteriors,
    posteriors_batch,
)
from model.inference.tables import forward_priors, node_order
from model.network.build import DiscreteBayesianNetwork, TabularCPD, eliminator
from model.network.spec import load_spec

SPEC = load_spec()
CAUSES = SPEC.cause_ids
OBSERVABLE = tuple(n for n in SPEC.nodes if n not in CAUSES and n not in SPEC.hidden_ids)
ROOTS = tuple(c.id for c in SPEC.contexts)
DATA = Path(__file__).resolve().parent.parent / "data"
EXACT = 1e-9


@st.composite
def evidences(draw: st.DrawFn, nodes: tuple[str, ...] = OBSERVABLE) -> dict[str, str]:
    """Any subset of the nodes observed, roots included, each in any of its states."""
    known = draw(st.lists(st.booleans(), min_size=len(nodes), max_size=len(nodes)))
    return {node: draw(st.sampled_from(SPEC.states(node))) for node, k in zip(nodes, known, strict=True) if k}


def distribution(found: dict[str, float], node: str) -> np.ndarray:
    return np.array([found[state] for state in SPEC.states(node)])


@settings(max_examples=10, deadline=None)
@given(st.lists(evidences(), min_size=1, max_size=40))
def test_batch_equals_one_case_at_a_time(cases: list[dict[str, str]]) -> None:
    batch = posteriors_batch(cases)
    assert batch.shape == (len(cases), len(CAUSES))
    for row, evidence in zip(batch, cases, strict=True):
        single = posteriors(evidence)
        assert np.abs(row - [single[c] for c in CAUSES]).max() <= 1e-10  # see test_batch


def test_probabilities_lie_in_0_1_and_distributions_sum_to_1() -> None:
    rng = np.random.default_rng(5)
    engine = load_engine()
    codes = np.full((300, len(engine.nodes)), UNKNOWN, dtype=np.int16)
    for node in OBSERVABLE:
        j = engine.index[node]
        codes[:, j] = np.where(rng.random(300) < 0.6, rng.integers(0, engine.card[node], 300), UNKNOWN)
    found = engine.marginals(codes, [*CAUSES, *ROOTS, "onset"])
    for node, table in found.items():
        assert np.all((table >= 0) & (table <= 1)), node
        assert np.allclose(table.sum(axis=1), 1.0, atol=1e-12), node


def test_an_empty_batch_gives_an_empty_array() -> None:
    assert posteriors_batch([]).shape == (0, len(CAUSES))


def test_unknown_nodes_and_states_are_refused() -> None:
    with pytest.raises(ValueError, match="not a node"):
        posteriors({"shoe_size": "42"})
    with pytest.raises(ValueError, match="not a state of 'activity'"):
        posteriors({"activity": "chess"})
    with pytest.raises(ValueError, match="not a node"):
        marginals({}, ("shoe_size",))
    engine = load_engine()
    with pytest.raises(ValueError, match="outside"):
        engine.marginals(np.full((1, len(engine.nodes)), 99, dtype=np.int16), CAUSES)


def test_the_engine_is_built_once_and_calls_change_nothing() -> None:
    engine = load_engine()
    assert load_engine() is engine
    before = {node: table.copy() for node, table in engine.tables.items()}
    evidence = {"activity": "jumping", "fall_or_impact": "yes", "numbness": "legs"}
    first = posteriors(evidence)
    posteriors_batch([evidence, {}, {"age": SPEC.states("age")[-1]}] * 20)
    assert posteriors(evidence) == first
    for node, table in engine.tables.items():
        assert not table.flags.writeable
        assert np.array_equal(table, before[node])


def small_network() -> DiscreteBayesianNetwork:
    """A network unlike the built-in one: a finding hangs off a root directly, a root has three states, a
    finding's lowest state factorises over its parents (noisy-OR) and another's does not."""
    model = DiscreteBayesianNetwork(
        [("r", "a"), ("r", "b"), ("s", "b"), ("a", "f"), ("r", "f"), ("a", "g"), ("b", "g"), ("b", "h"), ("s", "h")]
    )
    keep = {"a": [0.95, 0.7], "r": [0.9, 0.8, 0.5]}  # noisy-OR: P(f = no) = 0.97 * product of the parents' terms
    f_no = np.array([[0.97 * ka * kr for kr in keep["r"]] for ka in keep["a"]]).reshape(1, -1)
    model.add_cpds(
        TabularCPD("r", 3, [[0.5], [0.3], [0.2]]),
        TabularCPD("s", 2, [[0.6], [0.4]]),
        TabularCPD("a", 2, [[0.9, 0.6, 0.3], [0.1, 0.4, 0.7]], evidence=["r"], evidence_card=[3]),
        TabularCPD(
            "b",
            2,
            [[0.8, 0.5, 0.7, 0.4, 0.6, 0.2], [0.2, 0.5, 0.3, 0.6, 0.4, 0.8]],
            evidence=["r", "s"],
            evidence_card=[3, 2],
        ),
        TabularCPD("f", 2, np.vstack([f_no, 1 - f_no]), evidence=["a", "r"], evidence_card=[2, 3]),
        TabularCPD(
            "g",
            3,
            [[0.7, 0.2, 0.3, 0.1], [0.2, 0.5, 0.3, 0.3], [0.1, 0.3, 0.4, 0.6]],
            evidence=["a", "b"],
            evidence_card=[2, 2],
        ),
        TabularCPD("h", 2, [[0.9, 0.4, 0.5, 0.2], [0.1, 0.6, 0.5, 0.8]], evidence=["b", "s"], evidence_card=[2, 2]),
    )
    model.check_model()
    return model


SMALL = small_network()


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_an_engine_of_another_network_equals_pgmpy(data: st.DataObject) -> None:
    engine = Engine(SMALL)
    nodes = engine.nodes
    known = data.draw(st.lists(st.sampled_from(nodes), unique=True))
    evidence = {n: data.draw(st.integers(0, engine.card[n] - 1)) for n in known}
    unobserved = [n for n in nodes if n not in evidence]
    codes = np.full((1, len(nodes)), UNKNOWN, dtype=np.int16)
    for node, state in evidence.items():
        codes[0, engine.index[node]] = state
    found = engine.marginals(codes, unobserved)
    eliminate = eliminator(SMALL)
    for node in unobserved:
        reference = eliminate.query([node], evidence=evidence, show_progress=False).values
        assert np.abs(found[node][0] - reference).max() <= EXACT, node


def test_small_groups_join_coarser_plans_that_the_call_runs_anyway() -> None:
    keys = np.array([0b11] * 3 + [0b01] * 20 + [0b10] * 4 + [0b00] * 2)
    merged = merged_keys(keys, np.ones(len(keys)), bits=2, least=10)
    assert merged.tolist() == [0b01] * 23 + [0b00] * 6
    # sub-rows count, not cases: one case of 11 sub-rows is a group big enough to keep its plan
    assert merged_keys(np.array([1, 0, 0]), np.array([11.0, 1, 1]), bits=1, least=10).tolist() == [1, 0, 0]
    assert merged_keys(np.array([1, 0, 0]), np.ones(3), bits=1, least=10).tolist() == [0, 0, 0]
    # a lone group, however small, has nothing to join
    assert merged_keys(np.array([0b11]), np.ones(1), bits=2, least=10).tolist() == [0b11]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 2**5 - 1), min_size=1, max_size=60),
    st.lists(st.sampled_from([1.0, 11.0]), min_size=60, max_size=60),
    st.integers(1, 40),
)
def test_merging_only_ever_gives_up_simplifications(keys: list[int], sub_rows: list[float], least: int) -> None:
    before = np.array(keys)
    after = merged_keys(before, np.array(sub_rows[: len(keys)]), bits=5, least=least)
    assert not (after & ~before).any()  # no case runs on a plan that simplifies what it does not allow
    assert set(after.tolist()) <= set(before.tolist())  # only plans the call would run anyway
    assert len(set(after.tolist())) <= len(set(before.tolist()))


def test_small_groups_share_a_cheap_coarser_plan_of_the_call_any_number_of_bits_away() -> None:
    keys = np.array([0b0001] * 300 + [0b1111] + [0b0111] * 2 + [0b0110])
    # 0b0000: the bits every group has, a plan the call may run for groups that share no other (too dear here)
    cost = {0b0001: 1000.0, 0b0111: 10.0, 0b1111: 10.0, 0b0110: 10.0, 0b0000: 1e6}
    asked: list[int] = []

    def operations(key: int) -> float:
        asked.append(key)
        return cost[key]

    def share(budget: float, required: np.ndarray | None = None) -> list[int]:
        needed = np.zeros(len(keys), dtype=np.int64) if required is None else required
        return shared_keys(keys, np.ones(len(keys)), needed, operations, least=256, budget=budget).tolist()

    # by size: the big group keeps its plan; 0b0111 joins it (three bits away: 1000 operations a sub-row times its
    # 2 sub-rows is within the budget); 0b0110 lacks the big plan's bit and keeps its own; 0b1111 may join either
    # and joins the cheaper, 0b0110
    assert share(5000) == [0b0001] * 300 + [0b0110] + [0b0001] * 2 + [0b0110]
    assert asked == [0b0001, 0b0000, 0b0110]  # asked once each, and only of plans the call may run
    # with less to spend, 0b0111 (2 x 1000) keeps its plan, and 0b1111 joins the cheapest of the three it may
    assert share(1500) == [0b0001] * 300 + [0b0111] * 3 + [0b0110]
    # a bit a case needs (a cumulative code) is never given up
    required = np.zeros(len(keys), dtype=np.int64)
    required[300] = 0b1000
    assert share(5000, required) == [0b0001] * 300 + [0b1111] + [0b0001] * 2 + [0b0110]
    # groups none of which is coarser than another (each case observes other nodes) share the common plan
    # where it is cheap, and keep their own where it is not
    apart = np.array([0b011, 0b101, 0b110, 0b111])
    cost.update({0b0000: 100.0, 0b011: 10.0, 0b101: 10.0})
    assert shared_keys(apart, np.ones(4), np.zeros(4, dtype=np.int64), operations, 256, 150).tolist() == [0] * 4
    assert shared_keys(apart, np.ones(4), np.zeros(4, dtype=np.int64), operations, 256, 50).tolist() == [
        0b011,
        0b101,
        0b110,
        0b011,
    ]
    # a lone group has nothing to join, and nothing is asked
    asked.clear()
    lone = shared_keys(np.array([0b11]), np.ones(1), np.zeros(1, dtype=np.int64), operations, 256, 1e9)
    assert lone.tolist() == [0b11] and not asked


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2**5 - 1), st.integers(0, 2**5 - 1)), min_size=1, max_size=60),
    st.lists(st.sampled_from([1.0, 11.0]), min_size=60, max_size=60),
    st.integers(1, 40),
    st.floats(0, 1e4),
)
def test_sharing_only_gives_up_simplifications_a_case_may_give_up(
    drawn: list[tuple[int, int]], sub_rows: list[float], least: int, budget: float
) -> None:
    before = np.array([key for key, _ in drawn])
    required = np.array([key & mask for key, mask in drawn])  # a case needs some of its own bits

    def operations(key: int) -> float:
        asked.append(key)
        return float(key % 7) * 100

    asked: list[int] = []
    weights = np.array(sub_rows[: len(drawn)])
    after = shared_keys(before, weights, required, operations, least, budget)
    assert not (after & ~before).any()  # no case runs on a plan that simplifies what it does not allow
    assert not (required & ~after).any()  # nor gives up a bit it needs
    common = int(np.bitwise_and.reduce(before))
    # only plans the call would run anyway, or the one of the bits every case has
    assert set(after.tolist()) <= set(before.tolist()) | {common}
    assert set(asked) <= set(after.tolist()) | {common}  # operations asked only of plans the call may run
    for key in set(before.tolist()) - set(after.tolist()):  # a group that moved was small, and its plan cheap
        moved = before == key
        assert weights[moved].sum() < least
        assert operations(int(after[moved][0])) * weights[moved].sum() <= budget


def test_sharing_plans_gives_the_same_answers_with_fewer_plans(monkeypatch: pytest.MonkeyPatch) -> None:
    # cases as they come (drawn from the network, 60% of the answers kept): they rarely share a key
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from bench import drawn_evidences  # scripts/ is no package

    evidences = drawn_evidences(5, 400, 0.6)
    wanted = [*load_spec().cause_ids, "fever", "age"]
    shared = PainEngine(Engine(pain_factorised_network(), threads=1))
    codes = shared.encode(evidences)
    found = shared.marginals(codes, wanted)
    monkeypatch.setattr(keys_module, "_SHARED_OPERATIONS", 0.0)  # nothing fits: each group keeps its plan
    monkeypatch.setattr(keys_module, "_SHARED_OPERATIONS_PER_NODE", 0)
    alone = PainEngine(Engine(pain_factorised_network(), threads=1))
    expected = alone.marginals(codes, wanted)
    for node in wanted:
        # other plans, other rounding: within what an expanded finding's terms (up to _CANCELLATION) may cost
        assert np.abs(found[node] - expected[node]).max() <= EXACT, node
    assert shared.plans_compiled < 0.85 * alone.plans_compiled
    # what sharing compares, counted without compiling, is what compiling counts
    engine = shared.engine
    for key in list(engine._plans)[:40]:
        simplified = pattern(engine, engine.enumerated, engine.plan_bits, key)
        assert sketch_plan(engine, *simplified).operations == compile_plan(engine, *simplified).operations


def test_a_plan_compared_before_it_is_compiled_is_sketched_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # sharing compares the operations of plans the call runs; each is sketched (leaves and path) once, and
    # compiled from that sketch when the call comes to it
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    from bench import drawn_evidences  # scripts/ is no package

    pain = PainEngine(Engine(pain_factorised_network(), threads=1))
    engine = pain.engine
    sketched, given_sketches = [], []
    real_sketch, real_compile = engine_module.sketch_plan, engine_module.compile_plan
    monkeypatch.setattr(engine_module, "sketch_plan", lambda *a: sketched.append(a[1:]) or real_sketch(*a))
    monkeypatch.setattr(engine_module, "compile_plan", lambda *a: given_sketches.append(a[3]) or real_compile(*a))
    pain.marginals(pain.encode(drawn_evidences(5, 300, 0.6)), CAUSES)
    assert sketched, "no plan was compared"
    assert len(set(sketched)) == len(sketched)
    used = [(s.conditioned, s.factorised) for s in given_sketches if s is not None]
    assert len(set(used)) == len(used) and set(used) <= set(sketched)
    # compared and not run: at most the common plan of each of the call's two contractions (the second computes
    # the cases an expansion could not), and their sketches are not kept
    assert len(set(sketched) - set(used)) <= 2
    assert not engine._sketches
    # compiled from its sketch or not, a plan is the same; a sketch of another plan is refused
    for conditioned, factorised in sketched[:10]:
        sketch = real_sketch(engine, conditioned, factorised)
        ours, anew = (
            real_compile(engine, conditioned, factorised, sketch),
            real_compile(engine, conditioned, factorised),
        )
        assert (ours.steps, ours.scopes, ours.operations) == (anew.steps, anew.scopes, anew.operations)
        compiled_path = greedy_path(engine, [leaf.scope for leaf in ours.leaves], COMPILE_RULES, COMPILE_CHEAP_PATH)
        assert ours.operations == compiled_path[1]
    conditioned, factorised = sketched[0]
    with pytest.raises(ValueError, match="another plan"):
        real_compile(engine, conditioned | {"no such root"}, factorised, sketch_plan(engine, conditioned, factorised))


def test_anelimination_path_worked_by_hand() -> None:
    # tensors over (a, b), (b, c), (c), sizes 2, 3, 4. "size" sums out a first (the product of its tensors is
    # the smallest, 6), then b (12, tied with c, and b's bit is lower), multiplying the smaller tensor first,
    # then c. Operations: 6 * 2, 12 * 2, 4 * 2 (each product counted twice, as it also sums). The results of
    # the groups are tensors 3 (over b) and 4 (over c).
    path, cost = elimination_path([0b011, 0b110, 0b100], [2, 3, 4], "size", {})
    assert path == [(0,), (3, 1), (2, 4)]
    assert cost == 44


@st.composite
def scopes(draw: st.DrawFn) -> tuple[list[int], list[int]]:
    cards = draw(st.lists(st.integers(1, 4), min_size=1, max_size=7))
    masks = draw(st.lists(st.integers(0, 2 ** len(cards) - 1), min_size=1, max_size=8))
    return masks, cards


@settings(max_examples=150, deadline=None)
@given(scopes(), st.sampled_from(ELIMINATION_RULES))
def test_anelimination_path_contracts_the_tensors_to_their_total(drawn: tuple[list[int], list[int]], rule: str) -> None:
    masks, cards = drawn
    rng = np.random.default_rng(len(masks))
    labels = [[v for v in range(len(cards)) if mask >> v & 1] for mask in masks]
    tensors = [rng.random([cards[v] for v in scope]) for scope in labels]
    total = np.einsum(*(x for pair in zip(tensors, labels, strict=True) for x in pair), [])
    path, cost = elimination_path(masks, cards, rule, {})
    live = dict(enumerate(zip(tensors, labels, strict=True)))  # by id: a group's result gets the next one
    for n, group in enumerate(path):
        chosen = [live.pop(i) for i in group]
        kept = sorted({v for _, scope in live.values() for v in scope} & {v for _, scope in chosen for v in scope})
        live[len(masks) + n] = (np.einsum(*(x for pair in chosen for x in pair), kept), kept)
    assert len(live) == 1
    [(result, scope)] = live.values()
    assert not scope and np.isclose(result, total, rtol=1e-12)
    assert cost >= 0
    # the cheapest of the rules' paths, or the first rule's when that one is cheap enough to stop there
    first = elimination_path(masks, cards, ELIMINATION_RULES[0], {})[1]
    assert cheapest_path(masks, cards)[1] <= (cost if first >= CHEAP_PATH else first)
    first = elimination_path(masks, cards, COMPILE_RULES[0], {})[1]
    assert cheapest_path(masks, cards, COMPILE_RULES, COMPILE_CHEAP_PATH)[1] <= (
        cost if first >= COMPILE_CHEAP_PATH else first
    )
    # searching every rule always (no cheap path) gives the best of them, whichever goes first
    every = min(elimination_path(masks, cards, r, {})[1] for r in ELIMINATION_RULES)
    assert cheapest_path(masks, cards, COMPILE_RULES, 0)[1] == cheapest_path(masks, cards, cheap=0)[1] == every


def random_codes(engine: Engine, rng: np.random.Generator, n: int) -> np.ndarray:
    """n random cases as an evidence array: each node unknown or one of its states, all equally likely."""
    return np.stack([rng.integers(UNKNOWN, engine.card[node], n) for node in engine.nodes], axis=1).astype(np.int16)


def test_the_engine_orders_nodes_parents_first_then_by_name() -> None:
    assert node_order({"z": (), "b": ("z", "a"), "a": (), "c": ("a",)}) == ("a", "c", "z", "b")
    order = Engine(SMALL).nodes
    assert order == ("r", "a", "f", "s", "b", "g", "h")
    assert all(order.index(parent) < order.index(node) for node in order for parent in SMALL.get_parents(node))
    with pytest.raises(ValueError, match="cycle through 'x'"):
        node_order({"x": ("y",), "y": ("x",), "w": ()})
    with pytest.raises(ValueError, match="'x' has the parent 'q', which has no CPD"):
        node_order({"x": ("q",)})


def test_the_order_of_the_cpds_changes_nothing() -> None:
    # the same graph and tables with the CPDs listed backwards: the same nodes, plans and answers to the bit
    backwards = DiscreteBayesianNetwork(list(SMALL.edges()))
    backwards.add_cpds(*reversed([cpd.copy() for cpd in SMALL.get_cpds()]))
    a, b = Engine(SMALL), Engine(backwards)
    assert [c.variable for c in backwards.get_cpds()] != [c.variable for c in SMALL.get_cpds()]
    assert a.nodes == b.nodes and a.plan_bits == b.plan_bits
    rng = np.random.default_rng(5)
    codes = random_codes(a, rng, 300)
    found_a, found_b = a.marginals(codes, a.nodes), b.marginals(codes, b.nodes)
    for node in a.nodes:
        assert np.array_equal(found_a[node], found_b[node], equal_nan=True), node


def test_forward_priors_are_exact_on_a_polytree_and_close_on_the_built_in_network() -> None:
    # a polytree: every node's parents are independent, so one pass down the node order is exact
    tree = DiscreteBayesianNetwork([("r", "a"), ("s", "a"), ("a", "b"), ("a", "c"), ("t", "c")])
    tree.add_cpds(
        TabularCPD("r", 3, [[0.5], [0.3], [0.2]]),
        TabularCPD("s", 2, [[0.6], [0.4]]),
        TabularCPD("t", 2, [[0.1], [0.9]]),
        TabularCPD("a", 2, [[0.9, 0.6, 0.3, 0.8, 0.2, 0.5], [0.1, 0.4, 0.7, 0.2, 0.8, 0.5]], ["r", "s"], [3, 2]),
        TabularCPD("b", 3, [[0.7, 0.2], [0.2, 0.5], [0.1, 0.3]], ["a"], [2]),
        TabularCPD("c", 2, [[0.9, 0.4, 0.5, 0.2], [0.1, 0.6, 0.5, 0.8]], ["a", "t"], [2, 2]),
    )
    eliminate = eliminator(tree)
    for node, prior in forward_priors(Engine(tree)).items():
        assert np.abs(prior - eliminate.query([node], show_progress=False).values).max() <= EXACT, node
    # not a polytree (causes share their risk factors): a guide only, within 1% on the findings' priors
    engine = load_engine().engine
    exact = engine.marginals(np.full((1, len(engine.nodes)), UNKNOWN, dtype=np.int16), list(engine._cancelling))
    approximate = forward_priors(engine)
    for node, found in exact.items():
        assert np.abs(approximate[node] - found[0]).max() <= 0.01 * found[0].max(), node


def test_the_plans_kept_are_bounded_and_a_dropped_plan_is_compiled_again(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    unbounded = Engine(SMALL)
    codes = random_codes(unbounded, rng, 400)
    expected = unbounded.marginals(codes, unbounded.nodes)
    unbounded.marginals(codes, unbounded.nodes)
    plans = unbounded.plans_compiled
    assert unbounded.plans_kept == plans >= 2  # compiled once, met again
    monkeypatch.setattr(engine_module, "_PLANS_KEPT", 1)
    bounded = Engine(SMALL)
    for _ in range(2):
        found = bounded.marginals(codes, bounded.nodes)
        for node in bounded.nodes:
            assert np.array_equal(found[node], expected[node], equal_nan=True), node
        assert bounded.plans_kept == 1
    # the second call met every pattern again after its plan was dropped
    assert bounded.plans_compiled == 2 * plans


def test_heavy_groups_on_helper_threads_give_the_same_answers_to_the_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    # the built-in network's factorised form: random cases there run a plan or so each
    network = pain_factorised_network()
    one = Engine(network, threads=1)
    codes = random_codes(one, np.random.default_rng(12), 60)
    wanted = [*load_spec().cause_ids, "fever", "age"]
    expected = one.marginals(codes, wanted)
    started = []
    monkeypatch.setattr(engine_module, "_THREAD_WORK", 0)  # every group heavy
    real_run = engine_module.run_plan

    def run_plan(*args: object) -> None:
        name = threading.current_thread().name
        started.append(name)
        if name.startswith("engine"):
            time.sleep(0.05)  # a helper slower than compiling the next plan: its queue fills, the caller runs some
        real_run(*args)

    monkeypatch.setattr(engine_module, "run_plan", run_plan)
    two = Engine(network, threads=2)
    found = two.marginals(codes, wanted)
    for node in wanted:
        assert np.array_equal(found[node], expected[node], equal_nan=True), node
    helped = sum(name.startswith("engine") for name in started)
    assert 0 < helped < len(started)  # both threads ran groups
    assert not [t for t in threading.enumerate() if t.name.startswith("engine")]  # the helpers are gone
    # a worker process among others sets one thread: then nothing runs on a helper
    started.clear()
    one.marginals(codes, wanted)
    assert started and not any(name.startswith("engine") for name in started)


PLAN_DIGEST = """
import hashlib
from model.inference.engine import load_engine
engine = load_engine()
shapes = []
for key in range(64):
    plan = engine._plan(key)
    shapes.append([(leaf.node, leaf.scope, leaf.roots, leaf.attached) for leaf in plan.leaves])
    shapes.append([step.forward for step in plan.steps])
print(hashlib.sha256(repr(shapes).encode()).hexdigest())
"""


def test_every_run_compiles_the_same_plans_whatever_the_hash_seed() -> None:
    # The same contraction order and the same order of products in every run, so the same file gives the same
    # bytes: sets of node names iterate in an order that changes with the hash seed, and nothing may follow it.
    digests = set()
    for seed in ("1", "2", "3"):
        environment = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", PLAN_DIGEST], capture_output=True, text=True, env=environment, timeout=300
        )
        assert done.returncode == 0, done.stderr
        digests.add(done.stdout.strip())
    assert len(digests) == 1


def test_every_tensor_of_a_plan_lays_its_axes_out_in_one_order(monkeypatch: pytest.MonkeyPatch) -> None:
    # Leaves and results in one order, the roots innermost: einsum's operands then agree on their memory order
    # (they disagreed, and the heaviest steps ran 3-16 times slower). Slower is all a lapse would show, so check it.
    engine = load_engine().engine
    rank = {node: -i for i, node in enumerate(engine.nodes)}
    codes = random_codes(engine, np.random.default_rng(8), 40)
    results: list[np.ndarray] = []
    einsum = np.einsum

    def recorded(*operands: object, **options: object) -> np.ndarray:
        found = einsum(*operands, **options)
        results.append(found)
        return found

    monkeypatch.setattr(np, "einsum", recorded)  # execute.py calls numpy's own einsum
    engine.marginals(codes, engine.nodes)
    monkeypatch.undo()
    plans = list(engine._plans.values())
    assert plans and results
    for plan in plans:
        for scope in plan.scopes:
            assert list(scope) == sorted(scope, key=rank.__getitem__), scope
        for leaf in plan.leaves:
            assert leaf.table.flags.c_contiguous
            axes = (leaf.node, *leaf.scope) if leaf.kind == "absorbed" else leaf.scope
            assert leaf.table.shape[: len(axes)] == tuple(engine.card[v] for v in axes), leaf.node
    # every step's result and gradient is written in the order of its subscripts, case axis innermost
    big = [r for r in results if r.ndim > 2]
    assert big and all(r.flags.c_contiguous for r in big)


def test_a_product_that_sums_nothing_is_multiplied_in_the_step_that_consumes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An outer product written out and read back by the step that sums it was the heaviest memory traffic of
    # random cases; multiplied in that step's einsum instead (three operands at most), it is never written.
    engine = Engine(pain_factorised_network(), threads=1)
    codes = random_codes(engine, np.random.default_rng(3), 60)
    engine.marginals(codes, engine.nodes)
    plans = list(engine._plans.values())

    def entries(scope: tuple[str, ...]) -> int:
        return int(np.prod([engine.card[v] for v in scope]))

    fused = 0
    for plan in plans:
        consumer = {i: step for step in plan.steps for i in step.inputs}
        for step in plan.steps:
            assert 1 <= len(step.inputs) <= plans_module._FUSED_OPERANDS
            fused += len(step.inputs) == 3
            union = {v for i in step.inputs for v in plan.scopes[i]}
            if not union or set(plan.scopes[step.output]) != union or len(step.inputs) != 2:
                continue  # a number per sub-row, or a step that sums something or was fused already
            if step.output not in consumer:
                continue
            # written out: its consumer had no room for two more operands, or it is small beside the consumer
            after = consumer[step.output]
            union_after = {v for i in after.inputs for v in plan.scopes[i]}
            assert len(after.inputs) > 2 or entries(plan.scopes[step.output]) < 0.5 * entries(tuple(union_after))
    assert fused
    # the same plans with every product written out: more steps, more memory, the same answers
    monkeypatch.setattr(plans_module, "_FUSED_SHARE", float("inf"))
    apart = Engine(pain_factorised_network(), threads=1)
    for plan in plans[:30]:
        written = compile_plan(apart, frozenset(plan.conditioned), frozenset(plan.factorised))
        assert len(written.steps) >= len(plan.steps) and written.bytes_per_sub_row >= plan.bytes_per_sub_row
    assert sum(len(compile_plan(apart, frozenset(p.conditioned), frozenset(p.factorised)).steps) for p in plans) > sum(
        len(p.steps) for p in plans
    )
    ours, theirs = engine.marginals(codes, engine.nodes), apart.marginals(codes, engine.nodes)
    for node in engine.nodes:  # (a case whose evidence is impossible is nan both ways)
        np.testing.assert_allclose(ours[node], theirs[node], rtol=0, atol=1e-12, err_msg=node)
