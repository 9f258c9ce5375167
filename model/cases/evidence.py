"""Turning a read case into network evidence: each known field's node and state."""

from __future__ import annotations

from typing import Any

from model.cases.fields import EVIDENCE_FIELDS, FIELD_BY_NAME, parse_case
from model.network.spec import Bin, NetworkSpec, load_spec


def bin_state(value: float, bins: tuple[Bin, ...], open_above: bool = False) -> str:
    """The state whose range holds `value` (ranges are [low, high); the last includes high).

    With `open_above` (a field whose contract range has no upper end, such as duration_days) the last bin also
    holds every value above its high: the bins cut the range, they do not end it.
    """
    for b in bins:
        if b.low <= value < b.high:
            return b.state
    last = bins[-1]
    if value == last.high or (open_above and value > last.high):
        return last.state
    raise ValueError(f"{value} is outside the binned range {bins[0].low:g}-{last.high:g}")


def evidence_from_values(values: dict[str, Any], spec: NetworkSpec | None = None) -> dict[str, str]:
    """Evidence {node: state} from already-read field values (unknown fields are left out), with the evidence
    every case carries (the network's `observed`: the person has back pain)."""
    spec = spec or load_spec()
    nodes = spec.nodes
    evidence = spec.fixed_evidence
    for name in EVIDENCE_FIELDS:
        value = values.get(name)
        if value is None:
            continue
        node = nodes[name]
        bins = getattr(node, "bins", ())
        evidence[name] = bin_state(value, bins, open_above=FIELD_BY_NAME[name].high is None) if bins else value
    return evidence


def evidence_from_case(case: Any) -> dict[str, str]:
    """Evidence {node: state} for a case (dict or pandas row); raises CaseError on a bad value."""
    return evidence_from_values(parse_case(case))
