"""diagnose(): posteriors are probabilities, exact, and behave as the article says."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from model import diagnose, load_spec
from model.inference.reference import reference_posteriors
from tests.strategies import cases


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_posteriors_are_probabilities_for_every_cause(case):
    d = diagnose(case)
    assert set(d.posteriors) == set(load_spec().cause_ids)
    assert all(0.0 <= p <= 1.0 for p in d.posteriors.values())
    assert d.top_cause == d.ranked()[0][0]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(unknown_rate=0.4))
def test_posteriors_equal_pgmpys_exact_inference(case):
    d = diagnose(case)
    reference = reference_posteriors(d.evidence)
    for cause, p in reference.items():
        assert d.posteriors[cause] == pytest.approx(p, abs=1e-9)


def test_the_activity_shifts_the_causes_as_the_article_says():
    def p(cause: str, **case) -> float:
        return diagnose(case).posteriors[cause]

    assert p("doms", activity="deadlift", new_to_activity="yes") > p("doms", activity="deadlift", new_to_activity="no")
    assert p("compression_fracture", activity="jumping") > p("compression_fracture", activity="walking")
    assert p("myofascial_spasm", activity="sitting") > p("myofascial_spasm", activity="running")
    assert p("kidney_disease", activity="bending") > p("kidney_disease", activity="yoga")
    assert p("muscle_strain", activity="lifting", warmed_up="no") > p(
        "muscle_strain", activity="lifting", warmed_up="yes"
    )


def test_base_rates_are_plausible_against_primary_care_figures():
    # With nothing known: a strain is common, a fracture or a tumour rare (jarvik2002, henschke2009, deyo1988).
    p = diagnose({}).posteriors
    assert p["muscle_strain"] == max(p.values())
    assert p["compression_fracture"] < 0.03
    assert p["tumor_or_infection"] < 0.02
    assert p["abdominal_hernia"] < p["kidney_disease"] < p["muscle_strain"]


def test_a_serious_finding_raises_its_cause():
    base = {"activity": "lifting", "severity": 6}
    before = diagnose(base).posteriors
    assert (
        diagnose({**base, "bruising": "yes"}).posteriors["soft_tissue_bleeding"] > 10 * before["soft_tissue_bleeding"]
    )
    assert diagnose({**base, "urinary_symptoms": "yes"}).posteriors["kidney_disease"] > 10 * before["kidney_disease"]
    assert diagnose({**base, "bruising": "no"}).posteriors["soft_tissue_bleeding"] < before["soft_tissue_bleeding"]
    weight = {**base, "cancer_history": "yes", "weight_loss": "yes", "night_pain": "yes", "age": 66}
    assert diagnose(weight).top_cause == "spinal_malignancy"  # the union tumour-or-infection is never ranked
