"""The likely causes for a layperson: the few that matter, in words and natural frequencies, in two groups."""

from __future__ import annotations

from functools import cache

import streamlit as st

from app import texts
from model.care.rules import load_rules

# A cause is shown when at least this likely, or when a care rule says a doctor should look at it.
SHOWN_FROM = 0.05
SHOWN_PER_GROUP = 4


@cache
def concern() -> dict[str, float]:
    """The causes a doctor should rule out, each with the chance from which the care rules ask for a doctor: those
    with a posterior rule in care.toml. The others (strain, soreness, spasm, weak muscles) are common and usually
    harmless."""
    return {rule.cause: rule.at_least for rule in load_rules().posteriors}


def likelihood(p: float) -> str:
    """The chance in a word: likely (50% or more), possible (10% or more), unlikely."""
    return "likely" if p >= 0.5 else "possible" if p >= 0.1 else "unlikely"


def frequency(p: float) -> str:
    """The chance as a natural frequency ("about 8 in 100")."""
    if p >= 0.995:
        return "nearly all"
    if p >= 0.01:
        return f"about {round(p * 100)} in 100"
    if p >= 0.001:
        return f"about {round(p * 1000)} in 1,000"
    return "fewer than 1 in 1,000"


def shown(ranked: list[tuple[str, float]]) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(common and usually harmless, a doctor should rule this out): the causes worth showing, likeliest first."""
    limits = concern()
    harmless = [(c, p) for c, p in ranked if c not in limits and p >= SHOWN_FROM]
    doctor = [(c, p) for c, p in ranked if c in limits and (p >= SHOWN_FROM or p >= limits[c])]
    return harmless[:SHOWN_PER_GROUP], doctor[:SHOWN_PER_GROUP]


def line(cause: str, p: float, before: float) -> str:
    return (
        f"- **{texts.cause(cause)}**: {likelihood(p)}. {frequency(p).capitalize()} people with answers like yours, "
        f"against {frequency(before)} before any answers."
    )


def panel(ranked: list[tuple[str, float]], before: dict[str, float]) -> None:
    """The causes in words: 'before any answers' is everyone whose back hurts after exercise."""
    st.subheader("What might be going on")
    st.markdown(
        "**Several of these can be true at once**, so the numbers do not add up to 100. They are the network's "
        "estimates for people whose answers match yours, not a finding about you."
    )
    harmless, doctor = shown(ranked)
    st.markdown("##### Common and usually harmless")
    if harmless:
        st.markdown("\n".join(line(c, p, before[c]) for c, p in harmless))
    else:
        st.markdown("None of them is as likely as 5 in 100 with your answers.")
    st.markdown("##### A doctor should rule this out")
    if doctor:
        st.markdown("\n".join(line(c, p, before[c]) for c, p in doctor))
    else:
        st.markdown(
            "None of them reaches 5 in 100, or the chance at which a doctor should look, with your answers so far."
        )
