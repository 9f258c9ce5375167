"""The Streamlit app under AppTest: warning signs first, the model's advice and causes, the next question, files."""

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
from app import charts, files, present, questions
from model.cases.fields import EVIDENCE_FIELDS, FIELD_BY_NAME, WARNING_SIGNS
from model.inspect.explain import CARE_CHANCE, answer_steps, next_questions
from model.network.sources import load_sources
from model.scoring.batch import output_columns

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
# Generous: a cold run (imports, the engine, the first next question) takes 10-20 s on a busy machine.
TIMEOUT = 120
NUMBERS = ("age", "severity", "duration_days")
TRAMPOLINE = {"activity": "jumping", "fall_or_impact": "yes", "numbness": "legs", "severity": 9}
DEADLIFT_STRAIN = {"activity": "deadlift", "onset": "during", "more_than_usual": "yes", "severity": 4}
STRAIGHT_LEG_RAISE = {"activity": "deadlift", "straight_leg_raise": "positive"}


def started() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def answer(at: AppTest, case: dict[str, object]) -> AppTest:
    """Set the widgets for a case by their contract keys, then rerun."""
    for field, value in case.items():
        if field in NUMBERS:
            at.number_input(key=field).set_value(value)
        elif field == "activity":
            at.selectbox(key=field).set_value(value)
        else:
            at.radio(key=field).set_value(value)
    at.run()
    assert not at.exception, at.exception
    return at


def advice(at: AppTest) -> tuple[str, str]:
    """(the key of the advice's container, its text): the first block of the page."""
    block = next(b for b in at.main.children.values() if getattr(b, "type", "") == "flex_container" or b.key)
    inner = block if block.key != "advice" else next(iter(block.children.values()))
    alerts = [*inner.error, *inner.warning, *inner.info, *inner.success]
    return inner.key, "\n".join(a.value for a in alerts)


def uploaded(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="cases_csv").set_value((name, data, "text/csv"))
    at.run()
    assert not at.exception, at.exception
    return at


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


HEADER = "case_id,activity,age,numbness,fall_or_impact,severity"
GOOD_ROW = "T1,jumping,30,,yes,"


def test_on_first_load_nothing_is_answered_and_nothing_reassures() -> None:
    at = started()
    page = "\n".join(e.value for e in [*at.markdown, *at.info, *at.success, *at.warning, *at.error, *at.caption])
    assert "not a diagnosis" in page
    for field in EVIDENCE_FIELDS:
        widget = (
            at.number_input(key=field)
            if field in NUMBERS
            else at.selectbox(key=field)
            if field == "activity"
            else at.radio(key=field)
        )
        assert widget.value is None, field
    assert "no warning signs" not in page.lower()
    assert model.diagnose({}).care.advice not in page, "no self-care advice"
    assert not at.success
    key, text = advice(at)
    assert key == "care_pending"
    assert f"{len(WARNING_SIGNS)} of them are not answered" in text


def test_self_care_shows_once_every_warning_sign_is_answered_no() -> None:
    at = answer(started(), DEADLIFT_STRAIN)
    assert advice(at)[0] == "care_pending", "a deadlift strain alone does not reassure"
    answer(at, dict.fromkeys(WARNING_SIGNS[:-1], "no"))
    assert advice(at)[0] == "care_pending", "one warning sign is still open"
    answer(at, {WARNING_SIGNS[-1]: "no"})
    expected = model.diagnose({**DEADLIFT_STRAIN, **dict.fromkeys(WARNING_SIGNS, "no")})
    assert expected.care.level == "self_care"
    key, text = advice(at)
    assert key == "care_self_care"
    assert expected.care.advice in text and "No warning signs" in text
    answer(at, {"both_legs": "yes"})  # a warning sign never lowers care, and never leaves it at self-care
    key, text = advice(at)
    assert key == "care_routine" and "No warning signs" not in text
    assert not at.success


def test_the_none_of_these_button_answers_only_the_open_warning_signs_no() -> None:
    at = answer(started(), {"both_legs": "yes"})
    at.button(key="no_warning_signs").click().run()
    assert not at.exception, at.exception
    assert at.radio(key="both_legs").value == "yes"
    assert all(at.radio(key=s).value == "no" for s in WARNING_SIGNS if s != "both_legs")


def test_dont_know_is_an_answer_that_leaves_the_field_unknown() -> None:
    at = answer(started(), {**DEADLIFT_STRAIN, **dict.fromkeys(WARNING_SIGNS, "no")})
    answer(at, {"fever": "unknown"})
    expected = model.diagnose({**DEADLIFT_STRAIN, **{s: "no" for s in WARNING_SIGNS if s != "fever"}})
    key, text = advice(at)
    assert key == f"care_{expected.care.level}", "answered, so advice is given"
    assert "No warning signs" not in text and "not asked" in text
    at.checkbox(key="severity_unknown").check().run()
    assert not at.exception, at.exception
    without = {k: v for k, v in DEADLIFT_STRAIN.items() if k != "severity"}
    expected = model.diagnose({**without, **{s: "no" for s in WARNING_SIGNS if s != "fever"}})
    assert advice(at)[1].count(expected.care.reasons[0]) == 1


def test_every_field_has_a_widget_keyed_by_its_name_with_the_contract_values() -> None:
    at = started()
    for field in EVIDENCE_FIELDS:
        spec = FIELD_BY_NAME[field]
        if field in NUMBERS:
            assert at.number_input(key=field).min == spec.low
            assert at.checkbox(key=f"{field}_unknown").label == "don't know"
            continue
        widget = at.selectbox(key=field) if field == "activity" else at.radio(key=field)
        values = ("yes", "no", "unknown") if spec.kind == "yesno" else (*spec.choices, "unknown")
        assert widget.options == [widget.format_func(v) for v in values], field
        assert widget.format_func("unknown") == "don't know"


def test_every_field_is_asked_in_exactly_one_group() -> None:
    asked = [field for _, fields in questions.GROUPS for field in fields]
    assert sorted(asked) == sorted(EVIDENCE_FIELDS)
    assert questions.GROUPS[0][1] == WARNING_SIGNS


def test_numb_legs_after_a_trampoline_fall_is_an_emergency_shown_first() -> None:
    at = answer(started(), TRAMPOLINE)
    expected = model.diagnose(TRAMPOLINE)
    assert expected.care.level == "emergency"
    key, text = advice(at)
    assert key == "care_emergency", "the first thing on the page"
    assert "Call emergency services now, or go to the emergency department." in text
    for reason in expected.care.reasons:
        assert reason in text
    at.button(key="emergency_seen_button").click().run()
    key, text = advice(at)
    assert key == "care_emergency_box", "still in sight, pinned, once the person has seen it"
    answer(at, {"severity": 3})
    assert advice(at)[0] == f"care_{model.diagnose({**TRAMPOLINE, 'severity': 3}).care.level}"


def test_the_next_question_is_the_one_most_likely_to_change_the_care() -> None:
    ranked = next_questions(STRAIGHT_LEG_RAISE, top=None)
    assert ranked[0].p_care_changes > 0
    assert ranked[0].p_care_changes == max(q.p_care_changes for q in ranked)
    changes = [q.p_care_changes >= CARE_CHANCE for q in ranked]
    assert changes == sorted(changes, reverse=True), "every care-changing question before the others"
    assert ranked[0].field in WARNING_SIGNS
    at = answer(started(), STRAIGHT_LEG_RAISE)
    card = [m.value for m in at.markdown if m.value.startswith("**Next question:")]
    assert card == [f"**Next question: {FIELD_BY_NAME[WARNING_SIGNS[0]].question}**"], "warning signs first, in order"
    signs_no = dict.fromkeys(WARNING_SIGNS, "no")
    answer(at, signs_no)
    case = {**STRAIGHT_LEG_RAISE, **signs_no}
    candidates = [f for f in questions.GROUPS[1][1] if f not in case][: questions.CANDIDATES]
    best = next_questions(case, top=None, fields=candidates)
    changes = [q.p_care_changes >= CARE_CHANCE for q in best]
    assert changes == sorted(changes, reverse=True)
    card = [m.value for m in at.markdown if m.value.startswith("**Next question:")]
    assert card == [f"**Next question: {FIELD_BY_NAME[best[0].field].question}**"]
    keys = {b.key for b in at.button if b.key.startswith("answer_")}
    assert keys == {f"answer_{best[0].field}_{s}" for s in (*best[0].answers, "unknown")}
    state = next(iter(best[0].answers))
    at.button(key=f"answer_{best[0].field}_{state}").click().run()
    assert not at.exception, at.exception
    value = present.value_for_state(best[0].field, state)
    widget = at.number_input if best[0].field in NUMBERS else at.selectbox if best[0].field == "activity" else at.radio
    assert widget(key=best[0].field).value == value
    card = [m.value for m in at.markdown if m.value.startswith("**Next question:")]
    assert card != [f"**Next question: {FIELD_BY_NAME[best[0].field].question}**"], "on to the next question"


def test_the_why_panel_adds_the_answers_up_one_at_a_time() -> None:
    steps = answer_steps(TRAMPOLINE)
    fracture = steps[steps["cause"] == "compression_fracture"]
    assert fracture["p_before"].iloc[0] == pytest.approx(model.diagnose({}).posteriors["compression_fracture"])
    assert fracture["p_after"].iloc[-1] == pytest.approx(model.diagnose(TRAMPOLINE).posteriors["compression_fracture"])
    assert fracture["p_before"].iloc[1:].tolist() == pytest.approx(fracture["p_after"].iloc[:-1].tolist())
    at = answer(started(), TRAMPOLINE)
    at.button(key="emergency_seen_button").click().run()
    at.selectbox(key="why_cause").set_value("compression_fracture").run()
    assert not at.exception, at.exception
    text = "\n".join(m.value for m in at.markdown)
    first, last = fracture["p_before"].iloc[0], fracture["p_after"].iloc[-1]
    assert f"**Vertebral compression fracture**: {first:.1%} before any answers, {last:.1%} with all of them" in text
    assert 'section "Back pain after jumping", paragraph 6' in text


def test_the_causes_are_in_words_with_natural_frequencies() -> None:
    at = answer(started(), TRAMPOLINE)
    text = "\n".join(m.value for m in at.markdown)
    assert "Several of these can be true at once" in text
    assert "Common and usually harmless" in text and "A doctor should rule this out" in text
    p = model.diagnose(TRAMPOLINE).posteriors["compression_fracture"]
    assert f"**Vertebral compression fracture**: likely. About {round(p * 100)} in 100 people" in text
    assert "93%" not in text


def test_a_csv_upload_is_scored_like_the_command_line_and_offered_for_download() -> None:
    data = csv_bytes(HEADER, GOOD_ROW, "T2,jumping,30,legs,yes,9", "T3,jumping,30,,,11")
    at = uploaded(started(), "cases.csv", data)
    expected = model.score_cases(files.read_cases(data, "cases.csv"))
    shown = at.dataframe[-1].value
    pd.testing.assert_frame_equal(shown.reset_index(drop=True), files.in_words(expected), check_dtype=False)
    assert shown["Advice"].tolist() == ["Self-care", "Emergency", ""]
    assert shown["Warning signs not answered"].tolist()[:2] == [len(WARNING_SIGNS)] * 2
    assert [m.value for m in at.metric] == ["3", "2", "1"]
    assert "Row 3 (case T3): severity: '11' is outside 0-10" in at.error[0].value
    assert [d.label for d in at.get("download_button")] == ["Download the scored CSV"]


def test_a_ragged_row_stops_the_upload_with_its_line_and_scores_nothing() -> None:
    data = csv_bytes(HEADER, GOOD_ROW, "T2,jumping,30,legs,yes,9,extra")
    at = uploaded(started(), "ragged.csv", data)
    assert [e.value for e in at.error] == [
        "ragged.csv: line 3 has 7 fields but the header has 6; every row needs one value per column (empty for unknown)"
    ]
    assert not at.metric
    assert not at.get("download_button")
    assert not [d for d in at.dataframe if "Advice" in d.value.columns]


def test_an_extra_column_stops_the_scoring_until_it_is_passed_through() -> None:
    at = uploaded(started(), "cases.csv", csv_bytes(HEADER + ",yoga", GOOD_ROW + ",warrior"))
    assert "unknown column 'yoga'" in at.error[0].value
    assert files.PASS_THROUGH in at.error[0].value, "the message points at the pass-through choice"
    assert not at.metric
    at.multiselect(key="keep_columns").set_value(["yoga"]).run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric] == ["1", "1", "0"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (csv_bytes("case_id,severty", "A,5"), "unknown column 'severty' (did you mean 'severity'?)"),
        ("activity\nsquats\nlåft\n".encode("latin-1"), "is not UTF-8 text (line 3 holds the byte 0xe5)"),
        (b"", "is empty"),
        (csv_bytes("case_id,activity"), "has a header row but no cases"),
        (csv_bytes("activity,activity", "squats,squats"), "duplicate column 'activity'"),
        (b"activity\x00\nsquats\n", "holds binary data"),
        (csv_bytes("case_id,p_doms", "A,1"), "would be overwritten by the scores"),
        (b"activity\n" + b"lifting\n" * (files.MAX_UPLOAD_BYTES // 8), f"up to {files.MAX_UPLOAD_MB} MB"),
        (b"activity\n" + b"squats\n" * (files.MAX_ROWS + 1), "backcheck score FILE.csv"),
    ],
    ids=["misspelt", "latin-1", "empty", "header-only", "duplicate", "nul-bytes", "clash", "too-big", "too-many"],
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
    scored = model.score_cases(files.read_cases(data, "cases.csv"))
    exact = pd.read_csv(io.BytesIO(files.scored_csv(scored)), dtype=str, keep_default_na=False)
    safe = pd.read_csv(io.BytesIO(files.scored_csv(scored, safe=True)), dtype=str, keep_default_na=False)
    assert exact["case_id"].tolist() == ["=HYPERLINK(1)", "@A1", "plain"]
    assert safe["case_id"].tolist() == ["'=HYPERLINK(1)", "'@A1", "plain"]
    pd.testing.assert_frame_equal(safe[output_columns()], exact[output_columns()])  # scores untouched
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
    inputs = ["case_id", "severity", "activity"]
    pd.testing.assert_frame_equal(cli[inputs], safe[inputs])  # the same cells as --spreadsheet-safe writes
    probabilities = [c for c in output_columns() if c.startswith("p_")]
    pd.testing.assert_frame_equal(cli[probabilities].astype(float), safe[probabilities].astype(float))


def test_the_upload_limit_in_the_config_is_the_apps_and_no_traceback_is_shown() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == files.MAX_UPLOAD_MB
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] == "none"


def test_sources_are_named_in_full() -> None:
    cited = {s for _, _, sourced in model.load_spec().sourced_items() for s in sourced.source}
    assert cited <= set(load_sources())
    for source in load_sources().values():
        assert source.text.strip() and source.title.strip()
        assert source.id not in source.title or "," in source.title, "a title, not a bare key"


def test_the_chart_marks_meet_the_contrast_for_graphics() -> None:
    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    for colour in (charts.NOW_COLOUR, charts.BEFORE_COLOUR, charts.TEXT_COLOUR):
        assert (1.05) / (luminance(colour) + 0.05) >= 4.5, colour
    marks = {layer["mark"]["type"] for layer in charts.chart_spec(3)["layer"]}
    assert marks == {"bar", "tick"}, "the two series differ by shape, not by colour alone"


def test_an_example_fills_the_answers_and_gets_the_models_advice() -> None:
    at = started()
    at.selectbox(key="example").set_value("E07").run()
    assert not at.exception, at.exception
    case = files.example_cases()["E07"]
    assert at.selectbox(key="activity").value == case["activity"]
    assert at.number_input(key="severity").value == case["severity"]
    assert at.radio(key="bruising").value is None
    assert model.diagnose(case).care.level == "emergency"
    assert advice(at)[0] == "care_emergency"


def test_the_example_cases_can_be_scored_without_an_upload() -> None:
    at = started()
    at.toggle(key="score_examples").set_value(True).run()
    assert not at.exception, at.exception
    rows = len(pd.read_csv(ROOT / "data" / "example_cases.csv", dtype=str))
    assert [m.value for m in at.metric] == [str(rows), str(rows), "0"]


def test_the_entry_point_is_short() -> None:
    assert len(APP.read_text(encoding="utf-8").splitlines()) < 100
