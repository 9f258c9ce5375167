"""The README's examples run and print what it says they print: its pycon blocks as doctests, its console blocks
command by command in a scratch directory."""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
# A fenced block, indented or not (a block inside a list item is indented with the item).
FENCE = re.compile(r"^(?P<indent> *)```(?P<language>\w+)\n(?P<body>.*?)^(?P=indent)```$", re.DOTALL | re.MULTILINE)


def blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [
        re.sub(f"^{m['indent']}", "", m["body"], flags=re.M) for m in FENCE.finditer(text) if m["language"] == language
    ]


def test_the_readme_has_examples_of_both_kinds() -> None:
    assert len(blocks("pycon")) >= 3 and len(blocks("console")) >= 1


def test_the_python_examples_print_what_the_readme_says() -> None:
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    namespace: dict = {}  # the blocks follow each other, as a reader types them into one session
    for i, block in enumerate(blocks("pycon")):
        test = parser.get_doctest(block, namespace, f"README pycon block {i + 1}", str(README), 0)
        runner.run(test, clear_globs=False)
        namespace = test.globs
    failed, tried = runner.summarize(verbose=False)
    assert tried and not failed, "a README example printed something else (see above)"


@pytest.mark.parametrize("block", blocks("console"), ids=lambda b: b.splitlines()[0][:40])
def test_the_console_examples_print_what_the_readme_says(block: str, tmp_path: Path) -> None:
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    command, expected = None, []
    for line in [*block.splitlines(), "$ "]:
        if not line.startswith("$ "):
            expected.append(line)
            continue
        if command:
            done = subprocess.run(
                ["bash", "-c", command], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=300
            )
            assert (done.stdout + done.stderr).splitlines() == expected, command
        command, expected = line[2:], []
