"""The compiled exact engine: the network's CPDs as arrays, and exact marginals for a whole batch of cases."""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from model.inference.codes import UNKNOWN, Encoding, encode_evidence, normalised
from model.inference.keys import choose_plan_bits, pattern, plan_keys
from model.inference.plans import Leaf, Plan, Reads, compile_plan, find_reads
from model.inference.tables import Tables
from model.network.build import DiscreteBayesianNetwork

if TYPE_CHECKING:
    from model.inference.pain import PainEngine

# Working memory of one contraction batch (its values and gradients): bigger batches spread the Python overhead
# of each step over more cases; smaller ones measured no faster.
_BATCH_BYTES = 64 * 2**20
# A case observing more findings than this in a state that is a difference of two factorising columns expands
# only this many (2**_EXPANDED_FINDINGS terms); and it is computed without the expansion when its terms add up
# to more than _CANCELLATION times its answer: the answer then keeps at least 16 - 4 - 2 digits (the terms' own
# rounding in a sum of a hundred-odd products of nonnegative numbers costs the 2).
_EXPANDED_FINDINGS = 6
_CANCELLATION = 1e4


class Engine(Tables, Encoding):
    """Exact marginals of a discrete Bayesian network for a batch of cases, each with its own evidence.

    Built once from the network's CPDs; the arrays are read-only afterwards, and the only state that grows
    is a memo of compiled contraction plans (pure functions of the evidence pattern, built under a lock),
    so one engine can serve many threads. Evidence is a (cases, nodes) integer array of state indices with
    UNKNOWN (-1) for an unobserved node; `encode` builds it from {node: state} mappings. Any node may be
    observed and any node's marginal asked for.

    How it is exact and fast. The answer is a sum of products of the CPDs, contracted for all cases at once
    (numpy einsum with the case axis last, in a variable elimination order), and one backward pass through the
    same contraction gives every node's joint with the evidence. Each case's structure decides its plan:
    - a node without children is summed against its evidence vector (unobserved, to its columns' sums: 1 in a
      true table); unobserved, or observed in a state whose column is a product of one vector per parent (the
      lowest state of a noisy-MAX table), it becomes those vectors and couples nothing; observed in a state
      that is a difference of two such columns (any state of a noisy-MAX table: P(<= s) - P(<= s - 1)), the
      case is the signed sum of two cases that each observe one of them (_expanded_joint);
    - an observed root with two or more children is fixed for that case (fewer, smaller tensors); unobserved,
      it stays in the contraction, or, if that costs more than running the contraction once per state, the
      case is split into one sub-row per state, weighted by the prior, and summed back;
    - any other root rides on the table of its first child that has one (a tensor of its own if none has).
    Every such root and childless node is a plan bit (plan_bits): the bits a case allows key its plan; cases of
    one plan run together, and a group too small to be worth its own plan joins a coarser one (_merged).
    A plan contracts in a greedy variable elimination order (cheapest_path), found when it is first met.
    """

    def __init__(self, network: DiscreteBayesianNetwork):
        super().__init__(network)
        self._state_index = {node: {s: i for i, s in enumerate(states)} for node, states in self.states.items()}
        self.enumerated, self.plan_bits = choose_plan_bits(self)
        self._plans: dict[int, Plan] = {}
        self._lock = threading.Lock()

    @property
    def plans_compiled(self) -> int:
        """How many contraction plans this engine has compiled so far (one per evidence pattern met)."""
        return len(self._plans)

    # --------------------------------------------------------------------------------------- inference

    def marginals(self, codes: np.ndarray, nodes: Sequence[str]) -> dict[str, np.ndarray]:
        """{node: (cases, states) array of P(node = state | the case's evidence)} for each node in `nodes`.

        An observed node gets probability 1 for its observed state. A case whose evidence is impossible
        (probability zero) gets NaN.
        """
        nodes = list(dict.fromkeys(nodes))
        evidence, joints = self.joint(codes, nodes)
        return normalised(np.asarray(codes), self.index, nodes, evidence, joints)

    def joint(self, codes: np.ndarray, nodes: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """P(evidence) per case, and {node: (cases, states) array of P(node = state, evidence)}: the unnormalised
        answers, for callers that combine several evidence sets exactly (see model/inference/pain.py)."""
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[1] != len(self.nodes):
            raise ValueError(f"evidence must be a (cases, {len(self.nodes)}) array")
        nodes = list(dict.fromkeys(nodes))
        for node in nodes:
            if node not in self.index:
                raise ValueError(f"'{node}' is not a node of the network")
        cards = np.array([self.card[node] for node in self.nodes])
        outside = ((codes < UNKNOWN) | (codes >= cards)).any(axis=0)
        if outside.any():
            node = self.nodes[int(np.argmax(outside))]
            raise ValueError(f"evidence for '{node}' holds a state index outside 0-{self.card[node] - 1}")
        # column 0: P(evidence); then each node's P(node = state, evidence), its states side by side
        offsets = np.cumsum([1] + [self.card[node] for node in nodes]).tolist()
        joint = self._expanded_joint(codes, nodes, offsets[-1])
        for node, a, b in zip(nodes, offsets, offsets[1:], strict=False):
            # an observed node's joint is P(evidence) at its state (a term of an expanded case reads another)
            column = codes[:, self.index[node]]
            observed = np.flatnonzero(column != UNKNOWN)
            joint[observed, a:b] = 0.0
            joint[observed, a + column[observed]] = joint[observed, 0]
        return joint[:, 0], {node: joint[:, a:b] for node, a, b in zip(nodes, offsets, offsets[1:], strict=False)}

    def _expanded_joint(self, codes: np.ndarray, nodes: Sequence[str], width: int) -> np.ndarray:
        """joint's (cases, width) array, each case that observes a finding in a state whose column does not
        factorise but is a difference of two that do (Factorised.expands) computed as the signed sum of terms.

        A case with k such findings is 2**k terms (at most 2**_EXPANDED_FINDINGS: beyond that many, the others
        stay in the contraction as they are), each one with every finding factorised: all of them run one plan,
        and cheaply. The terms are nonnegative, so the sum's rounding error is about the machine epsilon times
        the sum of the terms' absolute values; a case whose terms add up to more than _CANCELLATION times its
        answer is computed again without the expansion."""
        n = codes.shape[0]
        expandable = [node for node in self.plan_bits if node in self.factorised and node not in nodes]
        expandable = [node for node in expandable if self.factorised[node].expands.any()]
        count = np.zeros(n, dtype=np.int64)
        origin, sign, terms = np.arange(n), np.ones(n), codes
        for node in expandable:
            j, card = self.index[node], self.card[node]
            column = terms[:, j].astype(np.intp)
            split = self.factorised[node].expands[column] & (column != UNKNOWN) & (count[origin] < _EXPANDED_FINDINGS)
            if not split.any():
                continue
            count[origin[split]] += 1
            repeats = 1 + split
            first = np.cumsum(repeats) - repeats  # each row's first term
            terms = np.repeat(terms, repeats, axis=0)
            origin, sign = np.repeat(origin, repeats), np.repeat(sign, repeats)
            rows = first[split]
            terms[rows, j] = card + column[split]  # P(<= s)
            terms[rows + 1, j] = card + column[split] - 1  # minus P(<= s - 1)
            sign[rows + 1] *= -1
        if terms is codes:
            return self._plain_joint(codes, nodes, width)
        found = self._plain_joint(terms, nodes, width)
        starts = np.flatnonzero(np.r_[True, origin[1:] != origin[:-1]])
        joint = np.add.reduceat(found * sign[:, None], starts, axis=0)
        scale = np.add.reduceat(np.abs(found[:, 0]), starts)
        redo = np.flatnonzero(~(scale <= _CANCELLATION * joint[:, 0]))
        if redo.size:
            joint[redo] = self._plain_joint(codes[redo], nodes, width)
        return joint

    def _plain_joint(self, codes: np.ndarray, nodes: Sequence[str], width: int) -> np.ndarray:
        """joint's (cases, width) array, each group of cases by its plan (codes may hold cumulative codes, see
        Factorised, for findings among the plan bits that are not asked for)."""
        n = codes.shape[0]
        joint = np.zeros((n, width))
        keys = plan_keys(self, self.enumerated, self.plan_bits, codes, nodes)
        order = np.argsort(keys, kind="stable")
        bounds = np.flatnonzero(np.diff(keys[order])) + 1
        for rows in np.split(order, bounds) if n else ():
            plan = self._plan(int(keys[rows[0]]))
            self._run_plan(plan, codes, rows, nodes, joint)
        return joint

    def _run_plan(
        self,
        plan: Plan,
        codes: np.ndarray,
        rows: np.ndarray,
        nodes: Sequence[str],
        joint: np.ndarray,
    ) -> None:
        sub_rows, fixed = self._expand(plan, codes, rows)
        batch = max(16, _BATCH_BYTES // plan.bytes_per_sub_row)
        for start in range(0, len(sub_rows), batch):
            part = slice(start, start + batch)
            case = sub_rows[part]
            found = self._contract(plan, codes[case], {root: v[part] for root, v in fixed.items()}, nodes)
            # The sub-rows of one case are adjacent: sum each run, then add it to the case's row.
            starts = np.flatnonzero(np.r_[True, case[1:] != case[:-1]])
            joint[case[starts]] += np.add.reduceat(found, starts, axis=0)

    def _expand(self, plan: Plan, codes: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """One sub-row per combination of states of the plan's unobserved conditioned roots."""
        sub_rows = rows
        values = {root: codes[rows, self.index[root]].astype(np.intp) for root in plan.conditioned}
        for root in plan.conditioned:
            unknown = values[root] == UNKNOWN
            if not unknown.any():
                continue
            repeats = np.where(unknown, self.card[root], 1)
            starts = np.cumsum(repeats) - repeats
            sub_rows = np.repeat(sub_rows, repeats)
            values = {r: np.repeat(v, repeats) for r, v in values.items()}
            offset = np.arange(len(sub_rows)) - np.repeat(starts, repeats)
            values[root] = np.where(np.repeat(unknown, repeats), offset, values[root])
        return sub_rows, values

    def _contract(
        self, plan: Plan, codes: np.ndarray, fixed: dict[str, np.ndarray], nodes: Sequence[str]
    ) -> np.ndarray:
        """(sub-rows, 1 + states of `nodes`): P(evidence), then each node's P(node = state, evidence)."""
        s = len(codes)
        weight = np.ones(s)
        for root in plan.conditioned:
            weight *= self.tables[root][fixed[root]]
        for node in plan.factorised:
            state = codes[:, self.index[node]]
            factor = self.factorised[node]
            weight *= factor.scale[state]
            for parent, vectors in zip(self.parents[node], factor.vectors, strict=True):
                if parent in fixed:
                    weight *= vectors[state, fixed[parent]]
        lam = self._evidence(codes)
        values: list[np.ndarray | None] = [self._leaf_value(leaf, codes, fixed, lam) for leaf in plan.leaves]
        for step in plan.steps:
            values.append(np.einsum(step.forward, *(values[i] for i in step.inputs)))
        z = values[-1] if plan.steps else np.ones(s)  # no steps: no leaves, everything is in `weight`
        read_at, wanted = self._reads(plan, nodes)
        found = np.empty((s, 1 + sum(self.card[node] for node in nodes)))
        found[:, 0] = z
        blocks, at = {}, 1
        for node in nodes:
            blocks[node] = found[:, at : at + self.card[node]]
            at += self.card[node]

        def read(i: int, grad: np.ndarray) -> None:
            """The joints of the nodes read from tensor i, given its gradient."""
            for node, axis in read_at.get(i, ()):
                if axis is None:  # an absorbed node, from its own leaf
                    leaf = plan.leaves[i]
                    factors = self._factors(leaf, codes, lam)
                    blocks[node][:] = self._absorbed_joint(leaf, grad, fixed, lam.get(node), factors)
                    continue
                # the sum of T * dZ/dT over every axis but the node's and the case axis, in one pass
                axes = list(range(values[i].ndim))
                blocks[node][:] = np.einsum(values[i], axes, grad, axes, [axis, axes[-1]]).T

        grads: list[np.ndarray | None] = [None] * len(values)
        if plan.steps:
            grads[-1] = np.ones(s)
        # Each tensor is the input of one step, so its gradient is complete once that step is passed back: its
        # nodes are read then, and values and gradients are dropped as soon as nothing further down needs them.
        for step in reversed(plan.steps):
            g, grads[step.output] = grads[step.output], None
            for k, i in enumerate(step.inputs):
                if g is None or not wanted & step.below[k]:
                    continue
                others = [values[j] for m, j in enumerate(step.inputs) if m != k]
                grad = np.einsum(step.backward[k], g, *others)
                if step.reshape[k] is not None:
                    grad = np.broadcast_to(grad.reshape(step.reshape[k]), values[i].shape)
                read(i, grad)
                if i >= len(plan.leaves):
                    grads[i] = grad  # passed on down at its own step
            for i in step.inputs:
                values[i] = None
        for node in nodes:
            if node in plan.conditioned:
                blocks[node][:] = 0.0
                blocks[node][np.arange(s), fixed[node]] = z
            elif node in plan.factorised:
                # only observed nodes are factorised when their marginal is asked for
                blocks[node][:] = 0.0
                blocks[node][np.arange(s), codes[:, self.index[node]]] = z
        found *= weight[:, None]
        return found

    def _evidence(self, codes: np.ndarray) -> dict[str, np.ndarray]:
        """{observed node: (states, sub-rows) evidence vectors}: one-hot where observed, ones where not."""
        observed = np.flatnonzero((codes != UNKNOWN).any(axis=0))
        if not observed.size:
            return {}
        node_of = np.repeat(observed, [self.card[self.nodes[j]] for j in observed])
        state_of = np.concatenate([np.arange(self.card[self.nodes[j]]) for j in observed])
        column = codes[:, node_of]
        vectors = np.ascontiguousarray(((column == state_of) | (column == UNKNOWN)).T, dtype=np.float64)
        bounds = np.cumsum([0] + [self.card[self.nodes[j]] for j in observed])
        return {self.nodes[j]: vectors[a:b] for j, a, b in zip(observed, bounds, bounds[1:], strict=False)}

    def _leaf_value(
        self, leaf: Leaf, codes: np.ndarray, fixed: dict[str, np.ndarray], evidence: dict[str, np.ndarray]
    ) -> np.ndarray:
        """The leaf tensor for these sub-rows, case axis last: its table times its node's evidence vector (summed
        over the node for an absorbed leaf), times its factors (see _factors)."""
        s = len(codes)
        lam = evidence.get(leaf.node)
        table = self._gather(leaf, fixed) if leaf.conditioned else leaf.table[..., None]
        owned = True  # whether `value` is a fresh array, to be multiplied in place
        if leaf.kind == "absorbed":
            if lam is None and leaf.node in self.unnormalised:
                lam = np.ones((table.shape[0], s))  # summed like a seen node's, for the columns' own sums
            if lam is None:
                value = np.ones((*table.shape[1:-1], s))
            elif leaf.conditioned:
                value = np.einsum("s...n,sn->...n", table, lam)
            else:
                flat = leaf.table.reshape(leaf.table.shape[0], -1)
                value = (flat.T @ lam).reshape((*leaf.table.shape[1:], s))
        elif lam is not None:
            lam = lam.reshape((lam.shape[0], *(1,) * (table.ndim - 2), s))
            value = np.multiply(table, lam, out=table) if leaf.conditioned else table * lam
        elif leaf.conditioned:
            value = table
        else:
            value, owned = np.broadcast_to(table, (*table.shape[:-1], s)), False
        for axis, vector in self._factors(leaf, codes, evidence).items():
            vector = _along(vector, axis, value.ndim)
            value = np.multiply(value, vector, out=value) if owned else value * vector
            owned = True
        return value

    def _factors(self, leaf: Leaf, codes: np.ndarray, evidence: dict[str, np.ndarray]) -> dict[int, np.ndarray]:
        """The vectors that multiply a leaf's table besides its node's evidence, {axis of its scope: (states,
        sub-rows)}: the prior times the evidence vector of each root it hosts, and each attached vector.

        Every read of the leaf's contents goes through here, so the value and the joint read from it (see
        _absorbed_joint) multiply the same numbers. Vectors along one axis are multiplied together first: one
        pass over the table per axis."""
        along: dict[int, np.ndarray] = {}
        for root, axis in leaf.roots:
            along[axis] = self.tables[root][:, None] * evidence.get(root, 1.0)
        for child, position, axis in leaf.attached:
            vector = self.factorised[child].vectors[position][codes[:, self.index[child]]].T
            along[axis] = along[axis] * vector if axis in along else vector
        return along

    def _gather(self, leaf: Leaf, fixed: dict[str, np.ndarray]) -> np.ndarray:
        """The leaf's table at each sub-row's states of its conditioned parents (its trailing axes), case axis last.

        One np.take over the table seen as (free states, conditioned states): a single pass that writes the
        result with the case axis contiguous."""
        free = leaf.table.shape[: leaf.table.ndim - len(leaf.conditioned)]
        flat = np.zeros(len(next(iter(fixed.values()))), dtype=np.intp)
        for parent in leaf.conditioned:
            flat *= self.card[parent]
            flat += fixed[parent]
        return np.take(leaf.table.reshape(math.prod(free), -1), flat, axis=1).reshape((*free, -1))

    def _absorbed_joint(
        self,
        leaf: Leaf,
        grad: np.ndarray,
        fixed: dict[str, np.ndarray],
        lam: np.ndarray | None,
        factors: dict[int, np.ndarray],
    ) -> np.ndarray:
        """P(an absorbed node = state, evidence) per sub-row, (sub-rows, states), from its leaf's gradient.

        The leaf's value is the sum over the node's states of table * evidence * factors; the joint is each
        state's term of that sum times the gradient, summed over the leaf's scope. The factors (the priors of
        the roots the leaf hosts, and attached vectors) go with the gradient: they hold no axis of the node."""
        s = grad.shape[-1]
        for axis, vector in factors.items():
            grad = grad * _along(vector, axis, grad.ndim)
        if leaf.conditioned:
            table = self._gather(leaf, fixed)
            joint = np.einsum("spn,pn->ns", table.reshape(table.shape[0], -1, s), np.reshape(grad, (-1, s)))
        else:
            flat = leaf.table.reshape(leaf.table.shape[0], -1)
            joint = (flat @ np.reshape(grad, (flat.shape[1], s))).T
        return joint if lam is None else joint * lam.T

    # --------------------------------------------------------------------------------------- compiling

    def _plan(self, key: int) -> Plan:
        """The plan that a key of plan bits names, compiled the first time it is met."""
        plan = self._plans.get(key)
        if plan is None:
            with self._lock:
                plan = self._plans.get(key)
                if plan is None:
                    plan = compile_plan(self, *pattern(self, self.enumerated, self.plan_bits, key))
                    self._plans[key] = plan
        return plan

    def _reads(self, plan: Plan, nodes: Sequence[str]) -> Reads:
        """Where to read `nodes` in `plan` (find_reads), found once per plan and tuple of nodes."""
        key = tuple(nodes)
        found = plan.reads.get(key)
        if found is None:
            found = find_reads(self, plan, key)
            with self._lock:
                plan.reads.setdefault(key, found)
        return found


def _along(vector: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """A (states, sub-rows) vector shaped to multiply a tensor of `ndim` axes, case axis last, along `axis`."""
    return vector.reshape((1,) * axis + (vector.shape[0],) + (1,) * (ndim - axis - 2) + (-1,))


@cache
def load_engine() -> PainEngine:
    """The engine for the built-in network, compiled once per process.

    It runs on the network with back pain factorised (model/inference/pain.py), and answers for the network as
    pgmpy holds it.
    """
    from model.inference.pain import PainEngine, pain_factorised_network

    return PainEngine(Engine(pain_factorised_network()))


__all__ = ["UNKNOWN", "Encoding", "Engine", "encode_evidence", "load_engine", "normalised"]
