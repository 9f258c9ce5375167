"""The contract as data (model/data/contract.toml): checked when it loads, and in step with the network."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from model.cases.fields import (
    FIELD_BY_NAME,
    FIELDS,
    STEPS,
    WARNING_SIGNS,
    ContractError,
    load_contract,
    parse_case,
    read_contract,
)
from model.network.spec import load_spec


def contract_text() -> str:
    return resources.files("model").joinpath("data/contract.toml").read_text(encoding="utf-8")


def test_every_cause_of_the_network_is_a_cause_of_the_contract_and_back() -> None:
    assert sorted(c.id for c in load_contract().causes) == sorted(load_spec().cause_ids)


def test_every_question_is_a_question_and_every_field_is_in_a_group() -> None:
    groups = {g.id for g in load_contract().groups}
    for field in FIELDS:
        assert field.group in groups
        if field.kind != "text":
            assert field.question.endswith("?") and field.question[0].isupper(), field.name
        assert not field.help or field.help.endswith("."), field.name


def test_warning_signs_are_yes_no_fields_in_the_contracts_order() -> None:
    assert len(WARNING_SIGNS) == 15
    assert all(FIELD_BY_NAME[sign].kind == "yesno" for sign in WARNING_SIGNS)
    assert WARNING_SIGNS[:3] == ("saddle_numbness", "bladder_bowel_change", "leg_weakness")


def test_the_yes_no_words_come_from_the_contract() -> None:
    edited = contract_text().replace('["1", "0"]]', '["1", "0"], ["si", "non"]]')
    assert read_contract(edited).yes_no[-1] == ("si", "non")
    assert parse_case({"fever": " Y "})["fever"] == "yes"
    assert FIELD_BY_NAME["fever"].expected == "yes or no (also y/n, true/false, 1/0)"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('name = "age"\ngroup = "context"', 'name = "age"\ngroupe = "context"', "unknown key 'groupe'"),
        ('kind = "integer"', 'kind = "whole"', "kind 'whole' is not one of text, yesno, choice, integer, number"),
        ('group = "symptom"\nkind = "choice"', 'group = "symptoms"\nkind = "choice"', "group 'symptoms' is not one"),
        ('values = ["female", "male"]\n', "", "'values' lists the choices of a choice field"),
        ('values = ["female", "male"]', 'values = ["female", "Male"]', "values are distinct lower-case words"),
        ("low = 10\nhigh = 110", "low = 110\nhigh = 10", "'high' (10) must be above 'low' (110)"),
        ("low = 10\nhigh = 110", "low = 10", "an integer field needs a 'high'"),
        ('question = "Do you have a fever?"', 'question = "Do you have a fever"', "a question ends with '?'"),
        ('question = "Do you have a fever?"\n', "", "'question' must be a non-empty text"),
        ('  "pain_constant",\n]', '  "pain_constant",\n  "onset",\n]', "warning sign 'onset' is not a yes/no field"),
        ('  "pain_constant",\n]', '  "pain_constant",\n  "fever",\n]', "warning_signs lists a field twice"),
        ('[[cause]]\nid = "doms"', '[[cause]]\nid = "muscle_strain"', "a cause is listed twice"),
        ('name = "smoker"', 'name = "sex"', "field 'sex' is defined twice"),
        ("[reading]", "[reeding]", "unknown key 'reeding'"),
        (
            '  "headache_dizziness",\n]',
            "]",
            "every input field is asked in exactly one [[step]]: headache_dizziness in no",
        ),
        ('fields = ["onset",', 'fields = ["smoker", "onset",', "smoker in two steps"),
        (
            'fields = ["onset",',
            'fields = ["case_id", "onset",',
            "[[step]] names 'case_id', which is not an input field",
        ),
        ("warning_signs = true\n", "", "[[step]] 1: 'fields' must list the step's field names"),
        ('values = ["female", "male"]', 'values = ["female", "male", "unknown"]', "'unknown' means not known"),
    ],
)
def test_a_malformed_contract_fails_to_load_naming_the_entry(old: str, new: str, message: str) -> None:
    text = contract_text()
    assert old in text, old
    with pytest.raises(ContractError, match=r"^contract.*" + re.escape(message)):
        read_contract(text.replace(old, new, 1))


def test_the_built_in_contract_loads_the_fields_the_module_exposes() -> None:
    assert load_contract().fields == FIELDS
    assert load_contract().steps == STEPS and STEPS[0].fields == WARNING_SIGNS
    assert read_contract(contract_text()) == load_contract()
