"""The command line: `backcheck score INPUT.csv -o OUTPUT.csv`. It only translates; model/ does the work."""

from __future__ import annotations

import sys

import click
import pandas as pd

from model.batch import score_cases
from model.fields import UnknownFieldError


@click.group()
@click.version_option(package_name="backcheck")
def main() -> None:
    """backcheck: likely causes of back pain after exercise, and when to seek care. Not a diagnosis."""


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False), help="Write here (default: stdout).")
@click.option("--keep", multiple=True, metavar="COLUMN", help="Pass an extra column through unchanged.")
def score(input_path: str, output_path: str | None, keep: tuple[str, ...]) -> None:
    """Score the cases in INPUT (a CSV file, or - for standard input).

    Example: backcheck score data/example_cases.csv -o scored.csv
    """
    source = sys.stdin if input_path == "-" else input_path
    try:
        cases = pd.read_csv(source, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        scored = score_cases(cases, keep=keep)
    except FileNotFoundError:
        raise click.ClickException(f"{input_path}: no such file") from None
    except (UnknownFieldError, ValueError) as exc:
        raise click.ClickException(f"{input_path}: {exc}") from None
    scored.to_csv(output_path or sys.stdout, index=False)


if __name__ == "__main__":
    main()
