"""The command line: `backcheck score INPUT.csv -o OUTPUT.csv`. It only translates; model/ does the work."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from model.stream import Summary

# model.stream, tqdm and what they import (numpy, pandas, pyarrow, the network) take a second or more to load:
# `score` imports them once its signal handlers are set, so that a Ctrl-C then ends in one line, not a traceback.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """A stop signal arrived. A BaseException, as KeyboardInterrupt is: no `except Exception` swallows it."""

    def __init__(self, number: int):
        super().__init__(number)
        self.number = number


@contextlib.contextmanager
def _stopping_on_signals() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into Stopped for the block, then put the handlers back.

    The first signal raises; after it all three are ignored, so that a second Ctrl-C cannot interrupt the
    clean-up that the first one started (model.stream holds them while it cleans up, and a held one would
    otherwise raise as the clean-up ends)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers
        return

    def stop(number: int, frame: object) -> None:
        for other in STOP_SIGNALS:
            signal.signal(other, signal.SIG_IGN)
        raise Stopped(number)

    before = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


class ScoreCommand(click.Command):
    """`score`, whose help ends with the case schema's columns as the contract data lists them.

    model.fields (and numpy and pandas with it) is imported only when the help is shown."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from model.fields import load_contract

        contract = load_contract()
        with formatter.section("Input columns (any order, each optional; see docs/case-schema.md)"):
            formatter.write_dl(
                [(g.id, ", ".join(f.name for f in contract.fields if f.group == g.id)) for g in contract.groups]
            )
        with formatter.section("Output columns (after the input's own)"):
            formatter.write_text(", ".join(o.name for o in contract.outputs))
        super().format_epilog(ctx, formatter)


@click.group()
@click.version_option(package_name="backcheck")
def main() -> None:
    """backcheck: likely causes of back pain after exercise, and when to seek care. Not a diagnosis."""


@main.command(cls=ScoreCommand)
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=True, allow_dash=True))
@click.option(
    "-o",
    "--output",
    "output_path",
    metavar="FILE",
    # checked by model.output (a FIFO, device or directory, or the input itself, is refused in one line)
    type=click.Path(),
    help="Write the scored cases to FILE (default: standard output). FILE appears only when the run succeeds, "
    "keeps the mode of the file it replaces, and is written through a symbolic link to its target. "
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
@click.option(
    "--spreadsheet-safe",
    is_flag=True,
    help="Put an apostrophe (') before every input cell that starts with =, +, -, @, a tab or a carriage "
    "return, so that a spreadsheet shows it as text instead of running it as a formula. Changes those cells; "
    "the scores are never changed. Example: --spreadsheet-safe",
)
def score(
    input_path: str,
    output_path: str | None,
    keep: tuple[str, ...],
    quiet: bool,
    strict: bool,
    jobs: int | None,
    spreadsheet_safe: bool,
) -> None:
    """Score the cases in INPUT, a CSV file (or - for standard input) with the columns of the case schema.

    The output has every input column unchanged, then the output columns listed below. A row with a bad
    value keeps its place, with an error naming the column, the value and what was expected. A missing,
    empty, binary or non-UTF-8 file, a row with too many or too few fields, or a duplicate or unknown column
    stops the run with one line saying why, and writes nothing.

    Exit status: 0 when the run completed (row errors are counted in the summary), 1 on a problem that
    stopped it (and with --strict when any row has an error), 2 on a mistake in the command itself, 128 plus
    the signal's number when SIGINT, SIGTERM or SIGHUP stopped it (its workers are stopped, and no partial
    or temporary file is left).

    \b
    Examples:
      backcheck score cases.csv -o scored.csv
      backcheck score cases.csv --keep clinic --strict > scored.csv
      cat cases.csv | backcheck score - -o scored.csv
    """
    target = "standard output" if output_path is None else output_path
    try:
        with _stopping_on_signals():
            summary = _scored(input_path, output_path, keep, quiet, jobs, spreadsheet_safe)
    except Stopped as stop:
        _say(f"Error: stopped by {signal.Signals(stop.number).name}; {_unwritten(output_path)}")
        sys.exit(128 + stop.number)
    except BrokenPipeError:
        # The reader of standard output went away (e.g. `| head`): nothing left to say, and nowhere to say it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except OSError as exc:
        where = exc.filename or target
        raise click.ClickException(f"{where}: cannot write ({exc.strerror or exc})") from None
    if not quiet:
        click.echo(
            f"backcheck: {summary.rows:,} rows scored, {summary.errors:,} with errors"
            + (" (see the error column)" if summary.errors else ""),
            err=True,
        )
    if strict and summary.errors:
        sys.exit(1)


def _scored(
    input_path: str, output_path: str | None, keep: tuple[str, ...], quiet: bool, jobs: int | None, safe: bool
) -> Summary:
    """score_csv with a progress bar, its errors as click's (one line, exit status 1)."""
    from tqdm import tqdm

    from model.output import OutputError
    from model.stream import InputError, default_jobs, score_csv
    from model.workers import WorkerError

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
            return score_csv(
                input_path,
                output_path,
                keep=keep,
                jobs=jobs or default_jobs(),
                progress=bar.update,
                on_total=on_total,
                spreadsheet_safe=safe,
            )
    except (InputError, OutputError) as exc:
        raise click.ClickException(str(exc)) from None
    except WorkerError as exc:
        raise click.ClickException(f"{exc}; {_unwritten(output_path)}") from None


def _unwritten(output_path: str | None) -> str:
    if output_path is None:
        return "standard output holds only part of the rows, if any"
    return f"{output_path} was not written"


def _say(line: str) -> None:
    """One line on standard error, if it is still there (a closed terminal's SIGHUP leaves none)."""
    with contextlib.suppress(OSError, ValueError):
        click.echo(line, err=True)


if __name__ == "__main__":
    main()
