"""Meta-tests over the data: every number has a known source and a rationale; every cause and rule has words."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from model.care.rules import load_rules
from model.cases.fields import EVIDENCE_FIELDS, FIELD_BY_NAME
from model.network.sources import load_sources, read_sources
from model.network.spec import SpecError, load_spec

PARAGRAPH_ID = re.compile(r"^(lifting|walking|jumping|pool|sitting|bending|yoga|running|deadlift|squats)\.\d+$")


def _known_ids() -> set[str]:
    return set(load_sources())


def test_the_registry_paraphrases_every_article_paragraph():
    paragraphs = [s for s in load_sources().values() if s.kind == "article"]
    assert len(paragraphs) == 66
    assert all(PARAGRAPH_ID.match(p.id) for p in paragraphs)
    assert all(len(p.text.split()) >= 5 for p in paragraphs)
    assert load_sources()["jumping.6"].title == (
        '"Back pain after exercising" (a patient article, medically reviewed 2024-04-23), '
        'section "Back pain after jumping", paragraph 6'
    )


def test_every_citation_restates_its_figures_and_says_how_sure_they_are():
    citations = [s for s in load_sources().values() if s.kind == "citation"]
    assert len(citations) == 29
    for citation in citations:
        assert citation.reference and citation.text, citation.id
        assert citation.title.startswith(citation.reference)
        assert citation.line == f"{citation.reference}: {citation.text}"
    assert load_sources()["jarvik2002"].title.endswith("(figure quoted by another source)")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('id = "lifting.2"', 'id = "lifting.1"', "lifting.1 is listed twice"),
        ('confidence = "primary"', 'confidence = "sure"', "confidence 'sure' is not one of primary"),
        ('id = "jumping.6"', 'id = "trampoline.6"', "paragraph trampoline.6 is not <section>.<number>"),
    ],
)
def test_a_malformed_registry_fails_to_load_naming_the_source(old: str, new: str, message: str) -> None:
    text = resources.files("model").joinpath("data/sources.toml").read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(SpecError, match=re.escape(message)):
        read_sources(text.replace(old, new, 1))


def test_every_number_of_the_network_has_a_known_source_and_a_rationale():
    known = _known_ids()
    items = load_spec().sourced_items()
    assert len(items) > 150
    for node, row, sourced in items:
        assert sourced.source, f"{node} {row}: no source"
        unknown = [s for s in sourced.source if s not in known]
        assert not unknown, f"{node} {row}: unknown source {unknown}"
        assert len(sourced.why) >= 10, f"{node} {row}: rationale too short"


def test_every_care_rule_cites_known_sources():
    known = _known_ids()
    rules = load_rules()
    for flag in rules.flags:
        assert set(flag.source) <= known, flag.id
    for rule in rules.posteriors:
        assert set(rule.source) <= known, rule.cause
    assert set(rules.self_care_source) <= known


def test_every_cause_has_a_label_a_patient_reads():
    for cause in load_spec().causes:
        assert cause.label and cause.label[0].isupper() and "_" not in cause.label


def test_every_input_field_is_a_node_with_the_contracts_values():
    spec = load_spec()
    nodes = spec.nodes
    for name in EVIDENCE_FIELDS:
        field = FIELD_BY_NAME[name]
        node = nodes[name]
        if field.kind in ("integer", "number"):
            assert node.bins, name
            assert node.bins[0].low == field.low, name
        elif field.kind == "yesno":
            assert set(node.states) == {"yes", "no"}, name
        else:
            assert set(node.states) == set(field.choices), name


def test_every_cause_can_be_named_by_some_answer():
    # No cause is unreachable: each has at least one finding or context parent that evidence can touch.
    spec = load_spec()
    children = {c: [f.id for f in spec.findings if c in f.parents] for c in spec.cause_ids}
    for cause in spec.causes:
        if cause.intermediate or cause.kind == "any_of":  # a union is named through its finer causes
            continue
        assert children[cause.id] or any(p in EVIDENCE_FIELDS for p in cause.parents), cause.id
