"""The advice, always in sight: an emergency over the whole screen, any other level pinned at the top, and no
reassurance while a warning sign is unanswered."""

from __future__ import annotations

import streamlit as st

from app import state, texts
from model.care.rules import Care

BOXES = {
    "emergency": (st.error, ":material/emergency:"),
    "urgent": (st.warning, ":material/schedule:"),
    "routine": (st.info, ":material/stethoscope:"),
    "self_care": (st.success, ":material/self_improvement:"),
}
EMERGENCY_ACTION = "Call emergency services now, or go to the emergency department."


def show(care: Care, case_key: state.CaseKey) -> None:
    """The advice for the answers so far (see the module's docstring)."""
    if care.level == "emergency" and st.session_state.get("emergency_seen") != case_key:
        emergency_screen(care, case_key)
        return
    open_signs = state.open_warning_signs()
    with st.container(key="advice"):
        if care.level == "self_care" and open_signs:
            pending(open_signs)
        else:
            box(care, open_signs)


def emergency_screen(care: Care, case_key: state.CaseKey) -> None:
    """The whole screen, until the person chooses to see their answers again (then the pinned red box)."""
    with st.container(key="care_emergency"):
        st.error(f"# Emergency\n\n## {EMERGENCY_ACTION}\n\n{_reasons(care)}", icon=":material/emergency:")
        st.button(
            "I understand. Show my answers",
            key="emergency_seen_button",
            on_click=st.session_state.__setitem__,
            args=("emergency_seen", case_key),
        )


def box(care: Care, open_signs: tuple[str, ...]) -> None:
    show_box, icon = BOXES[care.level]
    text = f"**{texts.care_title(care.level)}: {care.advice}**\n\n{_reasons(care)}"
    if care.level == "emergency":
        text = f"**Emergency: {EMERGENCY_ACTION}**\n\n{_reasons(care)}"
    if open_signs and care.level != "emergency":
        text += f"\n\n{len(open_signs)} warning sign(s) not answered yet: a 'yes' could make this more urgent."
    # the emergency's own key is the full screen's; its pinned box, once the person has seen it, has another
    with st.container(key="care_emergency_box" if care.level == "emergency" else f"care_{care.level}"):
        show_box(text, icon=icon)


def pending(open_signs: tuple[str, ...]) -> None:
    """No advice yet: nothing known calls for a doctor, but the warning signs are still open."""
    names = "; ".join(texts.label(sign).lower() for sign in open_signs[:4])
    more = f"; and {len(open_signs) - 4} more" if len(open_signs) > 4 else ""
    with st.container(key="care_pending"):
        st.info(
            f"**No advice yet: first the warning signs.** {len(open_signs)} of them are not answered ({names}{more}). "
            "Until they are, this page cannot tell you whether you can look after this yourself.",
            icon=":material/checklist:",
        )


def _reasons(care: Care) -> str:
    return "\n".join(f"- {reason}" for reason in care.reasons)
