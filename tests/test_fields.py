"""Reading a case by the contract: accepted spellings, unknowns, and errors that name field, value and expectation."""

from __future__ import annotations

import decimal
import math

import numpy as np
import pandas as pd
import pytest

from model import CaseError, UnknownFieldError, diagnose, evidence_from_case
from model.cases.fields import FIELD_NAMES, parse_case


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
        ({"duration_days": "-2"}, "duration_days: '-2' is below 0; expected a number from 0 up"),
        ({"duration_days": "three"}, "duration_days: 'three' is not a number; expected a number from 0 up"),
        ({"duration_days": "inf"}, "duration_days: 'inf' is not a plain decimal number (such as 7, 7.5 or -0)"),
        ({"duration_days": math.inf}, "duration_days: inf is not a finite number"),
        ({"fever": "maybe"}, "fever: 'maybe' is not yes or no (also accepted: y/n, true/false, 1/0)"),
        ({"fever": 2}, "fever: 2 is not yes or no"),
        ({"activity": "jogging"}, "activity: 'jogging' is not one of lifting, deadlift, squats, running, walking"),
        ({"activity": "deadlfit"}, "(did you mean 'deadlift'?)"),
        ({"numbness": "leg"}, "numbness: 'leg' is not one of none, local, legs (did you mean 'legs'?)"),
        ({"straight_leg_raise": "yes"}, "straight_leg_raise: 'yes' is not one of positive, negative"),
        # the range and whole-number checks read the value as written, not the float it rounds to
        ({"age": "9.99999999999999999999"}, "age: '9.99999999999999999999' is not a whole number"),
        ({"age": "110.00000000000000001"}, "is not a whole number"),
        ({"age": decimal.Decimal("35.00000000000000001")}, "is not a whole number"),
        ({"severity": "10.0000000000000000001"}, "severity: '10.0000000000000000001' is outside 0-10"),
        ({"severity": decimal.Decimal("-0.0000000000000000001")}, "is outside 0-10"),
        ({"severity": decimal.Decimal("NaN")}, "is not a finite number"),
        # control characters are no spaces (str.strip() would take them), and only ASCII is folded to lower case
        ({"fever": "yes\x1f"}, r"fever: 'yes\x1f' is not yes or no"),
        ({"fever": "no\u2028"}, r"fever: 'no\u2028' (with U+2028 LINE SEPARATOR) is not yes or no"),
        ({"fever": "yes\n"}, r"fever: 'yes\n' is not yes or no"),
        ({"fever": "\x1e"}, r"fever: '\x1e' is not yes or no"),
        ({"age": "35\x1c"}, r"age: '35\x1c' is not a number"),
        ({"activity": "WAL\u212aING"}, "(with U+212A KELVIN SIGN) is not one of"),
        ({"fever": "\u0443es"}, "(with U+0443 CYRILLIC SMALL LETTER U) is not yes or no"),
        ({"fever": "yes\u200b"}, "(with U+200B ZERO WIDTH SPACE) is not yes or no"),
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


@pytest.mark.parametrize("raw", ["7", "7.5", "+7", "-0", " 7 ", "07", "7.", "0.25", "10.000"])
def test_plain_decimals_are_numbers(raw):
    assert parse_case({"severity": raw})["severity"] == float(raw)


@pytest.mark.parametrize(
    "raw",
    ["1_0", "1_00", "0x10", "1e400", "1e3", "nan", "NaN", "inf", "-inf", "infinity", "٣", "７", "1,5", ".5", "-+1"],
)
def test_text_python_reads_as_a_number_but_the_contract_does_not_is_a_row_error(raw):
    # Python's float() reads most of these (1_00 would be age 100); the contract reads plain decimals only
    with pytest.raises(CaseError, match=r"is not a (plain decimal )?number"):
        parse_case({"age": raw})
    with pytest.raises(CaseError, match=r"is not a (plain decimal )?number"):
        parse_case({"duration_days": raw})


def test_a_duration_beyond_the_last_bin_is_in_the_last_bin():
    last = evidence_from_case({"duration_days": 30})["duration_days"]
    for raw in ("100000", "100001", 10**9, "1" + "0" * 300, 1.5e300):
        assert evidence_from_case({"duration_days": raw})["duration_days"] == last
    assert diagnose({"duration_days": "100001"}).answers["duration_days"] == 100001.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1" + "0" * 400, "duration_days: '1000000000"),  # more digits than a float holds
        (10**400, "duration_days: 1000000000"),
        (10**5000, "duration_days: an integer of 16,610 bits is too large"),  # no repr beyond 4,300 digits
    ],
    ids=["400 digits", "10**400", "10**5000"],
)
def test_a_number_too_large_for_a_float_is_a_row_error(raw, message):
    with pytest.raises(CaseError) as caught:
        parse_case({"duration_days": raw, "age": raw})
    age, duration = (problem.message for problem in caught.value.problems)
    assert age.startswith("age: ") and age.endswith("is outside 10-110")
    assert duration.startswith(message) and "is too large to read as a number" in duration
    assert len(duration) < 300  # the value is cut short in the message


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        (np.True_, "yes"),
        (np.False_, "no"),
        (np.int64(1), "yes"),
        (np.int8(0), "no"),
        (pd.NA, None),
        (pd.NaT, None),
        (np.float32("nan"), None),
        (None, None),
    ],
)
def test_numpy_and_pandas_values_mean_what_a_user_means(raw, read):
    assert parse_case({"fever": raw})["fever"] == read


def test_numpy_and_pandas_numbers():
    assert parse_case({"severity": np.float32(2.5), "age": np.int64(40)}) == parse_case({"severity": 2.5, "age": 40})
    assert parse_case({"severity": decimal.Decimal("7.5")})["severity"] == 7.5
    assert parse_case({"severity": pd.NA, "age": pd.NA}) == parse_case({})
    for raw in (True, np.True_, False):  # a yes/no is no number: np.True_ is not severity 1
        with pytest.raises(CaseError, match="is not a number"):
            parse_case({"severity": raw})


@pytest.mark.parametrize("raw", [[1], ["yes"], {"a": 1}, {1}, (1,), np.array([1, 2]), b"yes", 1j, object()])
def test_a_container_or_other_object_in_a_field_is_a_row_error(raw):
    for field in ("fever", "severity", "age", "activity"):
        with pytest.raises(CaseError, match=f"^{field}: "):
            parse_case({field: raw})


@pytest.mark.parametrize("case", [None, 3, "fever", ["fever"], [("fever",)]])
def test_something_that_is_no_case_is_a_case_error(case):
    with pytest.raises(CaseError, match="is not a case; expected a mapping of field names to values"):
        diagnose(case)


def test_a_long_value_is_cut_short_in_its_error():
    with pytest.raises(CaseError) as caught:
        parse_case({"activity": "x" * 5_000_000})
    assert "(5,000,000 characters)" in str(caught.value) and len(str(caught.value)) < 400


def test_many_unknown_columns_are_counted_not_listed():
    names = [f"extra{i}" for i in range(100_000)]
    with pytest.raises(UnknownFieldError) as caught:
        parse_case(dict.fromkeys(names))
    message = str(caught.value)
    assert len(message) < 300 and "'extra0', 'extra1'" in message and "and 99,995 more" in message
    assert caught.value.names == names
    with pytest.raises(UnknownFieldError, match=r"'y{80}\.\.\.' \(1,000,000 characters\)"):
        parse_case({"y" * 1_000_000: 1, **dict.fromkeys(FIELD_NAMES[:1])})


@pytest.mark.parametrize(
    ("raw", "read"),
    [
        ({"fever": "\u00a0yes\u2003"}, "yes"),  # a no-break space from a spreadsheet, an em space
        ({"activity": "\tWalking "}, "walking"),
        ({"age": "\u202f35\u00a0"}, 35),
    ],
)
def test_surrounding_spaces_of_any_script_are_spaces(raw, read):
    assert parse_case(raw)[next(iter(raw))] == read


def test_a_nan_a_typed_column_stores_is_no_number_but_a_pandas_nan_is_a_gap():
    from model.cases.values import STORED_NAN

    assert parse_case({"age": math.nan})["age"] is None
    with pytest.raises(CaseError, match="age: NaN is not a finite number"):
        parse_case({"age": STORED_NAN})
