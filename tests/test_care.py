"""When to seek care: the article's and the guidelines' warning signs, and that a warning sign never lowers care."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import diagnose
from model.care import RANK, load_rules, parse_rules
from model.spec import SpecError
from tests.strategies import cases


@pytest.mark.parametrize(
    ("case", "level"),
    [
        ({"activity": "jumping", "fall_or_impact": "yes", "severity": 9, "numbness": "legs"}, "emergency"),
        ({"activity": "jumping", "loss_of_consciousness": "yes"}, "emergency"),
        ({"saddle_numbness": "yes"}, "emergency"),
        ({"bladder_bowel_change": "yes", "activity": "lifting"}, "emergency"),
        ({"activity": "lifting", "bruising": "yes"}, "urgent"),
        ({"fever": "yes"}, "urgent"),
        ({"cancer_history": "yes", "activity": "yoga"}, "urgent"),
        ({"leg_weakness": "yes"}, "urgent"),
        ({"fall_or_impact": "yes", "age": 75}, "urgent"),
        ({"activity": "yoga", "duration_days": 7}, "routine"),
        ({"activity": "walking", "more_than_usual": "no"}, "routine"),
        ({"activity": "sitting", "night_pain": "yes"}, "routine"),
        ({"activity": "running", "relieved_by_rest": "no"}, "routine"),
        (
            {"activity": "deadlift", "new_to_activity": "yes", "onset": "next_day", "duration_days": 1, "severity": 4},
            "self_care",
        ),
    ],
)
def test_the_articles_and_guidelines_rules(case, level):
    assert diagnose(case).care.level == level


def test_every_level_comes_with_reasons_in_plain_words():
    for case in ({}, {"saddle_numbness": "yes"}, {"duration_days": 30}, {"bruising": "yes"}):
        care = diagnose(case).care
        assert care.reasons and all(len(r) > 20 and r[0].isupper() for r in care.reasons)
        assert care.advice == load_rules().advice[care.level]


def test_self_care_names_the_likeliest_cause():
    care = diagnose({"activity": "deadlift", "new_to_activity": "yes", "onset": "next_day"}).care
    assert care.level == "self_care"
    assert "delayed-onset muscle soreness" in care.reasons[0]


def test_the_most_urgent_reason_comes_first():
    care = diagnose({"saddle_numbness": "yes", "duration_days": 10, "fever": "yes"}).care
    assert care.level == "emergency"
    assert "cauda equina" in care.reasons[0]
    assert len(care.reasons) >= 3


def _flag_settings():
    """Each warning sign of the rules as the answers that make it fire."""
    out = []
    for flag in load_rules().flags:
        answers = {}
        for cond in flag.when:
            answers[cond.field] = cond.values[0] if cond.values else cond.low if cond.low is not None else cond.high
        out.append((flag.id, answers))
    return out


FLAGS = _flag_settings()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(unknown_rate=0.7), flag=st.sampled_from(FLAGS))
def test_adding_a_warning_sign_never_lowers_the_care_level(case, flag):
    _, answers = flag
    before = diagnose(case).care.level
    after = diagnose({**case, **answers}).care.level
    assert RANK[after] >= RANK[before]
    assert RANK[after] >= RANK["routine"]


def _rules_text() -> dict:
    import tomllib
    from importlib import resources

    return tomllib.loads(resources.files("model").joinpath("data/care.toml").read_text(encoding="utf-8"))


def test_a_flag_below_routine_is_refused():
    raw = _rules_text()
    raw["flag"][0]["level"] = "self_care"
    with pytest.raises(SpecError, match="a flag must be routine or more urgent"):
        parse_rules(raw)


def test_a_posterior_rule_above_routine_is_refused():
    raw = _rules_text()
    raw["posterior"][0]["level"] = "urgent"
    with pytest.raises(SpecError, match="may raise care to routine at most"):
        parse_rules(raw)


def test_a_typo_in_a_rule_value_fails_at_load():
    raw = _rules_text()
    raw["flag"][0]["when"][0]["is"] = "yess"
    with pytest.raises(ValueError, match="yes or no"):
        parse_rules(raw)
