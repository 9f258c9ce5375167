"""The clinicians' chart as a plain Vega-Lite spec (Streamlit bundles Vega-Lite: nothing is fetched).

Its marks meet WCAG 2.1 AA's 3:1 for graphics against the white page (a test computes it), and the two series
differ by shape as well as colour: a bar for the chance with the answers, a black tick for the chance before any.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

NOW = "With the answers"
BEFORE = "Before any answers"
NOW_COLOUR = "#1f5f99"
BEFORE_COLOUR = "#000000"
TEXT_COLOUR = "#31333f"


def chart_data(frame: pd.DataFrame) -> pd.DataFrame:
    """cause_frame's rows (label, now, before), with their rank."""
    return frame.assign(rank=range(len(frame)))[["label", "now", "before", "rank"]]


def chart_spec(causes: int) -> dict[str, Any]:
    y = {"field": "label", "type": "nominal", "sort": {"field": "rank", "op": "min"}, "title": None}
    x = {"type": "quantitative", "scale": {"domain": [0, 1]}, "axis": {"format": "%", "tickCount": 5}, "title": None}
    tooltip = [
        {"field": "label", "type": "nominal", "title": "Cause"},
        {"field": "now", "type": "quantitative", "title": NOW, "format": ".1%"},
        {"field": "before", "type": "quantitative", "title": BEFORE, "format": ".1%"},
    ]
    return {
        "height": 22 * causes,
        "config": {
            "view": {"strokeWidth": 0},
            "axis": {"labelColor": TEXT_COLOUR, "domainColor": TEXT_COLOUR, "tickColor": TEXT_COLOUR},
            "axisY": {"labelLimit": 260},
        },
        "layer": [
            {
                "mark": {"type": "bar", "color": NOW_COLOUR},
                "encoding": {"y": y, "x": {**x, "field": "now"}, "tooltip": tooltip},
            },
            {
                "mark": {"type": "tick", "color": BEFORE_COLOUR, "thickness": 3},
                "encoding": {"y": y, "x": {**x, "field": "before"}, "tooltip": tooltip},
            },
        ],
    }
