"""Plan keys: which plan each case runs.

A network's plan bits (the terms are defined in engine.py's docstring) are the nodes that a plan may simplify: the
roots it may condition, the inner nodes it may slice and the childless nodes it may factorise, chosen once per
engine (choose_plan_bits). A case's key has a node's bit set when the case's evidence allows that node to be
simplified; the key names a plan (pattern), and cases of one key run together. A group of cases too small to be
worth a plan of its own gives up bits until it joins a coarser plan that the call runs anyway: one bit at a time
(merged_keys), then any number where the coarser plan's arithmetic for the group costs less than a plan of its
own (shared_keys).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np

from model.inference.codes import UNKNOWN
from model.inference.paths import ELIMINATION_RULES
from model.inference.plans import cost as plan_cost
from model.inference.tables import Tables

# The most plan bits (see choose_plan_bits): a key is an int64, so beyond 62 candidates (pigs has 188) the 62
# that alone shrink the contraction most.
_PLAN_BITS = 62
# An observed node with parents and children is a plan bit where slicing it alone (see plans.Leaf) saves at
# least this many operations a sub-row: about what a plan's fixed cost (1-2 ms) buys at this engine's rate, over
# a group's few sub-rows. Slicing every such node took water and mildew (16-26 million operations a sub-row
# unsliced) from 0.2-0.4x pyAgrum's speed to 2-11x, but alarm, hepar2 and win95pts (2,000-5,600) from 4-46x down
# to about 2x, and pathfinder (300,000; a slice saves at most 175,000) from 6x to 2.5x: there, the plans it
# multiplies cost more than the arithmetic it saves.
_SLICE_SAVES = 500_000
# Finding those nodes costs a path search over the whole network for each inner node, and where there are many
# the search takes longer than the slices save. Measured (first call with the build; later calls, rows/s), with
# the search and without: munin (599 inner nodes of 1,041) 123 and 24 s, 11.2 and 10.8; munin2 90 and 17 s, 22.5
# and 23.6; diabetes (335 of 413) 23 and 5 s, 21.9 and 22.1; pigs (155 of 441) 17 and 8 s, 83 and 95. Where the
# search is cheap it can pay many times over: munin1 (121 of 186) 58.5 rows/s with it, 7.9 without. A network
# whose inner nodes times nodes pass this is not searched: pigs (68,000) is not; andes (25,000) and munin1 are.
_SLICE_SEARCH = 50_000
# Choosing the plan bits compares a path search over the whole network for each candidate (most twice), each by
# the three elimination rules. Where candidates times nodes pass this, each comparison searches by one rule,
# "growth" (the rule compiling tries first): pigs (188 candidates x 441 nodes), link and the munins. Measured,
# three rules and one: choosing the bits, processor time, pigs 7.1-8.8 and 4.0-4.2 s, munin 14.4-15.3 and 5.3-6.7,
# munin2 13.7-15.9 and 6.0-7.3; link's first call 38-40 and 17-20 s; later calls within the machine's noise
# (pigs 62.6-70.4 and 62.3-67.9 rows/s, munin 11.3-12.1 and 10.3-11.6), link's 0.7-0.8 and 1.3-1.6. Under it the
# three rules choose better bits: andes (49 x 223) built in 3.4-3.8 s and 1.9 s but ran 174-175 rows/s against
# 159-165; on the built-in network (40 x 91) "growth" alone would swap 7 plan bits ("size" enumerate activity).
_RANKING_SEARCH = 50_000
_RANKING_RULES = ("growth",)
# Each plan's batch pays a fixed Python overhead of 1-2 ms, and each plan a compilation of about 4 ms the
# first time; its arithmetic costs some 12 us a sub-row. A group of cases with fewer sub-rows than this joins
# a coarser plan that other cases of the call already run (see merged_keys); 512 and 1024 measured slower.
_SUB_ROWS_PER_PLAN = 256
# A group still smaller than that after merged_keys joins a coarser plan of the call that is not one bit away
# (shared_keys) where that plan's operations times the group's sub-rows stay under this: about what compiling and
# running a plan of its own costs (some 8 ms), at the rate small groups run (0.05-0.1 billion operations a
# second). On 1,000 cases drawn from the built-in network: 367 plans -> 250, 5.3% more operations in all.
_SHARED_OPERATIONS = 1_000_000
# ... or this much per node of the network, where that is more: a plan's fixed cost (compiling it, and the Python
# of its leaves and steps in every call) grows with its tensors, about one per node. The built-in network's 91
# nodes give the same million; andes' 223 compile in about 20 ms a plan where the built-in network's take 4.
_SHARED_OPERATIONS_PER_NODE = 11_000
# How many of the coarser plans a group may join, those that keep most of its bits, shared_keys compares.
_SHARED_CANDIDATES = 3


def choose_plan_bits(tables: Tables) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(enumerated roots, plan bits): the roots conditioned in every plan, because keeping one in the contraction
    costs more than running the contraction once per state; and the nodes a plan may simplify, most useful first.
    """
    # A root with one child, or a childless node with one parent, never widens the contraction.
    splittable = [n for n in tables.nodes if not tables.parents[n] and len(tables.children[n]) >= 2]
    splittable_leaves = [n for n in tables.factorised if len(tables.parents[n]) >= 2]
    every_root = frozenset(splittable)
    known: dict[tuple[frozenset[str], frozenset[str]], float] = {}
    large = (len(splittable) + len(splittable_leaves)) * len(tables.nodes) > _RANKING_SEARCH
    rules = _RANKING_RULES if large else ELIMINATION_RULES

    def cost(conditioned: frozenset[str], factorised: frozenset[str]) -> float:
        """plans.cost, once per pattern: an inner node worth slicing is costed again when the bits are ranked."""
        if (conditioned, factorised) not in known:
            known[conditioned, factorised] = plan_cost(tables, conditioned, factorised, rules)
        return known[conditioned, factorised]

    base = cost(every_root, frozenset())
    enumerated = tuple(r for r in splittable if cost(every_root - {r}, frozenset()) > tables.card[r] * base)
    # An observed inner node (parents and children) may be sliced where that alone saves _SLICE_SAVES: none
    # where the whole contraction costs less (a long chain's thousand inner nodes, a path search each, took a
    # minute to find that), and none searched for where the search would cost too much (_SLICE_SEARCH).
    unsliced = cost(frozenset(enumerated), frozenset())
    inner = [n for n in tables.nodes if tables.parents[n] and tables.children[n]]
    if unsliced < _SLICE_SAVES or len(inner) * len(tables.nodes) > _SLICE_SEARCH:
        inner = []
    inner = [n for n in inner if unsliced - cost(*_simplified(tables, enumerated, [n])) >= _SLICE_SAVES]
    # The plan bits: every root that can be fixed and every childless node that can be split, so that an
    # observed root is always fixed and an unknown or factorising finding never couples its parents, and the
    # inner nodes worth slicing. Ordered by how much each alone shrinks the contraction (most first):
    # merged_keys gives up the last ones first.
    candidates = [r for r in splittable if r not in enumerated] + splittable_leaves + inner
    alone = {c: cost(*_simplified(tables, enumerated, [c])) for c in candidates}
    ranked = sorted(candidates, key=lambda c: (alone[c], tables.index[c]))
    return enumerated, tuple(ranked[:_PLAN_BITS])


def _simplified(
    tables: Tables, enumerated: Sequence[str], nodes: Iterable[str]
) -> tuple[frozenset[str], frozenset[str]]:
    """(conditioned nodes, factorised childless nodes) when `nodes` are simplified, with the enumerated roots."""
    split = {n for n in nodes if n in tables.factorised}
    return frozenset(enumerated).union(n for n in nodes if n not in split), frozenset(split)


def pattern(
    tables: Tables, enumerated: Sequence[str], plan_bits: Sequence[str], key: int
) -> tuple[frozenset[str], frozenset[str]]:
    """(conditioned nodes: roots and sliced inner nodes, factorised childless nodes) of the plan a key names."""
    chosen = {node for bit, node in enumerate(plan_bits) if key >> bit & 1}
    conditioned = frozenset(enumerated) | {r for r in chosen if r not in tables.factorised}
    return conditioned, frozenset(chosen & tables.factorised.keys())


def plan_keys(
    tables: Tables,
    enumerated: Sequence[str],
    plan_bits: Sequence[str],
    codes: np.ndarray,
    nodes: Sequence[str],
    operations: Callable[[int], float] | None = None,
) -> np.ndarray:
    """Each case's key, small groups merged (merged_keys) and, given `operations` (a key's plan's operations per
    sub-row), shared (shared_keys). A root's bit is set where the root is observed; a childless node's where its
    code factorises (codes may hold cumulative codes, see Factorised), and for a node asked for only where it is
    observed. The bit of a cumulative code is never given up: only a plan that factorises its node can compute
    it."""
    n = codes.shape[0]
    keys = np.zeros(n, dtype=np.int64)
    required = np.zeros(n, dtype=np.int64)  # bits a case must keep: a cumulative code needs its node split
    for bit, node in enumerate(plan_bits):
        column = codes[:, tables.index[node]].astype(np.int64)
        if node in tables.factorised:
            simple = tables.factorised[node].rank1[column]
            if node in nodes:
                simple &= column != UNKNOWN
            required |= (column >= tables.card[node]).astype(np.int64) << bit
        else:
            simple = column != UNKNOWN
        keys |= simple.astype(np.int64) << bit
    sub_rows = np.ones(n)
    for root in enumerated:
        sub_rows[codes[:, tables.index[root]] == UNKNOWN] *= tables.card[root]
    keys = merged_keys(keys, sub_rows, len(plan_bits), _SUB_ROWS_PER_PLAN, required)
    if operations is None:
        return keys
    budget = max(_SHARED_OPERATIONS, _SHARED_OPERATIONS_PER_NODE * len(tables.nodes))
    return shared_keys(keys, sub_rows, required, operations, _SUB_ROWS_PER_PLAN, budget)


def merged_keys(
    keys: np.ndarray, sub_rows: np.ndarray, bits: int, least: float, required: np.ndarray | None = None
) -> np.ndarray:
    """The plan keys with small groups of cases moved to coarser plans that the call runs anyway.

    A key's bit says that its plan may simplify that node. From the last bit chosen (the least useful) to the
    first: a group with fewer than `least` sub-rows whose key has the bit, while the same key without it also
    has cases, joins that group. Bits are only ever cleared, so a case never runs on a plan that simplifies a
    node it does not allow to; the coarser plan does a little more arithmetic per case, and the call runs,
    and may have to compile, one plan fewer. A lone group stays as it is: nothing would share its plan. A case
    keeps the bits of `required` (its evidence can only be computed with those nodes simplified).
    """
    for bit in reversed(range(bits)):
        groups, inverse = np.unique(keys, return_inverse=True)
        size = np.bincount(inverse, weights=sub_rows, minlength=len(groups))
        coarser = groups & ~(1 << bit)
        move = ((size < least) & (groups != coarser) & np.isin(coarser, groups))[inverse]
        if required is not None:
            move &= (required >> bit & 1) == 0
        keys = np.where(move, keys & ~(1 << bit), keys)
    return keys


def shared_keys(
    keys: np.ndarray,
    sub_rows: np.ndarray,
    required: np.ndarray,
    operations: Callable[[int], float],
    least: float,
    budget: float,
) -> np.ndarray:
    """The plan keys with small groups moved to coarser plans of the call any number of bits away, where that
    costs little arithmetic.

    merged_keys moves a group only to the key one bit coarser, so a case that observes a few more roots than the
    others keeps a plan of its own (cases drawn from a network rarely share a key). Here the groups are taken
    from the most sub-rows to the fewest (ties by key): a group of at least `least` sub-rows keeps its plan, and
    so does a smaller one unless a plan kept before it is coarser (its bits a subset of the group's, holding the
    group's `required` bits) and its `operations` per sub-row times the group's sub-rows stay within `budget`.
    Of such plans the group compares the _SHARED_CANDIDATES that keep most of its bits and joins the cheapest.
    The call's common key (the bits every group has) counts as kept from the start: where every case observes
    different nodes, no group's key is coarser than another's, and each compiled a plan of its own (andes: 299
    plans for 300 cases, 2.8 times the time of one common plan, warm). Bits are only ever cleared and only kept
    keys joined, so every case runs a plan its evidence allows that the call runs anyway (or the common one);
    the order depends on the call's rows alone, so the same rows always run the same plans. `operations` is
    asked only of kept keys. Each group looks through the keys kept before it, so the work grows with the
    square of the call's groups: 80,000 distinct keys take about 7 s, where scoring that many cases of the
    built-in network takes the best part of an hour.
    """
    groups, inverse = np.unique(keys, return_inverse=True)
    size = np.bincount(inverse, weights=sub_rows, minlength=len(groups))
    needed = np.zeros(len(groups), dtype=np.int64)
    np.bitwise_or.at(needed, inverse, required)
    kept = np.empty(len(groups) + 1, dtype=np.int64)  # the keys kept so far, in the order kept
    kept_bits = np.empty(len(groups) + 1, dtype=np.int64)
    known: dict[int, float] = {}
    count = 0
    common = int(np.bitwise_and.reduce(groups)) if len(groups) else 0
    if len(groups) > 1 and common not in groups:
        kept[0], kept_bits[0] = common, common.bit_count()
        count = 1
    target = groups.copy()
    for g in np.lexsort((groups, -size)):
        key = int(groups[g])
        if size[g] < least and count:
            held = kept[:count]
            fits = np.flatnonzero(((held & ~key) == 0) & ((int(needed[g]) & ~held) == 0))
            if fits.size:
                closest = fits[np.argsort(-kept_bits[fits], kind="stable")[:_SHARED_CANDIDATES]]
                costs = []
                for i in closest:
                    other = int(held[i])
                    if other not in known:
                        known[other] = operations(other)
                    costs.append(known[other])
                best = int(np.argmin(costs))
                if costs[best] * size[g] <= budget:
                    target[g] = held[closest[best]]
                    continue
        kept[count], kept_bits[count] = key, key.bit_count()
        count += 1
    return target[inverse]


__all__ = ["choose_plan_bits", "merged_keys", "pattern", "plan_keys", "shared_keys"]
