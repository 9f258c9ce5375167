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
import sys
from model.scoring.memory import return_freed_memory
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
if sys.argv[1] == "return":
    assert return_freed_memory()
first = bytearray(16 * 2**20)
del first  # glibc now raises its mapping threshold to this block's size
before = rss()
held, pins = [], []
for _ in range(4):
    block = bytearray(15 * 2**20)  # like a chunk pickled for a worker
    block[:: 2**12] = bytes(len(block) // 2**12)  # written on every page: glibc need not touch fresh zeroed memory
    held.append(block)
    pins.append(bytearray(64 * 2**10))  # a block after each: the big ones, once freed, are holes in the heap
del held, block
print((rss() - before) // 2**20)
"""


@pytest.mark.slow  # two fresh interpreters, several seconds
def test_the_reading_process_gives_back_the_blocks_it_frees() -> None:
    # MiB still resident after the big blocks are freed: by default they stay (60 MiB). The blocks are written on
    # every page: a zeroed block from fresh heap need not be touched by glibc, and then resident or not depended on
    # the heap's layout (a full parallel run read 0 three times in a row).
    assert printed_number(HOLES, "default") >= 10
    assert printed_number(HOLES, "return") <= 2
