"""Interchange files: every format reads back identical, and the comparison catches real differences."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from pgmpy.factors.discrete import TabularCPD

from model.inspect.export import (
    FORMATS,
    network_differences,
    read_network,
    round_trip,
    unportable_names,
    write_network,
)
from model.network.build import load_network


@pytest.fixture(scope="module")
def network():
    return load_network()


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_round_trips_every_table(network, tmp_path, fmt):
    result = round_trip(network, tmp_path, fmt)
    assert result.path.exists()
    assert result.path.suffix == FORMATS[fmt]
    assert result.identical, result.differences


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_writing_leaves_the_network_as_it_was(network, tmp_path, fmt):
    # a writer leaves the network it writes as it was (pgmpy's XMLBIF writer sorts the CPD list in place)
    before = [(cpd.variable, tuple(cpd.variables), cpd.values.tobytes()) for cpd in network.get_cpds()]
    write_network(network, tmp_path / f"net{FORMATS[fmt]}", fmt)
    assert [(cpd.variable, tuple(cpd.variables), cpd.values.tobytes()) for cpd in network.get_cpds()] == before


def _variable(root: ET.Element, name: str) -> ET.Element:
    return next(v for v in root.iter("VARIABLE") if v.findtext("NAME") == name)


def _definition(root: ET.Element, name: str) -> ET.Element:
    return next(d for d in root.iter("DEFINITION") if d.findtext("FOR") == name)


def _tampered(network, tmp_path, change) -> list[str]:
    path = write_network(network, tmp_path / "net.xml", "xmlbif")
    tree = ET.parse(path)
    change(tree.getroot())
    tree.write(path)
    return [f"{d.node}: {d.problem}" for d in network_differences(network, read_network(path, "xmlbif"))]


def test_a_changed_probability_is_reported_with_its_node(network, tmp_path):
    def nudge(root: ET.Element) -> None:
        table = _definition(root, "bruising").find("TABLE")
        values = table.text.split()
        values[0], values[1] = str(float(values[0]) - 0.001), str(float(values[1]) + 0.001)
        table.text = " ".join(values)

    problems = _tampered(network, tmp_path, nudge)
    assert len(problems) == 1
    assert problems[0].startswith("bruising: probabilities differ by up to 0.001")


def test_reordered_states_are_a_difference(network, tmp_path):
    def swap(root: ET.Element) -> None:
        outcomes = _variable(root, "numbness").findall("OUTCOME")
        outcomes[0].text, outcomes[1].text = outcomes[1].text, outcomes[0].text

    problems = _tampered(network, tmp_path, swap)
    assert any(p.startswith("numbness: states of numbness") for p in problems)


def test_a_lost_edge_is_a_difference(network, tmp_path):
    def drop_parent(root: ET.Element) -> None:
        definition = _definition(root, "headache_dizziness")
        definition.remove(definition.find("GIVEN"))
        table = definition.find("TABLE")
        table.text = " ".join(table.text.split()[:2])

    problems = _tampered(network, tmp_path, drop_parent)
    assert "(network): 1 edges lost, 0 edges added" in problems
    assert any(p.startswith("headache_dizziness: parents") for p in problems)


def test_parent_order_alone_is_not_a_difference(network, tmp_path):
    copy = read_network(write_network(network, tmp_path / "net.xml", "xmlbif"), "xmlbif")
    cpd = copy.get_cpds("disc_degeneration")
    node, parents = cpd.variables[0], cpd.variables[1:][::-1]
    values = np.transpose(cpd.values, [0, *range(len(parents), 0, -1)])
    reordered = TabularCPD(
        node,
        cpd.cardinality[0],
        values.reshape(cpd.cardinality[0], -1),
        evidence=parents,
        evidence_card=list(cpd.cardinality[1:][::-1]),
        state_names={v: cpd.state_names[v] for v in cpd.variables},
    )
    copy.remove_cpds(cpd)
    copy.add_cpds(reordered)
    assert copy.get_cpds("disc_degeneration").variables[1:] == network.get_cpds("disc_degeneration").variables[:0:-1]
    assert network_differences(network, copy) == []


def test_every_name_of_the_network_is_portable(network):
    assert unportable_names(network) == []


def test_a_digit_led_state_is_reported_as_unportable(network):
    cpd = network.get_cpds("age").copy()
    cpd.state_names["age"] = ["under_30", "30_to_49", "from_50_to_69", "from_70"]
    renamed = network.copy()
    renamed.remove_cpds(renamed.get_cpds("age"))
    renamed.add_cpds(cpd)
    assert "age=30_to_49" in unportable_names(renamed)


def test_unknown_format_is_refused(network, tmp_path):
    with pytest.raises(ValueError, match="xmlbif, bif, xdsl"):
        write_network(network, tmp_path / "net.json", "json")
    with pytest.raises(ValueError, match="is not one of"):
        read_network(tmp_path / "net.json", "json")
