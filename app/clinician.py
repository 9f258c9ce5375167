"""The clinicians' view: every cause with its numbers, a chart, and a why-panel whose steps add up, with sources
named in full."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import charts, present, texts


def table(frame: pd.DataFrame) -> None:
    """Every cause: the chance with the answers, before any answers, and the change in points."""
    shown = frame.assign(
        now=(frame["now"] * 100).round(1), before=(frame["before"] * 100).round(1), change=(frame["change"] * 100)
    )
    st.dataframe(
        shown[["label", "now", "before", "change"]],
        hide_index=True,
        width="stretch",
        column_config={
            "label": st.column_config.TextColumn("Cause"),
            "now": st.column_config.NumberColumn(f"{charts.NOW} (%)", format="%.1f"),
            "before": st.column_config.NumberColumn(f"{charts.BEFORE} (%)", format="%.1f"),
            "change": st.column_config.NumberColumn("Change (points)", format="%+.1f"),
        },
    )
    top = ", ".join(f"{label} {p:.0%}" for label, p in zip(frame["label"][:3], frame["now"][:3], strict=True))
    st.markdown(f"**Bars**: {charts.NOW.lower()}; **black ticks**: {charts.BEFORE.lower()}.")
    st.vega_lite_chart(
        charts.chart_data(frame),
        charts.chart_spec(len(frame)),
        width="stretch",
        alt=f"Chances of each cause; the highest: {top}.",
    )


def why(steps: pd.DataFrame, cause: str) -> None:
    """How the answers moved one cause, one at a time in the order of the questions, from no answers to all."""
    rows = steps[steps["cause"] == cause]
    if rows.empty:
        st.markdown("No answer yet: the chance is the one before any answers.")
        return
    first, last = rows["p_before"].iloc[0], rows["p_after"].iloc[-1]
    st.markdown(
        f"**{texts.cause(cause)}**: {first:.1%} before any answers, {last:.1%} with all of them "
        f"({present.points(last - first)}). Each answer below is added to the ones above it, in the order of the "
        "questions, so the steps add up to the total; in another order the steps would differ, not the total."
    )
    for row in rows.itertuples(index=False):
        delta = row.p_after - row.p_before
        arrow = "▲ raised" if delta >= present.NOTABLE_DELTA else "▼ lowered" if -delta >= present.NOTABLE_DELTA else ""
        moved = f"{arrow} it from {row.p_before:.1%} to {row.p_after:.1%}" if arrow else "did not really move it"
        with st.container(border=True):
            st.markdown(f"**{texts.label(row.field)}: {present.value_words(row.value)}** {moved}.")
            for link in present.cause_effects(_one(row), cause)[0].links:
                st.markdown(f"*In the network:* {link.why}")
                for source in link.sources:
                    st.markdown(f"*{source.title}*: {source.text}")


def _one(row: object) -> pd.DataFrame:
    """One step as present.cause_effects reads an answer's effect."""
    return pd.DataFrame(
        [(row.field, row.value, row.cause, row.p_after, row.p_before, row.p_after - row.p_before)],
        columns=["field", "value", "cause", "p_with", "p_without", "delta"],
    )
