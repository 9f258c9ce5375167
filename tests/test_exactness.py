"""The compiled engine against pgmpy's exact variable elimination: random cases, any field unknown, roots included."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.cases.evidence import evidence_from_case
from model.inference.reference import (
    JOINT_ENTRIES,
    joint_entries,
    marginals,
    posteriors,
    posteriors_batch,
    reference_marginals,
    reference_posteriors,
)
from model.inspect.vignettes import read_vignettes
from model.network.spec import load_spec
from tests.strategies import cases

TOLERANCE = 1e-9


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


def test_nothing_known_equals_pgmpy():
    for cause, p in reference_posteriors({}).items():
        assert posteriors({})[cause] == pytest.approx(p, abs=TOLERANCE)


def test_a_batch_equals_one_case_at_a_time_on_every_vignette():
    from pathlib import Path

    from model.cases.fields import FIELD_NAMES

    frame = read_vignettes(Path(__file__).resolve().parent.parent / "data" / "vignettes_public.csv")
    evidences = [
        evidence_from_case({k: v for k, v in row.items() if k in FIELD_NAMES}) for row in frame.to_dict("records")
    ]
    batch = posteriors_batch(evidences)
    causes = load_spec().cause_ids
    for i, evidence in enumerate(evidences):
        reference = reference_posteriors(evidence)
        for j, cause in enumerate(causes):
            assert batch[i, j] == pytest.approx(reference[cause], abs=TOLERANCE), (i, cause)


def test_the_reference_asks_pgmpy_one_node_at_a_time_past_a_joint_it_could_not_hold() -> None:
    # pgmpy's cardinalities are int64: 70 binary nodes' product wraps around to 0 in numpy, and the reference
    # would then ask pgmpy for a joint table of 2**70 entries
    cards = {f"n{i}": np.int64(2) for i in range(70)}
    assert joint_entries(cards, cards) == 2**70 > JOINT_ENTRIES
    assert joint_entries(cards, ["n0", "n1"]) == 4
