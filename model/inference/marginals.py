"""Exact marginals of any pgmpy network for a table of cases: batch_marginals, with one engine kept per network."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from model.inference.engine import UNKNOWN, Engine
from model.network.build import DiscreteBayesianNetwork


@dataclass(frozen=True)
class _Compiled:
    """An engine and what it was built from: the network (weakly) and its CPD objects, to tell when they change."""

    network: weakref.ref
    cpds: tuple[Any, ...]
    engine: Engine
    states: dict[Hashable, tuple[Any, ...]]  # each node's state names as the network gives them, for the columns


# By id(network): pgmpy's DAG hashes and compares by its nodes and edges, so two networks of one structure
# with different tables would share an entry in a dict or a WeakKeyDictionary keyed by the network itself.
# Each entry goes when its network is collected.
_compiled: dict[int, _Compiled] = {}
_lock = threading.Lock()


def batch_marginals(
    network: DiscreteBayesianNetwork, evidence: pd.DataFrame, nodes: Sequence[Hashable] | None = None
) -> dict[Hashable, pd.DataFrame]:
    """Exact P(node = state | the row's evidence) for each row of `evidence` and each node of `nodes`.

    `network` is any pgmpy DiscreteBayesianNetwork with a CPD for every node. `evidence` has one column per
    observed node, named as the node, holding state names; a missing value (None, NaN, pd.NA or an empty
    string) means not observed, and a column may be left out. `nodes=None` means every node, in the
    engine's order (tables.node_order: parents before children, ties by name); a single node is asked for
    as a list of one. Returns {node: DataFrame} with `evidence`'s index and one column per state, named as
    the network names it. An observed node gets its state with probability 1; a row whose evidence has
    probability zero gets NaN, and one whose probability is merely tiny (even below float64's range) its answer.
    Values are state names, never state numbers: 0 names a state named 0, not a node's first state.

    The engine for a network is compiled on the first call and kept while the network lives, keyed by the
    network's identity; adding, removing or replacing CPDs makes the next call compile afresh (changing a
    CPD's values in place does not: treat a network's tables as read-only once it is used here).
    ValueError names an evidence column that is not a node, a value that is not a state of its node, or a
    node asked for that the network does not have; TypeError a `nodes` that is not a list of names.
    """
    if not isinstance(evidence, pd.DataFrame):
        raise TypeError(f"evidence must be a pandas DataFrame, not {type(evidence).__name__}")
    if nodes is not None and (isinstance(nodes, str | bytes) or not isinstance(nodes, Iterable)):
        # a string is iterable, and would ask for its letters
        kind = type(nodes).__name__
        raise TypeError(f"nodes must be a list of node names, not {kind} {nodes!r} (for one node: nodes=[{nodes!r}])")
    compiled = _compile(network)
    engine = compiled.engine
    wanted = list(engine.nodes if nodes is None else dict.fromkeys(nodes))
    for node in wanted:
        if node not in engine.index:
            raise ValueError(f"{node!r} is not a node of the network ({_some(sorted(engine.nodes))})")
    codes = _codes(engine, evidence)
    found = engine.marginals(codes, wanted)
    return {
        node: pd.DataFrame(found[node], index=evidence.index, columns=list(compiled.states[node]), copy=False)
        for node in wanted
    }


def _compile(network: DiscreteBayesianNetwork) -> _Compiled:
    """The engine for `network`, compiled on first use and again whenever its set of CPD objects changed."""
    if not isinstance(network, DiscreteBayesianNetwork):
        raise TypeError(f"network must be a pgmpy DiscreteBayesianNetwork, not {type(network).__name__}")
    cpds = tuple(network.get_cpds())
    key = id(network)
    with _lock:
        found = _compiled.get(key)
        if found is not None and found.network() is network and _same(found.cpds, cpds):
            return found
        missing = [node for node in network.nodes() if network.get_cpds(node) is None]
        if missing:
            raise ValueError(f"the network has no CPD for {_some(missing)}")
        engine = Engine(network)
        states = {cpd.variable: tuple(cpd.state_names[cpd.variable]) for cpd in cpds}
        compiled = _Compiled(weakref.ref(network, lambda _, key=key: _forget(key)), cpds, engine, states)
        _compiled[key] = compiled
        return compiled


def _forget(key: int) -> None:
    """Drop the engine of a network that has been collected (called by its weak reference).

    Without the lock: the collector can run this in the middle of _compile, on the thread that holds it.
    The entry is checked to be the dead network's, and no new network can have its id before it is freed."""
    entry = _compiled.get(key)
    if entry is not None and entry.network() is None:
        _compiled.pop(key, None)


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))


def _codes(engine: Engine, evidence: pd.DataFrame) -> np.ndarray:
    """The engine's (rows, nodes) evidence array for a DataFrame of state names.

    Each column's distinct values are looked up once. A value matches a state whose name reads the same as
    text, so 1 and "1" both name a state named 1; a whole float such as 1.0 (an integer column that pandas
    widened to hold NaN) also names the state "1"."""
    if not evidence.columns.is_unique:
        repeated = evidence.columns[evidence.columns.duplicated()][0]
        raise ValueError(f"evidence has more than one column {repeated!r}")
    codes = np.full((len(evidence), len(engine.nodes)), UNKNOWN, dtype=np.int16)
    for name in evidence.columns:
        if name not in engine.index:
            raise ValueError(f"evidence column {name!r} is not a node of the network ({_some(sorted(engine.nodes))})")
        try:
            seen, values = pd.factorize(evidence[name], use_na_sentinel=True)
        except TypeError:  # a value that cannot be hashed (a list, a dict, a tuple holding one) is no state name
            value = next((v for v in evidence[name] if not _hashable(v)), None)
            if value is None:
                raise
            names = ", ".join(map(str, engine.states[name]))
            raise ValueError(f"evidence column {name!r}: {value!r} is not a state of {name!r} ({names})") from None
        states = {state: i for i, state in enumerate(engine.states[name])}
        lookup = np.empty(len(values) + 1, dtype=np.int16)
        lookup[-1] = UNKNOWN  # pd.factorize's code for a missing value
        for i, value in enumerate(values):
            lookup[i] = _state_index(name, value, states, engine.states[name])
        codes[:, engine.index[name]] = lookup[seen]
    return codes


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _state_index(node: Hashable, value: Any, states: dict[str, int], names: tuple[str, ...]) -> int:
    if value is None or (isinstance(value, str) and not value):
        return UNKNOWN
    text = str(value)
    if text not in states and isinstance(value, float | np.floating) and float(value).is_integer():
        text = str(int(value))
    if text not in states:
        raise ValueError(f"evidence column {node!r}: {value!r} is not a state of {node!r} ({', '.join(names)})")
    return states[text]


def _some(names: Sequence[Hashable] | Any, most: int = 8) -> str:
    """A readable list of at most `most` names, saying how many more there are."""
    names = list(names)
    shown = ", ".join(str(n) for n in names[:most])
    return shown if len(names) <= most else f"{shown}, and {len(names) - most} more"


__all__ = ["batch_marginals"]
