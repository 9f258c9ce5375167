"""The questions: one widget per contract field (keyed by its name), in groups, and the most useful next one."""

from __future__ import annotations

import streamlit as st

from app import state, texts
from app.texts import UNKNOWN
from model.cases.fields import FIELD_BY_NAME, STEPS, WARNING_SIGNS
from model.inspect.explain import Question

# The groups, in the order they are asked: the contract's steps (model/data/contract.toml), the warning signs
# first in the contract's order (the emergency signs first).
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = tuple((step.title, step.fields) for step in STEPS)
# The next question is chosen among at most this many open questions of the current group (in the group's
# order): each candidate answer is a row of one engine call, and the call's time grows with them.
CANDIDATES = 6


def options(field: str) -> tuple[str, ...]:
    """A question's answers: the contract's values, then "don't know"."""
    spec = FIELD_BY_NAME[field]
    return ("yes", "no", UNKNOWN) if spec.kind == "yesno" else (*spec.choices, UNKNOWN)


def widget(field: str) -> None:
    """The field's widget, keyed by its name; none has an answer until the person gives one."""
    label, help_text = texts.question(field), texts.explanation(field)
    if field in state.NUMBERS:
        low, high = state.NUMBERS[field]
        unknown = state.dont_know_key(field)
        st.number_input(
            label,
            min_value=low,
            max_value=high,
            step=1,
            key=field,
            placeholder="not answered",
            disabled=st.session_state[unknown],
            help=help_text,
        )
        st.checkbox("don't know", key=unknown)
    elif field == "activity":
        st.selectbox(
            label, options(field), key=field, format_func=texts.answer, placeholder="not answered", help=help_text
        )
    else:
        st.radio(label, options(field), key=field, format_func=texts.answer, horizontal=True, help=help_text)


def current_group() -> tuple[str, tuple[str, ...]]:
    """The first group with an unanswered question (the last group once all are answered)."""
    for title, fields in GROUPS:
        if state.unanswered(fields):
            return title, fields
    return GROUPS[-1]


def candidates() -> tuple[str, ...]:
    """The open questions the next one is chosen from: the current group's first CANDIDATES. None while a warning
    sign is open: those are asked in the contract's order (the emergency signs first), every one of them, and
    ranking them costs seconds of the engine's time per answer while the activity is unknown."""
    fields = current_group()[1]
    return () if fields == WARNING_SIGNS else state.unanswered(fields)[:CANDIDATES]


def groups() -> None:
    """Every group in an expander, the current one open; the warning signs end with a "none of these"."""
    now = current_group()[0]
    for title, fields in GROUPS:
        open_ = len(state.unanswered(fields))
        with st.expander(title, expanded=title == now, icon=":material/warning:" if fields == WARNING_SIGNS else None):
            st.caption(f"{open_} of {len(fields)} not answered yet." if open_ else "All answered.")
            for field in fields:
                widget(field)
            if fields == WARNING_SIGNS and open_:
                st.button(
                    f"I have none of the {open_} still open: answer them all 'no'",
                    key="no_warning_signs",
                    on_click=state.none_of,
                    args=(WARNING_SIGNS,),
                )


def next_question_card(question: Question | None) -> None:
    """The next question with its answers as buttons (answer_<field>_<state>): the first open warning sign, else
    the most useful question of the current group, or nothing to ask."""
    open_signs = state.open_warning_signs()
    with st.container(border=True, key="next_question"):
        if open_signs:
            field, why, answers = open_signs[0], "A warning sign: each is asked before anything can reassure.", ()
        elif question is not None:
            field, answers = question.field, tuple(question.answers)
            if question.p_care_changes >= 0.01:
                why = f"Your answer could change the advice (a chance of about {question.p_care_changes:.0%})."
            else:
                why = "Your answer would change the likely causes most."
        else:
            st.markdown("**Every question is answered.** Change any answer below to see what it does.")
            return
        st.markdown(f"**Next question: {texts.question(field)}**")
        if help_text := texts.explanation(field):
            st.caption(help_text)
        st.caption(why)
        # yes before no, as in the widgets; the network's order otherwise (choices and number ranges)
        states = [*sorted(answers or ("yes", "no"), key=lambda s: {"yes": 0, "no": 1}.get(s, 2)), UNKNOWN]
        for column, answer_state in zip(st.columns(len(states)), states, strict=True):
            column.button(
                texts.state_words(field, answer_state),
                key=f"answer_{field}_{answer_state}",
                on_click=state.set_state,
                args=(field, answer_state),
                width="stretch",
            )
