"""Reviewer tables: node states, priors by activity (hand-computed slices), numbers beside their sources."""

import math

import numpy as np
import pytest

from model.inspect.review import cpt_frame, node_states, prior_by_activity, sourced_rows
from model.network.build import load_network
from model.network.sources import load_sources
from model.network.spec import CauseNode, load_spec


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def test_every_cited_source_is_listed(spec):
    sources = load_sources()
    cited = {s for _, _, sourced in spec.sourced_items() for s in sourced.source}
    assert cited <= set(sources), sorted(cited - set(sources))
    assert sources["jumping.6"].kind == "article"
    assert sources["downie2013"].kind == "citation"


def test_node_states_lists_every_node_once_with_its_kind(spec):
    table = node_states(spec)
    assert list(table["node"]) == list(spec.nodes)
    kinds = dict(zip(table["node"], table["kind"], strict=True))
    assert kinds["activity"] == "context"
    assert kinds["chronic_course"] == "hidden"
    assert kinds["bruising"] == "finding"
    assert sum(k == "cause" for k in kinds.values()) == len(spec.cause_ids)
    age = table.set_index("node").loc["age", "states"]
    assert "from_70 [70, 110]" in age and "under_30 [10, 30)" in age


def test_prior_by_activity_equals_hand_computed_tables(spec):
    table = prior_by_activity(spec)
    assert list(table.index) == list(spec.cause_ids)
    assert list(table.columns) == list(spec.states("activity"))
    checked = 0
    for cause in spec.causes:
        if cause.intermediate or cause.parents not in (("activity",), ("activity", "sex")):
            continue
        for row in cause.base:
            for activity in row.activities:
                if cause.parents == ("activity",):
                    expected = row.p
                else:
                    # Sex is summed out at its prior; an odds ratio for one sex shifts the logit for that half.
                    sex_prior = dict(zip(spec.states("sex"), spec.nodes["sex"].prior, strict=True))
                    odds = {o.state: math.log(o.ratio) for o in cause.odds}
                    expected = sum(w * _sigmoid(_logit(row.p) + odds.get(s, 0.0)) for s, w in sex_prior.items())
                assert table.loc[cause.id, activity] == pytest.approx(expected, abs=1e-9), (cause.id, activity)
                checked += 1
    assert checked >= len(spec.states("activity"))


def test_sourced_rows_put_each_number_beside_its_sources(spec):
    for node in ("compression_fracture", "fragility_fracture", "numbness", "age", "onset", "back_pain"):
        rows = sourced_rows(spec, node)
        expected = [item for item in spec.sourced_items() if item[0] == node]
        assert len(rows) == len(expected)
        for (_, _, sourced), (_, row) in zip(expected, rows.iterrows(), strict=True):
            assert row["source"] == ", ".join(sourced.source)
            assert row["why"] == sourced.why
            for source in sourced.source:
                assert load_sources()[source].text in row["sources say"]
    cause = spec.nodes["fragility_fracture"]
    assert isinstance(cause, CauseNode)
    fracture = sourced_rows(spec, "fragility_fracture")
    assert any(v == f"x {o.ratio:g}" for o in cause.odds for v in fracture["value"])


def test_cpt_frame_is_pgmpys_table_with_named_rows():
    network = load_network()
    frame = cpt_frame(network, "bruising")
    assert list(frame.columns) == ["no", "yes"]
    assert np.allclose(frame.sum(axis=1), 1.0)
    assert frame.index.names == network.get_cpds("bruising").variables[1:]
    spec = load_spec()
    links = {link.cause: link.p[1] for link in spec.nodes["bruising"].links}
    leak = spec.nodes["bruising"].leak.p[1]
    only_bleeding = {p: "present" if p == "soft_tissue_bleeding" else "absent" for p in frame.index.names}
    expected = 1 - (1 - leak) * (1 - links["soft_tissue_bleeding"])
    assert frame.loc[tuple(only_bleeding[p] for p in frame.index.names), "yes"] == pytest.approx(expected)
    assert list(cpt_frame(network, "sex").index) == ["(no parents)"]
