"""The network's definition, typed and free of pgmpy: the classes that model.network.parse fills from TOML, and
load_spec, the built-in network (data/network.toml) read and checked."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

ABSENT, PRESENT = "absent", "present"
CAUSE_STATES = (ABSENT, PRESENT)
# What a finding may be (FindingNode.kind).
KINDS = ("noisy_max", "mixture")


class SpecError(ValueError):
    """The network definition is malformed; the message names the node and the row."""


@dataclass(frozen=True)
class Sourced:
    """Where a number comes from: article paragraph ids or citation ids, and why it was chosen."""

    source: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Bin:
    """A numeric range [low, high) mapped to a state (the last bin of a node includes `high`)."""

    state: str
    low: float
    high: float


@dataclass(frozen=True)
class ContextNode:
    id: str
    label: str
    states: tuple[str, ...]
    prior: tuple[float, ...]
    prior_source: Sourced
    bins: tuple[Bin, ...] = ()


@dataclass(frozen=True)
class BaseRow:
    """P(present) for the listed activities (all activities when None), other parents at reference."""

    activities: tuple[str, ...] | None
    p: float
    sourced: Sourced


@dataclass(frozen=True)
class OddsRow:
    parent: str
    state: str
    ratio: float
    sourced: Sourced


@dataclass(frozen=True)
class CauseNode:
    """A binary node between the context and the findings.

    kind "logistic": P(present) from `base` and `odds` (see network.toml).
    kind "any_of": present exactly when any of its parents is (a union of finer causes, e.g. tumour or infection).
    kind "pain_step": one step of the back pain chain (see PainLink): present when the step before it is, or when
    its own cause produces the pain; the first step also holds the leak.
    """

    id: str
    label: str
    parents: tuple[str, ...]
    base: tuple[BaseRow, ...]
    odds: tuple[OddsRow, ...]
    intermediate: bool = False
    states: tuple[str, ...] = CAUSE_STATES
    kind: str = "logistic"
    sourced: Sourced | None = None  # any_of: why the union is reported
    pain: PainLink | None = None  # pain_step: the link it adds
    leak: PainLink | None = None  # the first pain_step: pain with no modelled cause


@dataclass(frozen=True)
class PainLink:
    """P(a cause on its own gives back pain) (cause None: the leak, pain that no modelled cause explains)."""

    cause: str | None
    p: float
    sourced: Sourced


@dataclass(frozen=True)
class Link:
    """One cause's effect on a finding (cause None: the leak). `p` is a distribution over states."""

    cause: str | None
    p: tuple[float, ...]
    weight: float | None
    sourced: Sourced


@dataclass(frozen=True)
class FindingNode:
    id: str
    label: str
    kind: str
    states: tuple[str, ...]
    leak: Link
    links: tuple[Link, ...]
    bins: tuple[Bin, ...] = ()

    @property
    def parents(self) -> tuple[str, ...]:
        return tuple(link.cause for link in self.links if link.cause is not None)


@dataclass(frozen=True)
class NetworkSpec:
    """The network: context roots, causes (with the hidden steps of the back pain chain last), findings.

    `observed` is evidence that holds for every case: everyone this tool answers has back pain, so the last step
    of the pain chain is always observed present. Conditioning on it is what lets one cause explain the pain
    away from the others (see the [pain] section of network.toml).
    """

    contexts: tuple[ContextNode, ...]
    causes: tuple[CauseNode, ...]
    findings: tuple[FindingNode, ...]
    observed: tuple[tuple[str, str], ...] = ()

    @property
    def nodes(self) -> dict[str, ContextNode | CauseNode | FindingNode]:
        return {n.id: n for n in (*self.contexts, *self.causes, *self.findings)}

    def states(self, node: str) -> tuple[str, ...]:
        return self.nodes[node].states

    def parents(self, node: str) -> tuple[str, ...]:
        n = self.nodes[node]
        return () if isinstance(n, ContextNode) else n.parents

    @property
    def cause_ids(self) -> tuple[str, ...]:
        """The reported causes (the contract's ids), in definition order."""
        return tuple(c.id for c in self.causes if not c.intermediate)

    @property
    def ranked_cause_ids(self) -> tuple[str, ...]:
        """The causes that are ranked (top cause, orderings): every reported cause but the unions of finer reported
        causes (tumour or infection). A union of hidden nodes (a fracture, of fragile or strong bone) is ranked."""
        reported = set(self.cause_ids)
        return tuple(
            c.id
            for c in self.causes
            if not c.intermediate and not (c.kind == "any_of" and all(p in reported for p in c.parents))
        )

    @property
    def fixed_evidence(self) -> dict[str, str]:
        """Evidence every case carries (see `observed`)."""
        return dict(self.observed)

    @property
    def hidden_ids(self) -> tuple[str, ...]:
        """Binary nodes between causes and findings, not reported as causes."""
        return tuple(c.id for c in self.causes if c.intermediate)

    @property
    def pain_steps(self) -> tuple[CauseNode, ...]:
        """The back pain chain, first step first (its last step is the observed node)."""
        return tuple(c for c in self.causes if c.kind == "pain_step")

    def pain_factorised(self) -> NetworkSpec:
        """The same network with back pain as one childless 'spared' finding per cause instead of the chain.

        P(no back pain | causes) = (1 - leak) * product over present causes k of (1 - p_k): a product of one factor
        per cause. Finding `spared_by_<cause>` (states spared, hurt; no leak; P(hurt | cause) = p_k) observed
        'spared' is that factor. So P(x, evidence, back pain) = P(x, evidence) - (1 - leak) * P(x, evidence, every
        cause spared), two contractions of a network whose causes are tied together only where findings tie them;
        the chain ties every cause to every other and makes an exact contraction far larger (model/inference/pain.py).
        """
        steps = self.pain_steps
        if not steps:
            return self
        spared = tuple(
            FindingNode(
                id=f"spared_by_{step.pain.cause}",
                label=f"Back pain not produced by {step.pain.cause}",
                kind="noisy_max",
                states=("spared", "hurt"),
                leak=Link(None, (1.0, 0.0), None, step.pain.sourced),
                links=(Link(step.pain.cause, (1.0 - step.pain.p, step.pain.p), None, step.pain.sourced),),
            )
            for step in steps
        )
        causes = tuple(c for c in self.causes if c.kind != "pain_step")
        return NetworkSpec(self.contexts, causes, (*self.findings, *spared), ())

    def sourced_items(self) -> list[tuple[str, str, Sourced]]:
        """Every number-bearing row as (node, row description, its source): for audits and notebooks."""
        items: list[tuple[str, str, Sourced]] = []
        for c in self.contexts:
            items.append((c.id, "prior", c.prior_source))
        for c in self.causes:
            if c.sourced is not None:
                items.append((c.id, "any of " + ", ".join(c.parents), c.sourced))
            if c.leak is not None:
                items.append((c.id, "pain with no modelled cause (leak)", c.leak.sourced))
            if c.pain is not None:
                items.append((c.id, f"back pain from {c.pain.cause}", c.pain.sourced))
            for row in c.base:
                where = "all activities" if row.activities is None else ", ".join(row.activities)
                items.append((c.id, f"base P(present) for {where}", row.sourced))
            for o in c.odds:
                items.append((c.id, f"odds ratio for {o.parent}={o.state}", o.sourced))
        for f in self.findings:
            items.append((f.id, "leak", f.leak.sourced))
            for link in f.links:
                items.append((f.id, f"link from {link.cause}", link.sourced))
        return items


@cache
def load_spec() -> NetworkSpec:
    """The built-in network definition (model/data/network.toml)."""
    from model.network.parse import read_spec  # imported here: the parser imports this module for its classes

    return read_spec(resources.files("model").joinpath("data/network.toml").read_text(encoding="utf-8"))
