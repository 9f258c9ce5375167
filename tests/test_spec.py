"""The network definition: it loads and checks, and a malformed one fails naming the node and the row."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.network.build import build_network, load_network, reference_eliminator
from model.network.parse import read_spec
from model.network.spec import SpecError, load_spec

NETWORK_TOML = Path(__file__).resolve().parent.parent / "model" / "data" / "network.toml"
CONTRACT_CAUSES = (
    "muscle_strain",
    "doms",
    "myofascial_spasm",
    "postural_weakness",
    "disc_degeneration",
    "disc_herniation",
    "nerve_root_compression",
    "facet_arthrosis",
    "inflammatory_arthritis",
    "compression_fracture",
    "soft_tissue_bleeding",
    "kidney_disease",
    "pelvic_organ_disease",
    "abdominal_hernia",
    "tumor_or_infection",
    "spinal_malignancy",
    "spinal_infection",
    "spinal_stenosis",
    "cauda_equina_syndrome",
    "aortic_aneurysm",
)


def test_the_built_in_network_passes_pgmpys_check():
    model = load_network()
    assert model.check_model()
    assert set(CONTRACT_CAUSES) <= set(model.nodes())


def test_every_contract_cause_is_a_reported_binary_node():
    spec = load_spec()
    assert set(spec.cause_ids) == set(CONTRACT_CAUSES)
    for cause in spec.causes:
        assert cause.states == ("absent", "present")


def test_tumour_or_infection_is_reported_as_the_union_of_its_finer_causes_and_never_ranked():
    spec = load_spec()
    union = spec.nodes["tumor_or_infection"]
    assert union.kind == "any_of"
    assert set(union.parents) == {"spinal_malignancy", "spinal_infection"}
    assert "tumor_or_infection" in spec.cause_ids
    assert "tumor_or_infection" not in spec.ranked_cause_ids
    assert set(spec.ranked_cause_ids) == set(CONTRACT_CAUSES) - {"tumor_or_infection"}
    # P(union) = P(M) + P(I) - P(M and I), by pgmpy's own exact elimination
    ve = reference_eliminator()
    evidence = {**spec.fixed_evidence, "cancer_history": "yes", "fever": "yes"}
    joint = ve.query(["spinal_malignancy", "spinal_infection"], evidence=evidence, joint=True, show_progress=False)
    union_p = ve.query(["tumor_or_infection"], evidence=evidence, show_progress=False).get_value(
        tumor_or_infection="present"
    )
    none = joint.get_value(spinal_malignancy="absent", spinal_infection="absent")
    assert union_p == pytest.approx(1 - none, abs=1e-12)


def test_back_pain_is_a_chain_of_small_tables_observed_present_in_every_case():
    spec = load_spec()
    assert spec.fixed_evidence == {"back_pain": "present"}
    steps = [c for c in spec.causes if c.kind == "pain_step"]
    assert steps[-1].id == "back_pain"
    assert {s.pain.cause for s in steps} == set(spec.ranked_cause_ids)
    assert all(len(s.parents) <= 2 for s in steps)
    # the chain is the noisy-OR: P(no pain | causes) = (1 - leak) * prod over present causes of (1 - p)
    ve = reference_eliminator()
    present = {"muscle_strain", "spinal_stenosis"}
    evidence = {c: ("present" if c in present else "absent") for c in spec.ranked_cause_ids}
    expected = 1 - steps[0].leak.p
    for s in steps:
        if s.pain.cause in present:
            expected *= 1 - s.pain.p
    p_none = ve.query(["back_pain"], evidence=evidence, show_progress=False).get_value(back_pain="absent")
    assert p_none == pytest.approx(expected, abs=1e-12)


def test_the_network_is_built_once_and_shared():
    assert load_network() is load_network()


def _broken(old: str, new: str) -> str:
    text = NETWORK_TOML.read_text(encoding="utf-8")
    assert old in text, f"test fixture out of date: {old!r} is not in network.toml"
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'leak = { p = 0.003, source = ["lifting.1"], why = "A bruise',
            'leak = { p = 1.7, source = ["lifting.1"], why = "A bruise',
            "finding 'bruising', leak: p=1.7 is outside 0-1",
        ),
        (
            'links = [\n  { cause = "disc_degeneration", p = [0.60, 0.35, 0.05]',
            'links = [\n  { cause = "disc_degeneration", p = [0.60, 0.35, 0.15]',
            "finding 'numbness', link 1 (disc_degeneration): probabilities sum to 1.1, not 1",
        ),
        (
            '{ activity = ["deadlift", "squats"], p = 0.035, source = ["deadlift.6", "squats.9"], why',
            '{ activity = ["deadlift", "squats"], p = 0.035, source = [], why',
            "cause 'doms', base row 1: no source given",
        ),
        (
            '{ activity = ["deadlift", "squats"], p = 0.035, source = ["deadlift.6", "squats.9"], why',
            '{ activity = ["deadlift"], p = 0.035, source = ["deadlift.6", "squats.9"], why',
            "cause 'doms': base rows must cover each activity once (missing ['squats']",
        ),
        (
            '{ parent = "new_to_activity", state = "yes", ratio = 10.0',
            '{ parent = "new_to_activity", state = "yes", ratio = -2',
            "cause 'doms', odds row 1: ratio -2 must be a positive number",
        ),
        (
            'parents = ["activity", "new_to_activity", "more_than_usual", "fall_or_impact", "major_trauma"]',
            'parents = ["activity", "new_to_activty", "more_than_usual", "fall_or_impact", "major_trauma"]',
            "cause 'doms': parent 'new_to_activty' is not a context or cause node",
        ),
        (
            'id = "headache_dizziness"\nlabel = "Headaches or dizziness"\nkind = "noisy_max"',
            'id = "headache_dizziness"\nlabel = "Headaches or dizziness"\nkind = "noisy_or"',
            "finding 'headache_dizziness': kind 'noisy_or' is not one of noisy_max, mixture",
        ),
        (
            '{ cause = "disc_degeneration", p = 0.25, source = ["sitting.4"], why = "Cervical',
            '{ cause = "disc_degeneratio", p = 0.25, source = ["sitting.4"], why = "Cervical',
            "finding 'headache_dizziness': link from 'disc_degeneratio', which is not a cause",
        ),
        (
            '{ cause = "disc_degeneration", p = 0.25, source = ["sitting.4"], why = "Cervical osteochondrosis brings '
            'headaches and dizziness (sitting.4)." }',
            '{ cause = "disc_degeneration", p = 0.25, source = ["sitting.4"], why = "" }',
            "finding 'headache_dizziness', link 1 (disc_degeneration): no rationale ('why') given",
        ),
    ],
)
def test_a_malformed_definition_fails_naming_the_node_and_row(old, new, message):
    with pytest.raises(SpecError) as caught:
        read_spec(_broken(old, new))
    assert message in str(caught.value)


def test_a_cycle_among_causes_is_refused():
    text = _broken(
        'parents = ["disc_degeneration", "disc_herniation", "facet_arthrosis", "inflammatory_arthritis"',
        'parents = ["nerve_root_compression", "disc_degeneration", "disc_herniation", "facet_arthrosis", '
        '"inflammatory_arthritis"',
    )
    text = text.replace(
        'odds = [\n  { parent = "disc_degeneration", state = "present", ratio = 30.0',
        'odds = [\n  { parent = "nerve_root_compression", state = "present", ratio = 2.0, source = ["bending.5"], '
        'why = "test" },\n  { parent = "disc_degeneration", state = "present", ratio = 30.0',
    )
    text = text.replace(
        'parents = ["activity", "disc_herniation", "disc_degeneration", "facet_arthrosis"]',
        'parents = ["activity", "disc_herniation", "disc_degeneration", "facet_arthrosis", "chronic_course"]',
    ).replace(
        'odds = [\n  { parent = "disc_herniation", state = "present", ratio = 40.0',
        'odds = [\n  { parent = "chronic_course", state = "present", ratio = 2.0, source = ["bending.5"], '
        'why = "test" },\n  { parent = "disc_herniation", state = "present", ratio = 40.0',
    )
    with pytest.raises(SpecError, match="depends on itself"):
        read_spec(text)


def test_a_table_column_that_does_not_sum_to_one_fails_at_build_naming_the_node(monkeypatch):
    import numpy as np

    import model.network.build as network

    real = network.all_tables

    def corrupt(spec):
        tables = real(spec)
        table, parents = tables["swelling"]
        bad = table.copy()
        bad[1, 0, 0, 0, 0] += 0.3
        tables["swelling"] = (np.asarray(bad), parents)
        return tables

    monkeypatch.setattr(network, "all_tables", corrupt)
    with pytest.raises(SpecError, match=r"node 'swelling': table column 1 sums to 1\.3"):
        build_network(load_spec())


def test_invalid_toml_is_a_spec_error():
    with pytest.raises(SpecError, match="not valid TOML"):
        read_spec("[[context]\nid = ")
