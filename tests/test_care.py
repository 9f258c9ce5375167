"""When to seek care: the article's and the guidelines' warning signs, and that a warning sign never lowers care."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import diagnose
from model.care.rules import RANK, load_rules, parse_rules
from model.cases.fields import WARNING_SIGNS
from model.network.spec import SpecError
from tests.strategies import cases


@pytest.mark.parametrize(
    ("case", "level"),
    [
        ({"activity": "jumping", "fall_or_impact": "yes", "severity": 9, "numbness": "legs"}, "emergency"),
        ({"activity": "jumping", "loss_of_consciousness": "yes"}, "emergency"),
        ({"saddle_numbness": "yes"}, "emergency"),
        ({"bladder_bowel_change": "yes", "activity": "lifting"}, "emergency"),
        # metastatic cord compression (NICE NG234): cancer with new neurological signs, at any pain level
        ({"cancer_history": "yes", "leg_weakness": "yes", "severity": 2}, "emergency"),
        # a leaking aortic aneurysm: an older smoker with sudden back and belly pain, fainting
        (
            {"age": 72, "smoker": "yes", "abdominal_pain": "yes", "severity": 9, "loss_of_consciousness": "yes"},
            "emergency",
        ),
        ({"age": 68, "sex": "male", "abdominal_pain": "yes", "severity": 8}, "emergency"),
        # new sciatica in both legs; weakness in both legs getting worse
        ({"both_legs": "yes", "radiating_pain": "below_knee", "duration_days": 2}, "emergency"),
        ({"both_legs": "yes", "weakness_worsening": "yes"}, "emergency"),
        ({"activity": "lifting", "bruising": "yes"}, "urgent"),
        ({"leg_weakness": "yes"}, "urgent"),
        ({"fall_or_impact": "yes", "age": 75}, "urgent"),
        ({"major_trauma": "yes", "age": 25}, "urgent"),
        ({"fever": "yes", "iv_drug_use": "yes"}, "urgent"),
        ({"fever": "yes", "immunosuppressed": "yes"}, "urgent"),
        ({"fever": "yes", "night_pain": "yes", "duration_days": 14}, "urgent"),
        ({"cancer_history": "yes", "age": 60}, "urgent"),
        ({"steroid_use": "yes", "fall_or_impact": "yes"}, "urgent"),
        # fever alone: a doctor today, though it is usually a passing illness; cancer long ago alone: not today
        ({"fever": "yes"}, "urgent"),
        ({"cancer_history": "yes", "age": 35, "activity": "yoga"}, "routine"),
        # a bruise after a minor knock on blood thinners, mild pain: not urgent on its own
        ({"bruising": "yes", "fall_or_impact": "yes", "blood_thinners": "yes", "severity": 3}, "routine"),
        # long-standing claudication in both legs is stenosis, not cauda equina
        (
            {
                "both_legs": "yes",
                "radiating_pain": "below_knee",
                "leg_pain_walking_eased_sitting": "yes",
                "age": 74,
                "duration_days": 200,
            },
            "routine",
        ),
        ({"activity": "yoga", "duration_days": 7}, "routine"),
        ({"activity": "sitting", "night_pain": "yes"}, "routine"),
        ({"activity": "running", "relieved_by_rest": "no", "duration_days": 4}, "routine"),
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


DOMS = {"activity": "deadlift", "new_to_activity": "yes", "onset": "next_day", "duration_days": 1, "severity": 4}


def test_no_warning_signs_is_said_only_when_every_warning_sign_was_answered_no():
    unasked = diagnose(DOMS)
    assert unasked.care.level == "self_care"
    assert unasked.unasked_warning_signs == WARNING_SIGNS
    assert "No warning signs" not in " ".join(unasked.care.reasons)
    assert "not asked" in unasked.care.reasons[0]
    answered = diagnose({**DOMS, **dict.fromkeys(WARNING_SIGNS, "no")})
    assert answered.care.level == "self_care"
    assert answered.unasked_warning_signs == ()
    assert answered.care.reasons[0].startswith("No warning signs")
    one_open = diagnose({**DOMS, **dict.fromkeys(WARNING_SIGNS[1:], "no")})
    assert one_open.unasked_warning_signs == (WARNING_SIGNS[0],)
    assert "No warning signs" not in " ".join(one_open.care.reasons)


def test_every_warning_sign_alone_sends_to_a_doctor():
    for sign in WARNING_SIGNS:
        assert RANK[diagnose({**DOMS, sign: "yes"}).care.level] >= RANK["routine"], sign


def test_each_levels_advice_carries_its_timeframe():
    advice = load_rules().advice
    assert "emergency" in advice["emergency"] and "now" in advice["emergency"]
    assert "24 hours" in advice["urgent"]
    assert "one to two weeks" in advice["routine"]
    assert "within a week" in advice["self_care"]


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
def test_adding_a_flags_answers_never_lowers_the_care_level(case, flag):
    _, answers = flag
    before = diagnose(case).care.level
    after = diagnose({**case, **answers}).care.level
    assert RANK[after] >= RANK[before]
    assert RANK[after] >= RANK["routine"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases(unknown_rate=0.6), sign=st.sampled_from(WARNING_SIGNS))
def test_a_warning_sign_answered_yes_never_lowers_the_care_level(case, sign):
    # from unknown or no to yes, whatever else the case says (new fields included)
    before = diagnose({**case, sign: case.get(sign, "no") if case.get(sign) == "yes" else "no"}).care.level
    after = diagnose({**case, sign: "yes"})
    assert RANK[after.care.level] >= RANK[before]
    assert RANK[after.care.level] >= RANK["routine"]
    assert sign not in after.unasked_warning_signs


def test_an_unless_naming_a_less_urgent_warning_sign_is_refused():
    # thoracic pain alone is routine: silencing an urgent flag with it could lower the care level
    raw = _rules_text()
    flag = next(f for f in raw["flag"] if f["id"] == "bruising")
    flag["unless"] = [{"field": "thoracic_pain", "is": "yes"}]
    with pytest.raises(SpecError, match=r"'bruising'.*thoracic_pain, whose own flag is less urgent than urgent"):
        parse_rules(raw)
    raw = _rules_text()
    rule = next(r for r in raw["posterior"] if r["cause"] == "cauda_equina_syndrome")
    rule["unless"] = [{"field": "saddle_numbness", "is": "yes"}]
    parse_rules(raw)  # an emergency sign may silence a routine rule
    own = next(f for f in raw["flag"] if f["id"] == "leg_weakness")  # urgent
    own["unless"] = [{"field": "saddle_numbness", "is": "yes"}]
    parse_rules(raw)  # its own flag, silenced only by a sign at least as urgent, still counts as its own
    own["unless"] = [{"field": "thoracic_pain", "is": "yes"}]
    with pytest.raises(SpecError, match="'leg_weakness' needs a flag of its own"):
        parse_rules(raw)


def _reasons(case: dict) -> tuple[str, list[str]]:
    care = diagnose(case).care
    return care.level, list(care.reasons)


def test_a_reason_that_says_what_to_do_if_a_sign_appears_gives_way_when_it_is_there():
    # cauda equina possible in both legs: the routine reasons tell a person when to go to an emergency department
    base = {"age": 45, "activity": "lifting", "both_legs": "yes", "radiating_pain": "below_knee", "duration_days": 40}
    level, reasons = _reasons(base)
    assert level == "urgent"
    assert any("if they come with numbness in the groin" in r for r in reasons)
    assert any("cauda equina syndrome) cannot be ruled out" in r for r in reasons)
    # ... and when the sign is there, the advice is the emergency, not a condition the person already meets
    for sign in ("saddle_numbness", "bladder_bowel_change"):
        level, reasons = _reasons({**base, sign: "yes"})
        assert level == "emergency"
        assert not any(" if " in r and "emergency department" in r for r in reasons), reasons
    level, reasons = _reasons({"age": 70, "sex": "male", "smoker": "yes", "abdominal_pain": "yes", "severity": 4})
    assert any("aortic aneurysm cannot be ruled out" in r for r in reasons)
    fainted = {"age": 70, "sex": "male", "smoker": "yes", "abdominal_pain": "yes", "loss_of_consciousness": "yes"}
    level, reasons = _reasons({**fainted, "severity": 4})
    assert level == "emergency" and not any("you feel faint" in r for r in reasons)


def test_new_sciatica_in_both_legs_is_an_emergency_without_a_reason_that_says_today():
    level, reasons = _reasons({"both_legs": "yes", "radiating_pain": "below_knee", "duration_days": 3})
    assert level == "emergency"
    assert not any("today" in r for r in reasons), reasons
    level, reasons = _reasons({"both_legs": "yes", "radiating_pain": "below_knee", "duration_days": 60})
    assert level == "urgent" and any("for a month or more" in r for r in reasons)


@pytest.mark.parametrize(
    ("case", "level"),
    [
        # a spinal injection or a bacterial infection in the past three months, and constant pain: infection
        # must be ruled out even without a fever, as with the other seeding risk factors (spinal_infection)
        ({"age": 58, "recent_infection_or_procedure": "yes", "pain_constant": "yes", "fever": "no"}, "urgent"),
        ({"age": 58, "recent_infection_or_procedure": "yes", "pain_constant": "no", "fever": "no"}, "self_care"),
        # new numbness in both legs: today; long-standing with claudication: stenosis, routine
        ({"numbness": "legs", "both_legs": "yes", "duration_days": 3}, "urgent"),
        (
            {"numbness": "legs", "both_legs": "yes", "duration_days": 365, "leg_pain_walking_eased_sitting": "yes"},
            "routine",
        ),
    ],
)
def test_infection_risk_with_constant_pain_and_new_numbness_in_both_legs(case, level):
    assert diagnose(case).care.level == level


def test_a_warning_sign_without_a_flag_of_its_own_is_refused():
    raw = _rules_text()
    raw["flag"] = [f for f in raw["flag"] if f["id"] != "thoracic_pain"]
    with pytest.raises(SpecError, match="'thoracic_pain' needs a flag of its own"):
        parse_rules(raw)


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


def test_a_reason_another_says_already_is_not_repeated():
    # a man who smokes: the man's version of each aneurysm rule, not the smoker's as well; and with severe pain the
    # emergency, without "a doctor today" for the same aneurysm
    level, reasons = _reasons({"age": 72, "sex": "male", "smoker": "yes", "abdominal_pain": "yes", "severity": 9})
    assert level == "emergency"
    assert not any("in a smoker over 60" in r for r in reasons)
    assert not any("aortic aneurysm must be ruled out" in r for r in reasons)
    level, reasons = _reasons({"age": 72, "sex": "male", "smoker": "yes", "abdominal_pain": "yes", "severity": 4})
    assert level == "urgent"
    assert [r for r in reasons if "aortic aneurysm must be ruled out" in r] == [
        "Back pain with belly pain in a man over 60 needs a doctor today: an aortic aneurysm must be ruled out."
    ]
    # a woman who smokes keeps the smoker's rules
    level, reasons = _reasons({"age": 66, "sex": "female", "smoker": "yes", "flank_pain": "yes", "severity": 8})
    assert level == "emergency" and any(
        "in a smoker over 60 can come from a leaking aortic aneurysm" in r for r in reasons
    )
