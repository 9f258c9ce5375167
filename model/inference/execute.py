"""Running a plan: the joints of a batch of cases, by one contraction forward and one backward pass.

Each case is expanded into its sub-rows, and each batch of sub-rows builds the plan's leaves from the tables and
the evidence, runs its steps forward to P(evidence) per sub-row, and passes the gradient back only as far as the
reads need, reading each node's joint with the evidence off the tensor that holds it (the terms are defined in
engine.py's docstring). Nothing here is compiled or kept: the plan (plans.py) holds all the structure, found once,
and this is the hot path.

Scaled: a run that keeps each sub-row's numbers in float64's range however small P(evidence) is. A product of many
probabilities (a root with a thousand observed children: 0.5 ** 1075 is 0 in float64, and below 2.2e-308 the
numbers lose digits) underflows, and a product of vectors can overflow; scaled, every step's result and the
sub-row's weight are divided by a power of two per sub-row that brings its largest entry into [0.5, 1), each
product of vectors keeps a power of two per entry until it is complete, the powers summed in the sub-row's shift
(exact: only exponents change), and the gradient passed back through a step is divided by the same power. Every
read then gives its joint divided by 2 ** shift, so their ratios, the answers, are exact. The engine runs a case
scaled only when its P(evidence) came out below engine._UNDERFLOW, zero or not finite: each scaled operation
costs a pass over its tensor.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from model.inference.codes import UNKNOWN
from model.inference.plans import Leaf, Plan, Reads
from model.inference.tables import Tables

# Working memory of one contraction batch (its values and gradients): bigger batches spread the Python overhead
# of each step over more cases; smaller ones measured no faster.
_BATCH_BYTES = 64 * 2**20


@np.errstate(over="ignore", invalid="ignore")  # a case that overflows is run again scaled, quietly
def run_plan(
    tables: Tables,
    plan: Plan,
    reads: Reads,
    codes: np.ndarray,
    rows: np.ndarray,
    nodes: Sequence[str],
    joint: np.ndarray,
    shift: np.ndarray | None = None,
) -> None:
    """Add to `joint` the (P(evidence), joints of `nodes`) row of each case in `rows` by `plan`, whose `reads` are
    where to read `nodes` (plans.find_reads): its sub-rows in batches of about _BATCH_BYTES of working memory.

    With `shift` (one integer per case), the run is scaled (see the module's docstring): each case's row is
    written as its joint divided by 2 ** shift[case], so that its largest sub-row's P(evidence) is in [0.5, 1)."""
    sub_rows, fixed = _expand(tables, plan, codes, rows)
    batch = max(16, _BATCH_BYTES // plan.bytes_per_sub_row)
    parts, shifts = [], []
    for start in range(0, len(sub_rows), batch):
        part = slice(start, start + batch)
        case = sub_rows[part]
        scale = None if shift is None else np.zeros(len(case), dtype=np.int64)
        found = _contract(tables, plan, reads, codes[case], {k: v[part] for k, v in fixed.items()}, nodes, scale)
        if scale is not None:  # a case's sub-rows may fall in two batches: brought to one power of two below
            parts.append(found)
            shifts.append(scale)
            continue
        # The sub-rows of one case are adjacent: sum each run, then add it to the case's row.
        starts = np.flatnonzero(np.r_[True, case[1:] != case[:-1]])
        joint[case[starts]] += np.add.reduceat(found, starts, axis=0)
    if shift is not None and parts:
        found, scale = np.concatenate(parts), np.concatenate(shifts)
        starts = np.flatnonzero(np.r_[True, sub_rows[1:] != sub_rows[:-1]])
        # each case takes the power of its largest sub-row that has any probability (0 where none has)
        floor = np.iinfo(np.int64).min
        top = np.maximum.reduceat(np.where(found[:, 0] > 0, scale, floor), starts)
        top[top == floor] = 0
        found = np.ldexp(found, (scale - np.repeat(top, np.diff(np.r_[starts, len(sub_rows)])))[:, None])
        joint[sub_rows[starts]] += np.add.reduceat(found, starts, axis=0)
        shift[sub_rows[starts]] = top


def _expand(
    tables: Tables, plan: Plan, codes: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One sub-row per combination of states of the plan's unobserved conditioned roots."""
    sub_rows = rows
    values = {root: codes[rows, tables.index[root]].astype(np.intp) for root in plan.conditioned}
    for root in plan.conditioned:
        unknown = values[root] == UNKNOWN
        if not unknown.any():
            continue
        repeats = np.where(unknown, tables.card[root], 1)
        starts = np.cumsum(repeats) - repeats
        sub_rows = np.repeat(sub_rows, repeats)
        values = {r: np.repeat(v, repeats) for r, v in values.items()}
        offset = np.arange(len(sub_rows)) - np.repeat(starts, repeats)
        values[root] = np.where(np.repeat(unknown, repeats), offset, values[root])
    return sub_rows, values


def _contract(
    tables: Tables,
    plan: Plan,
    reads: Reads,
    codes: np.ndarray,
    fixed: dict[str, np.ndarray],
    nodes: Sequence[str],
    shift: np.ndarray | None = None,
) -> np.ndarray:
    """(sub-rows, 1 + states of `nodes`): P(evidence), then each node's P(node = state, evidence); scaled where
    `shift` is given (the module's docstring), each row divided by 2 ** shift[sub-row], the powers added there."""
    s = len(codes)
    weight = np.ones(s)

    def weigh(factor: np.ndarray) -> None:
        nonlocal weight
        weight *= factor
        if shift is not None:
            weight = _scaled(weight, shift)

    for root in plan.conditioned:
        if not tables.parents[root]:  # a sliced node's table is a leaf of its own
            weigh(tables.tables[root][fixed[root]])
    for node in plan.factorised:
        state = codes[:, tables.index[node]]
        factor = tables.factorised[node]
        weigh(factor.scale[state])
        for parent, vectors in zip(tables.parents[node], factor.vectors, strict=True):
            if parent in fixed:
                weigh(vectors[state, fixed[parent]])
    lam = _evidence(tables, codes)
    values: list[np.ndarray | None] = [_leaf_value(tables, leaf, codes, fixed, lam, shift) for leaf in plan.leaves]
    powers: list[np.ndarray] = []  # each step's power of two, scaled
    for step in plan.steps:
        value = np.einsum(step.forward, *(values[i] for i in step.inputs))
        if shift is not None:
            power = np.zeros(s, dtype=np.int64)
            value = _scaled(value, power)
            shift += power
            powers.append(power)
        values.append(value)
    z = values[-1] if plan.steps else np.ones(s)  # no steps: no leaves, everything is in `weight`
    read_at, wanted = reads
    found = np.empty((s, 1 + sum(tables.card[node] for node in nodes)))
    found[:, 0] = z
    blocks, at = {}, 1
    for node in nodes:
        blocks[node] = found[:, at : at + tables.card[node]]
        at += tables.card[node]

    def read(i: int, grad: np.ndarray) -> None:
        """The joints of the nodes read from tensor i, given its gradient."""
        for node, axis in read_at.get(i, ()):
            if axis is None:  # an absorbed node, from its own leaf
                leaf = plan.leaves[i]
                # the same vectors as its value's, scaled the same way (their powers are counted once, there)
                factors = _factors(tables, leaf, codes, lam, None if shift is None else np.zeros_like(shift))
                blocks[node][:] = _absorbed_joint(tables, leaf, grad, fixed, lam.get(node), factors)
                continue
            # the sum of T * dZ/dT over every axis but the node's and the case axis, in one pass
            axes = list(range(values[i].ndim))
            blocks[node][:] = np.einsum(values[i], axes, grad, axes, [axis, axes[-1]]).T

    grads: list[np.ndarray | None] = [None] * len(values)
    if plan.steps:
        grads[-1] = np.ones(s)
    # Each tensor is the input of one step, so its gradient is complete once that step is passed back: its
    # nodes are read then, and values and gradients are dropped as soon as nothing further down needs them.
    for number, step in reversed(list(enumerate(plan.steps))):
        g, grads[step.output] = grads[step.output], None
        if g is not None and shift is not None:
            g = np.ldexp(g, -powers[number])  # the step's result was divided by 2 ** power
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
            blocks[node][np.arange(s), codes[:, tables.index[node]]] = z
    found *= weight[:, None]
    return found


def _evidence(tables: Tables, codes: np.ndarray) -> dict[str, np.ndarray]:
    """{observed node: (states, sub-rows) evidence vectors}: one-hot where observed, ones where not."""
    observed = np.flatnonzero((codes != UNKNOWN).any(axis=0))
    if not observed.size:
        return {}
    node_of = np.repeat(observed, [tables.card[tables.nodes[j]] for j in observed])
    state_of = np.concatenate([np.arange(tables.card[tables.nodes[j]]) for j in observed])
    column = codes[:, node_of]
    vectors = np.ascontiguousarray(((column == state_of) | (column == UNKNOWN)).T, dtype=np.float64)
    bounds = np.cumsum([0] + [tables.card[tables.nodes[j]] for j in observed])
    return {tables.nodes[j]: vectors[a:b] for j, a, b in zip(observed, bounds, bounds[1:], strict=False)}


def _leaf_value(
    tables: Tables,
    leaf: Leaf,
    codes: np.ndarray,
    fixed: dict[str, np.ndarray],
    evidence: dict[str, np.ndarray],
    shift: np.ndarray | None = None,
) -> np.ndarray:
    """The leaf tensor for these sub-rows, case axis last: its table times its node's evidence vector (summed
    over the node for an absorbed leaf), times its factors (see _factors, scaled where `shift` is given)."""
    s = len(codes)
    lam = None if leaf.kind == "sliced" else evidence.get(leaf.node)  # a sliced table is at the state seen
    table = _gather(tables, leaf, fixed) if leaf.conditioned else leaf.table[..., None]
    owned = True  # whether `value` is a fresh array, to be multiplied in place
    if leaf.kind == "absorbed":
        if lam is None and leaf.node in tables.unnormalised:
            lam = np.ones((table.shape[0], s))  # summed like a seen node's, for the columns' own sums
        if lam is None:
            value = np.ones((*table.shape[1:-1], s))
        elif leaf.conditioned:
            value = np.einsum("s...n,sn->...n", table, lam)
        else:
            flat = leaf.table.reshape(leaf.table.shape[0], -1)
            value = (flat.T @ lam).reshape((*leaf.table.shape[1:], s))
    elif lam is not None:
        lam = _along(lam, leaf.scope.index(leaf.node), table.ndim)
        value = np.multiply(table, lam, out=table) if leaf.conditioned else table * lam
    elif leaf.conditioned:
        value = table
    else:
        value, owned = np.broadcast_to(table, (*table.shape[:-1], s)), False
    for axis, vector in _factors(tables, leaf, codes, evidence, shift).items():
        vector = _along(vector, axis, value.ndim)
        value = np.multiply(value, vector, out=value) if owned else value * vector
        owned = True
    return value


def _factors(
    tables: Tables, leaf: Leaf, codes: np.ndarray, evidence: dict[str, np.ndarray], shift: np.ndarray | None = None
) -> dict[int, np.ndarray]:
    """The vectors that multiply a leaf's table besides its node's evidence, {axis of its scope: (states,
    sub-rows)}: the prior times the evidence vector of each root it hosts, and each attached vector.

    Every read of the leaf's contents goes through here, so the value and the joint read from it (see
    _absorbed_joint) multiply the same numbers. Vectors along one axis are multiplied together first: one
    pass over the table per axis. Scaled (`shift` given), each entry's product is kept as a mantissa and a power
    of two as it goes, so that no order of the vectors under- or overflows (an attached vector is 1 at its
    parent's first state and may be 1e12 at another: 28 of those overflow before 27 of 1e-12 bring them back),
    and the sub-row's largest power is added to `shift` at the end."""
    along: dict[int, np.ndarray] = {}
    for root, axis in leaf.roots:
        along[axis] = tables.tables[root][:, None] * evidence.get(root, 1.0)
    powers: dict[int, np.ndarray] = {}
    for child, position, axis in leaf.attached:
        vector = tables.factorised[child].vectors[position][codes[:, tables.index[child]]].T
        along[axis] = along[axis] * vector if axis in along else vector
        if shift is not None:
            along[axis], power = np.frexp(along[axis])
            powers[axis] = powers[axis] + power if axis in powers else power
    for axis, power in powers.items():
        top = _top_power(along[axis], power)
        along[axis] = np.ldexp(along[axis], power - top)
        shift += top
    return along


def _top_power(mantissa: np.ndarray, power: np.ndarray) -> np.ndarray:
    """Per sub-row (the last axis), the largest power of two among the entries that are not zero (0 if none)."""
    lowest = np.iinfo(power.dtype).min
    top = np.where(mantissa != 0, power, lowest).reshape(-1, power.shape[-1]).max(axis=0)
    return np.where(top == lowest, 0, top)


def _scaled(value: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """`value` (case axis last) divided per sub-row by the power of two that brings its largest entry into
    [0.5, 1) (none where it is all zero), the power added to `shift`: exact, only exponents change."""
    top = value.reshape(-1, value.shape[-1]).max(axis=0) if value.ndim > 1 else value
    _, power = np.frexp(top)
    shift += power
    return np.ldexp(value, -power)


def _gather(tables: Tables, leaf: Leaf, fixed: dict[str, np.ndarray]) -> np.ndarray:
    """The leaf's table at each sub-row's states of its conditioned parents (its trailing axes), case axis last.

    One np.take over the table seen as (free states, conditioned states): a single pass that writes the
    result with the case axis contiguous."""
    free = leaf.table.shape[: leaf.table.ndim - len(leaf.conditioned)]
    flat = np.zeros(len(next(iter(fixed.values()))), dtype=np.intp)
    for parent in leaf.conditioned:
        flat *= tables.card[parent]
        flat += fixed[parent]
    return np.take(leaf.table.reshape(math.prod(free), -1), flat, axis=1).reshape((*free, -1))


def _absorbed_joint(
    tables: Tables,
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
        table = _gather(tables, leaf, fixed)
        joint = np.einsum("spn,pn->ns", table.reshape(table.shape[0], -1, s), np.reshape(grad, (-1, s)))
    else:
        flat = leaf.table.reshape(leaf.table.shape[0], -1)
        joint = (flat @ np.reshape(grad, (flat.shape[1], s))).T
    return joint if lam is None else joint * lam.T


def _along(vector: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """A (states, sub-rows) vector shaped to multiply a tensor of `ndim` axes, case axis last, along `axis`."""
    return vector.reshape((1,) * axis + (vector.shape[0],) + (1,) * (ndim - axis - 2) + (-1,))


__all__ = ["run_plan"]
