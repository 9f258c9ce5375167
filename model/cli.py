"""The command line: `backcheck score INPUT -o OUTPUT` (CSV, Parquet, or Parquet on a Dask cluster). It only
translates; model/ does the work."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from model.scoring.formats import PARQUET_SUFFIXES, is_parquet

if TYPE_CHECKING:
    from model.scoring.stream import Summary

# model.scoring.stream, tqdm and what they import (numpy, pandas, pyarrow, the network) take a second or more to load:
# `score` imports them once its signal handlers are set, so that a Ctrl-C then ends in one line, not a traceback.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """A stop signal arrived. A BaseException, as KeyboardInterrupt is: no `except Exception` swallows it."""

    def __init__(self, number: int):
        super().__init__(number)
        self.number = number


# The stop signal that arrived during the current run, if one did (see _stopping_on_signals).
_requested: list[int] = []


@contextlib.contextmanager
def _stopping_on_signals() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into Stopped for the block, then put the handlers back.

    The first signal raises; after it all three are ignored, so that a second Ctrl-C cannot interrupt the
    clean-up that the first one started (model.scoring.stream holds them while it cleans up, and a held one would
    otherwise raise as the clean-up ends). Python drops an exception raised where it cannot propagate (a signal
    that lands in a callback of the import machinery, during the start), so the signal is also recorded, and
    _check_stopped raises it again at the run's next safe point."""
    _requested.clear()
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers
        return

    def stop(number: int, frame: object) -> None:
        for other in STOP_SIGNALS:
            signal.signal(other, signal.SIG_IGN)
        _requested.append(number)
        raise Stopped(number)

    before = {number: signal.signal(number, stop) for number in STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)


def _check_stopped() -> None:
    """Raise Stopped for a stop signal that arrived but whose exception was dropped (see _stopping_on_signals):
    called where a run may stop cleanly: once its modules are imported, when its rows are counted and after each
    chunk (a run that finishes before any of them has written its output whole, and says so)."""
    if _requested:
        raise Stopped(_requested[0])


class ScoreCommand(click.Command):
    """`score`, whose help ends with the case schema's columns as the contract data lists them.

    model.cases.fields (and numpy and pandas with it) is imported only when the help is shown."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from model.cases.fields import load_contract

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
    # checked by model.scoring.output (a FIFO, device or directory, or the input itself, is refused in one line)
    type=click.Path(),
    help="Write the scored cases to FILE (default, or - or /dev/stdout: standard output). FILE appears only when "
    "the run succeeds, "
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
    help="Score with N processes (default, and at most: one per processor this run may use; small files always "
    "use one). Example: --jobs 2",
)
@click.option(
    "--spreadsheet-safe",
    is_flag=True,
    help="Put an apostrophe (') before every input cell that starts with =, +, -, @, a tab or a carriage "
    "return, so that a spreadsheet shows it as text instead of running it as a formula. Changes those cells; "
    "the scores are never changed. Example: --spreadsheet-safe",
)
@click.option(
    "--format",
    "file_format",
    type=click.Choice(["csv", "parquet"]),
    default=None,
    help="Read INPUT and write the output as FORMAT (default: parquet for a directory or a name ending in "
    ".parquet, .pq or .parq; csv otherwise). Example: --format parquet",
)
@click.option(
    "--dask",
    "scheduler",
    metavar="ADDRESS",
    default=None,
    help="Score a Parquet file or dataset on the Dask cluster whose scheduler is at ADDRESS, or on one of --jobs "
    "local worker processes with 'local'. The output is a new directory of Parquet files, one per row group, in "
    "order; input and output must be reachable by the same paths from every worker. Needs the dask extra: "
    "pip install 'backcheck[dask]'. Example: --dask tcp://10.0.0.5:8786",
)
def score(
    input_path: str,
    output_path: str | None,
    keep: tuple[str, ...],
    quiet: bool,
    strict: bool,
    jobs: int | None,
    spreadsheet_safe: bool,
    file_format: str | None,
    scheduler: str | None,
) -> None:
    """Score the cases in INPUT, a CSV file (or - for standard input), a Parquet file, or a directory of Parquet
    files (a dataset), with the columns of the case schema.

    The output has every input column unchanged, then the output columns listed below. A row with a bad
    value keeps its place, with an error naming the column, the value and what was expected. A missing,
    empty, binary or non-UTF-8 file, a row with too many or too few fields, or a duplicate or unknown column
    stops the run with one line saying why, and writes nothing.

    Parquet in, Parquet out: each input column keeps its type, the probabilities are float64 (null for a row
    with an error), the other scores strings. A yes/no column may be boolean, integer (1/0) or text, an age
    integer, a number column numeric, any of them text in the case schema's spellings; a column of another type,
    a file that is not Parquet, or files of a dataset with different columns stop the run. A dataset's scores go
    to a new or empty directory, one file for each input file under the same name, rows in the same order.

    Exit status: 0 when the run completed (row errors are counted in the summary), 1 on a problem that
    stopped it (and with --strict when any row has an error), 2 on a mistake in the command itself, 128 plus
    the signal's number when SIGINT, SIGTERM or SIGHUP stopped it (its workers are stopped, and no partial
    or temporary file is left).

    \b
    Examples:
      backcheck score cases.csv -o scored.csv
      backcheck score cases.csv --keep clinic --strict > scored.csv
      cat cases.csv | backcheck score - -o scored.csv
      backcheck score cases.parquet -o scored.parquet
      backcheck score cases/ -o scored/ --dask local --jobs 2
    """
    if output_path in ("-", "/dev/stdout"):
        output_path = None  # standard output, written as a stream (renaming a file onto /dev/stdout replaces a file)
    target = "standard output" if output_path is None else output_path
    file_format = file_format or ("parquet" if scheduler or is_parquet(input_path) else "csv")
    _check_options(input_path, output_path, file_format, scheduler, jobs, spreadsheet_safe)
    try:
        with _stopping_on_signals():
            if scheduler is not None:
                summary = _scored_on_dask(input_path, output_path or "", keep, scheduler, jobs)
            else:
                summary = _scored(input_path, output_path, keep, quiet, jobs, spreadsheet_safe, file_format)
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


def _check_options(
    source: str, output: str | None, file_format: str, scheduler: str | None, jobs: int | None, safe: bool
) -> None:
    """UsageError (exit status 2) for options that do not go together."""
    suffix = Path(output).suffix.lower() if output else ""
    if file_format == "parquet":
        if scheduler is None and source == "-":
            raise click.UsageError("Parquet input is a file or a directory, not standard input")
        if output is None:
            raise click.UsageError("Parquet output goes to a file or directory: name it with -o")
        if suffix == ".csv":
            raise click.UsageError(f"{output}: Parquet input is scored to Parquet; name the output .parquet")
        if safe:
            raise click.UsageError("--spreadsheet-safe is for CSV output; a Parquet file keeps text as text")
    elif suffix in PARQUET_SUFFIXES:
        raise click.UsageError(f"{output}: CSV input is scored to CSV; name the output .csv")
    if scheduler is not None:
        if file_format == "csv":
            raise click.UsageError("--dask scores Parquet files and datasets, not CSV")
        if jobs is not None and scheduler != "local":
            raise click.UsageError("--jobs sets the workers of --dask local; a cluster's workers are its own")


def _scored_on_dask(
    input_path: str, output_path: str, keep: tuple[str, ...], scheduler: str, jobs: int | None
) -> Summary:
    """distributed.score_dataset_dask, its errors as click's."""
    from model.scoring.csv_input import InputError
    from model.scoring.output import OutputError
    from model.scoring.stream import usable_jobs

    try:
        from model.scoring.distributed import score_dataset_dask
    except ImportError as exc:
        raise click.ClickException(
            f"--dask needs Dask ({exc}); install it with: pip install 'backcheck[dask]'"
        ) from None
    try:
        return score_dataset_dask(input_path, output_path, scheduler, keep, usable_jobs(jobs))
    except (InputError, OutputError) as exc:
        raise click.ClickException(str(exc)) from None


def _scored(
    input_path: str,
    output_path: str | None,
    keep: tuple[str, ...],
    quiet: bool,
    jobs: int | None,
    safe: bool,
    file_format: str,
) -> Summary:
    """score_csv or score_parquet with a progress bar, their errors as click's (one line, exit status 1)."""
    from tqdm import tqdm

    from model.scoring.csv_input import InputError
    from model.scoring.output import OutputError
    from model.scoring.stream import score_csv, usable_jobs
    from model.scoring.workers import WorkerError

    _check_stopped()  # the imports are where a signal's exception may have been dropped
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
        _check_stopped()
        bar.reset(total=rows)

    def progress(rows: int) -> None:
        _check_stopped()
        bar.update(rows)

    try:
        with bar:
            common = {"keep": keep, "jobs": usable_jobs(jobs), "progress": progress, "on_total": on_total}
            if file_format == "parquet":
                from model.scoring.parquet import score_parquet

                _check_stopped()
                return score_parquet(input_path, output_path, **common)
            return score_csv(input_path, output_path, spreadsheet_safe=safe, **common)
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
