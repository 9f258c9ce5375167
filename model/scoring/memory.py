"""The allocator settings of the processes that score and of the one that only reads and writes for workers.

Each is process-wide and for glibc only: where the C library has no mallopt, nothing changes.
"""

from __future__ import annotations

import ctypes

# glibc's mallopt parameters (malloc.h), and how much freed memory a scoring process keeps for reuse.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4
_KEEP_FREED_BYTES = 128 * 2**20


def reuse_freed_memory() -> bool:
    """Make this process keep the memory numpy frees and reuse it for the next arrays; True if that took.

    By default glibc maps every large block afresh and unmaps it when freed, so each of the engine's
    temporary arrays is written onto new pages, each a page fault and a page the kernel zeroes first: about
    600,000 faults for an 80,000-row chunk, a fifth of the scoring time. With mmap off and a high trim
    threshold, freed blocks stay in the heap for the next arrays; the heap still gives back memory once more
    than _KEEP_FREED_BYTES of it is free. Process-wide: called by the processes that score (the workers, or
    the one process of a serial run). Where the C library has no mallopt (not glibc), nothing changes.
    """
    return _mallopt((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, _KEEP_FREED_BYTES))


def return_freed_memory() -> bool:
    """For the process that only reads and writes while workers score: every large block (a chunk pickled for
    a worker, some 16 MB) is mapped for itself and unmapped when freed. Left to itself, glibc raises its
    mapping threshold once such a block is freed, and the next ones fragment the heap, holding about 100 MB."""
    return _mallopt((_M_MMAP_THRESHOLD, 2**20))


def _mallopt(*settings: tuple[int, int]) -> bool:
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all([bool(mallopt(parameter, value)) for parameter, value in settings])
