"""backcheck: a Bayesian network for back pain after exercise; likely causes and when to seek care.

Not a diagnosis: it cannot examine you and does not replace a doctor.

The names below are imported on first use (PEP 562), so that `import model.cli` or `import model.output` does
not load numpy, pandas and pgmpy first: the command line sets its signal handlers before it loads them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from model.batch import score_cases
    from model.care import LEVELS as CARE_LEVELS
    from model.diagnosis import Diagnosis, diagnose
    from model.evidence import evidence_from_case
    from model.fields import CaseError, UnknownFieldError
    from model.marginals import batch_marginals
    from model.network import load_network
    from model.spec import SpecError, load_spec

# name: (module, name there)
_EXPORTS = {
    "CARE_LEVELS": ("model.care", "LEVELS"),
    "CaseError": ("model.fields", "CaseError"),
    "Diagnosis": ("model.diagnosis", "Diagnosis"),
    "SpecError": ("model.spec", "SpecError"),
    "UnknownFieldError": ("model.fields", "UnknownFieldError"),
    "batch_marginals": ("model.marginals", "batch_marginals"),
    "diagnose": ("model.diagnosis", "diagnose"),
    "evidence_from_case": ("model.evidence", "evidence_from_case"),
    "load_network": ("model.network", "load_network"),
    "load_spec": ("model.spec", "load_spec"),
    "score_cases": ("model.batch", "score_cases"),
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
