"""The backcheck app: describe back pain after exercise, watch the likely causes and the care advice. Not a diagnosis.

Driving it by widget key (AppTest, scripts, the browser test):
- Every input field of docs/case-schema.md has one widget whose key is the field's name. `activity` is a selectbox,
  the other choice and yes/no fields are radios; their options are the contract's values with "unknown" first
  (the default: nothing is assumed).
- `age`, `severity` and `duration_days` are sliders, which cannot be empty, so each has a checkbox
  `<field>_known` (e.g. `severity_known`). The slider's value counts only while its checkbox is ticked; moving the
  slider ticks it, so setting the slider alone answers the question, and unticking the checkbox makes it unknown.
- `why_cause`: the cause the "why?" panel explains ("top" = the most probable one, or a cause id).
- `answer_<field>_<state>`: the buttons that answer the suggested next question in place.
- `clear_answers`: the button that sets every answer back to unknown.
- `cases_csv` (file uploader), `keep_columns` (extra columns to pass through), `download_scores` (the scored CSV),
  `spreadsheet_safe` (a toggle, off by default: the download puts an apostrophe before input cells a spreadsheet
  would run as a formula, those starting with =, +, -, @, a tab or a carriage return).
- `example`: a select that fills the answers from one of data/example_cases.csv; `score_examples`: a toggle that
  scores that file in the file tab when nothing is uploaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

import model
from model import present
from model.batch import output_columns
from model.care import Care
from model.explain import Question, answer_effects, next_questions
from model.fields import EVIDENCE_FIELDS, FIELD_BY_NAME, WARNING_SIGNS, UnknownFieldError

UNKNOWN = present.UNKNOWN
EXAMPLES = Path(__file__).resolve().parent / "data" / "example_cases.csv"
CaseKey = tuple[tuple[str, Any], ...]
# (lowest, highest, resting position) of each slider; duration stops at 90 since every longer pain falls in the
# network's last bin ("over 4 weeks") and the care rules look only at a week or more.
SLIDERS = {"age": (10, 110, 40), "severity": (0, 10, 5), "duration_days": (0, 90, 2)}
# The sidebar: the common questions first, the guideline warning signs in their own group (all of the contract's
# warning signs, in its order, before anything reassures), then the rest.
SECTIONS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    (
        "What happened",
        ("activity", "age", "sex", "new_to_activity", "more_than_usual", "warmed_up", "fall_or_impact"),
        True,
    ),
    (
        "The pain",
        ("onset", "duration_days", "severity", "numbness", "radiating_pain", "relieved_by_rest", "night_pain"),
        True,
    ),
    ("Warning signs (clinical guidelines)", WARNING_SIGNS, True),
    (
        "More about the pain",
        (
            "worse_cough_breath",
            "pain_bending_forward",
            "straight_leg_raise",
            "morning_stiffness",
            "improves_with_exercise",
            "leg_pain_walking_eased_sitting",
            "bruising",
            "swelling",
            "abdominal_pain",
            "flank_pain",
            "urinary_symptoms",
            "headache_dizziness",
        ),
        False,
    ),
    (
        "Risk factors",
        (
            "overweight",
            "sedentary",
            "known_spine_condition",
            "smoker",
            "osteoporosis",
            "recent_infection_or_procedure",
            "blood_thinners",
        ),
        False,
    ),
)
NOW = "With your answers"
BEFORE = "Before any symptoms"
NAME = "cause"
NOW_COLOUR, BEFORE_COLOUR = "#1f5f99", "#b4bfcb"
CARE_BOXES = {
    "emergency": (st.error, ":material/emergency:"),
    "urgent": (st.warning, ":material/schedule:"),
    "routine": (st.info, ":material/stethoscope:"),
    "self_care": (st.success, ":material/self_improvement:"),
}
# An emergency must be impossible to miss: solid red with white text, not the pale alert colours.
PAGE_STYLE = """<style>
.st-key-care_emergency [data-testid="stAlertContainer"] {
  background-color: #b3261e; border: 3px solid #6f1611; box-shadow: 0 0 0 4px rgba(179, 38, 30, 0.25);
}
.st-key-care_emergency [data-testid="stAlertContainer"] * { color: #ffffff !important; }
.st-key-care_urgent [data-testid="stAlertContainer"] { border: 2px solid #c26b00; }
</style>"""
NOT_A_DIAGNOSIS = (
    "**This is not a diagnosis.** backcheck cannot examine you and does not replace a doctor: its numbers come from "
    "a patient article and published figures, not from your body. If you are worried or the pain is severe, see a "
    "doctor."
)


@st.cache_resource(show_spinner="Building the network…")
def network() -> object:
    """The checked network, built once per process and shared read-only by every session."""
    return model.load_network()


@st.cache_data(max_entries=512, show_spinner=False)
def diagnosis(case: CaseKey) -> model.Diagnosis:
    return model.diagnose(dict(case))


@st.cache_data(max_entries=128, show_spinner=False)
def effects(case: CaseKey) -> pd.DataFrame:
    return answer_effects(dict(case))


@st.cache_data(max_entries=128, show_spinner="Finding the most useful next question…")
def questions(case: CaseKey) -> list[Question]:
    return next_questions(dict(case), top=3)


@st.cache_data(max_entries=8, show_spinner="Scoring the cases…")
def scored_cases(data: bytes, keep: tuple[str, ...]) -> pd.DataFrame:
    return model.score_cases(present.read_cases_csv(data), keep=keep)


def init_state() -> None:
    # Widgets take their defaults from session state only, so callbacks can set them without Streamlit's
    # "default value and Session State" conflict.
    for field in EVIDENCE_FIELDS:
        if field in SLIDERS:
            st.session_state.setdefault(field, SLIDERS[field][2])
            st.session_state.setdefault(f"{field}_known", False)
        else:
            st.session_state.setdefault(field, UNKNOWN)


def clear_answers() -> None:
    for field in EVIDENCE_FIELDS:
        if field in SLIDERS:
            st.session_state[f"{field}_known"] = False
        else:
            st.session_state[field] = UNKNOWN


@st.cache_data(show_spinner=False)
def examples() -> dict[str, dict[str, Any]]:
    """The example cases by case_id, their answers read as the contract reads them."""
    return present.example_cases(EXAMPLES.read_bytes())


def load_example() -> None:
    chosen = st.session_state["example"]
    if chosen == UNKNOWN:
        return
    clear_answers()
    for field, value in examples()[chosen].items():
        set_answer(field, value)


def mark_known(field: str) -> None:
    st.session_state[f"{field}_known"] = True


def set_answer(field: str, value: Any) -> None:
    st.session_state[field] = value
    if field in SLIDERS:
        mark_known(field)


def field_widget(field: str) -> None:
    spec = FIELD_BY_NAME[field]
    label, help_text = present.field_label(field), present.HELP.get(field)
    if field in SLIDERS:
        low, high, _ = SLIDERS[field]
        known = st.session_state[f"{field}_known"]
        st.checkbox(
            label if known else f"{label}: not known",
            key=f"{field}_known",
            help=f"{help_text} Move the slider to answer; untick to make it not known again.",
        )
        st.slider(
            label,
            min_value=low,
            max_value=high,
            step=1,
            key=field,
            on_change=mark_known,
            args=(field,),
            label_visibility="collapsed",
        )
    elif field == "activity":
        st.selectbox(label, (UNKNOWN, *spec.choices), key=field, format_func=present.value_words, help=help_text)
    else:
        options = (UNKNOWN, "yes", "no") if spec.kind == "yesno" else (UNKNOWN, *spec.choices)
        st.radio(label, options, key=field, format_func=present.value_words, horizontal=True, help=help_text)


def unknown_slider_style() -> str:
    # A slider always shows a number; greying the ones not counted keeps "not known" from looking like an answer.
    unknown = [
        f".st-key-{field} [data-testid='stSlider']" for field in SLIDERS if not st.session_state[f"{field}_known"]
    ]
    return f"<style>{', '.join(unknown)} {{ opacity: 0.4; }}</style>" if unknown else ""


def case_from_widgets() -> dict[str, Any]:
    """The answers as a case in the contract's fields; an unknown answer is left out."""
    case = {}
    for field in EVIDENCE_FIELDS:
        value = st.session_state[field]
        if field in SLIDERS:
            if st.session_state[f"{field}_known"]:
                case[field] = value
        elif value != UNKNOWN:
            case[field] = value
    return case


def sidebar() -> None:
    with st.sidebar:
        st.header("Your situation")
        st.caption("Answer what you know; anything left as *not known* is not assumed.")
        st.button("Clear all answers", key="clear_answers", on_click=clear_answers, icon=":material/restart_alt:")
        found = examples()
        st.selectbox(
            "Or start from an example",
            (UNKNOWN, *found),
            key="example",
            on_change=load_example,
            format_func=lambda key: "choose an example…" if key == UNKNOWN else present.example_words(key, found[key]),
            help="Situations from the article (data/example_cases.csv); the answers can be changed afterwards.",
        )
        for title, fields, expanded in SECTIONS:
            with st.expander(title, expanded=expanded, icon=":material/warning:" if "Warning" in title else None):
                for field in fields:
                    field_widget(field)


def care_box(care: Care) -> None:
    box, icon = CARE_BOXES[care.level]
    reasons = "\n".join(f"- {reason}" for reason in care.reasons)
    with st.container(key=f"care_{care.level}"):
        box(f"### {present.CARE_TITLES[care.level]}: {care.advice}\n\n{reasons}", icon=icon)
    previous = st.session_state.get("last_care_level")
    if care.level in ("emergency", "urgent") and previous is not None and previous != care.level:
        st.toast(f"{present.CARE_TITLES[care.level]}: {care.advice}", icon=icon)
    st.session_state["last_care_level"] = care.level


def chart_spec(causes: int) -> dict[str, Any]:
    # A plain Vega-Lite spec: building it with Altair validates it against the schema on every rerun, which cost
    # more than the rest of a rerun together. Each cause gets a band of three slots: its name, then the bar with the
    # answers and the one before symptoms. Names above the bars (not beside them) leave the width to the bars.
    shared = {
        "y": {"field": "label", "type": "nominal", "sort": {"field": "rank", "op": "min"}, "axis": None},
        "yOffset": {"field": "slot", "type": "nominal", "scale": {"domain": [NAME, NOW, BEFORE]}},
        "tooltip": [
            {"field": "label", "type": "nominal", "title": "Cause"},
            {"field": "now", "type": "quantitative", "title": NOW, "format": ".1%"},
            {"field": "before", "type": "quantitative", "title": BEFORE, "format": ".1%"},
            {"field": "change", "type": "quantitative", "title": "Change", "format": "+.1%"},
        ],
    }
    x = {
        "field": "p",
        "type": "quantitative",
        "title": None,
        "scale": {"domain": [0, 1]},
        "axis": {"format": "%", "tickCount": 5, "grid": True},
    }

    def colour(bar: str, before: str) -> dict[str, Any]:
        return {
            "field": "slot",
            "type": "nominal",
            "legend": None,
            "scale": {"domain": [NOW, BEFORE], "range": [bar, before]},
        }

    bars = {"filter": f"datum.slot !== '{NAME}'"}
    return {
        "height": 3 * 15 * causes,
        "config": {"view": {"strokeWidth": 0}},
        "resolve": {"scale": {"color": "independent"}},
        "layer": [
            {
                "transform": [bars],
                "mark": {"type": "bar", "height": {"band": 0.85}},
                "encoding": {**shared, "x": x, "color": colour(NOW_COLOUR, BEFORE_COLOUR)},
            },
            {
                "transform": [{"filter": f"datum.slot === '{NAME}'"}],
                "mark": {"type": "text", "align": "left", "baseline": "middle", "fontSize": 13, "color": "#31333f"},
                "encoding": {**shared, "x": {"value": 0}, "text": {"field": "label", "type": "nominal"}},
            },
            {
                "transform": [bars],
                "mark": {"type": "text", "align": "left", "baseline": "middle", "dx": 4, "fontSize": 12},
                "encoding": {
                    **shared,
                    "x": x,
                    "text": {"field": "p", "type": "quantitative", "format": ".0%"},
                    "color": colour("#0e1117", "#6b7785"),
                },
            },
        ],
    }


def chart_data(frame: pd.DataFrame) -> pd.DataFrame:
    ranked = frame.assign(rank=range(len(frame)))
    slots = ((NAME, "now"), (NOW, "now"), (BEFORE, "before"))
    return pd.concat([ranked.assign(slot=slot, p=ranked[column]) for slot, column in slots], ignore_index=True)


def causes_panel(frame: pd.DataFrame) -> None:
    st.subheader("Likely causes")
    st.markdown(
        f'<span style="color:{NOW_COLOUR}">■</span> {NOW} &nbsp; <span style="color:{BEFORE_COLOUR}">■</span> {BEFORE}',
        unsafe_allow_html=True,
    )
    top = ", ".join(f"{label} {p:.0%}" for label, p in zip(frame["label"][:3], frame["now"][:3], strict=True))
    st.vega_lite_chart(
        chart_data(frame), chart_spec(len(frame)), width="stretch", alt=f"Chances of each cause; the highest: {top}."
    )
    st.caption(
        "Each bar is the chance of that cause given your answers; the grey bar beside it is the chance before any "
        "symptoms, from what you did and who you are. Causes can co-exist, so the chances do not add up to 100%."
    )
    with st.expander("The numbers"):
        percent = st.column_config.NumberColumn(format="percent")
        st.dataframe(
            frame[["label", "now", "before", "change"]],
            hide_index=True,
            width="stretch",
            column_config={
                "label": st.column_config.TextColumn("Cause"),
                "now": st.column_config.ProgressColumn(NOW, format="percent", min_value=0.0, max_value=1.0),
                "before": st.column_config.NumberColumn("Before any symptoms", format="percent"),
                "change": percent,
            },
        )


def next_question_panel(case_key: CaseKey, now: dict[str, float]) -> None:
    st.subheader("Most useful next question")
    found = questions(case_key)
    if not found:
        st.write("Every question the network uses is answered.")
        return
    question, *others = found
    st.markdown(f"**{present.field_label(question.field)}?**")
    if help_text := present.HELP.get(question.field):
        st.caption(help_text)
    st.caption(
        f"Of the questions not yet answered, this one is expected to change the picture most: the chances of the "
        f"causes would move by {question.expected_change * 100:.0f} percentage points added over all causes, and "
        f"there is a {question.p_care_changes:.0%} chance that the advice changes. Answer it here:"
    )
    for choice in present.answer_choices(question, now):
        st.button(
            f"{choice.label} ({choice.p_answer:.0%} likely)",
            key=f"answer_{question.field}_{choice.state}",
            on_click=set_answer,
            args=(question.field, choice.value),
            width="stretch",
        )
        moved = present.cause_label(choice.cause).lower()
        st.caption(f"Would move {moved} most: {choice.p_before:.0%} → {choice.p_after:.0%}.")
    if others:
        st.caption("Next in line: " + "; ".join(present.field_label(q.field) for q in others) + ".")


@st.fragment
def why_panel(case_key: CaseKey, ranked: list[tuple[str, float]]) -> None:
    st.subheader("Why?")
    top = ranked[0][0]
    cause_ids = sorted(c for c, _ in ranked)
    chosen = st.selectbox(
        "Explain this cause",
        ("top", *cause_ids),
        key="why_cause",
        format_func=lambda c: f"The most likely: {present.cause_label(top)}" if c == "top" else present.cause_label(c),
    )
    cause = top if chosen == "top" else chosen
    p_now = dict(ranked)[cause]
    if not case_key:
        st.write("Answer a question on the left to see what moves this cause.")
        return
    found = present.cause_effects(effects(case_key), cause)
    notable = [e for e in found if abs(e.delta) >= present.NOTABLE_DELTA]
    st.markdown(f"**{present.cause_label(cause)}** is at **{p_now:.0%}** with your answers.")
    if not notable:
        st.write("None of your answers changed it by more than half a percentage point.")
    for effect in notable:
        verb = "raised" if effect.delta > 0 else "lowered"
        arrow = ":red[▲]" if effect.delta > 0 else ":green[▼]"
        with st.container(border=True):
            st.markdown(
                f"{arrow} **{effect.label}: {effect.value}** {verb} it from {effect.p_without:.0%} to "
                f"{effect.p_with:.0%} ({present.points(effect.delta)})."
            )
            if effect.links:
                st.caption("  \n".join(f"*In the network:* {link.why}" for link in effect.links))
                st.caption("  \n".join(f"*{source.title}:* {source.text}" for source in effect.sources))
            else:
                st.caption(
                    "No table of the network joins these two directly: the answer acts through other causes, "
                    "making them more or less likely to explain your symptoms."
                )
    quiet = [e for e in found if abs(e.delta) < present.NOTABLE_DELTA]
    if quiet:
        st.caption("No real effect on it: " + ", ".join(f"{e.label} ({e.value})" for e in quiet) + ".")


def situation_tab() -> None:
    case = case_from_widgets()
    case_key = tuple(case.items())
    result = diagnosis(case_key)
    before = diagnosis(tuple(present.context_case(case).items()))
    care_box(result.care)
    left, right = st.columns([3, 2], gap="large")
    with left:
        causes_panel(present.cause_frame(result.posteriors, before.posteriors))
    # The suggestion is the slowest part; the panel below it is drawn first so it does not wait.
    suggestion = right.container()
    why_panel(case_key, result.ranked())
    with suggestion:
        next_question_panel(case_key, result.posteriors)


def file_tab() -> None:
    st.subheader("Score a file of cases")
    st.write(
        "Upload a CSV with the columns of the case schema (any subset, any order; one case per row). Every row is "
        "scored with the same code as `backcheck score`, and rows with errors stay in place with their error. "
        "The answers on the left are not used here."
    )
    upload = st.file_uploader(
        f"CSV of cases (UTF-8, up to {present.MAX_UPLOAD_MB} MB and {present.MAX_ROWS:,} rows)",
        type=["csv"],
        key="cases_csv",
        max_upload_size=present.MAX_UPLOAD_MB,
    )
    use_examples = st.toggle(
        "Score the example cases instead (data/example_cases.csv)", key="score_examples", disabled=upload is not None
    )
    if upload is None and not use_examples:
        return
    data, name = (upload.getvalue(), upload.name) if upload is not None else (EXAMPLES.read_bytes(), EXAMPLES.name)
    try:
        cases = present.read_cases_csv(data)
    except present.UploadError as exc:
        st.error(f"{name}: {exc}", icon=":material/error:")
        return
    problem = st.container()
    keep: list[str] = []
    if extra := present.extra_columns(cases):
        keep = st.multiselect(
            "Columns that are not in the case schema: choose any to pass through unchanged",
            extra,
            key="keep_columns",
            help="A misspelt column should be fixed in the file instead: its values would not be read.",
        )
    try:
        scored = scored_cases(data, tuple(keep))
    except (UnknownFieldError, ValueError) as exc:
        problem.error(f"{name}: {exc}", icon=":material/error:")
        return
    bad = scored[scored["error"] != ""]
    rows, errors = len(scored), len(bad)
    total, good, failed = st.columns(3)
    total.metric("Cases", rows)
    good.metric("Scored", rows - errors)
    failed.metric("With errors", errors)
    st.dataframe(present.care_counts(scored), hide_index=True, width="content")
    if errors:
        st.error(f"{errors} row(s) could not be scored; they stay in the output with their error.")
        shown = bad.assign(row=bad.index + 1)[["row", *(c for c in ("case_id",) if c in bad.columns), "error"]]
        st.dataframe(shown, hide_index=True, width="stretch")
    # The results first and the input columns after them; the download keeps the command line's column order.
    probabilities = [c for c in output_columns() if c.startswith("p_")]
    outputs = ["care", "top_cause", "error", *probabilities, "care_reasons"]
    leading = [c for c in ("case_id",) if c in scored.columns] + outputs
    st.dataframe(
        scored,
        hide_index=True,
        width="stretch",
        column_order=[*leading, *(c for c in scored.columns if c not in leading)],
        column_config={c: st.column_config.NumberColumn(format="percent") for c in probabilities},
    )
    safe = st.toggle(
        "Spreadsheet-safe download",
        key="spreadsheet_safe",
        help="Puts an apostrophe (') before every cell of your file that starts with =, +, -, @, a tab or a "
        "carriage return, so that a spreadsheet shows it as text instead of running it as a formula. Those cells "
        "then differ from your file; the scores never change. Off: every cell comes back exactly as it was.",
    )
    st.download_button(
        "Download the scored CSV",
        present.scored_csv(scored, safe),
        file_name=f"{name.removesuffix('.csv')}_scored.csv",
        mime="text/csv",
        key="download_scores",
        on_click="ignore",
        icon=":material/download:",
    )


def main() -> None:
    st.set_page_config(
        page_title="backcheck: back pain after exercise",
        page_icon=":material/healing:",
        layout="wide",
        initial_sidebar_state=400,
    )
    network()
    init_state()
    st.html(PAGE_STYLE + unknown_slider_style())
    sidebar()
    st.title("My back hurts after exercise")
    st.info(NOT_A_DIAGNOSIS, icon=":material/info:")
    situation, batch = st.tabs(["Your situation", "Score a file of cases"])
    with situation:
        situation_tab()
    with batch:
        file_tab()


main()
