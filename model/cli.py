"""The command line: `backcheck score INPUT.csv -o OUTPUT.csv`. It only translates; model/ does the work."""

from __future__ import annotations

import os
import sys

import click
from tqdm import tqdm

from model.stream import InputError, default_jobs, score_csv


@click.group()
@click.version_option(package_name="backcheck")
def main() -> None:
    """backcheck: likely causes of back pain after exercise, and when to seek care. Not a diagnosis."""


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=True, allow_dash=True))
@click.option(
    "-o",
    "--output",
    "output_path",
    metavar="FILE",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the scored cases to FILE (default: standard output). FILE appears only when the run succeeds. "
    "Example: -o scored.csv",
)
@click.option(
    "--keep",
    multiple=True,
    metavar="COLUMN",
    help="Pass the extra column COLUMN through unchanged; repeat for several. Any other column that is not in "
    "the case schema stops the run. Example: --keep clinic --keep visit_date",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="No progress bar and no summary line (the bar only shows on a terminal anyway). Example: --quiet",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Exit with status 1 when any row has an error (the output is still written). Example: --strict",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Score with N processes (default: every processor this run may use; small files always use one). "
    "Example: --jobs 2",
)
def score(
    input_path: str, output_path: str | None, keep: tuple[str, ...], quiet: bool, strict: bool, jobs: int | None
) -> None:
    """Score the cases in INPUT, a CSV file (or - for standard input) with the columns of the case schema.

    The output has every input column unchanged, then p_<cause> for each cause, top_cause, care,
    care_reasons and error. A row with a bad value keeps its place, with an error naming the column, the
    value and what was expected. A missing, empty, binary or non-UTF-8 file, a row with too many or too few
    fields, or a duplicate or unknown column stops the run with one line saying why, and writes nothing.

    Exit status: 0 when the run completed (row errors are counted in the summary), 1 on a problem that
    stopped it (and with --strict when any row has an error), 2 on a mistake in the command itself.

    \b
    Examples:
      backcheck score cases.csv -o scored.csv
      backcheck score cases.csv --keep clinic --strict > scored.csv
      cat cases.csv | backcheck score - -o scored.csv
    """
    # tqdm's monitor thread would be running when the scorer forks its workers
    tqdm.monitor_interval = 0
    bar = tqdm(
        total=None,
        unit=" rows",
        unit_scale=True,
        file=sys.stderr,
        disable=quiet or not sys.stderr.isatty(),
        dynamic_ncols=True,
    )

    def on_total(rows: int) -> None:
        bar.reset(total=rows)

    try:
        with bar:
            summary = score_csv(
                input_path,
                output_path,
                keep=keep,
                jobs=jobs or default_jobs(),
                progress=bar.update,
                on_total=on_total,
            )
    except InputError as exc:
        raise click.ClickException(str(exc)) from None
    except BrokenPipeError:
        # The reader of standard output went away (e.g. `| head`): nothing left to say, and nowhere to say it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as exc:
        where = exc.filename or output_path or "output"
        raise click.ClickException(f"{where}: cannot write ({exc.strerror or exc})") from None
    if not quiet:
        click.echo(
            f"backcheck: {summary.rows:,} rows scored, {summary.errors:,} with errors"
            + (" (see the error column)" if summary.errors else ""),
            err=True,
        )
    if strict and summary.errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
