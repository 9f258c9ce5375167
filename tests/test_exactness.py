"""The compiled engine against pgmpy's exact variable elimination on the built-in network, the one place it is
checked: random cases (any field unknown, roots included), every root alone, the vignettes, a hidden node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.cases.evidence import evidence_from_case
from model.cases.fields import FIELD_NAMES
from model.inference.reference import (
    JOINT_ENTRIES,
    joint_entries,
    marginals,
    posteriors,
    reference_marginals,
    reference_posteriors,
)
from model.network.spec import load_spec
from tests.strategies import cases

TOLERANCE = 1e-9

SPEC = load_spec()
CAUSES = SPEC.cause_ids
ROOTS = tuple(c.id for c in SPEC.contexts)
DATA = Path(__file__).resolve().parent.parent / "data"
EXACT = TOLERANCE


def distribution(found: dict[str, float], node: str) -> np.ndarray:
    return np.array([found[state] for state in SPEC.states(node)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(unknown_rate=0.4))
def test_cause_posteriors_equal_pgmpy(case):
    evidence = evidence_from_case(case)
    fast, reference = posteriors(evidence), reference_posteriors(evidence)
    for cause, p in reference.items():
        assert fast[cause] == pytest.approx(p, abs=TOLERANCE), cause


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(unknown_rate=0.7), data=st.data())
def test_marginals_of_any_unobserved_node_equal_pgmpy(case, data):
    evidence = evidence_from_case(case)
    spec = load_spec()
    # every node but the back pain chain's intermediate steps, which only pgmpy's representation has
    steps = {step.id for step in spec.pain_steps[:-1]}
    open_nodes = sorted(n for n in spec.nodes if n not in evidence and n not in steps)
    nodes = tuple(data.draw(st.lists(st.sampled_from(open_nodes), min_size=1, max_size=3, unique=True)))
    fast, reference = marginals(evidence, nodes), reference_marginals(evidence, nodes)
    for node in nodes:
        for state, p in reference[node].items():
            assert fast[node][state] == pytest.approx(p, abs=TOLERANCE), (node, state)


def test_the_reference_asks_pgmpy_one_node_at_a_time_past_a_joint_it_could_not_hold() -> None:
    # pgmpy's cardinalities are int64: 70 binary nodes' product wraps around to 0 in numpy, and the reference
    # would then ask pgmpy for a joint table of 2**70 entries
    cards = {f"n{i}": np.int64(2) for i in range(70)}
    assert joint_entries(cards, cards) == 2**70 > JOINT_ENTRIES
    assert joint_entries(cards, ["n0", "n1"]) == 4


def test_every_root_unobserved_or_observed_alone() -> None:
    # the roots are handled three ways (enumerated, fixed per case, kept in the contraction): each on its own
    cases = [{}] + [{root: SPEC.states(root)[-1]} for root in ROOTS]
    for evidence in cases:
        fast, reference = posteriors(evidence), reference_posteriors(evidence)
        assert max(abs(fast[c] - reference[c]) for c in CAUSES) <= EXACT, evidence


@pytest.mark.parametrize("name", ["vignettes_public.csv", "vignettes_article.csv"])
def test_every_vignette_equals_pgmpy(name: str) -> None:
    vignettes = pd.read_csv(DATA / name, dtype=str, keep_default_na=False)
    fields = [c for c in vignettes.columns if c in FIELD_NAMES]
    assert len(vignettes) > 0
    for _, row in vignettes[fields].iterrows():
        evidence = evidence_from_case(row)
        fast, reference = posteriors(evidence), reference_posteriors(evidence)
        assert max(abs(fast[c] - reference[c]) for c in CAUSES) <= EXACT, row["case_id"]


def test_evidence_on_a_hidden_node_equals_pgmpy() -> None:
    evidence = {"chronic_course": "present", "activity": "sitting", "night_pain": "yes"}
    nodes = ("disc_degeneration", "age", "duration_days", "sex")
    fast, reference = marginals(evidence, nodes), reference_marginals(evidence, nodes)
    for node in nodes:
        assert np.abs(distribution(fast[node], node) - distribution(reference[node], node)).max() <= EXACT


def test_an_observed_node_has_its_state_for_certain() -> None:
    found = marginals({"severity": "severe", "activity": "yoga"}, ("severity", "activity"))
    assert found["severity"] == {"mild": 0.0, "moderate": 0.0, "severe": 1.0}
    assert found["activity"]["yoga"] == 1.0
    assert sum(found["activity"].values()) == 1.0
