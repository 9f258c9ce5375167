"""Likelihood ratios the network implies for red flags, beside the published ones (docs/clinical-figures.md).

Conditioning, stated once: the network's implied positive likelihood ratio of a flag for a cause is

    LR+ = P(flag | cause present, context) / P(flag | cause absent, context)

with every other node summed out under the network's own distribution. The context always includes the evidence
every case carries (back pain, present): with nothing else, this is the network's whole population, people whose
back hurts after one of the activities, the activities equally likely and every risk factor at its prior.
Published LRs come from people with low back pain in primary care, so the two populations differ even where the
tables agree; the context argument lets a reader see how much that matters.
A flag may be a context answer (age, a fall) as well as a symptom: the ratio is computed the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from model.inference.reference import reference_marginals
from model.network.spec import ABSENT, PRESENT, load_spec

if TYPE_CHECKING:
    from pgmpy.inference import VariableElimination


@dataclass(frozen=True)
class ImpliedLR:
    """sensitivity = P(flag | present), false_positive = P(flag | absent), and their ratio (LR+)."""

    sensitivity: float
    false_positive: float

    @property
    def lr(self) -> float:
        return self.sensitivity / self.false_positive if self.false_positive > 0 else math.inf

    @property
    def specificity(self) -> float:
        return 1.0 - self.false_positive

    @property
    def lr_negative(self) -> float:
        """P(no flag | present) / P(no flag | absent): how much the flag's absence lowers the odds."""
        return (1.0 - self.sensitivity) / (1.0 - self.false_positive)


def _given(ve: VariableElimination, context: dict[str, str] | None) -> dict[str, str]:
    """`context` with the evidence every case carries (back pain), where the model has that node."""
    fixed = {n: s for n, s in load_spec().fixed_evidence.items() if n in ve.model.nodes()}
    return {**fixed, **(context or {})}


def _probability(ve: VariableElimination, node: str, states: tuple[str, ...], evidence: dict[str, str]) -> float:
    """P(node in states | evidence)."""
    distribution = reference_marginals(evidence, (node,), ve)[node]
    return float(sum(distribution[s] for s in states))


def implied_lr(
    ve: VariableElimination,
    flag: str,
    states: tuple[str, ...],
    cause: str,
    context: dict[str, str] | None = None,
) -> ImpliedLR:
    """The network's LR+ for `flag` being in any of `states` as evidence of `cause` (see the module's note)."""
    context = dict(context or {})
    if flag in context or cause in context:
        raise ValueError(f"the context must not fix the flag ({flag}) or the cause ({cause})")
    return ImpliedLR(
        sensitivity=_probability(ve, flag, states, {**context, cause: PRESENT}),
        false_positive=_probability(ve, flag, states, {**context, cause: ABSENT}),
    )


@dataclass(frozen=True)
class PublishedLR:
    """A published red flag and the network's flag node and states that stand for it.

    `figure` is the figure as docs/clinical-figures.md words it; `post_test` is the published probability of the
    cause given the flag, where the source gives one.
    """

    cause: str
    flag: str
    states: tuple[str, ...]
    figure: str
    lr: float
    source: str
    confidence: str
    post_test: float | None = None
    required: bool = True  # must the network's LR be within a factor of 2 (see PUBLISHED_LRS)
    note: str = ""


# Copied from docs/clinical-figures.md (the test suite checks each `figure` is still there word for word); ids as
# in model/data/sources.toml. These are every likelihood ratio on that page that a field of the contract can ask;
# the thirteen first compared are among them. `required` is False where the field asks something broader than the
# published finding, so that the published figure cannot be matched without changing what the field means (the
# reason is in `note`).
# fmt: off
_UNDER_60 = ("under_30", "from_30_to_49", "from_50_to_59")
PUBLISHED_LRS: tuple[PublishedLR, ...] = (
    PublishedLR("compression_fracture", "steroid_use", ("yes",), "prolonged corticosteroid use LR+ ~48.5", 48.5,
                "downie2013", "secondary", 0.33),
    PublishedLR("compression_fracture", "bruising", ("yes",), "contusion or abrasion LR+ ~31", 31.0,
                "downie2013", "secondary", 0.62),
    PublishedLR("compression_fracture", "age", ("from_70",), "age over 70 LR+ ~11.2", 11.2,
                "downie2013", "secondary", 0.09),
    PublishedLR("compression_fracture", "major_trauma", ("yes",), "significant trauma LR+ ~10", 10.0,
                "downie2013", "secondary", 0.11),
    PublishedLR("spinal_malignancy", "cancer_history", ("yes",), "previous cancer LR+ ~14.7", 14.7,
                "deyo1988_malignancy", "secondary", 0.046),
    PublishedLR("spinal_malignancy", "weight_loss", ("yes",), "unexplained weight loss LR+ ~2.7", 2.7,
                "deyo1988_malignancy", "secondary"),
    PublishedLR("spinal_malignancy", "age", ("from_50_to_59", "from_60_to_69", "from_70"), "age >= 50 LR+ ~2.7", 2.7,
                "deyo1988_malignancy", "secondary"),
    PublishedLR("spinal_malignancy", "duration_days", ("over_4_weeks",), "no improvement after a month LR+ ~3.0", 3.0,
                "deyo1988_malignancy", "secondary"),
    PublishedLR("spinal_malignancy", "relieved_by_rest", ("no",), "no relief from bed rest LR+ ~1.7", 1.7,
                "deyo1988_malignancy", "secondary"),
    PublishedLR("spinal_stenosis", "age", ("from_70",), "age > 70 LR 2.0", 2.0, "suri2010", "primary"),
    PublishedLR("spinal_stenosis", "age", _UNDER_60, "age < 60 LR 0.40", 0.40, "suri2010", "primary"),
    PublishedLR("spinal_stenosis", "leg_pain_walking_eased_sitting", ("yes",), "neurogenic claudication LR 3.7", 3.7,
                "suri2010", "primary"),
    PublishedLR("spinal_stenosis", "leg_pain_walking_eased_sitting", ("yes",), "no pain when seated LR 7.4", 7.4,
                "suri2010", "primary"),
    PublishedLR("spinal_stenosis", "leg_pain_walking_eased_sitting", ("yes",),
                "symptoms improve on bending forward LR 6.4", 6.4, "suri2010", "primary"),
    PublishedLR("spinal_stenosis", "both_legs", ("yes",), "bilateral buttock or leg pain LR 6.3", 6.3,
                "suri2010", "primary"),
    PublishedLR("inflammatory_arthritis", "night_pain", ("yes",), "waking in the second half of the night LR+ 1.7",
                1.7, "ibp_primary_care", "primary"),
    PublishedLR("inflammatory_arthritis", "morning_stiffness", ("yes",), "morning stiffness > 30 min LR+ 1.1", 1.1,
                "ibp_primary_care", "primary"),
    PublishedLR("disc_herniation", "straight_leg_raise", ("positive",),
                "sensitivity 0.36, specificity 0.74, LR+ 1.38", 1.38, "capra2011", "primary"),
    PublishedLR("disc_herniation", "straight_leg_raise", ("positive",), "sensitivity ~91%, specificity ~26%",
                0.91 / 0.74, "acp2007", "secondary"),
    PublishedLR("cauda_equina_syndrome", "bladder_bowel_change", ("yes",),
                "urinary retention sensitivity ~90%, specificity ~95%", 0.90 / 0.05, "deyo1992", "secondary",
                required=False,
                note="The field asks any new trouble with urine or stool, not retention, and the published specificity "
                "comes from people examined for suspected cauda equina; among all people with back pain such trouble "
                "is far rarer than 5%, so the network's ratio is larger."),
)
# fmt: on


AGREEMENT = 1.25
# How far the network's implied LR may sit from a published one (either way) and still count as matching it.
WITHIN = 2.0


def verdict(ratio: float) -> str:
    """Words for implied / published LR+: within a factor of 1.25 either way counts as agreeing."""
    if ratio > AGREEMENT:
        return f"network stronger (x{ratio:.1f})"
    if ratio < 1 / AGREEMENT:
        return f"network weaker (x{ratio:.2f})"
    return "agrees"


def compare_published(
    ve: VariableElimination,
    published: tuple[PublishedLR, ...] = PUBLISHED_LRS,
    context: dict[str, str] | None = None,
) -> pd.DataFrame:
    """One row per published red flag: the published LR+ beside the network's, and the network's post-test.

    `ratio` is implied / published (above 1: the network trusts the flag more than the literature does).
    `network post-test` is P(cause | flag, context), comparable to a published post-test probability only as far
    as the network's prior for the cause matches the study population's.
    """
    context = _given(ve, context)
    rows = []
    for item in published:
        implied = implied_lr(ve, item.flag, item.states, item.cause, context)
        prior = _probability(ve, item.cause, (PRESENT,), dict(context or {}))
        post_test = implied.sensitivity * prior / (implied.sensitivity * prior + implied.false_positive * (1 - prior))
        rows.append(
            {
                "cause": item.cause,
                "flag": f"{item.flag} = {' or '.join(item.states)}",
                "flag is": "risk factor" if item.flag in ve.model.get_parents(item.cause) else "symptom or sign",
                "published as": item.figure,
                "source": item.source,
                "confidence": item.confidence,
                "published LR+": item.lr,
                "network LR+": implied.lr,
                "ratio": implied.lr / item.lr,
                "verdict": verdict(implied.lr / item.lr),
                "within 2x": 1 / WITHIN <= implied.lr / item.lr <= WITHIN,
                "required": item.required,
                "note": item.note,
                "network sensitivity": implied.sensitivity,
                "network specificity": implied.specificity,
                "network LR-": implied.lr_negative,
                "network pre-test": prior,
                "published post-test": item.post_test,
                "network post-test": post_test,
            }
        )
    return pd.DataFrame(rows)


def lr_by_context(
    ve: VariableElimination,
    item: PublishedLR,
    node: str,
    base: dict[str, str] | None = None,
) -> pd.Series:
    """The network's LR+ for one published flag with `node` fixed to each of its states in turn."""
    states = ve.model.get_cpds(node).state_names[node]
    return pd.Series(
        {
            s: implied_lr(ve, item.flag, item.states, item.cause, _given(ve, {**(base or {}), node: s})).lr
            for s in states
        },
        name=f"{item.flag} for {item.cause}",
    )
