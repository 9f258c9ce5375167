"""The tables an engine compiles from a network once: its CPDs as arrays, and what their columns allow.

Tables holds the structure (nodes, states, parents, children) and each node's CPD as a read-only array, axes
(node, *parents). Two facts about a childless node's table decide how a plan may treat it (see engine.py's
terms): which of its columns factorise, that is are a product of one vector per parent (Factorised, from
`factorise`), and whether its columns sum to 1 (`column_sums`). The tables with their axes arranged as plans
lay them out (conditioned parents last, to be gathered per sub-row) are made on first use and kept (Tables.arranged).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from model.network.build import DiscreteBayesianNetwork

_RANK1_TOLERANCE = 1e-12


@dataclass(frozen=True)
class Factorised:
    """The columns of a childless node that are a product c * u_1(p_1) * ... * u_k(p_k) of one vector per parent.

    Indexed by an internal code: 0 to states - 1 the node's states, then states + s for the cumulative column
    P(node <= s | parents); the last of those, states - 1 + states, is "unknown" (index -1, the sum of the
    columns: 1 everywhere in a true table, a product of ones, but only to about 1e-7 in some of pgmpy's bundled
    networks, where it factorises only if that sum happens to). A noisy-MAX table factorises in its lowest state
    and in every cumulative column, so any state s is the difference of two factorised columns, P(<= s) -
    P(<= s - 1): `expands` says for which states that holds while the state's own column does not factorise.
    """

    scale: np.ndarray  # (2 * states,): c per code
    vectors: tuple[np.ndarray, ...]  # per parent, (2 * states, parent states)
    rank1: np.ndarray  # (2 * states,) bool: which codes factorise
    expands: np.ndarray  # (states,) bool: states that are a difference of two factorising cumulative columns


def node_order(parents: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The engine's node order: every parent before its children, and among the nodes free to come next, the
    first by name. It depends on the graph alone, never on the order in which the network lists its CPDs or a
    file its variables, so a network read from any format gives the same engine, plans and rounding."""
    waiting = {node: len(set(ps)) for node, ps in parents.items()}
    children: dict[str, list[str]] = {node: [] for node in parents}
    for node, ps in parents.items():
        for parent in set(ps):
            if parent not in children:
                raise ValueError(f"'{node}' has the parent '{parent}', which has no CPD")
            children[parent].append(node)
    ready = [node for node, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for child in children[node]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, child)
    if len(order) < len(parents):
        raise ValueError(f"the network has a cycle through '{min(set(parents) - set(order))}'")
    return tuple(order)


def forward_priors(tables: Tables) -> dict[str, np.ndarray]:
    """{node: (states,) its prior marginal as if every node's parents were independent}: one pass down the node
    order, each table summed against its parents' vectors. Exact on a polytree (where every node's parents are
    independent); elsewhere an approximation, for guiding choices only, never for answers."""
    priors: dict[str, np.ndarray] = {}
    for node in tables.nodes:
        found = tables.tables[node]
        for parent in reversed(tables.parents[node]):
            found = found @ priors[parent]
        priors[node] = found
    return priors


class Tables:
    """A network's CPDs as arrays, with its structure; read-only once built, so any number of threads may share it.

    `tables[node]` has the axes (node, *parents[node]); `factorised` holds, for each childless node with
    parents, which of its columns factorise (Factorised), and `unnormalised` the childless nodes whose columns
    do not all sum to 1 (column_sums).
    """

    def __init__(self, network: DiscreteBayesianNetwork):
        found = {cpd.variable: cpd for cpd in network.get_cpds()}
        order = node_order({node: tuple(cpd.variables[1:]) for node, cpd in found.items()})
        cpds = {node: found[node] for node in order}
        self.nodes: tuple[str, ...] = order
        self.index: dict[str, int] = {node: i for i, node in enumerate(self.nodes)}
        self.states: dict[str, tuple[str, ...]] = {
            node: tuple(str(s) for s in cpd.state_names[node]) for node, cpd in cpds.items()
        }
        self.card: dict[str, int] = {node: len(states) for node, states in self.states.items()}
        self.parents: dict[str, tuple[str, ...]] = {node: tuple(cpd.variables[1:]) for node, cpd in cpds.items()}
        self.tables: dict[str, np.ndarray] = {}
        self._arranged_tables: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
        for node, cpd in cpds.items():
            for parent in self.parents[node]:
                if [str(s) for s in cpd.state_names[parent]] != list(self.states[parent]):
                    raise ValueError(f"the CPD of '{node}' orders the states of '{parent}' differently")
            table = np.array(cpd.values, dtype=np.float64).reshape([self.card[v] for v in cpd.variables])
            table.setflags(write=False)
            self.tables[node] = table
        children: dict[str, list[str]] = {node: [] for node in self.nodes}
        for node, parents in self.parents.items():
            for parent in parents:
                children[parent].append(node)
        self.children: dict[str, tuple[str, ...]] = {node: tuple(c) for node, c in children.items()}
        childless = [node for node in self.nodes if not self.children[node]]
        self.factorised: dict[str, Factorised] = {
            node: f for node in childless if (f := factorise(self.tables[node])) is not None
        }
        # Childless nodes that an unknown state does not sum out to 1: their leaves hold their column sums.
        self.unnormalised = frozenset(node for node in childless if (column_sums(self.tables[node]) != 1).any())

    def arranged(self, node: str, axes: tuple[str, ...]) -> np.ndarray:
        """The node's table with its family's axes in the order `axes` (a permutation of (node, *parents)), C
        contiguous: plans lay every tensor out in one order, conditioned parents last (see plans._leaves).
        Memoised: choosing the plan bits lists a network's leaves hundreds of times."""
        key = (node, axes)
        table = self._arranged_tables.get(key)
        if table is None:
            family = (node, *self.parents[node])
            table = np.ascontiguousarray(np.transpose(self.tables[node], [family.index(v) for v in axes]))
            table.setflags(write=False)
            table = self._arranged_tables.setdefault(key, table)
        return table


def factorise(table: np.ndarray) -> Factorised | None:
    """The codes of a childless node's table, axes (node, *parents), whose column over the parents is a product of
    one vector per parent (see Factorised); None for a node without parents."""
    k, card = table.ndim - 1, table.shape[0]
    if not k:
        return None
    scale = np.ones(2 * card)
    vectors = [np.ones((2 * card, states)) for states in table.shape[1:]]
    rank1 = np.zeros(2 * card, dtype=bool)
    cumulative = [*np.cumsum(table, axis=0)[:-1], column_sums(table)]  # the last is "unknown", index -1
    for s, column in enumerate([*table, *cumulative]):
        corner = column[(0,) * k]
        if corner <= 0:
            continue
        parts = [column[(0,) * i + (slice(None),) + (0,) * (k - i - 1)] / corner for i in range(k)]
        product = corner * math.prod(np.reshape(u, (1,) * i + (-1,) + (1,) * (k - i - 1)) for i, u in enumerate(parts))
        if np.allclose(product, column, rtol=_RANK1_TOLERANCE, atol=0.0):
            rank1[s] = True
            scale[s] = corner
            for i, u in enumerate(parts):
                vectors[i][s] = u
    expands = np.zeros(card, dtype=bool)
    expands[1:] = ~rank1[1:card] & rank1[card + 1 :] & rank1[card:-1]
    for array in (scale, rank1, expands, *vectors):
        array.setflags(write=False)
    return Factorised(scale, tuple(vectors), rank1, expands)


def column_sums(table: np.ndarray) -> np.ndarray:
    """A CPD's sums over the node's states (its first axis) per parents' states: what the node contributes when
    it is not seen. Sums within _RANK1_TOLERANCE of 1 are taken as exactly 1, the rounding of a true table.
    Some of pgmpy's bundled networks (alarm, hepar2) have columns that sum to 1 only to 1e-7: the engine then
    computes with the product of the tables as given, as pyAgrum's junction tree does with every node a target.
    (pgmpy's variable elimination first drops the unseen nodes a query does not need, which is the same thing
    only for true tables.)"""
    sums = table.sum(axis=0)
    return np.ones_like(sums) if np.allclose(sums, 1.0, rtol=0.0, atol=_RANK1_TOLERANCE) else sums


__all__ = ["Factorised", "Tables", "column_sums", "factorise", "forward_priors", "node_order"]
