"""The Streamlit app under AppTest: widgets by contract key in, the model's posteriors, advice and explanations out."""

from __future__ import annotations

import io
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import model
from model import present
from model.batch import output_columns
from model.explain import answer_effects, link_notes, next_questions
from model.fields import EVIDENCE_FIELDS, FIELD_BY_NAME, WARNING_SIGNS
from model.sources import load_sources

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
# Generous: with pgmpy's exact inference a cold run (imports, network, next question) takes 10-20 s on a busy machine.
TIMEOUT = 120
SLIDERS = ("age", "severity", "duration_days")
TRAMPOLINE = {"activity": "jumping", "fall_or_impact": "yes", "numbness": "legs", "severity": 9}


def started() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def answer(at: AppTest, case: dict[str, object]) -> AppTest:
    """Set the widgets for a case by their contract keys, then rerun."""
    for field, value in case.items():
        if field in SLIDERS:
            at.slider(key=field).set_value(value)
        elif field == "activity":
            at.selectbox(key=field).set_value(value)
        else:
            at.radio(key=field).set_value(value)
    at.run()
    assert not at.exception, at.exception
    return at


def shown_posteriors(at: AppTest, column: str = "now") -> dict[str, float]:
    """The table under "The numbers": cause label -> probability with the answers ("now") or before symptoms."""
    table = next(d.value for d in at.dataframe if "label" in d.value.columns)
    return dict(zip(table["label"], table[column], strict=True))


def labelled(posteriors: dict[str, float]) -> dict[str, float]:
    return {present.cause_label(c): p for c, p in posteriors.items()}


def care_text(at: AppTest) -> str:
    boxes = [*at.error, *at.warning, *at.success, *at.info]
    return "\n".join(b.value for b in boxes)


def uploaded(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="cases_csv").set_value((name, data, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    return at


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


HEADER = "case_id,activity,age,numbness,fall_or_impact,severity"
GOOD_ROW = "T1,jumping,30,,yes,"


def test_the_app_starts_with_the_notice_and_nothing_assumed() -> None:
    at = started()
    assert "not a diagnosis" in at.info[0].value
    for field in EVIDENCE_FIELDS:
        if field in SLIDERS:
            assert at.checkbox(key=f"{field}_known").value is False
        else:
            widget = at.selectbox(key=field) if field == "activity" else at.radio(key=field)
            assert widget.value == "unknown"
    empty = model.diagnose({})
    assert care_text(at).count(empty.care.advice) == 1
    shown = shown_posteriors(at)
    assert shown == pytest.approx(labelled(empty.posteriors))


def test_nothing_reassures_until_every_warning_sign_is_answered_no() -> None:
    at = started()
    assert "No warning signs" not in care_text(at)
    assert "not asked" in care_text(at)
    doms = {"activity": "deadlift", "new_to_activity": "yes", "onset": "next_day"}
    answer(at, doms)
    assert "No warning signs" not in care_text(at)
    answer(at, dict.fromkeys(WARNING_SIGNS, "no"))
    assert at.success, "every warning sign answered no and a beginner's soreness: self-care"
    assert "No warning signs" in care_text(at)
    answer(at, {"both_legs": "yes"})
    assert "No warning signs" not in care_text(at)
    assert not at.success


def test_every_field_has_a_widget_keyed_by_its_name_with_the_contract_values() -> None:
    at = started()
    for field in EVIDENCE_FIELDS:
        spec = FIELD_BY_NAME[field]
        if field in SLIDERS:
            slider = at.slider(key=field)
            assert slider.min == spec.low
            assert spec.high is None or slider.max == spec.high
            continue
        widget = at.selectbox(key=field) if field == "activity" else at.radio(key=field)
        values = ("unknown", "yes", "no") if spec.kind == "yesno" else ("unknown", *spec.choices)
        assert widget.options == [widget.format_func(v) for v in values], field


def test_numb_legs_after_a_trampoline_fall_is_an_emergency_as_the_model_says() -> None:
    at = started()
    before = shown_posteriors(at)
    answer(at, TRAMPOLINE)
    expected = model.diagnose(TRAMPOLINE)
    assert expected.care.level == "emergency"
    assert at.checkbox(key="severity_known").value is True, "moving the slider answers the question"
    assert len(at.error) == 1
    assert "Go to an emergency department or call emergency services now." in at.error[0].value
    for reason in expected.care.reasons:
        assert reason in at.error[0].value
    shown = shown_posteriors(at)
    assert shown == pytest.approx(labelled(expected.posteriors))
    assert shown != pytest.approx(before)
    context = model.diagnose({"activity": "jumping", "fall_or_impact": "yes"})
    assert shown_posteriors(at, "before") == pytest.approx(labelled(context.posteriors)), "before = context only"
    assert [t.value for t in at.toast] == ["Emergency: Go to an emergency department or call emergency services now."]


def test_unticking_a_slider_makes_its_answer_unknown_again() -> None:
    at = answer(started(), TRAMPOLINE)
    at.checkbox(key="severity_known").uncheck().run()
    without = model.diagnose({k: v for k, v in TRAMPOLINE.items() if k != "severity"})
    assert without.care.level == "urgent"
    assert not at.error
    assert without.care.advice in at.warning[0].value
    assert shown_posteriors(at) == pytest.approx(labelled(without.posteriors))


def test_the_why_panel_explains_a_cause_with_its_links_and_sources() -> None:
    at = answer(started(), TRAMPOLINE)
    at.selectbox(key="why_cause").set_value("compression_fracture").run()
    assert not at.exception, at.exception
    effects = answer_effects(TRAMPOLINE)
    numbness = effects[(effects["cause"] == "compression_fracture") & (effects["field"] == "numbness")].iloc[0]
    text = "\n".join(m.value for m in at.markdown)
    assert f"**Vertebral compression fracture** is at **{numbness.p_with:.0%}**" in text
    assert (
        f"**Numbness: in the legs** raised it from {numbness.p_without:.0%} to {numbness.p_with:.0%}"
        f" ({present.points(numbness.p_with - numbness.p_without)})"
    ) in text
    captions = "\n".join(c.value for c in at.caption)
    notes = link_notes("numbness", "compression_fracture")
    assert notes, "the network ties numb legs to a fracture"
    for note in notes:
        assert note.sourced.why in captions
        for source in note.sourced.source:
            assert load_sources()[source].text in captions


def test_the_next_question_is_the_networks_and_is_answered_in_place() -> None:
    case = {"activity": "lifting"}
    at = answer(started(), case)
    best = next_questions(case, top=1)[0]
    assert "Most useful next question" in [h.value for h in at.subheader]
    assert f"**{present.field_label(best.field)}?**" in [m.value for m in at.markdown]
    keys = {b.key for b in at.button if b.key.startswith("answer_")}
    assert keys == {f"answer_{best.field}_{state}" for state in best.answers}
    state = next(iter(best.answers))
    at.button(key=f"answer_{best.field}_{state}").click().run()
    assert not at.exception, at.exception
    value = present.value_for_state(best.field, state)
    if best.field in SLIDERS:
        assert at.slider(key=best.field).value == value
        assert at.checkbox(key=f"{best.field}_known").value is True
    else:
        widget = at.selectbox(key=best.field) if best.field == "activity" else at.radio(key=best.field)
        assert widget.value == value
    assert shown_posteriors(at) == pytest.approx(labelled(model.diagnose({**case, best.field: value}).posteriors))


def test_clear_all_answers_sets_everything_back_to_unknown() -> None:
    at = answer(started(), TRAMPOLINE)
    at.button(key="clear_answers").click().run()
    assert not at.error
    assert at.selectbox(key="activity").value == "unknown"
    assert at.radio(key="numbness").value == "unknown"
    assert at.checkbox(key="severity_known").value is False


def test_a_csv_upload_is_scored_like_the_command_line_and_offered_for_download() -> None:
    data = csv_bytes(
        HEADER,
        GOOD_ROW,
        "T2,jumping,30,legs,yes,9",
        "T3,jumping,30,,,11",
    )
    at = uploaded(started(), "cases.csv", data)
    expected = model.score_cases(pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False))
    shown = at.dataframe[-1].value
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), expected, check_dtype=False)
    assert [m.value for m in at.metric] == ["3", "2", "1"]
    assert "1 row(s) could not be scored" in at.error[0].value
    errors = next(d.value for d in at.dataframe if list(d.value.columns) == ["row", "case_id", "error"])
    assert errors.to_dict("records") == [{"row": 3, "case_id": "T3", "error": "severity: '11' is outside 0-10"}]
    download = at.get("download_button")
    assert [d.label for d in download] == ["Download the scored CSV"]


def test_an_extra_column_stops_the_scoring_until_it_is_passed_through() -> None:
    at = uploaded(started(), "cases.csv", csv_bytes(HEADER + ",yoga", GOOD_ROW + ",warrior"))
    assert "unknown column 'yoga'" in at.error[0].value
    assert not at.metric
    at.multiselect(key="keep_columns").set_value(["yoga"]).run()
    assert not at.exception, at.exception
    assert at.dataframe[-1].value["yoga"].tolist() == ["warrior"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (csv_bytes("case_id,severty", "A,5"), "unknown column 'severty' (did you mean 'severity'?)"),
        ("activity\nsquats\nlåft\n".encode("latin-1"), "not UTF-8"),
        (b"", "The file is empty."),
        (csv_bytes("case_id,activity"), "a header row but no cases"),
        (csv_bytes("activity,activity", "squats,squats"), "repeats the column 'activity'"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not UTF-8"),
        (b"activity\x00\nsquats\n", "binary data"),
        (csv_bytes("activity", '"squats'), "not a readable CSV"),
        (
            b"activity\n" + b"lifting\n" * (present.MAX_UPLOAD_BYTES // 8),
            f"the app takes files up to {present.MAX_UPLOAD_MB} MB",
        ),
    ],
    ids=[
        "misspelt-column",
        "latin-1",
        "empty",
        "header-only",
        "duplicate-column",
        "binary",
        "nul-bytes",
        "broken-quote",
        "too-big",
    ],
)
def test_a_bad_csv_gets_one_clear_message(data: bytes, message: str) -> None:
    at = uploaded(started(), "bad.csv", data)
    assert len(at.error) == 1
    assert message in at.error[0].value
    assert at.error[0].value.startswith("bad.csv: ")
    assert not at.get("download_button")


def test_the_download_is_exact_by_default_and_spreadsheet_safe_when_chosen(tmp_path: Path) -> None:
    data = csv_bytes("case_id,severity,activity", "=HYPERLINK(1),-0,yoga", "@A1,5,", "plain,+7,lifting")
    at = uploaded(started(), "cases.csv", data)
    assert at.toggle(key="spreadsheet_safe").value is False  # off unless chosen
    at.toggle(key="spreadsheet_safe").set_value(True).run()
    assert not at.exception, at.exception
    assert [d.label for d in at.get("download_button")] == ["Download the scored CSV"]
    scored = model.score_cases(present.read_cases_csv(data))
    exact = pd.read_csv(io.BytesIO(present.scored_csv(scored)), dtype=str, keep_default_na=False)
    safe = pd.read_csv(io.BytesIO(present.scored_csv(scored, safe=True)), dtype=str, keep_default_na=False)
    assert exact["case_id"].tolist() == ["=HYPERLINK(1)", "@A1", "plain"]
    assert safe["case_id"].tolist() == ["'=HYPERLINK(1)", "'@A1", "plain"]
    assert safe["severity"].tolist() == ["'-0", "5", "'+7"]
    pd.testing.assert_frame_equal(safe[output_columns()], exact[output_columns()])  # scores untouched
    # the same cells as the command line's --spreadsheet-safe writes
    source = tmp_path / "cases.csv"
    source.write_bytes(data)
    command = subprocess.run(
        [sys.executable, "-m", "model", "score", str(source), "--spreadsheet-safe", "--quiet"],
        capture_output=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    cli = pd.read_csv(io.BytesIO(command.stdout), dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(cli[["case_id", "severity", "activity"]], safe[["case_id", "severity", "activity"]])


def test_a_header_cell_over_the_csv_modules_limit_is_read() -> None:
    # the csv module refuses a field over 128 KiB by default
    cases = present.read_cases_csv(csv_bytes("case_id," + "n" * 200_000, "A,1"))
    assert list(cases.columns) == ["case_id", "n" * 200_000]


def test_too_many_rows_are_sent_to_the_command_line() -> None:
    with pytest.raises(present.UploadError, match="backcheck score"):
        present.read_cases_csv(b"activity\n" + b"squats\n" * (present.MAX_ROWS + 1))


def test_the_upload_limit_in_the_config_is_the_apps() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == present.MAX_UPLOAD_MB
    assert config["browser"]["gatherUsageStats"] is False


def test_every_source_the_network_and_care_rules_cite_has_words_to_show() -> None:
    cited = {s for _, _, sourced in model.load_spec().sourced_items() for s in sourced.source}
    assert cited <= set(load_sources())
    assert all(s.text.strip() and s.title.strip() for s in load_sources().values())


def test_a_suggested_answer_sets_a_value_inside_its_network_state() -> None:
    spec = model.load_spec()
    for field in SLIDERS:
        for b in spec.nodes[field].bins:
            value = present.value_for_state(field, b.state)
            assert model.evidence_from_case({field: value})[field] == b.state


def test_an_example_fills_the_answers_and_gets_the_models_advice() -> None:
    at = started()
    at.selectbox(key="example").set_value("E07")
    at.run()
    assert not at.exception, at.exception
    examples = present.example_cases((ROOT / "data" / "example_cases.csv").read_bytes())
    case = examples["E07"]
    assert at.selectbox(key="activity").value == case["activity"]
    assert at.slider(key="severity").value == case["severity"] and at.checkbox(key="severity_known").value
    assert at.radio(key="bruising").value == "unknown"
    assert model.diagnose(case).care.level == "emergency"
    assert "Emergency" in care_text(at)


def test_the_example_cases_can_be_scored_without_an_upload() -> None:
    at = started()
    at.toggle(key="score_examples").set_value(True)
    at.run()
    assert not at.exception, at.exception
    rows = len(pd.read_csv(ROOT / "data" / "example_cases.csv", dtype=str))
    assert [m.value for m in at.metric] == [str(rows), str(rows), "0"]
    assert [d.label for d in at.get("download_button")] == ["Download the scored CSV"]
