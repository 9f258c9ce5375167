"""Evidence codes: a batch of cases as a (cases, nodes) array of state indices, and answers made conditional.

Both engines (engine.Engine, and pain.PainEngine on top of it) take evidence in this form: one column per node in
the engine's order, the index of the observed state, or UNKNOWN (-1) where the node is not seen. They answer with
joints, P(evidence) and P(node = state, evidence); `normalised` turns those into P(node = state | evidence).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property

import numpy as np

UNKNOWN = -1


class Encoding:
    """Evidence arrays for an engine's nodes: its subclasses set `index` ({node: column}) and `states` ({node:
    state names})."""

    index: dict[str, int]
    states: dict[str, tuple[str, ...]]

    @cached_property
    def _state_index(self) -> dict[str, dict[str, int]]:
        """{node: {state name: index}}, from `states`."""
        return {node: {s: i for i, s in enumerate(states)} for node, states in self.states.items()}

    def encode(self, evidences: Iterable[Mapping[str, str]]) -> np.ndarray:
        """The (cases, nodes) evidence array for {node: state} mappings; ValueError on an unknown node or state."""
        return encode_evidence(evidences, self.index, self.states, self._state_index)

    def state_codes(self, node: str, states: Sequence[str]) -> np.ndarray:
        """The state indices of `states` of `node` (UNKNOWN for None), for building evidence arrays column-wise."""
        index = self._state_index[node]
        return np.array([UNKNOWN if s is None else index[s] for s in states], dtype=np.int16)


def encode_evidence(
    evidences: Iterable[Mapping[str, str]],
    index: Mapping[str, int],
    states: Mapping[str, tuple[str, ...]],
    state_index: Mapping[str, Mapping[str, int]],
) -> np.ndarray:
    """The (cases, len(index)) evidence array for {node: state} mappings, UNKNOWN where a node is not given;
    ValueError on an unknown node or state."""
    rows = list(evidences)
    codes = np.full((len(rows), len(index)), UNKNOWN, dtype=np.int16)
    for i, evidence in enumerate(rows):
        for node, state in evidence.items():
            if node not in index:
                raise ValueError(f"'{node}' is not a node of the network")
            try:
                codes[i, index[node]] = state_index[node][state]
            except KeyError:
                raise ValueError(f"'{state}' is not a state of '{node}' ({', '.join(states[node])})") from None
    return codes


def normalised(
    codes: np.ndarray,
    index: Mapping[str, int],
    nodes: Sequence[str],
    evidence: np.ndarray,
    joints: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """{node: P(node = state | evidence)} from P(evidence) and P(node = state, evidence): NaN where the evidence is
    impossible, rounding kept inside [0, 1], and an observed node exactly its state."""
    found = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for node in nodes:
            found[node] = joints[node] / evidence[:, None]
    for node, table in found.items():
        # The joint and P(evidence) are summed in different orders: keep rounding inside [0, 1], and give an
        # observed node exactly its state.
        np.clip(table, 0.0, 1.0, out=table)
        column = codes[:, index[node]]
        observed = np.flatnonzero((column != UNKNOWN) & np.isfinite(table).all(axis=1))
        table[observed] = 0.0
        table[observed, column[observed]] = 1.0
    return found


__all__ = ["UNKNOWN", "Encoding", "encode_evidence", "normalised"]
