"""The compiled exact engine: exact marginals of a discrete Bayesian network for a whole batch of cases.

The answer is a sum of products of the CPDs, contracted for all cases at once (numpy einsum with the case axis
last, in a variable elimination order), and one backward pass through the same contraction gives every node's
joint with the evidence. Each case's evidence decides how its contraction may be simplified, and so its plan.
The work is split as contraction libraries split it (opt_einsum's contract.py and paths.py), one idea a module:

    codes.py     evidence as arrays of state indices, and joints made conditional
    tables.py    what is compiled from the CPDs once: the tables, which columns factorise, the columns' sums
    keys.py      which plan each case runs: the plan bits, a case's key, small groups merged into coarser plans
    plans.py     compiling a plan: its leaves, steps and reads
    paths.py     the order in which a plan contracts its tensors
    execute.py   running a plan on a batch of sub-rows, forward and backward
    engine.py    the Engine: a call checked, findings expanded, cases grouped by plan, plans compiled once

The terms, defined here once for all of them:

node order: the engine's own (tables.node_order): parents before children, ties by name; never the order in
    which the network lists its CPDs, so a network read from any file format gives the same plans and rounding.
case: one row of the evidence array, a column per node in the node order: the index of its observed state, or
    UNKNOWN.
plan: one contraction of the tables, compiled the first time a case needs it: which roots it conditions and
    which childless nodes it factorises (its pattern), its leaves and steps, and where it reads each node.
plan bit: a node that a plan may simplify: a root with two or more children that is not enumerated, which may
    be conditioned, a childless node with two or more parents, which may be factorised (a node of one child or
    one parent never widens the contraction), or an inner node whose slicing alone saves enough arithmetic
    (keys._SLICE_SAVES), which may be sliced. An engine has at most 62, the most useful first. A case's key
    has the bit of each node its evidence allows to be simplified and names its plan; cases of one key run
    together, and a group too small to be worth its own plan gives up bits, the least useful first, to join a
    coarser plan that the call runs anyway, or any bits to join one whose arithmetic for it is cheap (keys.py).
conditioned: a root fixed per sub-row rather than summed in the contraction (fewer, smaller tensors): an
    observed root of two or more children at its state, when its plan bit is set, and an enumerated root at
    each of its states in turn. A root neither conditioned nor hosted is a tensor of its own.
sliced: an observed inner node (with parents and children) conditioned like a root, when its plan bit is set:
    its table taken at the state seen is a leaf over its free parents, and its children take theirs at that
    state too, so it is no axis of the contraction.
enumerated: a root conditioned in every plan, because keeping it in the contraction costs more than running
    the contraction once per state.
sub-row: one row of a contraction: a case with each of its unobserved enumerated roots at one state, weighted
    by the priors of its conditioned roots. A case is one sub-row per combination of those states, summed back.
factorised: a childless node split into one vector per parent, because its column for the case's code is a
    product of such vectors (tables.Factorised): unknown where its columns sum to 1, observed in such a state
    (the lowest state of a noisy-MAX table), or a term of an expanded finding. It couples none of its parents:
    each vector multiplies the leaf that holds that parent, or the sub-row's weight where the parent is
    conditioned.
absorbed: a childless node that is not factorised: its table summed against its evidence vector (unobserved,
    to its columns' sums: 1 in a true table), a leaf over its free parents alone.
expanded finding: a finding observed in a state whose column does not factorise but is a difference of two
    cumulative columns that do (any state of a noisy-MAX table: P(<= s) - P(<= s - 1)); the case is the
    signed sum of two cases, each of which factorises the finding (Engine._expanded_joint); a case splits only
    the findings expected to cancel least, as many as keep the terms' sum within _CANCELLATION of the answer.
host: the leaf of a root's first child that has one (a factorised child has none); a root kept in the
    contraction has no tensor of its own, and its prior times its evidence vector multiplies its host's table.
leaf: one input tensor of a plan, case axis last: a node's table times its evidence vector (summed over the node if
    it is absorbed, taken at its state if it is sliced), its conditioned variables' axes gathered per sub-row, times
    the vectors of the roots it hosts and of the factorised nodes attached to it (plans.Leaf).
step: one einsum of a plan, of two tensors (or one, or three where a product that sums nothing is multiplied in the
    step that consumes it), in the order of the cheapest elimination path, with the subscripts of its gradients
    (plans.Step).
read: where a node's joint with the evidence is taken: any tensor T that holds the node gives the joint of its
    scope as T * dZ/dT, Z being P(evidence) per sub-row; the backward pass computes only the gradients that
    the reads need (plans.find_reads).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict, deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cache
from typing import TYPE_CHECKING

import numpy as np

from model.inference.codes import UNKNOWN, Encoding, encode_evidence, normalised
from model.inference.execute import run_plan
from model.inference.keys import choose_plan_bits, pattern, plan_keys
from model.inference.plans import Plan, Reads, Sketch, compile_plan, find_reads, sketch_plan
from model.inference.tables import Tables, forward_priors
from model.network.build import DiscreteBayesianNetwork

if TYPE_CHECKING:
    from model.inference.pain import PainEngine

# A case observing more findings than this in a state that is a difference of two factorising columns expands
# only this many (2**_EXPANDED_FINDINGS terms); and it is computed without the expansion when its terms add up
# to more than _CANCELLATION times its answer: the answer then keeps at least 16 - 4 - 2 digits (the terms' own
# rounding in a sum of a hundred-odd products of nonnegative numbers costs the 2).
_EXPANDED_FINDINGS = 6
_CANCELLATION = 1e4
# The compiled plans an engine keeps, the least recently used dropped first (compiled again if met again). Cases
# of the built-in network rarely share an evidence pattern (16,800 keys in 20,000 drawn cases), so an unbounded
# memo grows with the rows scored; a plan of the built-in network holds about 70 KB, so this is about 140 MB.
_PLANS_KEPT = 2048
# A group of cases whose plan does at least this many operations in all (its operations per sub-row times its
# cases) may run on a helper thread while this one goes on with the next groups: numpy releases the interpreter
# lock in such contractions, not in the Python around small ones. With two threads for every group, random cases
# ran 1.5 times faster but alarm's light plans 0.81 times (the threads' contention for the lock).
_THREAD_WORK = 2_000_000
# A case whose P(evidence) comes out below this (or zero, or not finite: a product of vectors that overflowed on
# the way) is computed again scaled (execute.py): float64 holds numbers down to 2.2e-308, and digits go below
# that; the margin covers an intermediate number smaller than the answer, since a tensor's largest entry is at
# least the answer over the entries it is summed with.
_UNDERFLOW = 1e-250


class Engine(Tables, Encoding):
    """Exact marginals of a discrete Bayesian network for a batch of cases, each with its own evidence.

    Built once from the network's CPDs; the arrays are read-only afterwards, and the only state that changes
    is a memo of compiled contraction plans and of what they read (pure functions of the evidence pattern,
    built under a lock; at most _PLANS_KEPT plans, the least recently used dropped first), and the sketches of
    plans a call compares before it compiles them (at most _PLANS_KEPT), so one engine can
    serve many threads and its memory stays bounded however many rows it scores. A call itself runs its heavy
    plan groups on a helper thread (`threads`, _THREAD_WORK): each group adds to rows of its own, so the answers
    do not depend on which thread ran what. Evidence is a (cases, nodes) integer array of state indices with
    UNKNOWN (-1) for an unobserved node; `encode` builds it from {node: state} mappings. Any node may be observed
    and any node's marginal asked for.

    How it is exact and fast, in the terms it uses (plan, sub-row, factorised, ...): the module's docstring.
    """

    def __init__(self, network: DiscreteBayesianNetwork, threads: int | None = None):
        """`threads`: how many threads a call may use (the heavy plan groups run on the helpers, see
        _THREAD_WORK); by default two where the machine has two processors or more. A process among workers
        that share the processors (the command line's) sets `threads` to 1."""
        super().__init__(network)
        self.threads = min(2, os.cpu_count() or 1) if threads is None else threads
        self.enumerated, self.plan_bits = choose_plan_bits(self)
        self._plans: OrderedDict[int, Plan] = OrderedDict()
        # plans sketched to compare their operations (shared_keys), not yet compiled: the call that sketched them
        # runs them, and compiling one takes its sketch (a third of the work) from here
        self._sketches: dict[int, Sketch] = {}
        self._compiled = 0
        self._lock = threading.Lock()
        self._cancelling = self._prior_cancelling()

    def _prior_cancelling(self) -> dict[str, np.ndarray]:
        """{finding among the plan bits that expands: (states,) how much splitting it is expected to multiply a
        case's cancellation, (P(<= s) + P(<= s - 1)) / P(s) with nothing observed; inf where it does not expand}.

        A guide to what to split, not part of an answer (the check after each split case guards its digits), so
        the priors come from one pass down the node order that takes each node's parents as independent
        (forward_priors): on the built-in network within 1.5% of the exact ratios, in milliseconds where the
        exact joint with nothing observed took a second of every engine's build."""
        expandable = [n for n in self.plan_bits if n in self.factorised and self.factorised[n].expands.any()]
        priors = forward_priors(self) if expandable else {}
        found = {}
        for node in expandable:
            p = priors[node] / priors[node].sum()
            below = np.cumsum(p)
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = (below + np.r_[0.0, below[:-1]]) / p
            found[node] = np.where(self.factorised[node].expands & (p > 0), ratio, np.inf)
        return found

    @property
    def plans_compiled(self) -> int:
        """How many contraction plans this engine has compiled so far (one per evidence pattern met, again if it
        was met after its plan had been dropped)."""
        return self._compiled

    @property
    def plans_kept(self) -> int:
        """How many compiled plans this engine holds now: at most _PLANS_KEPT."""
        return len(self._plans)

    def marginals(self, codes: np.ndarray, nodes: Sequence[str]) -> dict[str, np.ndarray]:
        """{node: (cases, states) array of P(node = state | the case's evidence)} for each node in `nodes`.

        An observed node gets probability 1 for its observed state. A case whose evidence is impossible
        (probability zero) gets NaN; a possible one gets its answer however small its probability (even below
        float64's range: such a case is computed scaled, see execute.py).
        """
        nodes = list(dict.fromkeys(nodes))
        codes = np.asarray(codes)
        joint, _ = self._scaled_joint(codes, nodes)
        return normalised(codes, self.index, nodes, joint[:, 0], self._split(joint, nodes))

    def joint(self, codes: np.ndarray, nodes: Sequence[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """P(evidence) per case, and {node: (cases, states) array of P(node = state, evidence)}: the unnormalised
        answers, for callers that combine several evidence sets exactly (see model/inference/pain.py). They are
        float64 numbers: a case whose P(evidence) is below about 1e-308 loses digits, and below 5e-324 reads 0
        (`marginals` answers such cases exactly)."""
        nodes = list(dict.fromkeys(nodes))
        joint, shift = self._scaled_joint(np.asarray(codes), nodes)
        joint = np.ldexp(joint, shift[:, None])
        return joint[:, 0], self._split(joint, nodes)

    def _split(self, joint: np.ndarray, nodes: list[str]) -> dict[str, np.ndarray]:
        """{node: its columns of a joint array} (column 0 is P(evidence), then each node's states)."""
        offsets = np.cumsum([1] + [self.card[node] for node in nodes]).tolist()
        return {node: joint[:, a:b] for node, a, b in zip(nodes, offsets, offsets[1:], strict=False)}

    def _scaled_joint(self, codes: np.ndarray, nodes: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The (cases, 1 + states of `nodes`) joint array (P(evidence), then each node's P(node = state,
        evidence)) divided per case by 2 ** shift, and the shifts: 0 except for the cases computed scaled."""
        if codes.ndim != 2 or codes.shape[1] != len(self.nodes):
            raise ValueError(f"evidence must be a (cases, {len(self.nodes)}) array")
        for node in nodes:
            if node not in self.index:
                raise ValueError(f"'{node}' is not a node of the network")
        cards = np.array([self.card[node] for node in self.nodes])
        outside = ((codes < UNKNOWN) | (codes >= cards)).any(axis=0)
        if outside.any():
            node = self.nodes[int(np.argmax(outside))]
            raise ValueError(f"evidence for '{node}' holds a state index outside 0-{self.card[node] - 1}")
        offsets = np.cumsum([1] + [self.card[node] for node in nodes]).tolist()
        joint = self._expanded_joint(codes, nodes, offsets[-1])
        shift = np.zeros(len(codes), dtype=np.int64)
        tiny = np.flatnonzero(~((joint[:, 0] >= _UNDERFLOW) & (joint[:, 0] < np.inf)))  # or overflowed
        if tiny.size:  # computed again scaled, without expanding findings (whose terms would cancel)
            powers = np.zeros(tiny.size, dtype=np.int64)
            joint[tiny] = self._plain_joint(codes[tiny], nodes, offsets[-1], powers)
            shift[tiny] = powers
        for node, a, b in zip(nodes, offsets, offsets[1:], strict=False):
            # an observed node's joint is P(evidence) at its state (a term of an expanded case reads another)
            column = codes[:, self.index[node]]
            observed = np.flatnonzero(column != UNKNOWN)
            joint[observed, a:b] = 0.0
            joint[observed, a + column[observed]] = joint[observed, 0]
        return joint, shift

    def _expanded_joint(self, codes: np.ndarray, nodes: Sequence[str], width: int) -> np.ndarray:
        """joint's (cases, width) array, each case that observes a finding in a state whose column does not
        factorise but is a difference of two that do (Factorised.expands) computed as the signed sum of terms.

        A case with k such findings is 2**k terms, each one with every finding factorised: all of them run one
        plan, and cheaply. The terms are nonnegative, so the sum's rounding error is about the machine epsilon
        times the sum of the terms' absolute values; a case whose terms add up to more than _CANCELLATION times
        its answer is computed again without the expansion. So a case splits only the findings expected to
        cancel least (by their prior, _prior_cancelling), as many as keep the expected product under
        _CANCELLATION, at most _EXPANDED_FINDINGS; the others stay in the contraction as they are (on random
        cases, 98.5% of the terms of splitting them all were past the limit, computed and thrown away)."""
        n = codes.shape[0]
        expandable = [node for node in self._cancelling if node not in nodes]
        expected = np.full((n, len(expandable)), np.inf)
        for k, node in enumerate(expandable):
            column = codes[:, self.index[node]].astype(np.intp)
            expected[:, k] = np.where(column == UNKNOWN, np.inf, self._cancelling[node][column])
        ranked = np.sort(expected, axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            fits = ((np.cumprod(ranked, axis=1) <= _CANCELLATION) & np.isfinite(ranked)).sum(axis=1)
        fits = np.minimum(fits, _EXPANDED_FINDINGS)
        # the largest expected factor a case may split (ties may split one more: the check after still holds)
        limit = np.where(fits > 0, ranked[np.arange(n), np.maximum(fits, 1) - 1] if expandable else 0.0, -np.inf)
        count = np.zeros(n, dtype=np.int64)
        origin, sign, terms = np.arange(n), np.ones(n), codes
        for k, node in enumerate(expandable):
            j, card = self.index[node], self.card[node]
            column = terms[:, j].astype(np.intp)
            split = (expected[origin, k] <= limit[origin]) & np.isfinite(expected[origin, k])
            split &= count[origin] < _EXPANDED_FINDINGS
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

    def _plain_joint(
        self, codes: np.ndarray, nodes: Sequence[str], width: int, shift: np.ndarray | None = None
    ) -> np.ndarray:
        """joint's (cases, width) array, each group of cases by its plan (codes may hold cumulative codes, see
        Factorised, for findings among the plan bits that are not asked for); given `shift` (zeros, one per
        case), run scaled (execute.py): each row divided by 2 ** shift, the shifts written there."""
        n = codes.shape[0]
        joint = np.zeros((n, width))

        # shared_keys asks the operations of plans the call runs anyway: a compiled plan's, or its sketch's, kept
        # for compiling it when the call comes to it (compiling them all here would leave the helpers idle)
        asked: list[int] = []

        def operations(key: int) -> float:
            asked.append(key)
            with self._lock:
                plan = self._plans.get(key)
                sketch = self._sketches.get(key)
            if plan is not None:
                return plan.operations
            if sketch is None:
                sketch = sketch_plan(self, *pattern(self, self.enumerated, self.plan_bits, key))
                with self._lock:
                    if len(self._sketches) >= _PLANS_KEPT:  # left by calls that stopped before their plans ran
                        self._sketches.clear()
                    self._sketches[key] = sketch
            return sketch.operations

        keys = plan_keys(self, self.enumerated, self.plan_bits, codes, nodes, operations)
        with self._lock:  # a plan compared and not run (the call's common one, where no group joined it)
            for key in set(asked).difference(keys.tolist()):
                self._sketches.pop(key, None)
        order = np.argsort(keys, kind="stable")
        bounds = np.flatnonzero(np.diff(keys[order])) + 1
        helpers: ThreadPoolExecutor | None = None
        pending: deque[Future[None]] = deque()
        try:
            for rows in np.split(order, bounds) if n else ():
                plan = self._plan(int(keys[rows[0]]))
                task = (self, plan, self._reads(plan, nodes), codes, rows, nodes, joint, shift)
                # a heavy group goes to a helper unless every helper has one waiting already; each group adds to
                # rows of its own, so the threads never write the same entries
                while pending and pending[0].done():
                    pending.popleft().result()
                if self.threads > 1 and plan.operations * len(rows) >= _THREAD_WORK and len(pending) < self.threads:
                    if helpers is None:
                        helpers = ThreadPoolExecutor(self.threads - 1, thread_name_prefix="engine")
                    pending.append(helpers.submit(run_plan, *task))
                else:
                    run_plan(*task)
            while pending:
                pending.popleft().result()
        finally:
            if helpers is not None:
                helpers.shutdown(wait=True, cancel_futures=True)
        return joint

    def _plan(self, key: int) -> Plan:
        """The plan that a key of plan bits names, compiled the first time it is met (and again if it was
        dropped: the memo keeps the _PLANS_KEPT most recently used)."""
        with self._lock:
            sketch = self._sketches.pop(key, None)
            plan = self._plans.get(key)
            if plan is not None:
                self._plans.move_to_end(key)
                return plan
            plan = compile_plan(self, *pattern(self, self.enumerated, self.plan_bits, key), sketch)
            self._plans[key] = plan
            self._compiled += 1
            while len(self._plans) > _PLANS_KEPT:
                self._plans.popitem(last=False)
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


@cache
def load_engine() -> PainEngine:
    """The engine for the built-in network, compiled once per process.

    It runs on the network with back pain factorised (model/inference/pain.py), and answers for the network as
    pgmpy holds it.
    """
    from model.inference.pain import PainEngine, pain_factorised_network

    return PainEngine(Engine(pain_factorised_network()))


__all__ = ["UNKNOWN", "Encoding", "Engine", "encode_evidence", "load_engine", "normalised"]
