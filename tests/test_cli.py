"""`backcheck score` on real files in tests/data: good, awkward and bad ones, rows in order, clean failures."""

from __future__ import annotations

import csv
import fcntl
import io
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result
from hypothesis import given, settings
from hypothesis import strategies as st

from model.cases.fields import FIELD_NAMES, CaseError, parse_case
from model.cli import main
from model.scoring.batch import output_columns, score_cases

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(main, ["score", *args], input=stdin)


def written(result: Result) -> str:
    """Standard output as written (Result.stdout turns every CRLF into LF, even inside quoted values)."""
    return result.stdout_bytes.decode("utf-8")


def rows(text: str) -> list[list[str]]:
    """The CSV records exactly as written (the csv module changes nothing, not even "NA")."""
    return list(csv.reader(io.StringIO(text, newline="")))


def frame(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)


def test_a_valid_file_is_scored_with_the_contracts_columns() -> None:
    result = run(str(DATA / "valid.csv"))
    assert result.exit_code == 0, result.output
    out, source = rows(written(result)), rows((DATA / "valid.csv").read_bytes().decode())
    assert out[0] == [*source[0], *output_columns()]
    assert [r[: len(source[0])] for r in out[1:]] == source[1:]  # "NA" and "null" case ids stay as they are
    scored = frame(written(result))
    probabilities = scored[[c for c in scored.columns if c.startswith("p_")]].astype(float)
    assert ((probabilities >= 0) & (probabilities <= 1)).all().all()
    assert (scored["error"] == "").all() and (scored["care"] != "").all()
    assert scored.loc[1, "care"] == "emergency"  # numb legs and severe pain after a jump
    # not a terminal: no progress bar, just the summary
    assert result.stderr == "backcheck: 5 rows scored, 0 with errors\n"


def test_the_command_gives_the_numbers_score_cases_gives() -> None:
    text = (DATA / "valid.csv").read_text()
    out, expected = frame(written(run(str(DATA / "valid.csv"), "--quiet"))), score_cases(frame(text))
    for column in output_columns():
        if column.startswith("p_"):
            assert np.abs(out[column].astype(float) - expected[column]).max() <= 1e-12
        else:
            assert out[column].tolist() == expected[column].tolist()


def test_a_byte_order_mark_and_windows_line_endings_are_accepted() -> None:
    plain = frame(written(run(str(DATA / "valid.csv"), "--quiet")))
    result = run(str(DATA / "bom_crlf.csv"), "--quiet")
    assert result.exit_code == 0, result.output
    awkward = frame(written(result))
    assert list(awkward.columns) == list(plain.columns)  # no byte-order mark glued to "case_id"
    probabilities = [c for c in plain.columns if c.startswith("p_")]
    others = [c for c in plain.columns if c not in probabilities]
    pd.testing.assert_frame_equal(awkward[others], plain.head(3)[others])
    # the same engine; only the order of its sums can differ with the batch
    assert np.abs(awkward[probabilities].astype(float) - plain.head(3)[probabilities].astype(float)).max().max() < 1e-12


def test_row_errors_keep_their_rows_in_order_and_say_what_is_wrong(tmp_path: Path) -> None:
    target = tmp_path / "scored.csv"
    result = run(str(DATA / "row_errors.csv"), "-o", str(target))
    assert result.exit_code == 0
    out = frame(target.read_text(encoding="utf-8"))
    assert out["case_id"].tolist() == [f"E0{i}" for i in range(1, 9)]
    assert out["error"].tolist() == [
        "activity: 'lifitng' is not one of lifting, deadlift, squats, running, walking, jumping, swimming, "
        "sitting, bending, yoga, other (did you mean 'lifting'?)",
        "age: '300' is outside 10-110",
        "severity: 'six' is not a number; expected a number from 0 to 10",
        "fall_or_impact: 'maybe' is not yes or no (also accepted: y/n, true/false, 1/0)",
        "",  # " Male ", "DURING", "Y": letter case and spaces are read, not refused
        "severity: '-1' is outside 0-10",
        "age: '40.5' is not a whole number; expected a whole number from 10 to 110",
        "",
    ]
    bad = out["error"] != ""
    assert (out.loc[bad, "p_doms"] == "").all() and (
        out.loc[bad, ["top_cause", "care", "care_reasons"]] == ""
    ).all().all()
    assert (out.loc[~bad, "care"] != "").all() and (out.loc[~bad, "p_doms"] != "").all()
    assert out.loc[4, "activity"] == "Running "  # the input as it was
    assert result.stderr == "backcheck: 8 rows scored, 6 with errors (see the error column)\n"


def test_strict_exits_1_on_row_errors_and_still_writes_the_output(tmp_path: Path) -> None:
    target = tmp_path / "scored.csv"
    assert run(str(DATA / "row_errors.csv"), "-o", str(target), "--strict", "--quiet").exit_code == 1
    assert len(frame(target.read_text(encoding="utf-8"))) == 8
    assert run(str(DATA / "valid.csv"), "--strict", "--quiet").exit_code == 0


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "empty.csv: is empty"),
        ("binary.csv", "binary.csv: holds binary data, not CSV text"),
        ("latin1.csv", "latin1.csv: is not UTF-8 text (line 3 holds the byte 0xeb)"),
        ("ragged_long.csv", "ragged_long.csv: line 3 has 10 fields but the header has 9"),
        ("ragged_short.csv", "ragged_short.csv: line 4 has 3 fields but the header has 9"),
        ("duplicate_column.csv", "duplicate_column.csv: duplicate column 'age'"),
        ("unknown_column.csv", "unknown_column.csv: unknown column 'agee' (did you mean 'age'?)"),
        ("extra_column.csv", "unknown column 'clinic'"),
        ("no_such_file.csv", "no_such_file.csv: no such file"),
    ],
)
def test_a_bad_file_stops_with_one_line_and_leaves_the_output_alone(tmp_path: Path, name: str, message: str) -> None:
    for target in (tmp_path / "new.csv", tmp_path / "old.csv"):
        if target.name == "old.csv":
            target.write_text("an earlier run\n")
        result = run(str(DATA / name), "-o", str(target))
        assert result.exit_code == 1
        assert result.stdout == ""
        lines = result.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.csv"]  # nothing half-written, nothing replaced
    assert (tmp_path / "old.csv").read_text() == "an earlier run\n"


def test_a_bad_file_on_standard_input_writes_nothing_to_standard_output() -> None:
    result = run("-", stdin=(DATA / "ragged_short.csv").read_bytes())
    assert result.exit_code == 1 and result.stdout == ""
    assert "standard input: line 4 has 3 fields" in result.stderr


def test_a_byte_that_is_not_utf8_in_any_column_stops_the_run_before_anything_is_written(tmp_path: Path) -> None:
    # The checking pass converts only the first column; the text of every other column is checked as well,
    # beyond the part of the file that reading the header decodes.
    header, first = (DATA / "latin1.csv").read_bytes().splitlines()[:2]
    source = tmp_path / "late_latin1.csv"
    source.write_bytes(b"\n".join([header, *[first] * 5000, b"V02,walking,40,fem\xe9le,,,,,", first]) + b"\n")
    result = run(str(source))
    assert result.exit_code == 1 and result.stdout == ""
    assert "late_latin1.csv: is not UTF-8 text (line 5002 holds the byte 0xe9)" in result.stderr


def test_a_header_only_file_gives_a_header_only_output() -> None:
    result = run(str(DATA / "header_only.csv"))
    assert result.exit_code == 0
    assert rows(written(result)) == [[*rows((DATA / "header_only.csv").read_bytes().decode())[0], *output_columns()]]
    assert result.stderr == "backcheck: 0 rows scored, 0 with errors\n"


def test_keep_passes_an_extra_column_through_unchanged() -> None:
    result = run(str(DATA / "extra_column.csv"), "--keep", "clinic", "--quiet")
    assert result.exit_code == 0, result.output
    out = frame(written(result))
    assert out["clinic"].tolist() == ["North", "South, annex"]
    assert (out["error"] == "").all()


def test_quotes_commas_and_line_breaks_in_values_come_back_as_they_went_in() -> None:
    source = rows((DATA / "quoted.csv").read_bytes().decode())
    out = rows(written(run(str(DATA / "quoted.csv"), "--quiet")))
    assert [r[:3] for r in out[1:]] == source[1:]
    assert [r[0] for r in out[1:]] == ["a, b", 'say "hi"', "two\nlines"]


def test_standard_input_to_standard_output() -> None:
    result = run("-", "--quiet", stdin=(DATA / "valid.csv").read_bytes())
    assert result.exit_code == 0 and result.stderr == ""
    assert frame(written(result))["case_id"].tolist() == ["V01", "V02", "V03", "NA", "null"]


def test_help_documents_every_option_with_an_example() -> None:
    command = main.get_command(click.Context(main), "score")
    options = [p for p in command.params if isinstance(p, click.Option)]
    assert {o.name for o in options} == {
        "output_path",
        "keep",
        "quiet",
        "strict",
        "jobs",
        "spreadsheet_safe",
        "file_format",
        "scheduler",
    }
    for option in options:
        assert option.help and "Example: " in option.help, option.name
    shown = CliRunner().invoke(main, ["score", "--help"]).stdout
    for option in options:
        assert option.opts[-1] in shown
    assert "backcheck score cases.csv -o scored.csv" in shown and "Exit status" in shown


def test_help_lists_the_contracts_input_and_output_columns() -> None:
    shown = " ".join(CliRunner().invoke(main, ["score", "--help"]).stdout.split())
    listed = shown.split("Input columns")[1]
    for name in FIELD_NAMES:
        assert f" {name}," in listed or f" {name} " in listed, name
    assert "p_<cause id>, top_cause, care, care_reasons, unasked_warning_signs, error" in listed


def test_a_bad_option_is_a_usage_error() -> None:
    assert run(str(DATA / "valid.csv"), "--jobs", "0").exit_code == 2


@pytest.mark.slow  # a fresh interpreter on a pseudo-terminal, several seconds
def test_the_progress_bar_shows_on_a_terminal(tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a terminal 100 wide
    command = [sys.executable, "-m", "model", "score", str(DATA / "valid.csv"), "-o", str(tmp_path / "out.csv")]
    done = subprocess.run(command, stderr=follower, stdout=subprocess.DEVNULL, cwd=ROOT, timeout=120)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert done.returncode == 0
    text = shown.decode()
    assert "100%|" in text and "5.00/5.00 [" in text and "rows/s]" in text  # rows done, time, rate
    assert "backcheck: 5 rows scored, 0 with errors" in text


def test_worker_processes_give_the_same_file_as_one_process(tmp_path: Path) -> None:
    # Enough rows for the command to start workers and cut the file into chunks (twelve here); a long kept
    # column makes each row span Arrow's blocks unevenly.
    rng = np.random.default_rng(3)
    n = 6000
    source = tmp_path / "cases.csv"
    activities = np.array(["lifting", "yoga", "", "sitting", "runing"])
    with source.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["case_id", "note", "activity", "age", "fever"])
        for i in range(n):
            age = str(rng.integers(5, 100)) if rng.random() < 0.7 else ""
            fever = ["yes", "no", "", "maybe"][rng.integers(0, 4)]
            writer.writerow([f"c{i}", "x" * 2000, activities[rng.integers(0, 5)], age, fever])
    serial, parallel = tmp_path / "serial.csv", tmp_path / "parallel.csv"
    assert run(str(source), "--keep", "note", "-o", str(serial), "-j", "1", "--quiet").exit_code == 0
    command = [sys.executable, "-m", "model", "score", str(source), "--keep", "note", "-o", str(parallel), "-j", "2"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    # byte for byte, though the other processes hash strings with other seeds: every sum is done in one order
    assert parallel.read_bytes() == serial.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cases.csv", "parallel.csv", "serial.csv"]


# Awkward but legal text for the pass-through column, and values valid and not for three contract fields.
# (a NUL character is how a binary file gives itself away, so text has none)
case_ids = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12
) | st.sampled_from(["NA", "null", " ", "a,b", 'q"q', "x\ny", "\r\n"])
values = {
    "activity": st.sampled_from(["lifting", " Yoga", "runing", "", "unknown", "?"]),
    "severity": st.sampled_from(["0", "10", "7.5", "11", "-0", "six", ""]),
    "fever": st.sampled_from(["yes", "N", "1", "maybe", "", "TRUE"]),
}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.fixed_dictionaries({"case_id": case_ids, **values}), max_size=25))
def test_random_rows_valid_and_not_come_back_all_and_in_order(cases: list[dict[str, str]]) -> None:
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(["case_id", *values])
    writer.writerows([case["case_id"], *(case[k] for k in values)] for case in cases)
    result = run("-", "--quiet", stdin=text.getvalue().encode("utf-8"))
    assert result.exit_code == 0, result.output
    out = rows(written(result))
    assert len(out) == len(cases) + 1
    for row, case in zip(out[1:], cases, strict=True):
        assert row[:4] == [case["case_id"], *(case[k] for k in values)]
        try:
            parse_case({k: v for k, v in case.items() if k != "case_id"})
        except CaseError as exc:
            assert row[-1] == str(exc)
        else:
            assert row[-1] == "" and row[-3] != ""
