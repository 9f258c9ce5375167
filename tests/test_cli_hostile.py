"""`backcheck score` as a hostile user runs it: signals mid-run, odd targets, huge rows, endless input, random bytes.

Signals go to real processes on a generated file big enough to be mid-run; every test checks that no process of
the run survives and no file is left behind.
"""

from __future__ import annotations

import contextlib
import csv
import io
import multiprocessing
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.cli import main
from model.scoring.batch import output_columns

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
sys.path.insert(0, str(ROOT / "scripts"))
from bench import write_cases  # noqa: E402  (scripts/ is no package)

BACKCHECK = [sys.executable, "-m", "model", "score"]
# Generous bounds for a busy two-core machine: a run stops within a few seconds of a signal.
STOP_SECONDS = 10
MID_RUN_ROWS = 200_000  # 21 MB: some 30 s of scoring with two workers, so a signal always lands mid-run


def run(*args: str, stdin: bytes | io.IOBase | None = None) -> Result:
    return CliRunner().invoke(main, ["score", *args], input=stdin)


def one_line_error(result: Result | subprocess.CompletedProcess, status: int = 1) -> str:
    """The one line a run that stopped wrote to standard error (after checking it wrote nothing else)."""
    code = result.exit_code if isinstance(result, Result) else result.returncode
    stderr = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
    assert code == status, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr
    return lines[0]


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "cases.csv"
    write_cases(path, MID_RUN_ROWS)
    return path


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] not in "ZX"
    except OSError:
        return False


def caught_signals(pid: int) -> int:
    """The process's mask of signals with a handler (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return int(line.split()[1], 16)
    return 0


def wait_for(condition, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


class Run:
    """`backcheck score` on its own process group, with its own TMPDIR so its scratch files can be watched."""

    def __init__(self, tmp_path: Path, source: Path | str, *args: str, stdin: int | None = None):
        self.work = tmp_path / "work"
        self.scratch = tmp_path / "scratch"
        self.work.mkdir()
        self.scratch.mkdir()
        self.output = self.work / "scored.csv"
        self.process = subprocess.Popen(
            [*BACKCHECK, str(source), "-o", str(self.output), *args],
            cwd=ROOT,
            env={**os.environ, "TMPDIR": str(self.scratch)},
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.workers: list[int] = []

    def wait_mid_run(self) -> None:
        """Until the workers are scoring: two children, the partial output and the first chunk file exist."""
        wait_for(lambda: len(children(self.process.pid)) == 2 and any(files_named(self.scratch, "chunk")))
        self.workers = children(self.process.pid)

    def stopped(self, send) -> tuple[float, subprocess.CompletedProcess]:
        start = time.monotonic()
        send()
        try:
            out, err = self.process.communicate(timeout=60)
        finally:
            self.process.kill()  # only if it is still there: the test fails anyway
        seconds = time.monotonic() - start
        return seconds, subprocess.CompletedProcess(self.process.args, self.process.returncode, out, err)

    def assert_nothing_left(self) -> None:
        wait_for(lambda: not any(alive(pid) for pid in self.workers), STOP_SECONDS)
        assert list(self.work.iterdir()) == []
        assert list(self.scratch.iterdir()) == []


@pytest.mark.parametrize(
    ("number", "to_group"),
    [(signal.SIGTERM, False), (signal.SIGHUP, False), (signal.SIGINT, True)],
    ids=["SIGTERM", "SIGHUP", "Ctrl-C to the process group"],
)
def test_a_signal_mid_run_stops_it_promptly_and_leaves_nothing(
    tmp_path: Path, big_file: Path, number: int, to_group: bool
) -> None:
    job = Run(tmp_path, big_file, "--jobs", "2")
    job.wait_mid_run()
    send = (lambda: os.killpg(job.process.pid, number)) if to_group else (lambda: job.process.send_signal(number))
    seconds, done = job.stopped(send)
    line = one_line_error(done, 128 + number)
    assert line == f"Error: stopped by {signal.Signals(number).name}; {job.output} was not written"
    assert seconds < STOP_SECONDS
    job.assert_nothing_left()


def test_timeout_stops_a_run_and_leaves_nothing(tmp_path: Path, big_file: Path) -> None:
    work, scratch = tmp_path / "work", tmp_path / "scratch"
    work.mkdir()
    scratch.mkdir()
    done = subprocess.run(
        ["timeout", "8", *BACKCHECK, str(big_file), "-o", str(work / "out.csv"), "-j", "2"],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(scratch)},
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 124  # timeout's own status: it stopped the command with SIGTERM
    assert done.stderr.decode() == f"Error: stopped by SIGTERM; {work / 'out.csv'} was not written\n"
    assert list(work.iterdir()) == [] and list(scratch.iterdir()) == []


def test_a_worker_that_dies_fails_the_run_in_one_line(tmp_path: Path, big_file: Path) -> None:
    job = Run(tmp_path, big_file, "--jobs", "2")
    job.wait_mid_run()
    seconds, done = job.stopped(lambda: os.kill(job.workers[0], signal.SIGKILL))
    line = one_line_error(done)
    assert line == (
        "Error: a scoring process stopped unexpectedly (killed by SIGKILL, perhaps for lack of memory); "
        f"{job.output} was not written"
    )
    assert seconds < STOP_SECONDS
    job.assert_nothing_left()


def test_workers_die_with_a_killed_scorer(tmp_path: Path, big_file: Path) -> None:
    # SIGKILL leaves the scorer no time to clean up, but its workers must not live on, orphaned
    job = Run(tmp_path, big_file, "--jobs", "2")
    job.wait_mid_run()
    job.stopped(lambda: job.process.kill())
    wait_for(lambda: not any(alive(pid) for pid in job.workers), STOP_SECONDS)


def test_ctrl_c_while_starting_up_is_one_line(tmp_path: Path, big_file: Path) -> None:
    # once the command's handlers are set (SIGHUP caught), while it still imports numpy, pandas and the network
    job = Run(tmp_path, big_file)
    wait_for(lambda: caught_signals(job.process.pid) & (1 << (signal.SIGHUP - 1)), 60)
    _, done = job.stopped(lambda: os.killpg(job.process.pid, signal.SIGINT))
    assert one_line_error(done, 130) == f"Error: stopped by SIGINT; {job.output} was not written"
    job.assert_nothing_left()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the drop it is about
def test_a_stop_signal_whose_exception_python_dropped_still_stops_the_run() -> None:
    # A signal that lands in a callback of the import machinery (as Ctrl-C at the start once did) raises where
    # Python can only print "Exception ignored": the run must still stop at its next safe point.
    from model.cli import Stopped, _check_stopped, _stopping_on_signals

    class Dropping:
        def __del__(self) -> None:
            signal.raise_signal(signal.SIGTERM)

    with pytest.raises(Stopped) as caught, _stopping_on_signals():
        Dropping()  # deleted at once: the handler's exception is raised in __del__, and dropped
        _check_stopped()
    assert caught.value.number == signal.SIGTERM
    with _stopping_on_signals():
        _check_stopped()  # a new run starts with no stop recorded


def test_standard_input_closed_is_one_line() -> None:
    # as `backcheck score - <&-` starts it: file descriptor 0 closed
    done = subprocess.run([*BACKCHECK, "-"], cwd=ROOT, capture_output=True, timeout=120, preexec_fn=lambda: os.close(0))
    assert one_line_error(done) == "Error: standard input: is closed; give a file name, or pipe the cases in"


# ------------------------------------------------------------------------------------------------- standard input


def endless(writer_fd: int, head: bytes, line: bytes, stop: threading.Event) -> None:
    """Write `head`, then `line` again and again, until the reader goes away or `stop` is set."""
    with os.fdopen(writer_fd, "wb", buffering=0) as out:
        try:
            out.write(head)
            block = line * (2**16 // len(line))
            while not stop.is_set():
                out.write(block)
        except (BrokenPipeError, OSError):
            pass


def test_an_endless_stream_with_a_bad_header_is_refused_as_soon_as_the_header_arrives(tmp_path: Path) -> None:
    reader, writer = os.pipe()
    stop = threading.Event()
    feeder = threading.Thread(target=endless, args=(writer, b"case_id,agee\n", b"c1,40\n", stop), daemon=True)
    feeder.start()
    try:
        job = Run(tmp_path, "-", stdin=reader)
        os.close(reader)
        _, done = job.stopped(lambda: None)
    finally:
        stop.set()
    assert "standard input: unknown column 'agee' (did you mean 'age'?)" in one_line_error(done)
    job.assert_nothing_left()


SMALL_SPOOL = """
import sys
import model.scoring.csv_input
model.scoring.csv_input.STDIN_SPOOL_BYTES = 4 * 2**20
from model.cli import main
main(sys.argv[1:])
"""


def files_named(folder: Path, start: str) -> Iterator[str]:
    """The names of the files under folder that begin with start, passing over folders gone before they are read."""
    return (name for _, _, names in os.walk(folder) for name in names if name.startswith(start))


def largest_file(folder: Path) -> int:
    """The size of the largest file under folder now, in bytes. The scorer makes and removes its files while this
    looks (its spool goes the moment it refuses the stream): os.walk passes over folders gone before they are read,
    and a file gone before its size is read counts nothing."""
    sizes = [0]
    for parent, _, names in os.walk(folder):
        for name in names:
            with contextlib.suppress(FileNotFoundError):
                sizes.append(os.stat(os.path.join(parent, name)).st_size)
    return max(sizes)


def test_an_endless_stream_is_refused_once_the_spool_is_full_and_the_spool_never_grows_past_it(
    tmp_path: Path,
) -> None:
    # the bound, made small for the test (2 GiB by default): the copy never holds more than it
    reader, writer = os.pipe()
    stop = threading.Event()
    feeder = threading.Thread(target=endless, args=(writer, b"case_id,age\n", b"c1,40\n", stop), daemon=True)
    feeder.start()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    largest = 0
    process = subprocess.Popen(
        [sys.executable, "-c", SMALL_SPOOL, "score", "-", "-o", str(tmp_path / "out.csv")],
        cwd=ROOT,
        env={**os.environ, "TMPDIR": str(scratch)},
        stdin=reader,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    os.close(reader)
    try:
        while process.poll() is None:
            largest = max(largest, largest_file(scratch))
            time.sleep(0.01)
        err = process.stderr.read().decode()
    finally:
        stop.set()
        process.kill()
    assert process.returncode == 1, err
    assert err == (
        "Error: standard input: holds more than 0.00390625 GiB, more than the scorer copies from a stream; "
        "save it to a file and score the file by its name\n"
    )
    assert largest <= 4 * 2**20
    assert list(scratch.iterdir()) == [] and not (tmp_path / "out.csv").exists()


def test_a_named_pipe_as_input_is_read_once_like_standard_input(tmp_path: Path) -> None:
    fifo = tmp_path / "cases.fifo"
    os.mkfifo(fifo)
    text = (DATA / "valid.csv").read_bytes()
    feeder = threading.Thread(target=lambda: fifo.write_bytes(text), daemon=True)
    feeder.start()
    result = run(str(fifo), "--quiet")
    assert result.exit_code == 0, result.output
    assert [r[0] for r in rows(result.stdout)[1:]] == ["V01", "V02", "V03", "NA", "null"]


# ------------------------------------------------------------------------------------------------------- targets


def test_a_target_that_is_not_a_regular_file_is_refused_in_one_line(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    for target, kind in ((fifo, "a named pipe (FIFO)"), ("/dev/null", "a character device"), (folder, "a directory")):
        result = run(str(DATA / "valid.csv"), "-o", str(target))
        assert one_line_error(result) == (
            f"Error: {target}: is {kind}, not a regular file; name a new or regular file "
            "(or leave out -o to write to standard output)"
        )
    assert stat.S_ISFIFO(fifo.stat().st_mode) and stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "out.fifo"] and not any(folder.iterdir())


def test_a_name_for_an_open_file_is_refused_and_standard_output_is_written_as_a_stream(tmp_path: Path) -> None:
    # `-o /dev/stdout >> file`: renaming a new file onto what /dev/stdout points to would replace the file
    appended = tmp_path / "appended.csv"
    appended.write_text("an earlier line\n")
    with appended.open("ab") as out:
        done = subprocess.run([*BACKCHECK, str(DATA / "valid.csv"), "-q", "-o", "/dev/stdout"], stdout=out, check=False)
    assert done.returncode == 0
    lines = appended.read_text().splitlines()
    assert lines[0] == "an earlier line" and lines[1].startswith("case_id,") and len(lines) == 7
    # -o - is standard output too, and into a pipe
    piped = subprocess.run([*BACKCHECK, str(DATA / "valid.csv"), "-q", "-o", "-"], capture_output=True, check=False)
    assert piped.returncode == 0 and len(piped.stdout.decode().splitlines()) == 6
    assert not (Path.cwd() / "-").exists()
    link = tmp_path / "to_stdout"
    link.symlink_to("/proc/self/fd/1")
    for name in ("/dev/fd/1", "/proc/self/fd/1", "/dev/stderr", str(link)):
        result = subprocess.run([*BACKCHECK, str(DATA / "valid.csv"), "-o", name], capture_output=True, check=False)
        assert one_line_error(result) == (
            f"Error: {name}: names an open file of this process, not a file; leave out -o (or give -o -) to write "
            "to standard output"
        )


def test_a_name_ending_in_a_slash_is_a_directory_or_refused(tmp_path: Path) -> None:
    missing = f"{tmp_path / 'missing'}/"
    assert one_line_error(run(str(DATA / "valid.csv"), "-o", missing)) == (
        f"Error: {missing}: names a directory, which does not exist; name a file"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_full_temporary_folder_is_named_as_such(tmp_path: Path) -> None:
    # /dev/full takes the open and fails every write with "No space left on device"
    from model.scoring.csv_input import InputError, spooled
    from model.scoring.csv_output import score_batch_to_file
    from model.scoring.output import OutputError

    with pytest.raises(InputError, match=r"^standard input: cannot be copied to the temporary folder /dev \(No space"):
        spooled(io.BytesIO((DATA / "valid.csv").read_bytes()), Path("/dev/full"), "standard input", ())
    import pyarrow as pa

    batch = pa.record_batch({"age": pa.array(["40"])})
    with pytest.raises(OutputError, match=r"^the temporary folder /dev: cannot write \(No space left on device\); "):
        score_batch_to_file(batch, "/dev/full")


def test_jobs_beyond_the_processors_run_one_worker_a_processor(tmp_path: Path) -> None:
    source = tmp_path / "cases.csv"
    write_cases(source, 3_000)
    seen: list[int] = []
    import model.scoring.stream as stream

    real = stream.worker_pool

    def counted(workers: int, initializer):
        seen.append(workers)
        return real(workers, initializer)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stream, "worker_pool", counted)
        patch.setattr(stream, "PARALLEL_MIN_ROWS", 1)
        result = run(str(source), "-q", "-j", "99999999999999999999", "-o", str(tmp_path / "out.csv"))
    assert result.exit_code == 0, result.output
    processors = len(os.sched_getaffinity(0))
    assert seen == ([processors] if processors > 1 else [])


def test_the_input_file_is_never_its_own_output(tmp_path: Path) -> None:
    source = tmp_path / "cases.csv"
    source.write_bytes((DATA / "valid.csv").read_bytes())
    os.link(source, tmp_path / "same.csv")
    (tmp_path / "link.csv").symlink_to(source)
    for target in ("cases.csv", "same.csv", "link.csv", "./cases.csv"):
        result = run(str(source), "-o", str(tmp_path / target))
        assert one_line_error(result) == (
            f"Error: {tmp_path / target}: is the input file itself; write the scores to another file"
        )
    assert source.read_bytes() == (DATA / "valid.csv").read_bytes()


def test_a_symlink_target_is_written_through_and_the_link_stays(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("an earlier run\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert run(str(DATA / "valid.csv"), "-o", str(link), "--quiet").exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert rows(real.read_text())[0][-1] == "error" and len(rows(real.read_text())) == 6
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv", "real.csv"]


def test_an_existing_file_keeps_its_mode_and_group_and_a_new_one_follows_the_umask(tmp_path: Path) -> None:
    old = tmp_path / "old.csv"
    old.write_text("an earlier run\n")
    os.chmod(old, 0o640)
    group = 4321 if os.geteuid() == 0 else os.getegid()  # root may give it any group; others their own
    os.chown(old, -1, group)
    assert run(str(DATA / "valid.csv"), "-o", str(old), "--quiet").exit_code == 0
    assert stat.S_IMODE(old.stat().st_mode) == 0o640 and old.stat().st_gid == group
    assert len(rows(old.read_text())) == 6
    before = os.umask(0o027)
    try:
        assert run(str(DATA / "valid.csv"), "-o", str(tmp_path / "new.csv"), "--quiet").exit_code == 0
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640  # rw-rw-rw- less the umask, not 0600


# -------------------------------------------------------------------------------------------- rows and messages


def test_a_row_of_64_mib_is_scored(tmp_path: Path) -> None:
    source = tmp_path / "long.csv"
    note = "x" * (64 * 2**20)
    source.write_text(f"case_id,note,age\na,{note},40\nb,short,50\n")
    target = tmp_path / "out.csv"
    result = run(str(source), "--keep", "note", "-o", str(target), "--quiet")
    assert result.exit_code == 0, result.output
    with target.open(newline="") as out, _no_field_limit():
        scored = list(csv.reader(out))
    assert [r[:3] for r in scored[1:]] == [["a", note, "40"], ["b", "short", "50"]]
    assert all(r[-1] == "" for r in scored[1:])


def test_a_huge_cell_and_a_ragged_row_give_the_ragged_rows_line(tmp_path: Path) -> None:
    source = tmp_path / "ragged.csv"
    source.write_text("case_id,note\na," + "x" * (200 * 2**10) + "\nb,y,z\n")
    line = one_line_error(run(str(source), "--keep", "note"))
    assert "line 3 has 3 fields but the header has 2" in line


def test_a_nul_byte_anywhere_stops_the_run(tmp_path: Path) -> None:
    source = tmp_path / "late_nul.csv"
    source.write_bytes(b"case_id,age\n" + b"a,40\n" * 200_000 + b"b,4\x000\n")  # a megabyte in
    line = one_line_error(run(str(source), "-o", str(tmp_path / "out.csv")))
    assert "holds binary data, not CSV text (line 200,002 holds a NUL byte" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late_nul.csv"]


def test_line_numbers_count_carriage_returns_as_line_ends(tmp_path: Path) -> None:
    source = tmp_path / "cr.csv"
    source.write_bytes(b"case_id,age\r" + b"a,40\r" * 3 + b"b,4\x000\r")
    assert "line 5 holds a NUL byte" in one_line_error(run(str(source)))
    source.write_bytes(b"case_id,age\r\n" + b"a,40\r" * 2 + b"a,40\r\n" + b"b,4\xff0\r")
    assert "(line 5 holds the byte 0xff)" in one_line_error(run(str(source)))


@pytest.mark.parametrize(("encoding", "named"), [("utf-16", "UTF-16"), ("utf-16-be", None), ("utf-32", "UTF-32")])
def test_a_file_in_another_unicode_encoding_is_named(tmp_path: Path, encoding: str, named: str | None) -> None:
    source = tmp_path / "wide.csv"
    source.write_bytes(("\ufeff" if named is None else "").encode(encoding) + "case_id,age\nA,40\n".encode(encoding))
    line = one_line_error(run(str(source)))
    assert line == f"Error: {source}: is {named or 'UTF-16'} text, not UTF-8; save it as 'CSV UTF-8' and try again"


def test_a_quote_inside_a_header_name_is_a_character_of_it(tmp_path: Path) -> None:
    # as Python's csv and Arrow read it: a quote opens a quoted value only as the value's first character
    source = tmp_path / "quote.csv"
    source.write_text('case_id,no"te,"a""b",age\nA,x"y,z,40\nB,,,\n')
    result = run(str(source), "--keep", 'no"te', "--keep", 'a"b', "-q")
    assert result.exit_code == 0, result.output
    table = rows(result.stdout)
    assert table[0][:4] == ["case_id", 'no"te', 'a"b', "age"] and table[1][:4] == ["A", 'x"y', "z", "40"]
    assert len(table) == 3 and table[1][-1] == ""


def test_fatal_messages_are_short_however_many_or_long_the_names(tmp_path: Path) -> None:
    many = tmp_path / "many.csv"
    many.write_text(",".join(f"col{i}" for i in range(100_000)) + "\n" + "," * 99_999 + "\n")
    long_name = tmp_path / "long_name.csv"
    long_name.write_text("case_id," + "y" * 2**20 + "\nA,1\n")
    duplicated = tmp_path / "duplicated.csv"
    duplicated.write_text(",".join(["age"] * 50_000 + [f"c{i}" for i in range(50_000)] * 2) + "\n")
    for source in (many, long_name, duplicated):
        line = one_line_error(run(str(source)))
        assert len(line) < 400, line[:500]
    assert "unknown columns 'col0', 'col1', 'col2', 'col3', 'col4' and 99,995 more" in one_line_error(run(str(many)))


def test_numbers_outside_the_grammar_and_beyond_the_last_bin_are_read_by_the_contract(tmp_path: Path) -> None:
    source = tmp_path / "numbers.csv"
    values = ["100001", "1_0", "0x10", "1e400", "nan", "inf", "٣", "7.5", "+7", "-0", "1" + "0" * 400]
    source.write_text("case_id,duration_days\n" + "".join(f"c{i},{v}\n" for i, v in enumerate(values)))
    result = run(str(source), "--quiet")
    assert result.exit_code == 0, result.output
    errors = [r[-1] for r in rows(result.stdout)[1:]]
    assert [e == "" for e in errors] == [True, False, False, False, False, False, False, True, True, True, False]
    assert errors[1] == (
        "duration_days: '1_0' is not a plain decimal number (such as 7, 7.5 or -0); expected a number from 0 up"
    )
    assert "is too large to read as a number" in errors[-1]


# ------------------------------------------------------------------------------------------ spreadsheet-safe


RISKY = ["=1+1", "+7", "-0", "@SUM(A1)", "\tx", "\rx", "plain", "'quoted", ""]


def test_spreadsheet_safe_prefixes_risky_passed_through_cells_and_nothing_else(tmp_path: Path) -> None:
    source = tmp_path / "risky.csv"
    with source.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")  # so that a lone \r is quoted
        writer.writerow(["case_id", "severity", "=note"])
        writer.writerows([value, "-0" if value == "-0" else "5", value] for value in RISKY)
    plain = rows(run(str(source), "--keep", "=note", "--quiet").stdout)
    safe = rows(run(str(source), "--keep", "=note", "--quiet", "--spreadsheet-safe").stdout)
    assert plain[0][:3] == ["case_id", "severity", "=note"] and safe[0][:3] == ["case_id", "severity", "'=note"]
    assert [r[0] for r in plain[1:]] == RISKY  # the default: exactly as read
    assert [r[0] for r in safe[1:]] == ["'=1+1", "'+7", "'-0", "'@SUM(A1)", "'\tx", "'\rx", "plain", "'quoted", ""]
    assert [r[2] for r in safe[1:]] == [r[0] for r in safe[1:]]
    assert safe[3][1] == "'-0" and safe[1][1] == "5"
    # the scores are the same numbers either way
    assert [r[3:] for r in safe] == [r[3:] for r in plain]
    assert plain[0][3:] == output_columns()


# --------------------------------------------------------------------------------------------- random input


class _no_field_limit:
    def __enter__(self) -> None:
        self.before = csv.field_size_limit(2**31 - 1)

    def __exit__(self, *exc: object) -> None:
        csv.field_size_limit(self.before)


CELLS = st.sampled_from(
    ["", " ", "yes", "no", "1", "40", "7.5", "1_0", "lifting", "Yoga", "=1+1", "a,b", 'q"q', "x\ny", "\r\n", "é", "?"]
) | st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6)
COLUMNS = st.sampled_from(["case_id", "age", "fever", "activity", "severity", "duration_days", "note", "agee", ""])


def csvish(draw: st.DrawFn) -> bytes:
    header = draw(st.lists(COLUMNS, min_size=1, max_size=5))
    records = draw(st.lists(st.lists(CELLS, min_size=len(header), max_size=len(header)), max_size=8))
    if draw(st.booleans()):  # now and then a row of the wrong width
        records.append(draw(st.lists(CELLS, max_size=len(header) + 2)))
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header, *records])
    data = text.getvalue().encode("utf-8")
    if draw(st.booleans()):  # and now and then a few bytes changed anywhere
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=3)) + data[at:]
    return data


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=200), st.composite(csvish)()))
def test_random_bytes_never_give_a_traceback_and_a_run_that_succeeds_returns_every_row(data: bytes) -> None:
    result = run("-", "--keep", "note", "--quiet", stdin=data)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
    if result.exit_code != 0:
        assert len(one_line_error(result)) < 400
        return
    header, *records = rows(data.decode("utf-8-sig"))
    # a blank line is no row, except in a one-column file, where it is an empty value
    expected = [r for r in records if r] if len(header) > 1 else [r or [""] for r in records]
    written = rows(result.stdout_bytes.decode("utf-8"))  # .stdout would turn each CRLF into LF
    assert written[0] == [*header, *output_columns()]
    assert [r[: len(header)] for r in written[1:]] == expected  # every row, in order, each cell exactly as read


@pytest.fixture(autouse=True)
def _no_stray_processes() -> Iterator[None]:
    yield
    # a test that started workers in this process (CliRunner) must not leave them running
    assert multiprocessing.active_children() == []
