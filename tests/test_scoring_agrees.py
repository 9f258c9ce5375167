"""Batch scoring and diagnose() agree row by row: the vectorised care rules are the same rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model import diagnose, score_cases
from model.batch import REASON_SEPARATOR
from model.fields import FIELDS
from tests.strategies import cases


def plain(value: object) -> str:
    """The value as CSV text in the contract's plain decimals (str(5e-324) is '5e-324', which the contract refuses)."""
    return np.format_float_positional(value) if isinstance(value, float) else str(value)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.lists(cases(unknown_rate=0.5), min_size=1, max_size=25))
def test_score_cases_equals_diagnose_on_every_row(batch):
    names = [f.name for f in FIELDS if f.kind != "text"]
    frame = pd.DataFrame([{n: "" if c.get(n) is None else plain(c[n]) for n in names} for c in batch])
    scored = score_cases(frame)
    assert len(scored) == len(batch)
    for i in range(len(batch)):
        d = diagnose(dict(frame.iloc[i].items()))
        row = scored.iloc[i]
        assert row["error"] == ""
        assert row["care"] == d.care.level
        assert row["care_reasons"] == REASON_SEPARATOR.join(d.care.reasons)
        assert row["top_cause"] == d.top_cause
        for cause, p in d.posteriors.items():
            assert row[f"p_{cause}"] == pytest.approx(p, abs=1e-9)
