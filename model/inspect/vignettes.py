"""Scoring the network against vignettes: expected top causes and care ranges, and the summary figures."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from model.care.rules import RANK
from model.cases.fields import FIELD_NAMES
from model.diagnosis import diagnose

EXPECTATION_COLUMNS = ("expect_top1", "expect_top3", "care_min", "care_max", "source")


@dataclass(frozen=True)
class VignetteResult:
    case_id: str
    top3: tuple[str, ...]
    care: str
    expect_top1: tuple[str, ...]
    expect_top3: tuple[str, ...]
    care_min: str
    care_max: str

    @property
    def top1_ok(self) -> bool | None:
        """None when the vignette names no top cause."""
        return self.top3[0] in self.expect_top1 if self.expect_top1 else None

    @property
    def top3_ok(self) -> bool:
        """One of the expected causes (alternatives separated by '|') is among the three most probable."""
        return any(c in self.top3 for c in self.expect_top3)

    @property
    def care_ok(self) -> bool:
        return RANK[self.care_min] <= RANK[self.care] <= RANK[self.care_max]

    @property
    def under_triaged(self) -> bool:
        return RANK[self.care] < RANK[self.care_min]


def read_vignettes(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


# The first edition's union: an expectation of it is met by either of its finer causes, which are what is ranked.
_UNIONS = {"tumor_or_infection": ("spinal_malignancy", "spinal_infection")}


def _alternatives(text: str) -> tuple[str, ...]:
    names = [t for t in text.split("|") if t]
    return tuple(dict.fromkeys(n for name in names for n in _UNIONS.get(name, (name,))))


def evaluate(vignettes: pd.DataFrame) -> list[VignetteResult]:
    """Diagnose every vignette and compare with what it expects."""
    results = []
    for row in vignettes.to_dict(orient="records"):
        d = diagnose({k: v for k, v in row.items() if k in FIELD_NAMES})
        results.append(
            VignetteResult(
                case_id=row["case_id"],
                top3=tuple(c for c, _ in d.ranked()[:3]),
                care=d.care.level,
                expect_top1=_alternatives(row["expect_top1"]),
                expect_top3=_alternatives(row["expect_top3"]),
                care_min=row["care_min"],
                care_max=row["care_max"],
            )
        )
    return results


def summary(results: list[VignetteResult]) -> dict[str, float]:
    """top-3, top-1 (of those naming one), care in range, and under-triage rates."""
    named = [r for r in results if r.top1_ok is not None]
    n = len(results)
    return {
        "vignettes": n,
        "top3": sum(r.top3_ok for r in results) / n,
        "top1": sum(bool(r.top1_ok) for r in named) / len(named) if named else float("nan"),
        "top1_named": len(named),
        "care_in_range": sum(r.care_ok for r in results) / n,
        "under_triaged": sum(r.under_triaged for r in results),
        "over_triaged": sum(RANK[r.care] > RANK[r.care_max] for r in results),
        "over_triaged_rate": sum(RANK[r.care] > RANK[r.care_max] for r in results) / n,
    }
