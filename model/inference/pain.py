"""Exact answers with back pain observed, computed without its chain: two contractions and a difference.

The network holds back pain as a chain of noisy-OR steps over every cause (parse._pain_chain), and pgmpy answers on
it as it stands. Contracting that chain exactly ties every cause to every other, and with a dozen unknown context
answers the contraction grows a thousandfold. A noisy-OR observed *absent* factorises instead: P(no pain | causes)
= (1 - leak) * prod_k (1 - p_k)^[cause k present]. So, for any evidence e and node x,

    P(x, e, pain) = P(x, e) - (1 - leak) * P(x, e, every cause spared),

where "every cause spared" observes one childless finding per cause (spec.pain_factorised). Both terms are
contractions of the factorised network, as cheap as a network without the pain node; the difference is exact, and
since P(pain | e) is at least the leak, it loses at most a couple of digits of the sixteen.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np

from model.inference.codes import UNKNOWN, Encoding, normalised
from model.inference.engine import Engine
from model.network.build import DiscreteBayesianNetwork, build_network
from model.network.spec import load_spec


@cache
def pain_factorised_network() -> DiscreteBayesianNetwork:
    """The built-in network with back pain factorised (built once; read-only)."""
    return build_network(load_spec().pain_factorised())


class PainEngine(Encoding):
    """The built-in network's answers (back pain included) from an Engine on its factorised form.

    It speaks the network's nodes: the contexts, causes and findings, and the observed pain node; the chain's
    intermediate steps are pgmpy's representation only and have no answers here.
    """

    def __init__(self, engine: Engine):
        spec = load_spec()
        steps = spec.pain_steps
        self.engine = engine
        self.pain = steps[-1].id
        self.pain_states = spec.states(self.pain)
        self.keep = 1.0 - steps[0].leak.p  # P(no pain from the leak)
        self.spared = [f"spared_by_{step.pain.cause}" for step in steps]
        hidden = {step.id for step in steps[:-1]} | set(self.spared)
        self.nodes = [n for n in engine.nodes if n not in hidden] + [self.pain]
        self.index = {node: i for i, node in enumerate(self.nodes)}
        self.states = {node: engine.states[node] for node in self.nodes if node != self.pain}
        self.states[self.pain] = self.pain_states
        self.card = {node: len(states) for node, states in self.states.items()}
        self._inner = np.array([engine.index[n] for n in self.nodes[:-1]])
        self._spared = np.array([engine.index[n] for n in self.spared])

    def marginals(self, codes: np.ndarray, nodes: Sequence[str]) -> dict[str, np.ndarray]:
        """{node: (cases, states) array of P(node = state | the case's evidence)}, as Engine.marginals."""
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[1] != len(self.nodes):
            raise ValueError(f"evidence must be a (cases, {len(self.nodes)}) array")
        nodes = list(dict.fromkeys(nodes))
        for node in nodes:
            if node not in self.index:
                raise ValueError(f"'{node}' is not a node of the network")
        pain = codes[:, -1].astype(np.intp)
        if ((pain < UNKNOWN) | (pain >= len(self.pain_states))).any():
            raise ValueError(f"evidence for '{self.pain}' holds a state index outside 0-{len(self.pain_states) - 1}")
        inner_nodes = [n for n in nodes if n != self.pain]
        n = len(codes)
        free = np.full((n, len(self.engine.nodes)), UNKNOWN, dtype=np.int16)
        free[:, self._inner] = codes[:, :-1]
        spared = free.copy()
        spared[:, self._spared] = 0  # every cause spared
        # one call: the first n rows give P(., e), the last n P(., e, every cause spared)
        evidence, joints = self.engine.joint(np.concatenate([free, spared]), inner_nodes)
        all_e, spared_e = evidence[:n], self.keep * evidence[n:]
        present = self.pain_states.index("present")
        no_pain = spared_e  # P(e, no pain)
        with_pain = all_e - spared_e  # P(e, pain)
        chosen = np.where(pain == UNKNOWN, all_e, np.where(pain == present, with_pain, no_pain))
        combined = {}
        for node in inner_nodes:
            a, b = joints[node][:n], self.keep * joints[node][n:]
            combined[node] = np.where((pain == UNKNOWN)[:, None], a, np.where((pain == present)[:, None], a - b, b))
        if self.pain in nodes:
            table = np.zeros((n, len(self.pain_states)))
            table[:, present] = with_pain
            table[:, 1 - present] = no_pain
            combined[self.pain] = table
        return normalised(codes, self.index, nodes, chosen, combined)

    def __getattr__(self, name: str):  # plans_compiled, plan_bits, ...: the factorised engine's
        return getattr(self.engine, name)
