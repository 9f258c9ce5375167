"""Worker processes that live and die with the run that started them, and stop signals held while it cleans up."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

# The signals that stop a run: Ctrl-C, `kill` or `timeout`, and a closed terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Linux prctl option: the signal a process gets when the thread that started it ends (see _start_worker).
_PR_SET_PDEATHSIG = 1


class WorkerError(Exception):
    """A worker process died while the run needed it. The message is one line, meant for the user."""


@contextlib.contextmanager
def held_signals() -> Iterator[None]:
    """Hold the stop signals until the block ends, then let them through (their handlers run then).

    For the steps that must not be cut in two: creating a file and registering its removal, and cleaning up.
    Only the main thread runs Python's signal handlers; elsewhere, and where there is no pthread_sigmask,
    nothing is held."""
    if not hasattr(signal, "pthread_sigmask") or sys.platform == "win32":
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


@contextlib.contextmanager
def worker_pool(workers: int, initializer: Callable[[], None]) -> Iterator[ProcessPoolExecutor]:
    """`workers` processes, started now, each running `initializer` while this process goes on.

    Forked where possible, after the imports, so the workers share this process's module pages. A worker
    ignores SIGINT and SIGHUP, which a terminal sends to the whole process group: this process decides
    what a Ctrl-C means and stops the workers itself. A worker dies with this process, even by SIGKILL
    (Linux). When the block ends with an exception (a signal's included), every worker is killed at once
    instead of finishing its chunk; when a worker dies, WorkerError says so.
    """
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    gc.freeze()  # objects that exist now are never collected, so forked children keep sharing their pages
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(), initializer)
    )
    try:
        with held_signals():  # a child forked with them held can set its own handlers before any arrives
            pool.submit(int)  # a fork-context pool forks all its workers at its first task
        processes = [p for p in multiprocessing.active_children() if p not in before]
        try:
            yield pool
        except BrokenProcessPool:
            raise WorkerError(_death(processes)) from None
        except BaseException:
            for process in processes:
                process.kill()
            for process in processes:
                process.join(5)
            raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _death(processes: list[multiprocessing.Process]) -> str:
    for process in processes:
        process.join(0.1)
    # the pool sends SIGTERM to the others once one has died: the one that died first is the other code
    codes = sorted((p.exitcode for p in processes if p.exitcode), key=lambda code: code == -signal.SIGTERM)
    for process in processes:
        process.kill()
    how = ""
    if codes and codes[0] < 0:
        how = f" (killed by {signal.Signals(-codes[0]).name}{', perhaps for lack of memory' * (codes[0] == -9)})"
    elif codes:
        how = f" (exit status {codes[0]})"
    return f"a scoring process stopped unexpectedly{how}"


def _start_worker(parent: int, initializer: Callable[[], None]) -> None:
    # signals are held (worker_pool): set this process's handlers, make sure it dies with its parent, then let
    # them through
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_IGN if number != signal.SIGTERM else signal.SIG_DFL)
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took
        os._exit(1)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    initializer()
