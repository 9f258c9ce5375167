"""`backcheck score` on Parquet: the CSV path's values and errors, typed columns, datasets, bad files in one line."""

from __future__ import annotations

import datetime
import decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from model.cli import main
from model.scoring import parquet
from model.scoring.batch import output_columns

DATA = Path(__file__).resolve().parent / "data"
PROBABILITIES = [c for c in output_columns() if c.startswith("p_")]
TEXTS = [c for c in output_columns() if not c.startswith("p_")]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["score", *args])


def csv_text(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name, dtype=str, keep_default_na=False)


def write(frame: pd.DataFrame, path: Path, row_group_size: int | None = None) -> Path:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=row_group_size)
    return path


def scored_csv(name: str, tmp_path: Path) -> pd.DataFrame:
    target = tmp_path / f"{name}.scored.csv"
    assert run(str(DATA / name), "-o", str(target), "--quiet").exit_code == 0
    return pd.read_csv(target, dtype=str, keep_default_na=False)


def files(directory: Path) -> list[str]:
    return sorted(str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", ["valid.csv", "row_errors.csv"])
def test_a_parquet_file_of_text_scores_to_the_csv_paths_values(tmp_path: Path, name: str) -> None:
    source = write(csv_text(name), tmp_path / "cases.parquet")
    target = tmp_path / "scored.parquet"
    result = run(str(source), "-o", str(target))
    assert result.exit_code == 0, result.output
    expected = scored_csv(name, tmp_path)
    assert result.stderr == CliRunner().invoke(main, ["score", str(DATA / name)]).stderr  # the same summary line
    table = pq.read_table(target)
    assert table.schema.names == list(expected.columns)
    assert all(table.schema.field(c).type == pa.float64() for c in PROBABILITIES)
    assert all(table.schema.field(c).type == pa.string() for c in TEXTS)
    out = table.to_pandas()
    for column in expected.columns:
        if column in PROBABILITIES:
            # one chunk of rows in both: the same sums, to the last digit, and null where CSV has an empty cell
            assert out[column].isna().tolist() == (expected[column] == "").tolist()
            valid = expected[column] != ""
            assert out.loc[valid, column].tolist() == expected.loc[valid, column].astype(float).tolist()
        else:
            assert out[column].tolist() == expected[column].tolist(), column


def test_typed_columns_are_read_as_the_contract_reads_their_text(tmp_path: Path) -> None:
    text = pd.DataFrame(
        {
            "case_id": ["a", "b", "c", "d", "e"],
            "activity": ["yoga", "", "runing", "lifting", "walking"],
            "age": ["40", "", "300", "71", "25"],
            "severity": ["6.5", "2", "", "10", "11"],
            "fever": ["yes", "", "no", "no", "yes"],
            "bruising": ["1", "0", "", "2", "1"],
        }
    )
    typed = pd.DataFrame(
        {
            "case_id": text["case_id"],
            "activity": pd.Categorical(["yoga", None, "runing", "lifting", "walking"]),
            "age": pd.array([40, None, 300, 71, 25], dtype="Int64"),
            "severity": [6.5, 2.0, np.nan, 10.0, 11.0],
            "fever": pd.array([True, None, False, False, True], dtype="boolean"),
            "bruising": pd.array([1, 0, None, 2, 1], dtype="Int8"),
        }
    )
    a, b = tmp_path / "text.parquet", tmp_path / "typed.parquet"
    assert run(str(write(text, tmp_path / "text_in.parquet")), "-o", str(a)).exit_code == 0
    assert run(str(write(typed, tmp_path / "typed_in.parquet")), "-o", str(b)).exit_code == 0
    from_text, from_typed = pq.read_table(a).to_pandas(), pq.read_table(b).to_pandas()
    pd.testing.assert_frame_equal(from_typed[PROBABILITIES], from_text[PROBABILITIES])
    assert from_typed["care"].tolist() == from_text["care"].tolist()
    # the messages quote the value as the file holds it: 300, not '300'
    assert from_typed["error"].tolist() == [
        "",
        "",
        "activity: 'runing' is not one of lifting, deadlift, squats, running, walking, jumping, swimming, sitting, "
        "bending, yoga, other (did you mean 'running'?); age: 300 is outside 10-110",
        "bruising: 2 is not yes or no (also accepted: y/n, true/false, 1/0)",
        "severity: 11.0 is outside 0-10",
    ]
    assert [e.split(":")[0] for e in from_text["error"]] == [e.split(":")[0] for e in from_typed["error"]]
    # the input columns come back with their types, and pandas reads them as it wrote them
    assert pq.read_schema(b).field("fever").type == pa.bool_()
    pd.testing.assert_frame_equal(from_typed[typed.columns], typed)


def test_a_stored_nan_is_a_row_error_and_a_null_is_unknown(tmp_path: Path) -> None:
    # Parquet tells a gap (null) from a NaN stored as a value; the contract reads nan as no number, never as unknown
    table = pa.table(
        {
            "case_id": ["nan", "null", "five"],
            "severity": pa.array([float("nan"), None, 5.0], type=pa.float64()),
            "age": pa.array(
                [decimal.Decimal("9.99999999999999999999"), None, decimal.Decimal("40")], pa.decimal128(22, 20)
            ),
        }
    )
    source, target = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(table, source)
    assert run(str(source), "-o", str(target), "--quiet").exit_code == 0
    errors = pq.read_table(target).column("error").to_pylist()
    assert errors[0] == (
        "age: Decimal('9.99999999999999999999') is not a whole number; expected a whole number from 10 to 110; "
        "severity: NaN is not a finite number; expected a number from 0 to 10"
    )
    assert errors[1:] == ["", ""]


def test_a_dataset_is_scored_file_by_file_into_the_same_layout(tmp_path: Path) -> None:
    cases = csv_text("row_errors.csv")
    source = tmp_path / "cases"
    (source / "clinic=b").mkdir(parents=True)
    write(cases, source / "part-0.parquet", row_group_size=3)
    write(cases.iloc[::-1], source / "clinic=b" / "part-1.parquet", row_group_size=5)
    write(cases.iloc[:0], source / "clinic=b" / "part-2.parquet")
    (source / "_SUCCESS").write_text("")
    (source / ".part-0.parquet.crc").write_text("")
    target = tmp_path / "scored"
    result = run(str(source), "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.stderr == "backcheck: 16 rows scored, 12 with errors (see the error column)\n"
    assert files(target) == ["clinic=b/part-0.parquet".replace("0", "1"), "clinic=b/part-2.parquet", "part-0.parquet"]
    for name in files(target):
        alone = tmp_path / "alone.parquet"
        assert run(str(source / name), "-o", str(alone), "--quiet").exit_code == 0
        assert pq.read_table(target / name).equals(pq.read_table(alone)), name
    assert pq.read_table(target / "clinic=b/part-1.parquet").column("case_id").to_pylist() == [
        f"E0{i}" for i in range(8, 0, -1)
    ]
    assert pq.read_table(target / "clinic=b/part-2.parquet").schema.names == [*cases.columns, *output_columns()]
    errors = pq.read_table(target / "part-0.parquet").column("error").to_pylist()
    assert errors == scored_csv("row_errors.csv", tmp_path)["error"].tolist()


def test_a_row_group_longer_than_a_chunk_is_written_back_in_groups_of_at_most_a_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parquet, "MIN_CHUNK_ROWS", 3)  # a row group of 14 rows: slices of 3, 3, 3, 3, 2
    monkeypatch.setattr(parquet, "CHUNK_ROWS", 7)  # written as 6, 6 and 2: no output group over 7 rows
    cases = pd.concat([csv_text("valid.csv"), csv_text("row_errors.csv")] * 2, ignore_index=True).head(14)
    source = write(cases, tmp_path / "cases.parquet", row_group_size=14)
    target = tmp_path / "scored.parquet"
    assert run(str(source), "-o", str(target), "--jobs", "1", "--quiet").exit_code == 0
    written = pq.ParquetFile(target).metadata
    assert [written.row_group(i).num_rows for i in range(written.num_row_groups)] == [6, 6, 2]
    assert pq.read_table(target).column("case_id").to_pylist() == cases["case_id"].tolist()


def test_each_slice_of_a_row_group_is_scored_alone_and_workers_give_the_same_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parquet, "MIN_CHUNK_ROWS", 3)  # a row group of 7 rows: slices of 3, 3, 1
    cases = pd.concat([csv_text("valid.csv"), csv_text("row_errors.csv")] * 2, ignore_index=True)
    source = write(cases, tmp_path / "cases.parquet", row_group_size=7)
    with pq.ParquetFile(source) as file:
        assert [b.num_rows for b in parquet.row_group_slices(file, 0, least=3)] == [3, 3, 1]
        groups = [file.metadata.row_group(i).num_rows for i in range(file.num_row_groups)]
    serial, workers = tmp_path / "serial.parquet", tmp_path / "workers.parquet"
    assert run(str(source), "-o", str(serial), "--jobs", "1", "--quiet").exit_code == 0
    assert run(str(source), "-o", str(workers), "--jobs", "2", "--quiet").exit_code == 0
    assert pq.read_table(workers).equals(pq.read_table(serial))
    written = pq.ParquetFile(serial).metadata
    assert [written.row_group(i).num_rows for i in range(written.num_row_groups)] == groups  # each written whole
    assert pq.read_table(serial).column("case_id").to_pylist() == cases["case_id"].tolist()


def test_a_pandas_index_stored_in_a_column_is_passed_through(tmp_path: Path) -> None:
    cases = csv_text("valid.csv").set_index("case_id")
    source, target = tmp_path / "cases.parquet", tmp_path / "scored.parquet"
    cases.to_parquet(source)
    assert run(str(source), "-o", str(target)).exit_code == 0
    scored = pd.read_parquet(target)
    assert scored.index.tolist() == cases.index.tolist() and scored.index.name == "case_id"


def test_keep_passes_an_extra_column_of_any_type_through(tmp_path: Path) -> None:
    cases = csv_text("valid.csv").assign(visit=pd.date_range("2024-01-01", periods=5))
    source, target = write(cases, tmp_path / "cases.parquet"), tmp_path / "scored.parquet"
    result = run(str(source), "-o", str(target))
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "unknown column 'visit'; the known columns are listed in the case schema; "
        "to pass an extra column through, name it with --keep\n"
    )
    assert run(str(source), "-o", str(target), "--keep", "visit").exit_code == 0
    assert pq.read_table(target).column("visit").to_pylist()[0] == datetime.datetime(2024, 1, 1)


def bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    cases = csv_text("valid.csv")
    bad = {}
    path = write(cases.assign(age=pd.date_range("2024-01-01", periods=5)), tmp_path / "dates.parquet")
    bad["a date for an age"] = (
        path,
        f"{path}: column 'age' holds values of type timestamp[us]; expected integers, numbers or text "
        "(a whole number from 10 to 110)",
    )
    path = write(cases.assign(fever=[1.0, 0.0, np.nan, 1.0, 0.0]), tmp_path / "floats.parquet")
    bad["floats for yes/no"] = (
        path,
        f"{path}: column 'fever' holds values of type double; expected booleans, integers (1 and 0) or text "
        "(yes or no (also y/n, true/false, 1/0))",
    )
    path = write(cases.rename(columns={"severity": "severty"}), tmp_path / "unknown.parquet")
    bad["an unknown column"] = (path, f"{path}: unknown column 'severty' (did you mean 'severity'?)")
    path = tmp_path / "text.parquet"
    path.write_bytes((DATA / "valid.csv").read_bytes())
    bad["a CSV file named .parquet"] = (path, f"{path}: is not a Parquet file, or a damaged one (")
    good = write(cases, tmp_path / "good.parquet").read_bytes()
    path = tmp_path / "truncated.parquet"
    path.write_bytes(good[: len(good) // 2])
    bad["a truncated file"] = (path, f"{path}: is not a Parquet file, or a damaged one (")
    path = tmp_path / "pages.parquet"
    path.write_bytes(good[:4] + bytes(200) + good[204:])  # the footer intact, the first pages zeroed
    bad["damaged pages"] = (path, f"{path}: cannot be read (")
    path = tmp_path / "empty.parquet"
    path.write_bytes(b"")
    bad["an empty file"] = (path, f"{path}: is empty; a Parquet file of cases holds at least its columns")
    bad["a missing file"] = (tmp_path / "missing.parquet", f"{tmp_path / 'missing.parquet'}: no such file or directory")
    path = tmp_path / "nothing"
    path.mkdir()
    bad["a directory without Parquet"] = (path, f"{path}: is a directory with no Parquet files (*.parquet) in it")
    path = tmp_path / "mixed"
    path.mkdir()
    write(cases, path / "a.parquet")
    write(cases.assign(age=[30] * 5), path / "b.parquet")
    bad["a dataset whose files differ"] = (
        path,
        f"{path / 'b.parquet'}: its column 'age' holds values of type int64, not large_string "
        f"({path / 'a.parquet'} is read first); every file of a dataset needs the same columns of the same types",
    )
    return bad


def test_bad_parquet_stops_the_run_in_one_line_and_writes_nothing(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for what, (source, message) in bad_inputs(inputs).items():
        target = tmp_path / ("scored" if source.is_dir() else "scored.parquet")
        result = run(str(source), "-o", str(target))
        assert result.exit_code == 1, (what, result.output)
        line = result.stderr.removeprefix("Error: ")
        assert line.startswith(message) and line.count("\n") == 1, (what, line)
        assert "Traceback" not in result.output
        assert sorted(p.name for p in tmp_path.iterdir()) == ["inputs"], what


def test_an_output_that_must_not_be_written_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "cases"
    source.mkdir()
    write(csv_text("valid.csv"), source / "a.parquet")
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    for target, message in (
        (full, f"{full}: is a directory that holds files; name a new or empty directory"),
        (source / "scored", f"{source / 'scored'}: is inside the input {source}; write the scores somewhere else"),
        (full / "keep.txt", f"{full / 'keep.txt'}: is not a directory; the scores of a dataset go to a new or "),
    ):
        result = run(str(source), "-o", str(target))
        assert result.exit_code == 1 and result.stderr.removeprefix("Error: ").startswith(message), result.output
    assert (full / "keep.txt").read_text() == "mine" and files(source) == ["a.parquet"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(str(source), "-o", str(empty), "--quiet").exit_code == 0 and files(empty) == ["a.parquet"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "out.csv"], "out.csv: Parquet input is scored to Parquet; name the output .parquet"),
        ([], "Parquet output goes to a file or directory: name it with -o"),
        (["-o", "o.parquet", "--spreadsheet-safe"], "--spreadsheet-safe is for CSV output"),
    ],
)
def test_options_that_do_not_go_with_parquet_are_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    source = write(csv_text("valid.csv"), tmp_path / "cases.parquet")
    result = run(str(source), *args)
    assert result.exit_code == 2 and message in result.stderr, result.output


def test_format_names_the_format_of_a_file_whatever_its_name(tmp_path: Path) -> None:
    source = write(csv_text("valid.csv"), tmp_path / "cases.bin")
    assert run(str(source), "-o", str(tmp_path / "a.out"), "--format", "parquet", "--quiet").exit_code == 0
    assert pq.read_table(tmp_path / "a.out").num_rows == 5
    result = run(str(DATA / "valid.csv"), "-o", str(tmp_path / "b.parquet"))
    assert result.exit_code == 2 and "CSV input is scored to CSV" in result.stderr
