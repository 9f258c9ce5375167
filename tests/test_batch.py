"""Vectorised batch scoring: the same answers as diagnose() row by row, bad rows kept in place, columns checked."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.care.rules import _PERCENT_WORDS, REASON_SEPARATOR, _percent, _percent_index, care_level
from model.cases.fields import FIELD_BY_NAME, FIELDS, CaseError, UnknownFieldError, parse_case
from model.diagnosis import diagnose
from model.network.spec import load_spec
from model.scoring.batch import check_columns, output_columns, score_cases

CAUSES = load_spec().cause_ids
PROBABILITY_COLUMNS = [f"p_{c}" for c in CAUSES]

# Per field: valid spellings (any case and spacing the contract accepts) and values it must refuse.
GOOD = {
    "yesno": ["yes", "no", "Y", " n ", "TRUE", "false", "1", "0", "unknown"],
    "integer": ["10", "35", "52", "70", "110", " 64 "],
    "number": ["0", "2", "6.5", "10", "30"],
}
BAD = {
    "yesno": ["maybe", "2", "yess"],
    "choice": ["lifitng", "?", "none of these"],
    "integer": ["9", "300", "40.5", "forty"],
    "number": ["-1", "eleven", "nan", "inf"],
}


def good_values(field: str) -> list[str]:
    spec = FIELD_BY_NAME[field]
    if spec.kind == "choice":
        return [*spec.choices, spec.choices[0].upper(), f" {spec.choices[-1]} "]
    if field == "severity":
        return ["0", "3", "5.5", "7", "10"]
    return GOOD[spec.kind]


@st.composite
def frames(draw: st.DrawFn, bad_rate: float) -> pd.DataFrame:
    """A frame of some of the contract's columns, in any order: values known, unknown ("") or, rarely, bad."""
    names = draw(st.lists(st.sampled_from([f.name for f in FIELDS if f.kind != "text"]), min_size=1, unique=True))
    n = draw(st.integers(min_value=1, max_value=25))
    columns = {"case_id": [f"c{i}" for i in range(n)]}
    for name in names:
        kind = FIELD_BY_NAME[name].kind
        choices = st.sampled_from(good_values(name))
        if kind == "number":  # and any number in range, written as plain decimals
            field = FIELD_BY_NAME[name]
            high = field.high if field.high is not None else 400.0
            numbers = st.floats(field.low, high, allow_nan=False, allow_infinity=False)
            choices = choices | numbers.map(lambda x: np.format_float_positional(x, trim="-"))
        if bad_rate:
            choices = st.one_of(choices, st.sampled_from(BAD[kind])) if draw(st.booleans()) else choices
        columns[name] = [draw(st.just("") | choices) for _ in range(n)]
    return pd.DataFrame(columns)


def assert_row_matches_diagnose(row: pd.Series, case: dict[str, str]) -> None:
    try:
        expected = diagnose(case)
    except CaseError as exc:
        assert row["error"] == str(exc)
        assert all(math.isnan(row[c]) for c in PROBABILITY_COLUMNS)
        assert row["top_cause"] == row["care"] == row["care_reasons"] == row["unasked_warning_signs"] == ""
        return
    assert row["error"] == ""
    # One case alone and the same case in a batch may run different plans (a batch groups cases), so their
    # rounding differs: the engine keeps at least ten digits of sixteen (see _CANCELLATION in the engine).
    assert max(abs(row[f"p_{c}"] - expected.posteriors[c]) for c in CAUSES) <= 1e-10
    assert row["top_cause"] == expected.top_cause
    assert row["care"] == expected.care.level
    assert row["care_reasons"] == REASON_SEPARATOR.join(expected.care.reasons)
    assert row["unasked_warning_signs"] == " ".join(expected.unasked_warning_signs)


@settings(max_examples=30, deadline=None)
@given(frames(bad_rate=0.0))
def test_every_valid_row_scores_as_diagnose_does(frame: pd.DataFrame) -> None:
    # care advice is worked out column by column in batch.py: this pins it to care.care_level
    scored = score_cases(frame)
    for (_, row), case in zip(scored.iterrows(), frame.to_dict("records"), strict=True):
        assert_row_matches_diagnose(row, case)


@settings(max_examples=25, deadline=None)
@given(frames(bad_rate=0.3))
def test_bad_rows_keep_their_place_with_the_message_parse_case_gives(frame: pd.DataFrame) -> None:
    scored = score_cases(frame)
    assert scored["case_id"].tolist() == frame["case_id"].tolist()
    for (_, row), case in zip(scored.iterrows(), frame.to_dict("records"), strict=True):
        assert_row_matches_diagnose(row, case)


def test_the_output_is_the_input_then_the_contracts_columns() -> None:
    frame = pd.DataFrame({"case_id": ["NA", "null", ""], "sex": [" Female ", "MALE", ""], "age": ["40", "", "x"]})
    scored = score_cases(frame)
    assert list(scored.columns) == [*frame.columns, *output_columns()]
    assert output_columns() == [
        *PROBABILITY_COLUMNS,
        "top_cause",
        "care",
        "care_reasons",
        "unasked_warning_signs",
        "error",
    ]
    pd.testing.assert_frame_equal(scored[frame.columns], frame)  # "NA", "null" and the spaces survive
    assert scored["error"].tolist() == ["", "", "age: 'x' is not a number; expected a whole number from 10 to 110"]
    probabilities = scored.loc[:1, PROBABILITY_COLUMNS].to_numpy()
    assert np.all((probabilities >= 0) & (probabilities <= 1))


def test_every_error_in_a_row_is_named_in_field_order() -> None:
    case = {"severity": "11", "activity": "chess", "fever": "maybe"}
    error = score_cases(pd.DataFrame({k: [v] for k, v in case.items()})).loc[0, "error"]
    with pytest.raises(CaseError) as raised:
        parse_case(case)
    assert error == str(raised.value)
    assert error.index("activity:") < error.index("severity:") < error.index("fever:")


def test_values_of_other_types_read_as_parse_case_reads_them() -> None:
    # 1 == 1.0 == True in Python, but the contract reads them differently (1.0 is no yes/no)
    values = [1, 1.0, True, "1", 0, None, float("nan"), "yes"]
    scored = score_cases(pd.DataFrame({"fever": pd.Series(values, dtype=object)}))
    for (_, row), value in zip(scored.iterrows(), values, strict=True):
        assert_row_matches_diagnose(row, {"fever": value})
    assert scored.loc[1, "error"] != "" and scored.loc[0, "error"] == ""


def test_a_numeric_frame_scores_like_its_text() -> None:
    numbers = pd.DataFrame({"age": [25, 61, np.nan], "severity": [2.5, 9.0, 4.0]})
    text = pd.DataFrame({"age": ["25", "61", ""], "severity": ["2.5", "9", "4"]})
    a, b = score_cases(numbers), score_cases(text)
    pd.testing.assert_frame_equal(a[output_columns()], b[output_columns()])


def test_an_empty_frame_gets_the_columns_and_no_rows() -> None:
    scored = score_cases(pd.DataFrame({"case_id": [], "age": []}, dtype=str))
    assert len(scored) == 0 and list(scored.columns) == ["case_id", "age", *output_columns()]


def test_care_for_many_rows_equals_care_level_row_by_row() -> None:
    # random warning signs fire in many combinations: the column-wise care must follow care_level in all
    rng = np.random.default_rng(11)
    n = 400
    frame = pd.DataFrame(
        {
            f.name: np.where(rng.random(n) < 0.5, "", rng.choice(good_values(f.name), n))
            for f in FIELDS
            if f.kind != "text"
        }
    )
    scored = score_cases(frame)
    for (_, row), case in zip(scored.iterrows(), frame.to_dict("records"), strict=True):
        answers = parse_case(case)
        probs = {c: row[f"p_{c}"] for c in CAUSES}
        advice = care_level(answers, probs)
        assert (row["care"], row["care_reasons"]) == (advice.level, REASON_SEPARATOR.join(advice.reasons))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=50))
def test_the_percent_words_of_many_rows_are_care_levels_words(p: list[float]) -> None:
    # ties (0.125 is 12.5%, rounded to the even 12%) and the edges of "under 1%" and "100%" included
    edges = [0.0, 0.0099999, 0.01, 0.005, 0.125, 0.135, 0.285, 0.995, 0.9949999, 1.0]
    values = np.array(p + edges + [k / 200 for k in range(201)])
    words = [_PERCENT_WORDS[i] for i in _percent_index(values)]
    assert words == [_percent(v) for v in values.tolist()]


def test_columns_are_checked() -> None:
    with pytest.raises(UnknownFieldError, match="'agee' \\(did you mean 'age'\\?\\)"):
        check_columns(["case_id", "agee"])
    check_columns(["case_id", "clinic"], keep=["clinic"])
    with pytest.raises(ValueError, match="duplicate column 'age'"):
        check_columns(["age", "sex", "age"])
    with pytest.raises(ValueError, match="'error' would be overwritten"):
        check_columns(["age", "error"], keep=["error"])


def test_keep_passes_an_extra_column_through_unchanged() -> None:
    frame = pd.DataFrame({"clinic": ["North", "South, annex"], "activity": ["yoga", "lifting"]})
    with pytest.raises(UnknownFieldError):
        score_cases(frame)
    scored = score_cases(frame, keep=["clinic"])
    assert scored["clinic"].tolist() == ["North", "South, annex"]
    assert (scored["error"] == "").all()


def test_typed_columns_read_as_diagnose_reads_their_values() -> None:
    # a pandas bool column, ints 1/0, nullable dtypes with pd.NA: what a user means, as diagnose reads it
    frame = pd.DataFrame(
        {
            "fever": pd.Series([True, False, True]),
            "bruising": pd.Series([1, 0, 1]),
            "swelling": pd.Series([True, pd.NA, False], dtype="boolean"),
            "age": pd.Series([40, pd.NA, 70], dtype="Int64"),
            "severity": pd.Series([np.nan, 2.5, 10.0]),
            "activity": pd.Series(["yoga", pd.NA, None], dtype=object),
        }
    )
    scored = score_cases(frame)
    assert scored["error"].tolist() == ["", "", ""]
    for (_, row), case in zip(scored.iterrows(), frame.to_dict("records"), strict=True):
        assert_row_matches_diagnose(row, case)
    expected = diagnose({"fever": "no", "bruising": "no", "severity": 2.5}).posteriors["doms"]
    assert scored.loc[1, "p_doms"] == pytest.approx(expected)


@pytest.mark.parametrize("dtype", ["Int64", pd.ArrowDtype(pa.int64()), pd.ArrowDtype(pa.int8())])
def test_integer_yes_no_columns_with_gaps_read_as_integers_not_floats(dtype: object) -> None:
    # asked for a NumPy array, pandas gives 1.0 for these columns' 1, which a yes/no field refuses
    frame = pd.DataFrame({"fever": pd.Series([1, None, 0, 2], dtype=dtype), "age": pd.Series([30, 40, None, 9])})
    scored = score_cases(frame)
    assert scored["error"].tolist() == [
        "",
        "",
        "",
        "age: 9.0 is outside 10-110; fever: 2 is not yes or no (also accepted: y/n, true/false, 1/0)",
    ]
    for (_, row), case in zip(scored.iterrows(), frame.astype(object).to_dict("records"), strict=True):
        assert_row_matches_diagnose(row, {k: None if pd.isna(v) else v for k, v in case.items()})


def test_arrow_backed_and_categorical_text_columns_read_as_their_values() -> None:
    plain = pd.DataFrame({"activity": ["yoga", None, "runing"], "fever": ["yes", "no", None]})
    arrow = plain.astype(pd.ArrowDtype(pa.string()))
    categorical = plain.astype("category")
    expected = score_cases(plain)[output_columns()]
    for frame in (arrow, categorical):
        pd.testing.assert_frame_equal(score_cases(frame)[output_columns()], expected)


def test_odd_objects_in_cells_are_row_errors_not_exceptions() -> None:
    values = [[1], {"a": 1}, {1}, np.True_, 10**400, "1_0", "yes", np.int64(2), None]
    frame = pd.DataFrame({"severity": pd.Series(values, dtype=object), "fever": pd.Series(values, dtype=object)})
    scored = score_cases(frame)
    errors = scored["error"].tolist()
    assert [error.split(":")[0] for error in errors] == ["severity"] * 7 + ["fever", ""]
    assert "fever: [1] is not yes or no" in errors[0] and "fever: True" not in errors[3]
    for (_, row), case in zip(scored.iterrows(), frame.to_dict("records"), strict=True):
        assert_row_matches_diagnose(row, case)


def test_a_duration_above_the_last_bin_scores() -> None:
    scored = score_cases(pd.DataFrame({"duration_days": ["100000", "100001", "1" + "0" * 300, "30"]}))
    assert (scored["error"] == "").all()
    assert scored[PROBABILITY_COLUMNS].iloc[:3].to_numpy() == pytest.approx(
        np.repeat(scored[PROBABILITY_COLUMNS].iloc[[3]].to_numpy(), 3, axis=0)
    )
