"""The page: the advice first, then the questions and the causes, and the file tab."""

from __future__ import annotations

import streamlit as st

from app import advice, causes, clinician, files, present, questions, state, style, texts
from model.diagnosis import Diagnosis, diagnose
from model.inference.engine import load_engine
from model.inspect.explain import Question, answer_steps, next_questions


@st.cache_resource(show_spinner=False)
def engine() -> object:
    """The compiled engine, built once per process and shared read-only by every session."""
    return load_engine()


@st.cache_data(max_entries=512, show_spinner=False)
def diagnosis(case: state.CaseKey) -> Diagnosis:
    return diagnose(dict(case))


@st.cache_data(max_entries=256, show_spinner=False)
def best_question(case: state.CaseKey, candidates: tuple[str, ...]) -> Question | None:
    if not candidates:
        return None
    found = next_questions(dict(case), top=1, fields=candidates)
    return found[0] if found else None


@st.cache_data(show_spinner=False)
def example_cases() -> dict[str, dict[str, object]]:
    return files.example_cases()


@st.cache_data(max_entries=64, show_spinner=False)
def steps(case: state.CaseKey) -> object:
    return answer_steps(dict(case))


def situation(result: Diagnosis, case_key: state.CaseKey) -> None:
    before = diagnosis(())
    ask, explain = st.columns([3, 2], gap="large")
    with ask:
        # Ranking the next question is the slowest part of a rerun: its place is kept, and it is drawn last. With
        # nothing to rank (a warning sign open, as on the first page) the card is drawn at once, with the advice.
        card = st.empty()
        ranked = questions.candidates()
        if not ranked:
            with card.container():
                questions.next_question_card(None)
        questions.groups()
        st.button("Clear all answers", key="clear_answers", on_click=state.clear, icon=":material/restart_alt:")
        examples = example_cases()
        st.selectbox(
            "Or start from an example (data/example_cases.csv)",
            examples,
            index=None,
            key="example",
            on_change=state.fill_example,
            args=(examples,),
            placeholder="choose an example",
        )
    with explain:
        causes.panel(result.ranked(), before.posteriors)
        with st.expander("For clinicians: every cause with numbers, why, and the sources"):
            clinician.table(present.cause_frame(result.posteriors, before.posteriors))
            chosen = st.selectbox(
                "Why? Explain a cause",
                [c for c, _ in result.ranked()],
                index=None,
                key="why_cause",
                format_func=texts.cause,
                placeholder="choose a cause",
            )
            if chosen is not None:
                clinician.why(steps(case_key), chosen)
    if ranked:
        with card.container():
            questions.next_question_card(best_question(case_key, ranked))


def run() -> None:
    engine()
    state.init()
    st.html(style.PAGE)
    case = state.case()
    case_key = state.key(case)
    result = diagnosis(case_key)
    advice.show(result.care, case_key)
    st.markdown("### My back hurts after exercise: what is going on, and should I see a doctor?")
    st.markdown(texts.NOT_A_DIAGNOSIS)
    mine, batch = st.tabs(["Your situation", "Score a file of cases"])
    with mine:
        situation(result, case_key)
    with batch:
        files.tab()
