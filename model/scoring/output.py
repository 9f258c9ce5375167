"""Where scored output goes: which targets may be replaced, replacing one atomically, and spreadsheet-safe text."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

# A spreadsheet reads a cell starting with one of these as a formula (or, for tab and carriage return, hides the
# character and may then read one); a spreadsheet-safe output puts an apostrophe before them.
SPREADSHEET_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
SPREADSHEET_ESCAPE = "'"

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class OutputError(Exception):
    """A target the scores cannot be written to. The message is one line, meant for the user."""


def scratch_error(exc: OSError, folder: Path) -> OutputError:
    """A write to the run's temporary folder that failed, as one line that names that folder: the output's own
    disk may have room, and TMPDIR is where the fix is."""
    return OutputError(
        f"the temporary folder {folder}: cannot write ({exc.strerror or exc}); make room there, or set TMPDIR to a "
        "folder with room"
    )


@dataclass(frozen=True)
class Target:
    """The regular file to write (a symbolic link's final target) and, when it exists, what it is now."""

    path: Path
    existing: os.stat_result | None


def output_target(output: str, source: str | None = None) -> Target:
    """The file that writing `output` replaces; OutputError if it must not be written.

    A new path, or an existing regular file, is fine. A symbolic link is followed: its target is written and
    the link stays, as a shell's `>` does (replacing the link itself would cut whatever else uses it). A
    directory, FIFO, device or socket is refused: renaming a file onto it would replace the node, not write
    to it. So is the input file `source` itself, by any name (same device and inode), which the run would
    replace while it still needs to read it, a name that stands for a file this process has open
    (names_a_descriptor), and a name ending in a slash that is no directory.
    """
    if names_a_descriptor(output):
        raise OutputError(
            f"{output}: names an open file of this process, not a file; leave out -o (or give -o -) to write to "
            "standard output"
        )
    path = Path(os.path.realpath(output))
    if output.endswith(("/", os.sep)) and not path.is_dir():
        raise OutputError(f"{output}: names a directory, which does not exist; name a file")
    try:
        existing: os.stat_result | None = path.stat()
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise OutputError(f"{output}: cannot be written ({exc.strerror or exc})") from None
    if existing is None:
        if not path.parent.is_dir():
            raise OutputError(f"{output}: cannot be written (no directory {str(path.parent)!r})")
        return Target(path, None)
    for test, kind in _KINDS:
        if test(existing.st_mode):
            raise OutputError(
                f"{output}: is {kind}, not a regular file; name a new or regular file "
                "(or leave out -o to write to standard output)"
            )
    if source is not None:
        with contextlib.suppress(OSError):
            read = os.stat(source)
            if (read.st_dev, read.st_ino) == (existing.st_dev, existing.st_ino):
                raise OutputError(f"{output}: is the input file itself; write the scores to another file")
    return Target(path, existing)


_DESCRIPTOR = re.compile(r"/dev/(?:std(?:in|out|err)|fd/[0-9]+)|/proc/(?:self|thread-self|[0-9]+)/fd/[0-9]+")


def names_a_descriptor(output: str) -> bool:
    """Whether `output`, or a symbolic link on the way to its file, is /dev/stdout, /dev/fd/N or /proc/.../fd/N.

    Such a name stands for a file this process has open (the shell's `>> file`, or a pipe): written as a file is,
    a new file renamed onto the one it points to, it would replace that file instead of adding to it (the shell's
    `>>` would lose what the file held) or fail on a pipe's made-up name."""
    path = os.path.abspath(output)
    for _ in range(40):  # the kernel's own limit on links followed
        if _DESCRIPTOR.fullmatch(path):
            return True
        # its directory resolved: a link to /proc/self/fd, or /dev/fd itself, on the way
        if _DESCRIPTOR.fullmatch(os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))):
            return True
        try:
            link = os.readlink(path)
        except OSError:
            return False
        path = os.path.normpath(os.path.join(os.path.dirname(path), link))
    return False


@contextlib.contextmanager
def replacing(target: Target) -> Iterator[BinaryIO]:
    """A file beside the target that becomes the target when the block ends without an exception.

    The new file has the existing file's permission bits, owner and group where this process may set them
    (else its own), or, for a new file, the ones the umask leaves of rw-rw-rw-, as any file it creates. On an
    exception the partial file is removed and the target is left as it was.
    """
    partial = target.path.with_name(f".{target.path.name}.{secrets.token_hex(4)}.partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        with os.fdopen(descriptor, "wb") as out:
            yield out
            out.flush()
            if target.existing is not None:
                _keep_owner_and_mode(out.fileno(), target.existing)
        os.replace(partial, target.path)
    finally:
        partial.unlink(missing_ok=True)


def output_directory(output: str, source: str) -> Path:
    """The directory that writing a dataset's scores to `output` creates; OutputError if it must not be written.

    A new path, or an empty directory, is fine: a run never mixes its files with others nor deletes any. Nor
    is a directory inside the input `source`, or the input itself, where the next run would read the scores
    as cases.
    """
    path = Path(os.path.realpath(output))
    if path.exists() and not path.is_dir():
        raise OutputError(f"{output}: is not a directory; the scores of a dataset go to a new or empty directory")
    if path.is_dir() and any(path.iterdir()):
        raise OutputError(f"{output}: is a directory that holds files; name a new or empty directory")
    if not path.parent.is_dir():
        raise OutputError(f"{output}: cannot be written (no directory {str(path.parent)!r})")
    if path.is_relative_to(os.path.realpath(source)):
        raise OutputError(f"{output}: is inside the input {source}; write the scores somewhere else")
    return path


@contextlib.contextmanager
def replacing_directory(path: Path) -> Iterator[Path]:
    """A directory beside `path` to write into, which becomes `path` (new, or replacing an empty directory)
    when the block ends without an exception; on an exception it is removed with all it holds."""
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        partial.mkdir()
        yield partial
        os.replace(partial, path)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _keep_owner_and_mode(descriptor: int, existing: os.stat_result) -> None:
    # owner and group first: changing them clears the set-id bits that chmod then sets
    for owner in (existing.st_uid, -1):
        try:
            os.fchown(descriptor, owner, existing.st_gid)
        except PermissionError:
            continue  # not root: the owner stays this user; a group this user is not in stays this user's
        break
    os.fchmod(descriptor, stat.S_IMODE(existing.st_mode))


def spreadsheet_safe(text: str) -> str:
    """`text` with an apostrophe before it when a spreadsheet would read it as a formula."""
    return SPREADSHEET_ESCAPE + text if text.startswith(SPREADSHEET_TRIGGERS) else text
