"""The chunk schedule of `backcheck score` (model.scoring.csv_input.chunk_sizes): every block once, shrinking towards
the end."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from model.scoring.csv_input import CHUNK_BLOCKS, chunk_sizes


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2000))
def test_chunks_shrink_towards_the_end_so_the_workers_finish_together(blocks: int) -> None:
    sizes = chunk_sizes(blocks)
    assert sum(sizes) == blocks  # every block, once
    assert all(1 <= size <= CHUNK_BLOCKS for size in sizes)
    assert sizes == sorted(sizes, reverse=True)
    assert sizes[-1] == 1
    left = blocks
    for size in sizes:  # none takes more than a quarter of what is left, rounded up
        assert size <= max(1, -(-left // 4))
        left -= size
    if blocks >= 8 * CHUNK_BLOCKS:  # a big file is mostly full chunks
        assert sizes.count(CHUNK_BLOCKS) * CHUNK_BLOCKS >= blocks / 2
    assert chunk_sizes(50) == [4] * 10 + [3, 2, 2, 1, 1, 1]  # the benchmark's million rows
