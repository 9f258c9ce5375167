"""The file tab: a CSV of cases read by the command line's own strict reader, scored, shown in words."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from app import texts
from model.care.rules import LEVELS
from model.cases.fields import FIELD_NAMES, WARNING_SIGNS, UnknownFieldError, parse_case
from model.network.spec import load_spec
from model.scoring.batch import check_columns, output_columns, score_cases
from model.scoring.csv_input import InputError, read_csv_bytes
from model.scoring.output import spreadsheet_safe

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "example_cases.csv"
# The app's upload limit; .streamlit/config.toml's server.maxUploadSize must say the same (a test checks).
MAX_UPLOAD_MB = 5
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
# The engine scores about 30 random cases a second on the second edition's network (README, Performance); beyond
# about a minute a browser session waits too long, and the command line is the tool.
MAX_ROWS = 2_000
# Errors listed in full on the page; the rest are counted (every one is in the download's error column).
ERRORS_LISTED = 20
PASS_THROUGH = "Columns not in the case schema, to pass through unchanged"


def read_cases(data: bytes, name: str) -> pd.DataFrame:
    """The cases of an uploaded CSV, every cell as text exactly as written; InputError saying what is wrong."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError(f"{name}: is {len(data) / 2**20:.1f} MB; the app takes files up to {MAX_UPLOAD_MB} MB")
    table = read_csv_bytes(data, name)
    if table.num_rows == 0:
        raise InputError(f"{name}: has a header row but no cases")
    if table.num_rows > MAX_ROWS:
        raise InputError(
            f"{name}: has {table.num_rows:,} cases; the app scores up to {MAX_ROWS:,}. Score bigger files with the "
            "command line: backcheck score FILE.csv -o scored.csv"
        )
    return table.to_pandas()


def example_cases() -> dict[str, dict[str, object]]:
    """The example cases (data/example_cases.csv) by case_id: each case's known answers, as the contract reads them."""
    examples = {}
    for row in read_cases(EXAMPLES.read_bytes(), EXAMPLES.name).to_dict(orient="records"):
        values = parse_case(row)
        examples[row["case_id"]] = {k: v for k, v in values.items() if v is not None and k != "case_id"}
    return examples


def unknown_columns(cases: pd.DataFrame) -> list[str]:
    """The file's columns that are not fields of the case contract."""
    return [str(c) for c in cases.columns if c not in FIELD_NAMES]


def check_kept(cases: pd.DataFrame, keep: list[str], name: str) -> None:
    """InputError for an unknown column not chosen to pass through, pointing at that choice."""
    try:
        check_columns(cases.columns, keep)
    except UnknownFieldError as exc:
        raise InputError(
            f"{name}: {exc}. A misspelt column should be fixed in the file (its values would not be read); "
            f"an extra column can be chosen under '{PASS_THROUGH}' below."
        ) from None


def care_counts(scored: pd.DataFrame) -> pd.DataFrame:
    """Rows per care level, most urgent first, then the rows with errors."""
    counts = [(texts.care_title(level), int((scored["care"] == level).sum())) for level in reversed(LEVELS)]
    counts.append(("Not scored (error)", int((scored["error"] != "").sum())))
    return pd.DataFrame(counts, columns=["Advice", "Cases"])


def in_words(scored: pd.DataFrame) -> pd.DataFrame:
    """The scores as a person reads them: labels instead of ids, chances in whole percent."""
    spec = load_spec()
    out = pd.DataFrame({"Row": range(1, len(scored) + 1)})
    if "case_id" in scored.columns:
        out["Case"] = scored["case_id"].to_numpy()
    valid = scored["error"] == ""
    out["Advice"] = [texts.care_title(c) if ok else "" for c, ok in zip(scored["care"], valid, strict=True)]
    out["Likeliest cause"] = [texts.cause(c) if ok else "" for c, ok in zip(scored["top_cause"], valid, strict=True)]
    out["Warning signs not answered"] = [
        len(s.split()) if ok else None for s, ok in zip(scored["unasked_warning_signs"], valid, strict=True)
    ]
    out["Error"] = scored["error"].to_numpy()
    for cause in spec.cause_ids:
        out[f"{texts.cause(cause)} (%)"] = (scored[f"p_{cause}"].astype(float) * 100).round().to_numpy()
    return out


def scored_csv(scored: pd.DataFrame, safe: bool = False) -> bytes:
    """The download, in the command line's columns: with `safe`, every input cell (and column name) a spreadsheet
    would run as a formula gets an apostrophe before it, as `backcheck score --spreadsheet-safe` writes it."""
    if safe:
        outputs = set(output_columns())
        scored = scored.copy()
        for name in [c for c in scored.columns if c not in outputs]:
            scored[name] = scored[name].map(lambda v: spreadsheet_safe(v) if isinstance(v, str) else v)
        scored.columns = [c if c in outputs else spreadsheet_safe(str(c)) for c in scored.columns]
    return scored.to_csv(index=False).encode("utf-8")


@st.cache_data(max_entries=8, show_spinner="Scoring the cases…")
def scored_cases(data: bytes, name: str, keep: tuple[str, ...]) -> pd.DataFrame:
    return score_cases(read_cases(data, name), keep=keep)


def tab() -> None:
    st.subheader("Score a file of cases")
    st.write(
        "Upload a CSV with the columns of the case schema (any subset, any order; one case per row). It is read and "
        "scored by the same code as `backcheck score`, with the same messages; a row with an error keeps its place. "
        "Your answers on the other tab are not used here."
    )
    upload = st.file_uploader(
        f"CSV of cases (UTF-8, up to {MAX_UPLOAD_MB} MB and {MAX_ROWS:,} rows)",
        type=["csv"],
        key="cases_csv",
        max_upload_size=MAX_UPLOAD_MB,
    )
    use_examples = st.toggle(
        "Score the example cases instead (data/example_cases.csv)", key="score_examples", disabled=upload is not None
    )
    if upload is None and not use_examples:
        return
    data, name = (upload.getvalue(), upload.name) if upload is not None else (EXAMPLES.read_bytes(), EXAMPLES.name)
    problem = st.container()
    try:
        cases = read_cases(data, name)
        keep: list[str] = []
        if extra := unknown_columns(cases):
            keep = st.multiselect(PASS_THROUGH, extra, key="keep_columns")
        check_kept(cases, keep, name)
        scored = scored_cases(data, name, tuple(keep))
    except InputError as exc:
        problem.error(str(exc), icon=":material/error:")
        return
    results(scored, name)


def results(scored: pd.DataFrame, name: str) -> None:
    bad = scored.index[scored["error"] != ""]
    total, good, failed = st.columns(3)
    total.metric("Cases", len(scored))
    good.metric("Scored", len(scored) - len(bad))
    failed.metric("With errors", len(bad))
    st.dataframe(care_counts(scored), hide_index=True, width="content")
    if len(bad):
        listed = [
            f"- Row {i + 1}"
            + (f" (case {scored.at[i, 'case_id']})" if "case_id" in scored.columns else "")
            + f": {scored.at[i, 'error']}"
            for i in bad[:ERRORS_LISTED]
        ]
        more = (
            f"\n\nand {len(bad) - ERRORS_LISTED} more (every error is in the download)."
            if len(bad) > ERRORS_LISTED
            else ""
        )
        st.error(
            f"{len(bad)} row(s) could not be scored; they stay in the output with their error:\n\n"
            + "\n".join(listed)
            + more
        )
    st.dataframe(in_words(scored), hide_index=True, width="stretch", key="scores_in_words")
    st.caption(
        f"Warning signs not answered: how many of the {len(WARNING_SIGNS)} a row left empty; the advice of such a "
        "row is given from what is known."
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
        scored_csv(scored, safe),
        file_name=f"{name.removesuffix('.csv')}_scored.csv",
        mime="text/csv",
        key="download_scores",
        on_click="ignore",
        icon=":material/download:",
    )
