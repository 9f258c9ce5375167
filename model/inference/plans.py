"""Plans: one contraction of the network's tables, compiled for one choice of conditioned and factorised nodes.

A plan (the terms are defined in engine.py's docstring) is its leaves, the input tensors, each with the case axis
last; its steps, the einsums (of two tensors, or three, see _steps) down to one number per sub-row, in the order of
the cheapest elimination path (paths.py) and each with the subscripts of its gradients; and where each node's joint
can be read from a tensor T as T * dZ/dT. Everything here is a pure function of the tables and the plan's pattern:
which plan a case runs is keys.py's, and running one on a batch execute.py's.
"""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from model.inference.paths import CHEAP_PATH, COMPILE_CHEAP_PATH, COMPILE_RULES, ELIMINATION_RULES, cheapest_path
from model.inference.tables import Tables

# A product that sums nothing is multiplied in the einsum of the step that consumes it, three tensors at most (numpy
# has a loop of its own for three operands), unless it has fewer than _FUSED_SHARE of that step's entries (see _steps).
# On the heaviest groups of random cases, a product of 1.8 million entries a batch and the step that sums it: 10.9 ms
# written out, 3.7 ms in one einsum.
_FUSED_OPERANDS = 3
_FUSED_SHARE = 0.5

# Where a plan reads the nodes asked for: {tensor: [(node, its axis, or None for an absorbed node read from its own
# leaf)]}, and the tensors whose gradients those reads need, as a bit set (find_reads).
Reads = tuple[dict[int, list[tuple[str, int | None]]], int]


@dataclass(frozen=True)
class Leaf:
    """One input tensor of a contraction, its axes in the reverse node order (_in_order), case axis last.

    kind "node": the node's own table times its evidence vector, over the node and its free parents.
    kind "absorbed": a node without children summed against its evidence vector, over its free parents.
    kind "sliced": an observed node with parents and children, conditioned like an observed root: its table at the
    state seen, over its free parents (its children's tables are taken at that state too).
    `conditioned` lists the family's variables fixed per sub-row: the table's trailing axes, gathered per sub-row.
    `roots` lists (root, axis): a root kept in the contraction has no tensor of its own (one einsum step fewer);
    its prior times its evidence vector multiplies the table of its first child that has one along that axis.
    `attached` lists (factorised node, which of its parents, axis): that node's vector for this parent (the
    leaf's own node, or a root it hosts) multiplies the table along that axis.
    """

    node: str
    kind: str
    scope: tuple[str, ...]
    conditioned: tuple[str, ...]
    table: np.ndarray
    roots: tuple[tuple[str, int], ...]
    attached: tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class Step:
    """out = einsum(forward, *inputs). Gradients flow back to an input only when its subtree holds a wanted tensor."""

    inputs: tuple[int, ...]
    output: int
    forward: str
    backward: tuple[str, ...]
    reshape: tuple[tuple[int, ...] | None, ...]
    # per input: the tensors it was built from, itself included, as a bit set (bit i: tensor i). Sets of ints
    # took some 20 MB over a run's plans.
    below: tuple[int, ...]


@dataclass(frozen=True)
class Plan:
    """One contraction: the roots in `conditioned` fixed per sub-row, the nodes in `factorised` split into vectors."""

    conditioned: tuple[str, ...]
    factorised: tuple[str, ...]
    leaves: tuple[Leaf, ...]
    steps: tuple[Step, ...]
    leaf_of: Mapping[str, int]
    # Where a node's joint with the evidence can always be read: the tensor (leaf or intermediate) in which it
    # is summed out, and its axis. Any tensor T gives the joint of its scope as T * dZ/dT, and the one nearest the
    # final sum needs the shortest backward pass.
    read_from: Mapping[str, tuple[int, int]]
    scopes: tuple[tuple[str, ...], ...]  # every tensor's: the leaves', then each step's output
    bytes_per_sub_row: int
    operations: float  # of the forward contraction, per sub-row, as paths.py counts them
    # per tuple of nodes asked for: the nodes read from each tensor, and the tensors whose gradients are needed
    reads: dict[tuple[str, ...], Reads] = field(default_factory=dict, compare=False)


def greedy_path(
    tables: Tables,
    scopes: Sequence[tuple[str, ...]],
    rules: tuple[str, ...] = ELIMINATION_RULES,
    cheap: int = CHEAP_PATH,
) -> tuple[list[tuple[int, ...]], float]:
    """The cheapest variable elimination order (cheapest_path, by `rules`, the others only from `cheap`
    operations) for these scopes: its groups of tensor ids (see elimination_path), and its operation count per
    sub-row. Compiling searches by paths.COMPILE_RULES from COMPILE_CHEAP_PATH (sketch_plan)."""
    if not scopes:
        return [], 0.0
    path, cost = cheapest_path(*_masks(tables, scopes), rules, cheap)
    return path, float(cost)


def _masks(tables: Tables, scopes: Sequence[tuple[str, ...]]) -> tuple[list[int], list[int]]:
    # Integer labels (bit i is node i): sets of strings iterate in an order that changes from run to run
    # (hash randomisation), and ties could then be broken differently in each run.
    return [sum(1 << tables.index[v] for v in scope) for scope in scopes], [tables.card[v] for v in tables.nodes]


def _leaves(tables: Tables, conditioned: frozenset[str], factorised: frozenset[str]) -> list[Leaf]:
    """The input tensors of the contraction with `conditioned` roots fixed and `factorised` nodes split."""
    # A root kept in the contraction rides on its first child that has a table here (a factorised child has
    # none: it is split into vectors); a root whose children are all factorised keeps a tensor of its own.
    hosts: dict[str, list[str]] = {}
    for root in tables.nodes:
        if not tables.parents[root] and tables.children[root] and root not in conditioned:
            host = next((c for c in tables.children[root] if c not in factorised), None)
            if host is not None:
                hosts.setdefault(host, []).append(root)
    host_of = {root: host for host, roots in hosts.items() for root in roots}
    attached: dict[str, list[tuple[str, int, str]]] = {}
    for child in (n for n in tables.nodes if n in factorised):  # node order: the same products every run
        for position, parent in enumerate(tables.parents[child]):
            if parent not in conditioned:
                attached.setdefault(host_of.get(parent, parent), []).append((child, position, parent))
    leaves = []
    for node in tables.nodes:
        if node in factorised or node in host_of or (node in conditioned and not tables.parents[node]):
            continue
        family = (node, *tables.parents[node])
        fixed = tuple(v for v in family if v in conditioned)
        free = tuple(v for v in family if v not in conditioned)
        kind = "sliced" if node in conditioned else "node" if tables.children[node] else "absorbed"
        # every tensor's axes in one order, _in_order's (the absorbed node, summed first, ahead of them)
        scope = _in_order(tables, free[1:] if kind == "absorbed" else free)
        table = tables.arranged(node, (node, *scope, *fixed) if kind == "absorbed" else (*scope, *fixed))
        roots = tuple((root, scope.index(root)) for root in hosts.get(node, ()))
        factors = tuple((c, position, scope.index(p)) for c, position, p in attached.get(node, ()))
        leaves.append(Leaf(node, kind, scope, fixed, table, roots, factors))
    return leaves


def _entries(tables: Tables, variables: Iterable[str]) -> int:
    """The number of entries of a tensor over these variables, per sub-row."""
    return math.prod([tables.card[v] for v in variables])


def _in_order(tables: Tables, variables: Iterable[str]) -> tuple[str, ...]:
    """The variables in the reverse of the node order: every tensor of a plan lays its axes out in that one order,
    case axis last, so the operands of each einsum agree on their memory order and numpy walks them all in step
    (the orders its results came out in made the heaviest steps of random cases 3-16 times slower). Reversed, the
    roots come last, next to the case axis: most tensors hold them, so numpy's innermost loops run longest."""
    return tuple(sorted(variables, key=tables.index.__getitem__, reverse=True))


@dataclass(frozen=True)
class Sketch:
    """A plan before its steps are built: its leaves, its path (greedy_path's groups, by the compile's rules) and
    the operations per sub-row that path counts. Comparing plans needs only the count; a plan compiled from its
    sketch does not list its leaves or search its path again."""

    conditioned: frozenset[str]
    factorised: frozenset[str]
    leaves: tuple[Leaf, ...]
    path: tuple[tuple[int, ...], ...]
    operations: float


def sketch_plan(tables: Tables, conditioned: frozenset[str], factorised: frozenset[str]) -> Sketch:
    """The leaves and contraction path of the plan with `conditioned` roots fixed and `factorised` nodes split."""
    leaves = tuple(_leaves(tables, conditioned, factorised))
    path, operations = greedy_path(tables, [leaf.scope for leaf in leaves], COMPILE_RULES, COMPILE_CHEAP_PATH)
    return Sketch(conditioned, factorised, leaves, tuple(path), operations)


def cost(
    tables: Tables,
    conditioned: frozenset[str],
    factorised: frozenset[str],
    rules: tuple[str, ...] = ELIMINATION_RULES,
) -> float:
    """The operation count per sub-row of the contraction with `conditioned` roots fixed and `factorised` nodes
    split, by the path search's `rules`, without compiling it: what choosing the plan bits compares. Sharing
    plans compares the count of the plan that compile_plan would compile, sketch_plan's (keys.shared_keys)."""
    return greedy_path(tables, [leaf.scope for leaf in _leaves(tables, conditioned, factorised)], rules)[1]


def compile_plan(
    tables: Tables, conditioned: frozenset[str], factorised: frozenset[str], sketch: Sketch | None = None
) -> Plan:
    """The leaves and contraction steps with `conditioned` roots fixed and `factorised` nodes split, from the
    plan's `sketch` where one was made for it (sketch_plan) and found anew where not."""
    if sketch is None:
        sketch = sketch_plan(tables, conditioned, factorised)
    elif (sketch.conditioned, sketch.factorised) != (conditioned, factorised):
        raise ValueError("the sketch is of another plan")
    leaves = list(sketch.leaves)
    scopes = [leaf.scope for leaf in leaves]
    steps = _steps(tables, scopes, len(leaves), sketch.path)
    operations = sketch.operations
    read_from = {}
    for step in steps:
        for i in step.inputs:
            for axis, v in enumerate(scopes[i]):
                if v not in scopes[step.output] and tables.children[v]:
                    read_from.setdefault(v, (i, axis))
    for i, leaf in enumerate(leaves):
        if leaf.kind == "node" and leaf.node not in read_from:
            read_from[leaf.node] = (i, leaf.scope.index(leaf.node))
    # every tensor's value and gradient alive at once, 8 bytes each: the measure for the batch size
    bytes_per_sub_row = 16 * sum(_entries(tables, scope) for scope in scopes) + 64
    return Plan(
        conditioned=tuple(n for n in tables.nodes if n in conditioned),
        factorised=tuple(n for n in tables.nodes if n in factorised),
        leaves=tuple(leaves),
        steps=tuple(steps),
        leaf_of={leaf.node: i for i, leaf in enumerate(leaves)},
        read_from=read_from,
        scopes=tuple(scopes),
        bytes_per_sub_row=bytes_per_sub_row,
        operations=operations,
    )


def find_reads(tables: Tables, plan: Plan, nodes: Sequence[str]) -> Reads:
    """Where to read the nodes of `nodes` in `plan` ({tensor: [(node, its axis, or None for an absorbed node
    read from its own leaf)]}), and the tensors whose gradients the reads need, as a bit set: the backward
    pass computes only those and the ones they are built from. Conditioned and factorised nodes are not read.

    Each node is first placed where it is summed out (plan.read_from), which fixes the tensors that get a
    gradient; it is then read from the smallest of those tensors that holds it. That costs no backward
    work, and reading the joint from a tensor costs a pass over it: on benchmark cases, the reads went
    from about a tenth of a contraction's arithmetic to a fortieth."""
    conditioned = set(plan.conditioned)
    nodes = [n for n in nodes if n not in conditioned]  # observed: answered without a read
    absorbed = {plan.leaf_of[n] for n in nodes if n in plan.leaf_of and n not in plan.read_from}
    first = sum(1 << i for i in absorbed | {plan.read_from[n][0] for n in nodes if n in plan.read_from})
    # the tensors that get a gradient: the final one, and each input whose subtree holds a tensor in `first`
    fed = [plan.steps[-1].output] if plan.steps else []
    for step in plan.steps:
        fed += [i for i, below in zip(step.inputs, step.below, strict=True) if first & below]
    # per node read from a tensor: the smallest tensor that gets a gradient and holds it, (entries, id)
    wanted = {n for n in nodes if n in plan.read_from}
    smallest: dict[str, tuple[int, int]] = {}
    for i in fed:
        held = wanted.intersection(plan.scopes[i])
        if held:
            entry = (_entries(tables, plan.scopes[i]), i)
            for node in held:
                if node not in smallest or entry < smallest[node]:
                    smallest[node] = entry
    read_at: dict[int, list[tuple[str, int | None]]] = {}
    for node in nodes:
        if node in plan.read_from:
            i = smallest[node][1] if node in smallest else plan.read_from[node][0]
            read_at.setdefault(i, []).append((node, plan.scopes[i].index(node)))
        elif node in plan.leaf_of:
            read_at.setdefault(plan.leaf_of[node], []).append((node, None))
    return read_at, sum(1 << i for i in read_at)


def _steps(tables: Tables, scopes: list[tuple[str, ...]], n_leaves: int, path: Sequence[tuple[int, ...]]) -> list[Step]:
    """Contraction steps down to one number per sub-row along `path` (greedy_path's groups); appends each step's
    scope to `scopes`.

    A group of k tensors takes k - 1 pairwise steps, except that a product which sums nothing (an outer product,
    as big as its inputs together) is deferred into the step that consumes it, where the three tensors are
    multiplied in one einsum (_FUSED_OPERANDS): numpy then walks the consumer's entries once, multiplying three
    numbers at each, instead of writing the product out and reading it back. Where the deferred product is much
    smaller than the consumer's entries (under _FUSED_SHARE of them), it is written out first after all: there
    the extra multiplication at every entry would cost more than the product's memory."""
    below = [1 << i for i in range(n_leaves)]
    steps: list[Step] = []
    # how many tensors not yet multiplied hold each variable: a step's output keeps the variables of its inputs
    # that some other such tensor still holds
    holding: dict[str, int] = {}
    for scope in scopes:
        for v in scope:
            holding[v] = holding.get(v, 0) + 1
    # deferred products, by ids -1, -2, ...: (their operands, tensors that exist; their scope)
    deferred: dict[int, tuple[tuple[int, ...], tuple[str, ...]]] = {}
    count = itertools.count()

    def scope_of(i: int) -> tuple[str, ...]:
        return deferred[i][1] if i < 0 else scopes[i]

    def write(operands: tuple[int, ...], out_scope: tuple[str, ...]) -> int:
        steps.append(_step(tables, operands, len(scopes), out_scope, scopes, below))
        scopes.append(out_scope)
        built = 1 << (len(scopes) - 1)
        for i in operands:
            built |= below[i]
        below.append(built)
        return len(scopes) - 1

    def emit(inputs: tuple[int, ...]) -> int:
        for i in inputs:
            for v in scope_of(i):
                holding[v] -= 1
        union = {v for i in inputs for v in scope_of(i)}
        kept = {v for v in union if holding[v]}
        operands: tuple[int, ...] = ()
        for k, i in enumerate(inputs):
            if i < 0:
                inner, inner_scope = deferred.pop(i)
                fits = len(operands) + len(inner) + len(inputs) - k - 1 <= _FUSED_OPERANDS
                if fits and _entries(tables, inner_scope) >= _FUSED_SHARE * _entries(tables, union):
                    operands += inner
                    continue
                i = write(inner, inner_scope)
            operands += (i,)
        out_scope = _in_order(tables, kept)
        for v in out_scope:
            holding[v] += 1
        if kept and kept == union and len(operands) < _FUSED_OPERANDS:
            key = -1 - next(count)
            deferred[key] = operands, out_scope
            return key
        return write(operands, out_scope)

    # per path id (the leaves, then each group's result): its tensor here
    where = list(range(len(scopes)))
    live = set(where)
    for group in path:
        chosen = [where[i] for i in group]
        live.difference_update(chosen)
        acc, pending = chosen[0], chosen[1:]
        if not pending:
            acc = emit((acc,))
        for other in pending:
            acc = emit((acc, other))
        live.add(acc)
        where.append(acc)
    if live and not steps:
        # One leaf over no free variable (every other node fixed or split into vectors) needs no path, but
        # its value is a factor of P(evidence): a step of its own makes it the final tensor like any other.
        emit(tuple(live))
    if len(live) > 1 or any(scope_of(i) for i in live) or deferred:
        raise AssertionError("the contraction path did not end in one number per sub-row")
    return steps


def _step(
    tables: Tables,
    inputs: tuple[int, ...],
    output: int,
    out_scope: tuple[str, ...],
    scopes: list[tuple[str, ...]],
    below: list[int],
) -> Step:
    """One step of one to three tensors (see _steps) and its gradients, as einsum subscripts.

    numpy's einsum names axes by letter, 52 of them. The labels are the step's own, given to the variables
    of its operands alone: a whole network needs many more (win95pts 60 in one plan, pigs hundreds), a step
    never does unless one of its tensors alone has over 50 axes."""
    operands = [scopes[i] for i in inputs]
    variables = dict.fromkeys(v for scope in operands for v in scope)
    if len(variables) >= len(string.ascii_letters):
        raise ValueError(f"a contraction step over {len(variables)} variables needs more than numpy einsum's 52 labels")
    symbol = dict(zip(variables, string.ascii_letters, strict=False))
    batch = string.ascii_letters[len(variables)]
    terms = ["".join(map(symbol.__getitem__, scope)) + batch for scope in operands]
    out_term = "".join(map(symbol.__getitem__, out_scope)) + batch
    forward = ",".join(terms) + "->" + out_term
    backward = []
    reshape: list[tuple[int, ...] | None] = []
    for k, scope in enumerate(operands):
        present = set(out_scope).union(*operands[:k], *operands[k + 1 :])
        kept = tuple(v for v in scope if v in present)
        backward.append(
            ",".join([out_term, *terms[:k], *terms[k + 1 :]]) + "->" + "".join(map(symbol.__getitem__, kept)) + batch
        )
        # A variable summed here that only this input holds: the gradient is constant along it.
        reshape.append(None if kept == scope else (*(tables.card[v] if v in present else 1 for v in scope), -1))
    return Step(
        inputs=inputs,
        output=output,
        forward=forward,
        backward=tuple(backward),
        reshape=tuple(reshape),
        below=tuple(below[i] for i in inputs),
    )


__all__ = [
    "Leaf",
    "Plan",
    "Reads",
    "Sketch",
    "Step",
    "compile_plan",
    "cost",
    "find_reads",
    "greedy_path",
    "sketch_plan",
]
