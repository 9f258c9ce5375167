"""Known answers: small slices of the network computed by hand, checked against the built tables and pgmpy."""

from __future__ import annotations

import pytest

from model.inference import reference_posteriors
from model.network import build_network
from model.spec import read_spec
from model.tables import finding_table

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
    # doms after a deadlift: base 0.10, new to it: odds ratio 10, not more than usual: reference.
    odds = 0.10 / 0.90 * 10
    p = reference_posteriors({"activity": "deadlift", "new_to_activity": "yes", "more_than_usual": "no"}, ("doms",))
    assert p["doms"] == pytest.approx(odds / (1 + odds), abs=1e-12)


def test_tumour_prior_combines_age_and_cancer_history_by_hand():
    # base 0.004 at 30-49 with no cancer history; age 50-69: x2.7; cancer history: x15.
    odds = 0.004 / 0.996 * 2.7 * 15
    p = reference_posteriors({"age": "from_50_to_69", "cancer_history": "yes"}, ("tumor_or_infection",))
    assert p["tumor_or_infection"] == pytest.approx(odds / (1 + odds), abs=1e-12)
