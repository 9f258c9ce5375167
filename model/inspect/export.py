"""Writing the network to interchange files (XMLBIF, BIF, XDSL) and proving that they read back the same."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

with warnings.catch_warnings():
    # pgmpy 1.1 announces on import that an estimator module we never use will move.
    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork
    from pgmpy.readwrite import BIFReader, BIFWriter, XDSLReader, XDSLWriter, XMLBIFReader, XMLBIFWriter

# The tools each format is for: XMLBIF for pgmpy, pyAgrum, bnlearn and Weka; BIF for pyAgrum, bnlearn (R) and
# the Bayesian network repository; XDSL is GeNIe's own format.
FORMATS = {"xmlbif": ".xml", "bif": ".bif", "xdsl": ".xdsl"}
_WRITERS = {"xmlbif": XMLBIFWriter, "bif": BIFWriter, "xdsl": XDSLWriter}
_READERS = {"xmlbif": XMLBIFReader, "bif": BIFReader, "xdsl": XDSLReader}
# A name every reader accepts: BIF's original grammar and GeNIe's identifiers both start with a letter.
_PORTABLE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
DEFAULT_TOLERANCE = 1e-12


def write_network(network: DiscreteBayesianNetwork, path: str | Path, fmt: str) -> Path:
    """Write `network` to `path` in `fmt` (one of FORMATS) and return the path. `network` is left as it was.

    The writers are handed a copy: pgmpy's XMLBIF writer sorts the network's own list of CPDs by name, and the
    engine takes its node order from that list."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    path = Path(path)
    _WRITERS[fmt](network.copy()).write(str(path))
    return path


def read_network(path: str | Path, fmt: str) -> DiscreteBayesianNetwork:
    """Read a network file written in `fmt` back into pgmpy."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")
    return _READERS[fmt](str(path)).get_model()


@dataclass(frozen=True)
class Difference:
    """One way two networks differ: the node (or "(network)") and what differs."""

    node: str
    problem: str


def _aligned_values(expected: TabularCPD, actual: TabularCPD) -> np.ndarray:
    """`actual`'s values with axes and states in `expected`'s order (both tables hold the same variables)."""
    values = np.moveaxis(
        actual.values, [actual.variables.index(v) for v in expected.variables], range(actual.values.ndim)
    )
    for axis, var in enumerate(expected.variables):
        order = [actual.state_names[var].index(s) for s in expected.state_names[var]]
        values = np.take(values, order, axis=axis)
    return values


def _cpd_differences(node: str, expected: TabularCPD, actual: TabularCPD, tolerance: float) -> list[Difference]:
    if set(expected.variables[1:]) != set(actual.variables[1:]):
        return [Difference(node, f"parents {sorted(expected.variables[1:])} became {sorted(actual.variables[1:])}")]
    problems = []
    for var in expected.variables:
        want, got = list(expected.state_names[var]), list(actual.state_names[var])
        if want != got:
            problems.append(Difference(node, f"states of {var} {want} became {got}"))
    if problems:
        return problems
    gap = float(np.max(np.abs(expected.values - _aligned_values(expected, actual))))
    if gap > tolerance:
        return [Difference(node, f"probabilities differ by up to {gap:.3g}")]
    return []


def network_differences(
    expected: DiscreteBayesianNetwork, actual: DiscreteBayesianNetwork, tolerance: float = DEFAULT_TOLERANCE
) -> list[Difference]:
    """Every difference between two networks: nodes, edges, each node's states (in order) and every probability.

    Parent order within a table may differ (formats store it differently); state order may not, because the
    findings' states are ordered levels.
    """
    differences = []
    missing, extra = set(expected.nodes()) - set(actual.nodes()), set(actual.nodes()) - set(expected.nodes())
    if missing:
        differences.append(Difference("(network)", f"nodes missing: {', '.join(sorted(missing))}"))
    if extra:
        differences.append(Difference("(network)", f"nodes added: {', '.join(sorted(extra))}"))
    lost, gained = set(expected.edges()) - set(actual.edges()), set(actual.edges()) - set(expected.edges())
    if lost or gained:
        differences.append(Difference("(network)", f"{len(lost)} edges lost, {len(gained)} edges added"))
    for node in sorted(set(expected.nodes()) & set(actual.nodes())):
        want, got = expected.get_cpds(node), actual.get_cpds(node)
        if got is None:
            differences.append(Difference(node, "no table"))
            continue
        differences.extend(_cpd_differences(node, want, got, tolerance))
    return differences


@dataclass(frozen=True)
class RoundTrip:
    """A file written from the network, and how the network read back from it differs (empty: identical)."""

    fmt: str
    path: Path
    differences: tuple[Difference, ...]

    @property
    def identical(self) -> bool:
        return not self.differences


def round_trip(
    network: DiscreteBayesianNetwork, directory: str | Path, fmt: str, tolerance: float = DEFAULT_TOLERANCE
) -> RoundTrip:
    """Write `network` into `directory` as backcheck.<ext>, read it back and compare every table."""
    path = write_network(network, Path(directory) / f"backcheck{FORMATS[fmt]}", fmt)
    return RoundTrip(fmt, path, tuple(network_differences(network, read_network(path, fmt), tolerance)))


def unportable_names(network: DiscreteBayesianNetwork) -> list[str]:
    """Node and state names that some tools reject (they do not start with a letter, or hold other characters).

    pgmpy reads them all back (see round_trip); BIF's original grammar and GeNIe's identifiers want a letter first.
    """
    names = []
    for cpd in network.get_cpds():
        if not _PORTABLE_NAME.fullmatch(cpd.variable):
            names.append(cpd.variable)
        names += [f"{cpd.variable}={s}" for s in cpd.state_names[cpd.variable] if not _PORTABLE_NAME.fullmatch(str(s))]
    return sorted(names)
