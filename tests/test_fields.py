"""Reading a case by the contract: accepted spellings, unknowns, and errors that name field, value and expectation."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from model import CaseError, UnknownFieldError, evidence_from_case
from model.fields import parse_case


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        ("yes", "yes"),
        (" YES ", "yes"),
        ("Y", "yes"),
        ("true", "yes"),
        ("1", "yes"),
        (True, "yes"),
        (1, "yes"),
        ("no", "no"),
        ("n", "no"),
        ("False", "no"),
        ("0", "no"),
        (False, "no"),
        (0, "no"),
    ],
)
def test_yes_no_synonyms(raw, read):
    assert parse_case({"bruising": raw})["bruising"] == read


@pytest.mark.parametrize("raw", [None, "", "   ", float("nan"), "unknown", " Unknown "])
def test_blank_and_unknown_mean_not_known(raw):
    assert parse_case({"fever": raw, "severity": raw, "activity": raw}) == parse_case({})
    assert evidence_from_case({"fever": raw}) == {"back_pain": "present"}  # the evidence every case carries


def test_choices_ignore_case_and_surrounding_space():
    assert parse_case({"activity": " Deadlift ", "sex": "FEMALE", "onset": "Next_Day"})["onset"] == "next_day"


def test_numbers_are_binned_into_the_networks_states():
    evidence = evidence_from_case({"age": "70", "duration_days": 6.5, "severity": "7", "activity": "yoga"})
    assert evidence == {
        "back_pain": "present",
        "activity": "yoga",
        "age": "from_70",
        "duration_days": "from_3_to_6_days",
        "severity": "severe",
    }
    assert evidence_from_case({"age": 110, "severity": 10, "duration_days": 0})["severity"] == "severe"
    assert evidence_from_case({"age": 10, "severity": 0, "duration_days": 0})["age"] == "under_30"


def test_a_whole_number_written_as_a_decimal_is_a_whole_number():
    assert parse_case({"age": "35.0"})["age"] == 35


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ({"severity": "11"}, "severity: '11' is outside 0-10"),
        ({"severity": -1}, "severity: -1 is outside 0-10"),
        ({"age": "300"}, "age: '300' is outside 10-110"),
        ({"age": "35.5"}, "age: '35.5' is not a whole number; expected a whole number from 10 to 110"),
        ({"duration_days": "-2"}, "duration_days: '-2' is outside at least 0"),
        ({"duration_days": "three"}, "duration_days: 'three' is not a number; expected a number from 0 up"),
        ({"duration_days": "inf"}, "duration_days: 'inf' is not a finite number"),
        ({"fever": "maybe"}, "fever: 'maybe' is not yes or no (also accepted: y/n, true/false, 1/0)"),
        ({"fever": 2}, "fever: 2 is not yes or no"),
        ({"activity": "jogging"}, "activity: 'jogging' is not one of lifting, deadlift, squats, running, walking"),
        ({"activity": "deadlfit"}, "(did you mean 'deadlift'?)"),
        ({"numbness": "leg"}, "numbness: 'leg' is not one of none, local, legs (did you mean 'legs'?)"),
        ({"straight_leg_raise": "yes"}, "straight_leg_raise: 'yes' is not one of positive, negative"),
    ],
)
def test_bad_values_name_field_value_and_expectation(case, message):
    with pytest.raises(CaseError) as caught:
        parse_case(case)
    assert message in str(caught.value)


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(CaseError) as caught:
        parse_case({"severity": "11", "fever": "maybe", "age": 20})
    assert [p.field for p in caught.value.problems] == ["severity", "fever"]


def test_an_unknown_field_is_named_with_the_closest_known_one():
    with pytest.raises(UnknownFieldError, match=r"'severty' \(did you mean 'severity'\?\)"):
        parse_case({"severty": 3})


def test_a_pandas_row_reads_like_a_dict():
    row = pd.DataFrame([{"case_id": "NA", "activity": "Running", "fever": "", "age": "40"}]).iloc[0]
    values = parse_case(row)
    assert values["case_id"] == "NA"
    assert values["activity"] == "running"
    assert values["fever"] is None
    assert values["age"] == 40


def test_case_id_is_passed_through_uninterpreted():
    assert parse_case({"case_id": " 007 "})["case_id"] == " 007 "
    assert parse_case({"case_id": math.nan})["case_id"] is None
