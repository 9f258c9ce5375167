"""Write docs/case-schema.md from the contract data (`make schema`); a test checks the committed file is current.

The fields, values, causes, warning signs and output columns come from model/data/contract.toml, the care
levels and their advice from model/data/care.toml; the prose between them is the template below.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from model.care.rules import LEVELS, load_rules
from model.cases.fields import Field, load_contract

DOC = Path(__file__).resolve().parent.parent / "docs" / "case-schema.md"
WIDTH = 116

INTRO = """\
# The case: what a user tells the model, and what they get back

This file is generated from [`model/data/contract.toml`](../model/data/contract.toml) and the care levels of
[`model/data/care.toml`](../model/data/care.toml) by `make schema`: edit those, not this.

This is the contract that the Streamlit app, the CSV batch scorer, the notebooks and every test share. A case is
one person's situation. Every field is optional: an empty cell or an unset widget means "not known", and the network
leaves that variable unobserved. Nothing is ever guessed for it.

## Input fields (CSV columns, in any order)

Values are read ignoring letter case and surrounding spaces (`" Female "` is `female`). Yes/no fields also accept
{other_yes_no}. `{unknown}` means "not known", as an empty cell does. Files are UTF-8, with or without a byte-order
mark (as spreadsheets export them). Anything else in a field is an error for that row (see "Bad input" below).
"""

CAUSES = """\
`tumor_or_infection` is kept, and means what it always meant: a tumour **or** an infection of the spine. Its
posterior is P(spinal_malignancy or spinal_infection), consistent with the two finer causes. It is reported, but it
is not ranked: `top_cause` and any ordering of causes use the finer causes.

The network may hold more nodes (intermediate ones, more causes), but these ids exist and mean this. Every field
above is optional, so a file written for an earlier version of this contract still scores. Posteriors are marginal:
causes are not mutually exclusive, so they need not sum to one.
"""

CARE = """\
Each advice comes with its reasons: the red flags or posteriors that set it, in words a patient understands.

**Warning signs** are the red-flag questions that guidelines say must be asked before a person is reassured:
{warning_signs}. A "yes" to any of them never leaves the care level at `self_care`, and adding one never lowers it.
Advice may say that there are no warning signs only when every one was answered "no". When some are unknown, the
advice is given from what is known and says which were not asked.
"""

BAD_INPUT = """\
## Bad input

A row with a value outside its column's values (a typo, a negative duration, age 300, "maybe") keeps its place in
the output: its `error` names the column, the value and what was expected, and its probabilities are empty. An
unknown column stops the run, since it is most likely a misspelt real one (say which), unless the user names it as a
column to pass through. A missing file, an empty file, a wrong encoding or a file that is not CSV also stop the run
with one clear line saying what is wrong, and no traceback. No row is ever dropped, reordered or silently "fixed".

Numbers are plain decimals: an optional sign, digits, an optional decimal point (`7`, `7.5`, `+7`, `-0`). Anything
else (`1_0`, `0x10`, `1e400`, `nan`, `inf`, digits of other scripts) is an error for that row, never a silent
reading. A number field has no hidden upper limit beyond its stated range: a duration of 100,000 days is simply a
long duration. Passed-through columns are written back exactly as read; a spreadsheet-safe output (cells starting
with `=`, `+`, `-`, `@`, tab or carriage return prefixed with `'`) is an option the user chooses, never the default.
"""


def values_words(field: Field) -> str:
    """A field's values as the schema's table gives them."""
    if field.kind == "text":
        return "any text"
    if field.kind == "yesno":
        return "yes/no"
    if field.kind == "choice":
        return ", ".join(f"`{v}`" for v in field.choices)
    span = f"{field.low:g}-{field.high:g}" if field.high is not None else f">= {field.low:g}"
    if field.kind == "integer":
        return f"whole {field.unit or 'numbers'}, {span}"
    return f"number of {field.unit} {span}" if field.unit else f"number {span}"


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A Markdown table; an empty cell is one space, and a | in a cell is escaped (GitHub's tables need it even
    inside code)."""
    cells = [[cell.replace("|", "\\|") for cell in row] for row in (header, *rows)]
    lines = ["|" + "|".join(f" {cell} " if cell else " " for cell in row) + "|" for row in cells]
    lines.insert(1, "|" + "---|" * len(header))
    return "\n".join(lines) + "\n"


def wrapped(text: str) -> str:
    """Each paragraph of `text` (headings and tables as they are) filled to WIDTH."""
    out = []
    for block in text.strip("\n").split("\n\n"):
        if block.startswith(("#", "|")):
            out.append(block)
        else:
            out.append(textwrap.fill(" ".join(block.split()), WIDTH, break_long_words=False, break_on_hyphens=False))
    return "\n\n".join(out) + "\n"


def schema() -> str:
    """docs/case-schema.md as the contract data says it."""
    contract = load_contract()
    others = [f"`{yes}`/`{no}`" for yes, no in contract.yes_no[1:]]
    parts = [wrapped(INTRO.format(other_yes_no=", ".join(others), unknown=contract.unknown))]
    for group in contract.groups:
        rows = [(f"`{f.name}`", values_words(f), f.meaning) for f in contract.fields if f.group == group.id]
        parts.append(f"### {group.title}\n" + table(("column", "values", "meaning"), rows))
    causes = [(f"`{c.id}`", c.meaning, c.article) for c in contract.causes]
    parts.append(
        "## Candidate causes (hidden nodes; ids are fixed)\n\n" + table(("id", "what it is", "article"), causes)
    )
    parts.append(wrapped(CAUSES))
    advice = load_rules().advice
    levels = [(f"`{level}`", advice[level]) for level in reversed(LEVELS)]
    parts.append("## Care levels (when to seek care), most urgent first\n\n" + table(("id", "advice"), levels))
    parts.append(wrapped(CARE.format(warning_signs=", ".join(f"`{s}`" for s in contract.warning_signs))))
    outputs = [(f"`{o.name}`", o.meaning) for o in contract.outputs]
    parts.append(
        "## Output of batch scoring (one row per input row, same order)\n\n"
        "All input columns unchanged, then these columns, in this order:\n\n" + table(("column", "meaning"), outputs)
    )
    parts.append(wrapped(BAD_INPUT))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, help="write the schema to this file (default: standard output)")
    args = parser.parse_args(argv)
    text = schema()
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
