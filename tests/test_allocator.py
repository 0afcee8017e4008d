"""Memory handed back between a build's phases (builder.allocator)."""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa

from builder import allocator


def resident_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))


def test_arrow_allocates_with_malloc_once_asked():
    before = pa.default_memory_pool()  # (an in-process `eventds build` may have set it already)
    try:
        pa.set_memory_pool(pa.mimalloc_memory_pool())  # what pyarrow's wheels use by default
        allocator.use_system_arrow_pool()
        assert pa.default_memory_pool().backend_name == "system"
        assert pa.array(range(1000)).sum().as_py() == 499500
    finally:
        pa.set_memory_pool(before)


def test_release_hands_freed_heap_memory_back():
    """Many small arrays freed leave their pages in glibc's heap, under a live one, counted as
    resident; release() gives them back."""
    assert sys.platform.startswith("linux") and allocator._libc() is not None
    chunks = [np.ones(8_000) for _ in range(4_000)]  # 64 KB each, under the mmap threshold: from the heap
    above = np.ones(8_000)  # allocated after them: the heap cannot shrink from its top
    before = resident_kib()
    del chunks
    allocator.release()
    after = resident_kib()
    assert before - after > 150_000  # of the 250 MB freed
    assert above.sum() == 8_000


def test_large_blocks_go_back_to_the_system_once_freed_however_large_the_last_one_was():
    """glibc would take blocks of 2 MiB from its heap after one of 16 MiB was freed, and keep
    them resident under a live one; with map_large_blocks they are handed back when freed."""
    allocator.map_large_blocks()
    big = np.ones(2**21)
    del big  # 16 MiB freed: the size glibc would move its threshold to
    blocks = [np.ones(2**18) for _ in range(100)]  # 2 MiB each
    above = np.ones(8_000)  # allocated after them: a heap could not shrink from its top
    before = resident_kib()
    del blocks
    after = resident_kib()
    assert before - after > 150_000  # of the 200 MiB freed, without release()
    assert above.sum() == 8_000
