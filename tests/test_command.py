"""`backcheck score` on real files: good, awkward and bad ones; rows kept in order; clear one-line failures."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import score_cases
from model.batch import output_columns
from model.cli import main

FILES = Path(__file__).resolve().parent / "files"


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, ["score", *args], input=stdin)


def read(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def test_a_good_file_is_scored_with_the_contracts_columns_in_order():
    result = run(str(FILES / "good.csv"), "--quiet")
    assert result.exit_code == 0, result.output
    out = read(result.stdout)
    source = read((FILES / "good.csv").read_text())
    assert list(out.columns) == [*source.columns, *output_columns()]
    pd.testing.assert_frame_equal(out[source.columns], source)  # input unchanged; "NA" stays "NA"
    probabilities = out[[c for c in out.columns if c.startswith("p_")]].astype(float)
    assert ((probabilities >= 0) & (probabilities <= 1)).all().all()
    assert (out["error"] == "").all()
    assert out.loc[1, "care"] == "emergency"


def test_the_output_equals_score_cases_on_the_same_rows():
    result = run(str(FILES / "good.csv"), "--quiet")
    expected = score_cases(read((FILES / "good.csv").read_text()))
    out = read(result.stdout)
    for column in output_columns():
        if column.startswith("p_"):
            assert out[column].astype(float).tolist() == pytest.approx(expected[column].tolist(), abs=1e-12)
        else:
            assert out[column].tolist() == expected[column].tolist()


def test_a_byte_order_mark_and_windows_line_endings_are_accepted():
    plain = read(run(str(FILES / "good.csv"), "--quiet").stdout)
    awkward = read(run(str(FILES / "bom_crlf.csv"), "--quiet").stdout)
    assert list(awkward.columns) == list(plain.columns)
    assert awkward["care"].tolist() == plain["care"].tolist()[:2]
    assert awkward.loc[1, "activity"] == " JUMPING "  # input kept as it was


def test_row_errors_keep_their_rows_in_order_and_name_column_value_and_expectation(tmp_path):
    target = tmp_path / "scored.csv"
    result = run(str(FILES / "row_errors.csv"), "-o", str(target))
    assert result.exit_code == 0
    out = read(target.read_text(encoding="utf-8"))
    assert out["case_id"].tolist() == ["R1", "R2", "R3", "R4", "R5", "R6"]
    errors = out["error"].tolist()
    assert errors[0].startswith("activity: 'jogging' is not one of lifting")
    assert errors[1] == "age: '300' is outside 10-110"
    assert errors[2].startswith("severity: 'eleven' is not a number")
    assert errors[3].startswith("fever: 'maybe' is not yes or no")
    assert errors[4] == "severity: '-1' is outside 0-10"
    assert errors[5] == ""
    assert out.loc[:4, "p_muscle_strain"].eq("").all() and out.loc[:4, "care"].eq("").all()
    assert out.loc[5, "care"] != ""
    assert "6 rows scored, 5 with errors" in result.stderr


def test_strict_fails_on_row_errors_but_still_writes(tmp_path):
    target = tmp_path / "scored.csv"
    assert run(str(FILES / "row_errors.csv"), "-o", str(target), "--strict").exit_code == 1
    assert len(read(target.read_text(encoding="utf-8"))) == 6
    assert run(str(FILES / "good.csv"), "--strict", "--quiet").exit_code == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "is empty"),
        ("binary.csv", "holds binary data, not CSV text"),
        ("latin1.csv", "is not UTF-8 text (line 3"),
        ("ragged_long.csv", "line 2 has 7 fields but the header has 6"),
        ("ragged_short.csv", "line 2 has 3 fields but the header has 6"),
        ("duplicate_column.csv", "duplicate column 'activity'"),
        ("unknown_column.csv", "unknown column 'activty' (did you mean 'activity'?)"),
        ("extra_column.csv", "unknown column 'clinic'"),
        ("no_such_file.csv", "no such file"),
    ],
)
def test_a_bad_file_stops_with_one_clear_line_and_writes_nothing(tmp_path, name, message):
    target = tmp_path / "scored.csv"
    result = run(str(FILES / name), "-o", str(target))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr
    assert "Traceback" not in result.output
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_keep_passes_an_extra_column_through():
    result = run(str(FILES / "extra_column.csv"), "--keep", "clinic", "--quiet")
    assert result.exit_code == 0
    out = read(result.stdout)
    assert out["clinic"].tolist() == ["north", "south"]
    assert (out["error"] == "").all()


def test_a_header_only_file_gives_a_header_only_output():
    out = read(run(str(FILES / "header_only.csv"), "--quiet").stdout)
    assert len(out) == 0 and "p_doms" in out.columns


def test_standard_input_and_output():
    result = run("-", "--quiet", stdin=(FILES / "good.csv").read_text())
    assert result.exit_code == 0
    assert read(result.stdout)["case_id"].tolist() == ["G1", "G2", "NA"]


def test_python_dash_m_model_works_the_same(tmp_path):
    target = tmp_path / "scored.csv"
    done = subprocess.run(
        [sys.executable, "-m", "model", "score", str(FILES / "good.csv"), "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert read(target.read_text(encoding="utf-8"))["case_id"].tolist() == ["G1", "G2", "NA"]


VALUES = {
    "activity": ["lifting", "Yoga ", "jogging", ""],
    "age": ["35", "9", "70", "abc", ""],
    "severity": ["0", "10", "11", "7.5", ""],
    "fever": ["yes", "N", "maybe", "1", ""],
    "numbness": ["legs", "none", "leg", ""],
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in VALUES.items()}), max_size=30))
def test_random_rows_valid_and_not_come_back_all_in_order(rows):
    lines = ["case_id," + ",".join(VALUES)]
    lines += [f"row{i}," + ",".join(r[k] for k in VALUES) for i, r in enumerate(rows)]
    result = run("-", "--quiet", stdin="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = read(result.stdout)
    assert out["case_id"].tolist() == [f"row{i}" for i in range(len(rows))]
    for column in VALUES:
        assert out[column].tolist() == [r[column] for r in rows]
    assert ((out["error"] == "") == (out["care"] != "")).all()
