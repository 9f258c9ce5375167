"""backcheck: a Bayesian network for back pain after exercise; likely causes and when to seek care.

Not a diagnosis: it cannot examine you and does not replace a doctor.

The names below are imported on first use (PEP 562), so that `import model.cli` or `import model.scoring.output` does
not load numpy, pandas and pgmpy first: the command line sets its signal handlers before it loads them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model.care.rules import LEVELS as CARE_LEVELS
    from model.cases.evidence import evidence_from_case
    from model.cases.fields import CaseError, UnknownFieldError
    from model.diagnosis import Diagnosis, diagnose
    from model.inference.marginals import batch_marginals
    from model.network.build import load_network
    from model.network.spec import SpecError, load_spec
    from model.scoring.batch import score_cases

# name: (module, name there)
_EXPORTS = {
    "CARE_LEVELS": ("model.care.rules", "LEVELS"),
    "CaseError": ("model.cases.fields", "CaseError"),
    "Diagnosis": ("model.diagnosis", "Diagnosis"),
    "SpecError": ("model.network.spec", "SpecError"),
    "UnknownFieldError": ("model.cases.fields", "UnknownFieldError"),
    "batch_marginals": ("model.inference.marginals", "batch_marginals"),
    "diagnose": ("model.diagnosis", "diagnose"),
    "evidence_from_case": ("model.cases.evidence", "evidence_from_case"),
    "load_network": ("model.network.build", "load_network"),
    "load_spec": ("model.network.spec", "load_spec"),
    "score_cases": ("model.scoring.batch", "score_cases"),
}
__all__ = [
    "CARE_LEVELS",
    "CaseError",
    "Diagnosis",
    "SpecError",
    "UnknownFieldError",
    "batch_marginals",
    "diagnose",
    "evidence_from_case",
    "load_network",
    "load_spec",
    "score_cases",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
