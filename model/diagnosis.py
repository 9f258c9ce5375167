"""One case in, posteriors and care advice out: the API the app, the CLI and the notebooks share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model.care.rules import Care, care_level
from model.cases.evidence import evidence_from_values
from model.cases.fields import parse_case
from model.inference.reference import posteriors
from model.network.spec import load_spec


@dataclass(frozen=True)
class Diagnosis:
    """Posterior of every cause (not summing to one: causes can co-exist), and when to seek care."""

    answers: dict[str, Any]
    evidence: dict[str, str]
    posteriors: dict[str, float]
    care: Care

    @property
    def top_cause(self) -> str:
        """The most probable cause (unions of finer causes, such as tumour or infection, are not ranked)."""
        return self.ranked()[0][0]

    def ranked(self) -> list[tuple[str, float]]:
        """Causes from most to least probable, without the unions of finer causes (the contract ranks the finer)."""
        ranked = load_spec().ranked_cause_ids
        return sorted(((c, self.posteriors[c]) for c in ranked), key=lambda kv: -kv[1])

    @property
    def unasked_warning_signs(self) -> tuple[str, ...]:
        """The warning signs this case left unanswered, in the contract's order."""
        return self.care.unasked


def diagnose(case: Any) -> Diagnosis:
    """Posteriors and care advice for a case (a dict or pandas row in the contract's fields).

    Raises UnknownFieldError for a field the contract does not define, CaseError for a bad value.
    """
    answers = parse_case(case)
    evidence = evidence_from_values(answers)
    probs = posteriors(evidence)
    return Diagnosis(answers, evidence, probs, care_level(answers, probs))
