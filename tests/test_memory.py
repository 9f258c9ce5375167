"""The allocator settings of the processes that score and of the one that reads and writes (model.scoring.memory), each
measured in a fresh interpreter, since an allocator setting is process-wide."""

from __future__ import annotations

import subprocess
import sys

import pytest

FAULTS = """
import resource, sys
import numpy as np
from model.scoring.memory import reuse_freed_memory
if sys.argv[1] == "reuse":
    assert reuse_freed_memory()
np.ones(2**20)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    a = np.ones(2**20)  # 8 MB, as big as the engine's working arrays
    del a
    b = np.ones(3 * 2**18)
    del b
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def printed_number(script: str, mode: str) -> int:
    """Run `script` in a fresh interpreter (an allocator setting is process-wide) and read the number it prints."""
    done = subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


@pytest.mark.slow  # two fresh interpreters, several seconds
def test_scoring_processes_reuse_the_memory_numpy_frees() -> None:
    # By default each large array is mapped afresh, and every page written is a fault; the scorer turns that off.
    assert printed_number(FAULTS, "default") >= 100
    assert printed_number(FAULTS, "reuse") <= 10


HOLES = """
import ctypes, sys
from model.scoring.memory import return_freed_memory
class Mallinfo(ctypes.Structure):  # glibc's struct mallinfo2 (malloc.h)
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Mallinfo
if sys.argv[1] == "return":
    assert return_freed_memory()
else:  # what glibc does by itself once a mapped 16 MiB block is freed (mallopt(3), M_MMAP_THRESHOLD), made explicit
    assert ctypes.CDLL(None).mallopt(-3, 32 * 2**20)
first = bytearray(16 * 2**20)
del first  # left to itself, glibc now raises its mapping threshold to this block's size
before = mallinfo2().fordblks
held, pins = [], []
for _ in range(4):
    block = bytearray(15 * 2**20)  # like a chunk pickled for a worker
    held.append(block)
    pins.append(bytearray(64 * 2**10))  # a block after each: the big ones, once freed, are holes in the heap
del held, block
print((mallinfo2().fordblks - before) // 2**20)  # MiB the heap holds free after the blocks are freed
"""


@pytest.mark.slow  # two fresh interpreters, several seconds
def test_the_reading_process_gives_back_the_blocks_it_frees() -> None:
    # MiB the heap holds free once the big blocks are freed, as glibc counts them (mallinfo2): with a raised mapping
    # threshold the blocks stay in the heap (60 MiB); with return_freed_memory each is mapped and unmapped. Counted by
    # the allocator, not by the kernel's resident memory, which one CI machine read as 0 where others read 60.
    assert printed_number(HOLES, "raised") >= 50
    assert printed_number(HOLES, "return") <= 2
