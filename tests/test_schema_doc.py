"""docs/case-schema.md is generated from the contract data (scripts/schema_doc.py): the committed file is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from model.care.rules import LEVELS
from model.cases.fields import FIELDS, load_contract
from model.network.spec import load_spec

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "docs" / "case-schema.md"


def test_the_committed_schema_is_what_the_contract_data_generates() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "schema_doc.py")], capture_output=True, text=True, check=True
    )
    assert done.stdout == SCHEMA.read_text(encoding="utf-8"), "docs/case-schema.md is stale: run `make schema`"


def test_the_schema_names_every_field_value_cause_level_and_output_column() -> None:
    text = SCHEMA.read_text(encoding="utf-8")
    for field in FIELDS:
        assert f"| `{field.name}` |" in text
        assert all(f"`{value}`" in text for value in field.choices), field.name
    for cause in load_spec().cause_ids:
        assert f"| `{cause}` |" in text
    for level in LEVELS:
        assert f"| `{level}` |" in text
    for column in load_contract().outputs:
        assert f"| `{column.name}` |" in text
