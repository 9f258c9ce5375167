"""The network's base rates, P(cause | back pain) with nothing else known, beside the published shares of causes.

Published shares come from people with low back pain in primary care (docs/clinical-figures.md); the network's
population is people whose back hurts after an activity, each activity equally likely, every risk factor at its
prior. A group of causes ("serious pathology") is compared as the probability that any of them is present.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pgmpy.inference import VariableElimination

from model.inspect.lr import WITHIN
from model.network.spec import ABSENT, load_spec


@dataclass(frozen=True)
class PublishedRate:
    """A published share of back pain (a range where the source gives one) and the causes that stand for it."""

    label: str
    causes: tuple[str, ...]
    low: float
    high: float
    figure: str  # as docs/clinical-figures.md words it (tests/test_lr.py checks it is there)
    source: str


# fmt: off
PUBLISHED_RATES: tuple[PublishedRate, ...] = (
    PublishedRate("serious pathology", ("compression_fracture", "spinal_malignancy", "spinal_infection",
                  "cauda_equina_syndrome"), 0.009, 0.009, "11 of 1,172 consecutive acute low back pain patients (0.9%)",
                  "henschke2009"),
    PublishedRate("fracture", ("compression_fracture",), 8 / 1172, 8 / 1172, "8 of them fractures", "henschke2009"),
    PublishedRate("cancer", ("spinal_malignancy",), 0.0066, 0.0066, "Cancer: 13 of 1,975 (0.66%)", "deyo1988"),
    PublishedRate("infection", ("spinal_infection",), 0.0001, 0.0001, "infection ~0.01%", "jarvik2002"),
    PublishedRate("cauda equina", ("cauda_equina_syndrome",), 0.0004, 0.0004, "cauda equina ~0.04%", "jarvik2002"),
    PublishedRate("herniated disc", ("disc_herniation",), 0.04, 0.04, "herniated disc ~4%", "jarvik2002"),
    PublishedRate("radiculopathy", ("nerve_root_compression",), 0.01, 0.02, "with radiculopathy 1-2%", "jarvik2002"),
    PublishedRate("spinal stenosis", ("spinal_stenosis",), 0.03, 0.03, "spinal stenosis ~3%", "jarvik2002"),
    PublishedRate("ankylosing spondylitis", ("inflammatory_arthritis",), 0.003, 0.05,
                  "ankylosing spondylitis 0.3-5%", "jarvik2002"),
    PublishedRate("visceral disease", ("kidney_disease", "pelvic_organ_disease", "aortic_aneurysm"), 0.02, 0.02,
                  "visceral disease (kidney, pelvic organs, aorta, gut) ~2%", "jarvik2002"),
    PublishedRate("degenerative", ("disc_degeneration", "facet_arthrosis"), 0.10, 0.10, "degenerative ~10%",
                  "jarvik2002"),
    PublishedRate("strain and other non-specific pain", ("muscle_strain", "doms", "myofascial_spasm",
                  "postural_weakness"), 0.70, 0.90, "lumbar strain/sprain 70-90%", "jarvik2002"),
)
# fmt: on


def any_present(ve: VariableElimination, causes: tuple[str, ...], evidence: dict[str, str]) -> float:
    """P(at least one of `causes` is present | evidence): one joint query over the (few) causes."""
    if len(causes) == 1:
        factor = ve.query(list(causes), evidence=evidence, show_progress=False)
        return 1.0 - float(factor.get_value(**{causes[0]: ABSENT}))
    factor = ve.query(list(causes), evidence=evidence, joint=True, show_progress=False)
    return 1.0 - float(factor.get_value(**dict.fromkeys(causes, ABSENT)))


def compare_base_rates(ve: VariableElimination, rates: tuple[PublishedRate, ...] = PUBLISHED_RATES) -> pd.DataFrame:
    """One row per published share: the network's rate beside it, and whether it is within a factor of 2."""
    evidence = load_spec().fixed_evidence
    rows = []
    for rate in rates:
        network = any_present(ve, rate.causes, evidence)
        rows.append(
            {
                "share of back pain": rate.label,
                "causes": ", ".join(rate.causes),
                "published": rate.figure,
                "source": rate.source,
                "network": network,
                "within 2x": rate.low / WITHIN <= network <= rate.high * WITHIN,
            }
        )
    return pd.DataFrame(rows)
