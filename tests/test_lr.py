"""Implied likelihood ratios: hand-computed on a tiny network, consistent on the real one, figures as published."""

import re
from pathlib import Path

import pytest
from pgmpy.inference import VariableElimination

from model.inspect.lr import PUBLISHED_LRS, ImpliedLR, compare_published, implied_lr, lr_by_context, verdict
from model.network.build import build_network, load_network
from model.network.parse import read_spec
from model.network.sources import load_sources
from model.network.spec import PRESENT, load_spec

DOCS = Path(__file__).resolve().parents[1] / "docs" / "clinical-figures.md"

# activity -> cause -> finding; numbers chosen to make the hand calculation short.
TINY = """
[[context]]
id = "activity"
states = ["walking", "jumping"]
prior = { p = [0.75, 0.25], source = ["t"], why = "test" }

[[cause]]
id = "fracture"
parents = ["activity"]
base = [
  { activity = ["walking"], p = 0.02, source = ["t"], why = "test" },
  { activity = ["jumping"], p = 0.20, source = ["t"], why = "test" },
]

[[finding]]
id = "bruise"
kind = "noisy_max"
states = ["no", "yes"]
leak = { p = 0.10, source = ["t"], why = "test" }
links = [{ cause = "fracture", p = 0.80, source = ["t"], why = "test" }]
"""


@pytest.fixture(scope="module")
def tiny():
    return VariableElimination(build_network(read_spec(TINY)))


@pytest.fixture(scope="module")
def ve():
    return VariableElimination(load_network())


def test_symptom_lr_is_the_noisy_or_against_the_leak(tiny):
    result = implied_lr(tiny, "bruise", ("yes",), "fracture")
    assert result.sensitivity == pytest.approx(1 - 0.9 * 0.2)
    assert result.false_positive == pytest.approx(0.10)
    assert result.lr == pytest.approx(8.2)
    assert result.lr_negative == pytest.approx((0.9 * 0.2) / 0.9)


def test_risk_factor_lr_follows_bayes_rule(tiny):
    p_fracture = 0.75 * 0.02 + 0.25 * 0.20
    p_jump_given_fracture = 0.25 * 0.20 / p_fracture
    p_jump_given_none = 0.25 * 0.80 / (1 - p_fracture)
    result = implied_lr(tiny, "activity", ("jumping",), "fracture")
    assert result.lr == pytest.approx(p_jump_given_fracture / p_jump_given_none)


def test_context_conditions_both_sides(tiny):
    # Given the activity, the bruise's LR no longer depends on how often fractures happen.
    assert implied_lr(tiny, "bruise", ("yes",), "fracture", {"activity": "walking"}).lr == pytest.approx(8.2)
    with pytest.raises(ValueError, match="must not fix"):
        implied_lr(tiny, "bruise", ("yes",), "fracture", {"fracture": PRESENT})


def test_a_flag_that_never_fires_without_the_cause_has_an_infinite_lr():
    assert ImpliedLR(0.5, 0.0).lr == float("inf")


def test_published_figures_are_copied_from_the_docs_word_for_word():
    text = re.sub(r"\s+", " ", DOCS.read_text(encoding="utf-8"))
    sources = load_sources()
    spec = load_spec()
    for item in PUBLISHED_LRS:
        assert item.figure in text, item.figure
        assert item.source in sources, item.source
        assert item.cause in spec.cause_ids
        assert set(item.states) <= set(spec.states(item.flag)), item
        numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", item.figure)]
        if "LR" in item.figure:
            assert numbers[-1] == item.lr, item.figure
        else:
            sensitivity, specificity = (n / 100 for n in numbers)
            assert item.lr == pytest.approx(sensitivity / (1 - specificity))


def test_comparison_table_is_consistent_with_direct_queries(ve):
    spec = load_spec()
    table = compare_published(ve)
    assert len(table) == len(PUBLISHED_LRS)
    for item, (_, row) in zip(PUBLISHED_LRS, table.iterrows(), strict=True):
        assert row["network LR+"] == pytest.approx(row["network sensitivity"] / (1 - row["network specificity"]))
        assert row["ratio"] == pytest.approx(row["network LR+"] / item.lr)
        if len(item.states) == 1:
            evidence = {**spec.fixed_evidence, item.flag: item.states[0]}
            direct = ve.query([item.cause], evidence=evidence, show_progress=False).get_value(**{item.cause: PRESENT})
            assert row["network post-test"] == pytest.approx(float(direct))
    kinds = dict(zip(table["flag"], table["flag is"], strict=True))
    assert kinds["age = from_70"] == "risk factor"
    assert kinds["bruising = yes"] == "symptom or sign"


def test_lr_by_context_varies_with_the_activity(ve):
    by_activity = lr_by_context(ve, PUBLISHED_LRS[0], "activity")
    assert list(by_activity.index) == list(load_spec().states("activity"))
    assert by_activity.max() > by_activity.min() * 1.1


def test_verdict_words():
    assert verdict(1.0) == "agrees"
    assert verdict(1.2) == "agrees"
    assert verdict(3.0).startswith("network stronger")
    assert verdict(0.5).startswith("network weaker")


def test_every_required_published_lr_is_matched_within_a_factor_of_two(ve):
    # The check: the network's implied LR (pgmpy's own elimination, all else at its prior, back pain given)
    # within a factor of 2 of each published LR the contract's fields can ask.
    table = compare_published(ve)
    required = table[table["required"]]
    assert len(required) >= 13
    misses = required[~required["within 2x"]]
    assert misses.empty, misses[["cause", "flag", "published LR+", "network LR+"]].to_string()
    for item in PUBLISHED_LRS:
        assert item.required or len(item.note) > 40, item  # a departure says why


def test_every_published_base_rate_is_matched_within_a_factor_of_two(ve):
    from model.inspect.base_rates import PUBLISHED_RATES, compare_base_rates

    text = re.sub(r"\s+", " ", DOCS.read_text(encoding="utf-8"))
    for rate in PUBLISHED_RATES:
        assert rate.figure in text, rate.figure
    table = compare_base_rates(ve)
    assert table["within 2x"].all(), table[~table["within 2x"]].to_string()
    serious = table.set_index("share of back pain").loc["serious pathology", "network"]
    assert 0.0045 <= serious <= 0.018
