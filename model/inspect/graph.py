"""The network's structure for people: layers, a readable layout, the drawing, and independence facts."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from model.network.spec import ContextNode, FindingNode, NetworkSpec

KINDS = ("context", "cause", "hidden", "finding")
KIND_COLOURS = {"context": "#9ecae1", "cause": "#fdae6b", "hidden": "#d9d9d9", "finding": "#a1d99b"}
KIND_TITLES = {
    "context": "Context and risk factors",
    "cause": "Candidate causes",
    "hidden": "Hidden step",
    "finding": "Symptoms and signs",
}
# A column per layer; the gap before the findings is wider because most edges fan out there.
_COLUMN_GAP = 1.0
_FINDING_GAP = 1.5


def node_kind(spec: NetworkSpec, node: str) -> str:
    """context, cause, hidden (an intermediate cause, not reported) or finding."""
    n = spec.nodes[node]
    if isinstance(n, ContextNode):
        return "context"
    if isinstance(n, FindingNode):
        return "finding"
    return "hidden" if n.intermediate else "cause"


def edges(spec: NetworkSpec) -> list[tuple[str, str]]:
    """Every (parent, child) pair of the network, in definition order."""
    return [(parent, node) for node in spec.nodes for parent in spec.parents(node)]


def dag(spec: NetworkSpec) -> nx.DiGraph:
    """The network's graph as networkx sees it (no probabilities): for d-separation and path questions."""
    graph = nx.DiGraph()
    graph.add_nodes_from(spec.nodes)
    graph.add_edges_from(edges(spec))
    return graph


def node_layers(spec: NetworkSpec) -> dict[str, int]:
    """Layer of each node: contexts 0, a cause one past its deepest cause parent, findings after all causes."""
    layers = {c.id: 0 for c in spec.contexts}
    pending = list(spec.causes)
    while pending:
        for cause in list(pending):
            if all(p in layers for p in cause.parents):
                layers[cause.id] = 1 + max((layers[p] for p in cause.parents), default=0)
                pending.remove(cause)
    last = 1 + max(layers.values())
    layers.update({f.id: last for f in spec.findings})
    return layers


def _column_x(layers: dict[str, int]) -> dict[int, float]:
    last = max(layers.values())
    xs = {}
    x = 0.0
    for layer in range(last + 1):
        xs[layer] = x
        x += _FINDING_GAP if layer == last - 1 else _COLUMN_GAP
    return xs


def _positions(orders: dict[int, list[str]], xs: dict[int, float]) -> dict[str, tuple[float, float]]:
    """Evenly spaced rows, each column centred on the tallest, first node at the top."""
    tallest = max(len(nodes) for nodes in orders.values())
    positions = {}
    for layer, nodes in orders.items():
        top = (tallest - 1) / 2 + (len(nodes) - 1) / 2
        for i, node in enumerate(nodes):
            positions[node] = (xs[layer], top - i)
    return positions


Point = tuple[float, float]


def _crosses(a: tuple[Point, Point], b: tuple[Point, Point]) -> bool:
    """True if the two segments cross at a point inside both (touching or collinear segments do not count)."""

    def orientation(p: Point, q: Point, r: Point) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    (p1, p2), (q1, q2) = a, b
    d1, d2 = orientation(q1, q2, p1), orientation(q1, q2, p2)
    d3, d4 = orientation(p1, p2, q1), orientation(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def edge_crossings(spec: NetworkSpec, positions: dict[str, tuple[float, float]]) -> int:
    """How many pairs of edges cross when drawn as straight lines (edges sharing a node never count)."""
    segments = [(u, v, (positions[u], positions[v])) for u, v in edges(spec)]
    count = 0
    for (u1, v1, s1), (u2, v2, s2) in itertools.combinations(segments, 2):
        if {u1, v1} & {u2, v2}:
            continue
        count += _crosses(s1, s2)
    return count


def _definition_orders(spec: NetworkSpec, layers: dict[str, int]) -> dict[int, list[str]]:
    orders: dict[int, list[str]] = {}
    for node in spec.nodes:
        orders.setdefault(layers[node], []).append(node)
    return orders


def definition_positions(spec: NetworkSpec) -> dict[str, tuple[float, float]]:
    """Layers as columns, nodes in the order network.toml defines them: the baseline a layout must beat."""
    layers = node_layers(spec)
    return _positions(_definition_orders(spec, layers), _column_x(layers))


def layered_positions(spec: NetworkSpec, sweeps: int = 12) -> dict[str, tuple[float, float]]:
    """Column per layer, rows ordered to keep edges short and uncrossed (barycentre sweeps, best kept).

    Deterministic: the same spec always gives the same picture, so reviewers can compare versions.
    """
    layers = node_layers(spec)
    xs = _column_x(layers)
    orders = _definition_orders(spec, layers)
    # Sorted lists, not sets: summing heights in a hash-dependent order could break ties differently per run.
    neighbours = {
        node: sorted({v for u, v in edges(spec) if u == node} | {u for u, v in edges(spec) if v == node})
        for node in spec.nodes
    }
    best = _positions(orders, xs)
    best_crossings = edge_crossings(spec, best)
    sequence = [*range(len(orders)), *reversed(range(len(orders) - 1))]
    for _ in range(sweeps):
        for layer in sequence:
            positions = _positions(orders, xs)
            # Sort key: minus the mean height of the neighbours, because the first row is drawn at the top.
            keys = {
                node: -sum(positions[n][1] for n in neighbours[node]) / len(neighbours[node])
                if neighbours[node]
                else -positions[node][1]
                for node in orders[layer]
            }
            orders[layer] = sorted(orders[layer], key=keys.__getitem__)
        positions = _positions(orders, xs)
        crossings = edge_crossings(spec, positions)
        if crossings < best_crossings:
            best, best_crossings = positions, crossings
    return best


def markov_blanket(spec: NetworkSpec, node: str) -> dict[str, list[str]]:
    """The nodes that make `node` independent of all others once known: parents, children, children's parents."""
    children = [child for parent, child in edges(spec) if parent == node]
    co_parents = sorted({p for child in children for p in spec.parents(child)} - {node} - set(spec.parents(node)))
    return {"parents": list(spec.parents(node)), "children": children, "co-parents": co_parents}


def draw_network(
    spec: NetworkSpec,
    ax: Axes,
    positions: dict[str, tuple[float, float]] | None = None,
    focus: str | None = None,
) -> Axes:
    """Draw the layered graph on `ax`: one labelled box per node, coloured by kind, edges left to right.

    With `focus`, that node's Markov blanket stands out (its edges, and the co-parents' edges into its
    children) and everything else is faded.
    """
    positions = positions or layered_positions(spec)
    if focus is None:
        marked = set(spec.nodes)
        strong_edges = set(edges(spec))
    else:
        blanket = markov_blanket(spec, focus)
        marked = {focus, *blanket["parents"], *blanket["children"], *blanket["co-parents"]}
        co_parents, children = set(blanket["co-parents"]), set(blanket["children"])
        strong_edges = {(u, v) for u, v in edges(spec) if focus in (u, v) or (u in co_parents and v in children)}
    boxes = {}
    for node, (x, y) in positions.items():
        kind = node_kind(spec, node)
        label = node.replace("_", " ") + (" (hidden)" if kind == "hidden" else "")
        boxes[node] = ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=9,
            alpha=1.0 if node in marked else 0.35,
            fontweight="bold" if node == focus else "normal",
            bbox={
                "boxstyle": "round,pad=0.3",
                "facecolor": KIND_COLOURS[kind],
                "edgecolor": "#000000" if node == focus else "#555555",
                "linewidth": 2.5 if node == focus else 1.0,
            },
            zorder=3,
        )
    for u, v in edges(spec):
        strong = (u, v) in strong_edges
        focused = strong and focus is not None
        # Clipping each arrow to the two label boxes shows where an edge ends, even when it passes behind a box.
        ax.annotate(
            "",
            xy=positions[v],
            xytext=positions[u],
            arrowprops={
                "arrowstyle": "-|>,head_length=0.5,head_width=0.2",
                "color": "#333333" if focused else KIND_COLOURS[node_kind(spec, u)],
                "alpha": 0.85 if strong else 0.12,
                "linewidth": 1.4 if focused else 0.9,
                "patchA": boxes[u].get_bbox_patch(),
                "patchB": boxes[v].get_bbox_patch(),
                "shrinkA": 0,
                "shrinkB": 1,
            },
            zorder=1,
        )
    xs = sorted({x for x, _ in positions.values()})
    ys = [y for _, y in positions.values()]
    ax.set_xlim(xs[0] - 0.45, xs[-1] + 0.45)
    ax.set_ylim(min(ys) - 1, max(ys) + 1.5)
    for i, layer_x in enumerate(xs):
        kinds = {node_kind(spec, n) for n, (x, _) in positions.items() if x == layer_x}
        title = " / ".join(KIND_TITLES[k] for k in KINDS if k in kinds)
        if 1 < i < len(xs) - 1:
            title = "Caused by other causes" + (" / hidden step" if "hidden" in kinds else "")
        ax.text(layer_x, max(ys) + 1.1, title, ha="center", va="bottom", fontsize=11, fontweight="bold")
    ax.legend(
        handles=[
            Line2D([], [], marker="s", linestyle="", markersize=10, color=KIND_COLOURS[k], label=KIND_TITLES[k])
            for k in KINDS
        ],
        loc="lower center",
        ncol=len(KINDS),
        frameon=False,
        bbox_to_anchor=(0.5, -0.04),
    )
    ax.set_axis_off()
    return ax


@dataclass(frozen=True)
class IndependenceFact:
    """A claim about the structure a clinician can check against intuition, and whether it holds (d-separation)."""

    a: str
    b: str
    given: tuple[str, ...]
    independent: bool
    says: str


def is_independent(spec: NetworkSpec, a: str, b: str, given: Iterable[str] = ()) -> bool:
    """True if the structure alone makes `a` and `b` independent once `given` is known (d-separation)."""
    return nx.is_d_separator(dag(spec), {a}, {b}, set(given))


def clinical_facts(spec: NetworkSpec) -> list[IndependenceFact]:
    """Independence facts worded for clinicians; each one's `independent` is what this network's structure says.

    The wording is fixed; the test suite checks every fact against the structure, so a change to the
    network that breaks a sentence fails loudly instead of leaving a false statement in the notebook.
    """
    contexts = tuple(c.id for c in spec.contexts)
    bruise_causes = spec.parents("bruising")
    return [
        IndependenceFact(
            "bruising",
            "disc_degeneration",
            bruise_causes,
            True,
            "Once we know whether there is a strain, a fracture or bleeding into the tissues (the causes of a "
            "bruise), a bruise says nothing more about disc degeneration, whatever else is known.",
        ),
        IndependenceFact(
            "bruising",
            "disc_degeneration",
            (),
            False,
            "Knowing nothing else, a bruise does shift disc degeneration a little: both depend on age and on the "
            "activity (a bruise hints at a fracture, fractures at older age, older age at worn discs).",
        ),
        IndependenceFact(
            "bruising",
            "disc_degeneration",
            contexts,
            True,
            "With the person and the activity known (every context answer), a bruise and disc degeneration are "
            "unrelated again.",
        ),
        IndependenceFact(
            "bruising",
            "disc_degeneration",
            (*contexts, "swelling"),
            False,
            "...until a symptom they can both explain is known: with swelling, a bruise (bleeding into tissue) "
            "explains the swelling away and makes disc degeneration less likely.",
        ),
        IndependenceFact(
            "age",
            "fall_or_impact",
            (),
            True,
            "Age and a fall are unrelated in the network's population: neither makes the other more likely.",
        ),
        IndependenceFact(
            "age",
            "fall_or_impact",
            ("compression_fracture",),
            False,
            "Once a fracture is known, they compete to explain it: in an older person a fracture needs no big fall.",
        ),
        IndependenceFact(
            "numbness",
            "straight_leg_raise",
            spec.cause_ids,
            True,
            "Symptoms are tied together only through their causes: once every cause is known, numbness says "
            "nothing about the straight-leg raise. If you believe two symptoms go together beyond their shared "
            "causes, the network cannot represent it.",
        ),
        IndependenceFact(
            "numbness",
            "straight_leg_raise",
            (),
            False,
            "Before the causes are known, numbness makes a positive straight-leg raise more likely (a pinched "
            "nerve root or a herniated disc explains both).",
        ),
    ]
