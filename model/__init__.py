"""backcheck: a Bayesian network for back pain after exercise; likely causes and when to seek care.

Not a diagnosis: it cannot examine you and does not replace a doctor.
"""

from model.batch import score_cases
from model.care import LEVELS as CARE_LEVELS
from model.diagnosis import Diagnosis, diagnose
from model.evidence import evidence_from_case
from model.fields import CaseError, UnknownFieldError
from model.marginals import batch_marginals
from model.network import load_network
from model.spec import SpecError, load_spec

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
