"""Answer swings and tornado frames, and varying one number of the network through a modified spec."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from model.cases.evidence import evidence_from_case
from model.cases.fields import parse_case
from model.inference.reference import posteriors
from model.inspect.explain import answer_effects
from model.inspect.sensitivity import UNKNOWN, answer_swings, draw_tornado, sweep, tornado_frame, with_link, with_odds
from model.network.build import build_network
from model.network.spec import load_spec

TRAMPOLINE = {"activity": "jumping", "age": 30, "fall_or_impact": "yes", "numbness": "legs", "severity": 9}
NIGHT_PAIN = {"activity": "sitting", "age": 66, "night_pain": "yes", "weight_loss": "yes", "duration_days": 45}


@pytest.fixture(scope="module")
def swings():
    return answer_swings(evidence_from_case(TRAMPOLINE))


def test_swings_hold_the_case_and_the_answer_left_out(swings):
    evidence = evidence_from_case(TRAMPOLINE)
    now = posteriors(evidence)
    current = swings[swings["current"]]
    assert set(current["field"]) == set(evidence) - set(load_spec().fixed_evidence)
    for _, row in current.iterrows():
        assert row["p"] == pytest.approx(now[row["cause"]])
    effects = answer_effects(TRAMPOLINE).set_index(["field", "cause"])
    unknown = swings[swings["state"] == UNKNOWN].set_index(["field", "cause"])
    for key, row in unknown.iterrows():
        assert row["p"] == pytest.approx(effects.loc[key, "p_without"])


def test_tornado_frame_brackets_the_case_widest_first(swings):
    frame = tornado_frame(swings, "compression_fracture")
    assert set(frame.index) == set(evidence_from_case(TRAMPOLINE)) - set(load_spec().fixed_evidence)
    assert (frame["low"] <= frame["current"] + 1e-12).all()
    assert (frame["current"] <= frame["high"] + 1e-12).all()
    assert list(frame["swing"]) == sorted(frame["swing"], reverse=True)
    assert frame.loc["numbness", "high_state"] == "legs"
    assert frame.loc["fall_or_impact", "low_state"] == "no"


def test_tornado_chart_has_a_bar_per_answer(swings):
    frame = tornado_frame(swings, "compression_fracture")
    fig, ax = plt.subplots()
    try:
        draw_tornado(frame, ax, "fracture")
        assert len(ax.patches) == len(frame)
        assert [t.get_text() for t in ax.get_yticklabels()][-1].startswith(frame.index[0])
    finally:
        plt.close(fig)


def test_with_link_changes_that_link_only():
    spec = load_spec()
    changed = with_link(spec, "weight_loss", "spinal_malignancy", 0.3)
    link = next(lk for lk in changed.nodes["weight_loss"].links if lk.cause == "spinal_malignancy")
    assert link.p == (0.7, 0.3)
    assert changed.nodes["bruising"] == spec.nodes["bruising"]
    assert load_spec().nodes["weight_loss"] == spec.nodes["weight_loss"]
    table = build_network(changed).get_cpds("weight_loss")
    leak = spec.nodes["weight_loss"].leak.p[1]
    present = table.get_value(weight_loss="yes", spinal_malignancy="present", spinal_infection="absent")
    assert present == pytest.approx(1 - (1 - leak) * 0.7)


def test_with_link_takes_a_distribution_for_an_ordered_finding():
    changed = with_link(load_spec(), "numbness", "traumatic_fracture", (0.5, 0.1, 0.4))
    link = next(lk for lk in changed.nodes["numbness"].links if lk.cause == "traumatic_fracture")
    assert link.p == (0.5, 0.1, 0.4)


@pytest.mark.parametrize(
    ("finding", "cause", "p", "message"),
    [
        ("activity", "doms", 0.2, "not a finding"),
        ("weight_loss", "doms", 0.2, "has no link from 'doms'"),
        ("numbness", "traumatic_fracture", 0.2, "not a distribution"),
        ("weight_loss", "spinal_malignancy", (0.5, 0.6), "not a distribution"),
    ],
)
def test_with_link_refuses_what_the_spec_would(finding, cause, p, message):
    with pytest.raises(ValueError, match=message):
        with_link(load_spec(), finding, cause, p)


def test_with_odds_changes_one_ratio_and_refuses_unknown_rows():
    spec = load_spec()
    node = "fragility_fracture"
    changed = with_odds(spec, node, "fall_or_impact", "yes", 20.0)
    ratios = {(o.parent, o.state): o.ratio for o in changed.nodes[node].odds}
    assert ratios[("fall_or_impact", "yes")] == 20.0
    assert [o for o in changed.nodes[node].odds if o.parent == "age"] == [
        o for o in spec.nodes[node].odds if o.parent == "age"
    ]
    with pytest.raises(ValueError, match="no odds ratio for sex=male"):
        with_odds(spec, node, "sex", "male", 2.0)
    with pytest.raises(ValueError, match="must be positive"):
        with_odds(spec, node, "fall_or_impact", "yes", 0.0)
    with pytest.raises(ValueError, match="'compression_fracture' has no odds ratio"):  # a union has no table of its own
        with_odds(spec, "compression_fracture", "fall_or_impact", "yes", 2.0)


def test_sweep_at_the_original_value_is_the_projects_answer():
    spec = load_spec()
    evidence = evidence_from_case(NIGHT_PAIN)
    frame = sweep({0.0: spec}, evidence, spec.cause_ids, parse_case(NIGHT_PAIN))
    expected = posteriors(evidence)
    assert np.allclose([frame.loc[0.0, c] for c in spec.cause_ids], [expected[c] for c in spec.cause_ids])
    assert frame.loc[0.0, "care"] == "urgent"


def test_a_stronger_link_raises_the_cause_it_points_to():
    spec = load_spec()
    evidence = evidence_from_case(NIGHT_PAIN)
    values = (0.05, 0.15, 0.3)
    variants = {p: with_link(spec, "weight_loss", "spinal_malignancy", p) for p in values}
    tumour = sweep(variants, evidence, ("spinal_malignancy",))["spinal_malignancy"]
    assert list(tumour) == sorted(tumour)
    assert tumour.iloc[-1] > tumour.iloc[0]
