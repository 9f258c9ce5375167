"""Known answers: small slices of the network computed by hand, checked against the built tables and pgmpy."""

from __future__ import annotations

import pytest

from model.inference.reference import reference_posteriors
from model.network.build import build_network
from model.network.parse import read_spec
from model.network.tables import finding_table

TINY = """
[[context]]
id = "activity"
states = ["lifting", "walking"]
prior = { p = [0.5, 0.5], source = ["walking.1"], why = "even" }

[[cause]]
id = "strain"
parents = ["activity"]
base = [
  { activity = ["lifting"], p = 0.4, source = ["lifting.1"], why = "w" },
  { activity = ["walking"], p = 0.1, source = ["walking.4"], why = "w" },
]
odds = []

[[cause]]
id = "bleed"
parents = ["activity"]
base = [
  { activity = ["lifting", "walking"], p = 0.2, source = ["lifting.1"], why = "w" },
]
odds = []

[[finding]]
id = "bruise"
kind = "noisy_max"
states = ["no", "yes"]
leak = { p = 0.1, source = ["lifting.1"], why = "w" }
links = [
  { cause = "strain", p = 0.5, source = ["lifting.1"], why = "w" },
  { cause = "bleed", p = 0.8, source = ["lifting.1"], why = "w" },
]
"""


def _posterior(evidence: dict[str, str], node: str) -> float:
    from pgmpy.inference import VariableElimination

    model = build_network(read_spec(TINY))
    factor = VariableElimination(model).query([node], evidence=evidence, show_progress=False)
    return float(factor.get_value(**{node: "present"}))


def test_noisy_or_posterior_by_hand():
    # P(bruise=yes | strain, bleed) = 1 - 0.9 * 0.5^strain * 0.2^bleed.
    # Given lifting: P(strain)=0.4, P(bleed)=0.2.
    # P(yes, strain) = 0.4 * [0.2 * (1 - 0.9*0.5*0.2) + 0.8 * (1 - 0.9*0.5)] = 0.4 * (0.182 + 0.44) = 0.2488
    # P(yes, no strain) = 0.6 * [0.2 * (1 - 0.9*0.2) + 0.8 * (1 - 0.9)] = 0.6 * (0.164 + 0.08) = 0.1464
    expected = 0.2488 / (0.2488 + 0.1464)
    assert _posterior({"activity": "lifting", "bruise": "yes"}, "strain") == pytest.approx(expected, abs=1e-12)


def test_explaining_away_by_hand():
    # Knowing the bleed is present explains the bruise, so strain falls back towards its prior.
    # P(strain | lifting, bleed, yes) = 0.4*(1-0.9*0.5*0.2) / (0.4*0.91 + 0.6*(1-0.9*0.2)) = 0.364 / 0.856
    p = _posterior({"activity": "lifting", "bruise": "yes", "bleed": "present"}, "strain")
    assert p == pytest.approx(0.364 / 0.856, abs=1e-12)
    assert p < _posterior({"activity": "lifting", "bruise": "yes"}, "strain")


def test_unknown_activity_is_summed_out_by_hand():
    # P(strain) = 0.5*0.4 + 0.5*0.1 = 0.25; bleed independent of strain.
    # P(yes | strain) = 0.2*0.91 + 0.8*0.55 = 0.622; P(yes | no strain) = 0.2*0.82 + 0.8*0.1 = 0.244
    expected = 0.25 * 0.622 / (0.25 * 0.622 + 0.75 * 0.244)
    assert _posterior({"bruise": "yes"}, "strain") == pytest.approx(expected, abs=1e-12)


def test_noisy_max_three_levels_by_hand():
    spec = read_spec(
        TINY.replace('states = ["no", "yes"]', 'states = ["none", "some", "much"]')
        .replace("leak = { p = 0.1,", "leak = { p = [0.7, 0.2, 0.1],")
        .replace('{ cause = "strain", p = 0.5,', '{ cause = "strain", p = [0.5, 0.3, 0.2],')
        .replace('{ cause = "bleed", p = 0.8,', '{ cause = "bleed", p = [0.2, 0.2, 0.6],')
    )
    table = finding_table(spec.findings[0])  # axes: (level, strain, bleed)
    # Both present: CDF(y) = leak_cdf * strain_cdf * bleed_cdf = [0.7*0.5*0.2, 0.9*0.8*0.4, 1]
    cdf = [0.07, 0.288, 1.0]
    assert table[:, 1, 1] == pytest.approx([cdf[0], cdf[1] - cdf[0], 1 - cdf[1]], abs=1e-12)
    assert table[:, 0, 0] == pytest.approx([0.7, 0.2, 0.1], abs=1e-12)


def test_mixture_by_hand():
    spec = read_spec(
        TINY.replace('kind = "noisy_max"', 'kind = "mixture"')
        .replace('leak = { p = 0.1, source = ["lifting.1"]', 'leak = { weight = 1.0, p = 0.1, source = ["lifting.1"]')
        .replace('{ cause = "strain", p = 0.5,', '{ cause = "strain", weight = 3.0, p = 0.5,')
        .replace('{ cause = "bleed", p = 0.8,', '{ cause = "bleed", weight = 1.0, p = 0.8,')
    )
    table = finding_table(spec.findings[0])
    assert table[1, 1, 1] == pytest.approx((0.1 + 3 * 0.5 + 0.8) / 5, abs=1e-12)
    assert table[1, 1, 0] == pytest.approx((0.1 + 3 * 0.5) / 4, abs=1e-12)


def test_logistic_cause_of_the_real_network_by_hand():
    # Before anything is known of the back (no back pain evidence): doms after a deadlift has base 0.035, new to it
    # odds ratio 10; not more than usual, no fall and no trauma are the reference.
    odds = 0.035 / 0.965 * 10
    case = {"activity": "deadlift", "new_to_activity": "yes", "more_than_usual": "no", "fall_or_impact": "no"}
    p = reference_posteriors({**case, "major_trauma": "no"}, ("doms",))
    assert p["doms"] == pytest.approx(odds / (1 + odds), abs=1e-12)


def test_malignancy_rate_combines_age_and_cancer_history_by_hand():
    # base 0.0002 at 30-49 with no cancer history; age 60-69: x7; cancer history: x35.
    odds = 0.0002 / 0.9998 * 7 * 35
    p = reference_posteriors({"age": "from_60_to_69", "cancer_history": "yes"}, ("spinal_malignancy",))
    assert p["spinal_malignancy"] == pytest.approx(odds / (1 + odds), abs=1e-12)


PAIN = """
[[context]]
id = "activity"
states = ["lifting", "walking"]
prior = { p = [0.5, 0.5], source = ["walking.1"], why = "even" }

[[cause]]
id = "strain"
parents = ["activity"]
base = [{ activity = ["lifting", "walking"], p = 0.3, source = ["lifting.1"], why = "w" }]
odds = []

[[cause]]
id = "fracture"
parents = ["activity"]
base = [{ activity = ["lifting", "walking"], p = 0.1, source = ["jumping.6"], why = "w" }]
odds = []

[[finding]]
id = "bruise"
kind = "noisy_max"
states = ["no", "yes"]
leak = { p = 0.01, source = ["lifting.1"], why = "w" }
links = [{ cause = "fracture", p = 0.5, source = ["lifting.1"], why = "w" }]

[pain]
id = "back_pain"
leak = { p = 0.05, source = ["deyo2001"], why = "w" }
links = [
  { cause = "strain", p = 0.9, source = ["lifting.1"], why = "w" },
  { cause = "fracture", p = 0.8, source = ["jumping.6"], why = "w" },
]
"""


def test_back_pain_makes_the_causes_compete_by_hand():
    from pgmpy.inference import VariableElimination

    ve = VariableElimination(build_network(read_spec(PAIN)))

    def p(node: str, evidence: dict[str, str]) -> float:
        return float(ve.query([node], evidence=evidence, show_progress=False).get_value(**{node: "present"}))

    # P(pain | strain, fracture) = 1 - 0.95 * 0.1^strain * 0.2^fracture; strain 0.3, fracture 0.1, independent.
    def pain(s: int, f: int) -> float:
        return 1 - 0.95 * (0.1 if s else 1) * (0.2 if f else 1)

    joint = {(s, f): (0.3 if s else 0.7) * (0.1 if f else 0.9) * pain(s, f) for s in (0, 1) for f in (0, 1)}
    total = sum(joint.values())
    pain_only = {"back_pain": "present"}
    assert p("strain", pain_only) == pytest.approx((joint[1, 0] + joint[1, 1]) / total, abs=1e-12)
    # Once a fracture is known, strain falls back towards its rate without pain: the fracture explains the pain.
    given_fracture = (joint[1, 1]) / (joint[0, 1] + joint[1, 1])
    assert p("strain", {**pain_only, "fracture": "present"}) == pytest.approx(given_fracture, abs=1e-12)
    assert given_fracture < p("strain", pain_only)
    # A bruise, evidence for the fracture only, lowers strain through the pain they share.
    assert p("strain", {**pain_only, "bruise": "yes"}) < p("strain", pain_only)
