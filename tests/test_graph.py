"""The layered layout, the drawing, Markov blankets and the independence facts the notebooks state."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from pgmpy.inference import VariableElimination

from model.inspect.graph import (
    clinical_facts,
    definition_positions,
    draw_network,
    edge_crossings,
    edges,
    is_independent,
    layered_positions,
    markov_blanket,
    node_layers,
)
from model.network.build import load_network
from model.network.parse import read_spec
from model.network.spec import PRESENT, load_spec

TINY = """
[[context]]
id = "activity"
states = ["a", "b"]
prior = { p = [0.5, 0.5], source = ["t"], why = "test" }

[[context]]
id = "sex"
states = ["female", "male"]
prior = { p = [0.5, 0.5], source = ["t"], why = "test" }

[[cause]]
id = "first"
parents = ["activity"]
base = [{ activity = ["a", "b"], p = 0.1, source = ["t"], why = "test" }]

[[cause]]
id = "second"
parents = ["sex"]
base = [{ p = 0.1, source = ["t"], why = "test" }]
odds = [{ parent = "sex", state = "male", ratio = 2.0, source = ["t"], why = "test" }]
"""


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def test_every_edge_runs_from_a_lower_layer_to_a_higher_one(spec):
    layers = node_layers(spec)
    assert all(layers[u] < layers[v] for u, v in edges(spec))
    assert {layers[c.id] for c in spec.contexts} == {0}
    assert {layers[f.id] for f in spec.findings} == {max(layers.values())}


def test_a_cause_of_a_cause_sits_in_its_own_column(spec):
    layers = node_layers(spec)
    assert layers["nerve_root_compression"] == layers["disc_herniation"] + 1
    assert layers["chronic_course"] > layers["disc_degeneration"]


def test_edge_crossings_counts_two_crossing_edges():
    tiny = read_spec(TINY)
    crossed = {"activity": (0.0, 1.0), "sex": (0.0, 0.0), "first": (1.0, 0.0), "second": (1.0, 1.0)}
    straight = {**crossed, "first": (1.0, 1.0), "second": (1.0, 0.0)}
    assert edge_crossings(tiny, crossed) == 1
    assert edge_crossings(tiny, straight) == 0


def test_layout_crosses_fewer_edges_than_the_definition_order(spec):
    ordered = layered_positions(spec)
    assert edge_crossings(spec, ordered) < 0.7 * edge_crossings(spec, definition_positions(spec))


def test_layout_gives_every_node_its_own_place_and_is_repeatable(spec):
    positions = layered_positions(spec)
    assert set(positions) == set(spec.nodes)
    assert len(set(positions.values())) == len(positions)
    assert layered_positions(spec) == positions


def test_markov_blanket_matches_pgmpy(spec):
    network = load_network()
    for node in spec.nodes:
        blanket = markov_blanket(spec, node)
        assert set().union(*blanket.values()) == set(network.get_markov_blanket(node)), node


def test_drawing_labels_every_node_and_marks_the_focus(spec):
    fig, ax = plt.subplots()
    try:
        draw_network(spec, ax, focus="fragility_fracture")
        labels = {t.get_text(): t for t in ax.texts}
        for node in spec.nodes:
            assert any(text.startswith(node.replace("_", " ")) for text in labels), node
        assert labels["fragility fracture (hidden)"].get_fontweight() == "bold"
        assert labels["sex"].get_alpha() < 1  # not in a fracture's Markov blanket
        assert labels["age"].get_alpha() == 1
    finally:
        plt.close(fig)


def test_a_bruise_is_a_leaf_so_its_causes_screen_it_off_from_everything(spec):
    # The first fact says "whatever else is known": true only while nothing depends on the bruise.
    assert not [child for parent, child in edges(spec) if parent == "bruising"]
    others = set(spec.nodes) - {"bruising", *spec.parents("bruising")}
    for node in sorted(others):
        assert is_independent(spec, "bruising", node, (*spec.parents("bruising"), *(others - {node})))


def test_each_clinical_fact_is_what_the_structure_says(spec):
    network = load_network()
    for fact in clinical_facts(spec):
        assert is_independent(spec, fact.a, fact.b, fact.given) is fact.independent, fact.says
        assert network.is_dconnected(fact.a, fact.b, observed=list(fact.given)) is not fact.independent, fact.says


def _p(ve, node, state, evidence):
    return float(ve.query([node], evidence=evidence, show_progress=False).get_value(**{node: state}))


def test_independent_facts_hold_in_the_numbers_and_dependent_ones_do_not(spec):
    ve = VariableElimination(load_network())
    for fact in clinical_facts(spec):
        given = {node: spec.states(node)[-1] for node in fact.given}
        target = spec.states(fact.b)[-1]
        values = [_p(ve, fact.b, target, {**given, fact.a: s}) for s in spec.states(fact.a)]
        spread = max(values) - min(values)
        if fact.independent:
            assert spread < 1e-9, fact.says
        else:
            assert spread > 1e-4, fact.says


def test_the_directions_the_facts_claim_are_right(spec):
    ve = VariableElimination(load_network())
    contexts = {c.id: c.states[0] for c in spec.contexts}
    with_swelling = {**contexts, "swelling": "yes"}
    assert _p(ve, "disc_degeneration", PRESENT, {**with_swelling, "bruising": "yes"}) < _p(
        ve, "disc_degeneration", PRESENT, {**with_swelling, "bruising": "no"}
    )
    fracture = {"compression_fracture": PRESENT}
    assert _p(ve, "fall_or_impact", "yes", {**fracture, "age": "from_70"}) < _p(
        ve, "fall_or_impact", "yes", {**fracture, "age": "from_30_to_49"}
    )
    assert _p(ve, "straight_leg_raise", "positive", {"numbness": "legs"}) > _p(
        ve, "straight_leg_raise", "positive", {"numbness": "none"}
    )
