"""The backcheck app: back pain after exercise, what is likely going on and whether to see a doctor. Not a diagnosis.

`make run` starts it. Only Streamlit is imported before the page shows that the network is loading; the model
comes after (some seconds the first time in a process). The parts are in the `app` package.

Driving it by widget key (AppTest, the browser test, scripts):
- Every input field of docs/case-schema.md has one widget keyed by the field's name, with no answer until one is
  given (None). `activity` is a selectbox, the other choice and yes/no fields are radios; their options are the
  contract's values, then "unknown" (shown as "don't know"). `age`, `severity` and `duration_days` are number
  inputs, each with a "don't know" tick box `<field>_unknown`.
- `answer_<field>_<state>`: the buttons of the suggested next question (a network state, or "unknown").
- `no_warning_signs`: answers "no" to every warning sign still open; `clear_answers`: every answer back to none.
- `emergency_seen_button`: leaves the full-screen emergency for the pinned one, until the answers change.
- `why_cause`: the cause the clinicians' why-panel explains (a cause id; none at first).
- `cases_csv` (file uploader), `keep_columns` (extra columns to pass through), `spreadsheet_safe` (a toggle, off
  by default), `download_scores` (the scored CSV), `score_examples` (scores data/example_cases.csv instead).
The advice shows in a container keyed `care_<level>` (`care_pending` while a warning sign is open and nothing
calls for a doctor; `care_emergency` is the full screen, `care_emergency_box` the pinned box after it).
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

st.set_page_config(
    page_title="backcheck: back pain after exercise",
    page_icon=str(Path(__file__).resolve().parent / "app" / "favicon.svg"),
    layout="wide",
    initial_sidebar_state="collapsed",
)
loading = st.empty()
if "app.main" not in sys.modules:  # the first run in this process: the model is still to be imported and built
    loading.info("Loading the network… (some seconds the first time)", icon=":material/hourglass_top:")

from app.main import run  # noqa: E402  (after the loading notice: importing the model takes seconds)

run()
loading.empty()
