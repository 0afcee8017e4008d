"""Keeping a long build's resident memory near what it holds.

A build's phases (the stream of documents, the near-duplicate index, publishing) each make
and drop large temporary buffers: NumPy arrays of the index's bands and candidate pairs,
Arrow record batches. Freed, they stay in the process unless the allocator gives them back:

- Arrow's default pool (mimalloc or jemalloc) keeps freed pages for its next allocations;
  :func:`use_system_arrow_pool` makes Arrow allocate with ``malloc`` instead, as NumPy does,
  so the two share one heap (at 300k sentences, about 50 MiB less at every phase's peak,
  in the same time). pyarrow's ``set_memory_pool`` alone reaches only what pyarrow
  allocates itself: reading IPC streams and writing parquet went on in mimalloc, whose
  pages held grew with the corpus (8 MiB at publishing's start at 100k sentences, 18 at
  300k; 36 and 43 at its end);
- glibc's ``malloc`` keeps the free memory of its heap; :func:`release` hands it back
  (``malloc_trim``) between phases, so that a phase's peak is not added to the last one's;
- glibc gives a large block pages of its own, handed back when it is freed, but each such
  block freed raises the size it takes to be large (up to 32 MiB): after the first few, the
  index's arrays of some MiB come from the heap, where a block freed under a live one stays
  resident. :func:`map_large_blocks` fixes that size at 1 MiB. At 1M sentences the index's
  peak over what the build held before it is then about 95 MiB instead of 183, and the index
  takes about 77 s instead of 62 (its large arrays are mapped afresh each time; at 4 MiB:
  139 MiB and 70 s).

Both are no-ops where they do not apply (no pyarrow, no glibc).

One more thing a build's processes hold without using it: thinc, spaCy's machine-learning
library, imports PyTorch whenever it is installed (as it is with the ``model`` extra), for
pipelines whose components run on it. spaCy's blank pipeline has none, and PyTorch costs
each process about 180 MiB of resident memory and a second to import:
:func:`import_spacy_without_torch` imports spaCy without it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import lru_cache
from typing import Any, Optional


def import_spacy_without_torch() -> bool:
    """Import spaCy, for this process, without the PyTorch that thinc imports when it is
    installed (``eventds build`` does, with spaCy's blank pipeline; so do the workers of the
    local Dask cluster it starts).

    ``import torch`` works afterwards as before (the learned labelling function imports it
    when it runs); only thinc goes on without it, so a spaCy pipeline whose components run
    on PyTorch (``spacy-transformers``) cannot run in this process.

    Returns:
        Whether spaCy was imported so: ``False`` when thinc or PyTorch was imported already.
    """
    if "thinc" in sys.modules or "torch" in sys.modules:
        return False
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError, as if it were not installed
    try:
        import spacy  # noqa: F401
    finally:
        if sys.modules.get("torch", False) is None:
            del sys.modules["torch"]
    return True


#: The environment variable Arrow reads once, when it first needs its default memory pool.
ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def use_system_arrow_pool() -> None:
    """Make ``malloc`` Arrow's default memory pool, for this process and the processes it
    starts (``eventds build`` does, before it imports pyarrow), unless
    ``ARROW_DEFAULT_MEMORY_POOL`` names another.

    Arrow's own default (what its IPC readers and parquet writers allocate with) is read
    from that variable once, as pyarrow is imported: called later, this reaches only what
    pyarrow allocates itself in this process."""
    os.environ.setdefault(ARROW_POOL_VARIABLE, "system")
    if os.environ[ARROW_POOL_VARIABLE] != "system":
        return
    try:
        import pyarrow as pa
    except ImportError:
        return
    pa.set_memory_pool(pa.system_memory_pool())


#: ``mallopt``'s parameter for the size from which a block gets pages of its own (glibc's ``malloc.h``).
_M_MMAP_THRESHOLD = -3


def map_large_blocks(threshold: int = 1 << 20) -> None:
    """Give every block of ``threshold`` bytes or more pages of its own, for this process
    (``eventds build`` does), instead of the size glibc moves up as blocks are freed."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, threshold)


@lru_cache(maxsize=None)
def _libc() -> Optional[Any]:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None  # glibc has it, musl does not
    except OSError:
        return None


def release() -> None:
    """Give the memory freed so far back to the system: glibc's free heap pages, and what
    Arrow's pool keeps unused."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
    pa = sys.modules.get("pyarrow")
    if pa is not None:
        pa.default_memory_pool().release_unused()
