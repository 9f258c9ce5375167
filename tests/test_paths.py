"""The stored contraction paths (model/data/paths.json, written by scripts/paths.py) against the network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from model.engine import UNKNOWN, Engine, fingerprint, load_engine, load_paths
from model.pain import pain_factorised_network

ROOT = Path(__file__).resolve().parent.parent
STALE = "the network's plans changed since model/data/paths.json was written: run `make paths`"


def test_the_stored_paths_were_searched_for_the_plans_of_the_network() -> None:
    contractions = load_engine().contractions()
    stored = load_paths()
    assert stored["contractions"] == fingerprint(contractions), STALE
    assert set(stored["paths"]) <= set(contractions)
    assert stored["paths"], "no stored path: the engine runs on greedy paths alone"


def test_every_stored_path_contracts_its_plan_in_fewer_operations_than_the_greedy_one() -> None:
    engine = load_engine()
    contractions = engine.contractions()
    for signature, path in load_paths()["paths"].items():
        scopes = contractions[signature]
        assert engine.path_cost(scopes, path) < engine.greedy_path(scopes)[1], signature


def test_the_stored_paths_give_the_answers_of_the_greedy_ones() -> None:
    # the engine of the factorised network (model/pain.py), with its stored paths and with greedy ones
    stored, greedy = load_engine().engine, Engine(pain_factorised_network())
    rng = np.random.default_rng(7)
    cards = np.array([stored.card[n] for n in stored.nodes])
    codes = (rng.random((300, len(cards))) * cards).astype(np.int16)
    codes[rng.random(codes.shape) < 0.4] = UNKNOWN
    a, b = stored.marginals(codes, stored.nodes), greedy.marginals(codes, stored.nodes)
    for node in stored.nodes:
        assert np.allclose(a[node], b[node], rtol=0, atol=1e-12, equal_nan=True), node
    paths, used = load_paths()["paths"], 0
    for plan in stored._plans.values():
        path = paths.get(stored.path_signature(plan.scopes[: len(plan.leaves)]))
        if path is not None:  # the plan's first step multiplies the path's first group
            assert plan.steps[0].inputs == tuple(path[0])
            used += 1
    assert used


@pytest.mark.slow  # runs the path search twice, tens of seconds
def test_the_search_script_writes_the_same_paths_every_run_and_the_engine_takes_them(tmp_path: Path) -> None:
    outputs = [tmp_path / "first.json", tmp_path / "second.json"]
    for output, seed in zip(outputs, ("1", "2"), strict=True):
        done = subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "paths.py"),
                "--trials",
                "2",
                "--jobs",
                "2",
                "--output",
                str(output),
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},  # the script fixes its own
        )
        assert f"{len(load_engine().contractions())} plans" in done.stdout and "fewer" in done.stdout
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    written = json.loads(outputs[0].read_text(encoding="utf-8"))
    assert written["trials"] == 2
    assert written["contractions"] == load_paths()["contractions"]
    engine = Engine(pain_factorised_network(), written["paths"])
    contractions = engine.contractions()
    for signature, path in written["paths"].items():
        assert engine.path_cost(contractions[signature], path) < engine.greedy_path(contractions[signature])[1]
