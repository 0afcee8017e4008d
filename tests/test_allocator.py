"""Memory handed back between a build's phases (builder.allocator)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

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


_ARROW_WORK = """
import os, sys
if sys.argv[1] == "asked":
    from builder.allocator import use_system_arrow_pool
    use_system_arrow_pool()  # before pyarrow is imported, as `eventds build` calls it
    import pyarrow as pa
else:
    import pyarrow as pa
    pa.set_memory_pool(pa.system_memory_pool())  # pyarrow's own setting alone
import pyarrow.parquet as pq
table = pa.table({"n": list(range(50_000)), "text": ["a sentence of the corpus"] * 50_000})
sink = pa.BufferOutputStream()
with pa.ipc.new_stream(sink, table.schema, options=pa.ipc.IpcWriteOptions(compression="lz4")) as writer:
    writer.write_table(table)
back = pa.ipc.open_stream(sink.getvalue()).read_all()  # as a build reads its workers' rows back
pq.write_table(back, sys.argv[2])  # and writes the dataset's files
print(pa.mimalloc_memory_pool().max_memory(), pa.default_memory_pool().backend_name, os.environ.get("ARROW_DEFAULT_MEMORY_POOL"))
"""


def _arrow_work(how: str, tmp_path, **env: str) -> list[str]:
    environ = {k: v for k, v in os.environ.items() if k != allocator.ARROW_POOL_VARIABLE}  # (an in-process build sets it)
    done = subprocess.run([sys.executable, "-c", _ARROW_WORK, how, str(tmp_path / "t.parquet")], capture_output=True, text=True, env={**environ, **env})
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_arrow_reads_streams_and_writes_parquet_with_malloc_once_asked(tmp_path):
    """Arrow's own allocations (IPC reads, parquet writes) follow its default pool, read from
    ARROW_DEFAULT_MEMORY_POOL: pyarrow's set_memory_pool alone leaves them to mimalloc."""
    assert _arrow_work("asked", tmp_path) == ["0", "system", "system"]
    mimalloc, name, variable = _arrow_work("pyarrow alone", tmp_path)
    assert int(mimalloc) > 1_000_000 and (name, variable) == ("system", "None")


def test_a_pool_the_user_names_is_kept(tmp_path):
    assert _arrow_work("asked", tmp_path, ARROW_DEFAULT_MEMORY_POOL="jemalloc")[1:] == ["jemalloc", "jemalloc"]


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


# spaCy without the PyTorch thinc would import

_IMPORTS = """
import json, sys
from builder.allocator import import_spacy_without_torch
first = import_spacy_without_torch()
import spacy, thinc.compat
held = "torch" in sys.modules
tokens = len(spacy.blank("en")("Two drones hit the port on Monday."))
again = import_spacy_without_torch()
import torch  # the learned labelling function imports it when it runs
print(json.dumps([first, held, thinc.compat.has_torch, tokens, again, int(torch.tensor([2, 3]).sum())]))
"""


def test_spacy_is_imported_without_torch_which_still_imports_afterwards():
    pytest.importorskip("torch")  # (the `model` extra: without it there is no PyTorch to leave out)
    done = subprocess.run([sys.executable, "-c", _IMPORTS], capture_output=True, text=True, check=True)
    first, held, thinc_torch, tokens, again, total = json.loads(done.stdout)
    assert (first, held, thinc_torch) == (True, False, False)
    assert tokens == 8  # the blank pipeline works as ever
    assert again is False  # spaCy is in: nothing more to do
    assert total == 5


def test_eventds_build_holds_no_torch_with_the_blank_pipeline(tmp_path):
    pytest.importorskip("torch")
    script = (
        "import sys\n"
        "from builder.cli import app\n"
        f"app(['build', '-o', {str(tmp_path / 'out')!r}], standalone_mode=False)\n"
        "print('torch' in sys.modules, 'spacy' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-2:] == ["False", "True"]
    assert (tmp_path / "out" / "dataset" / "README.md").is_file()


def _modules_held() -> list[bool]:
    from builder.runners import _warm_up

    _warm_up()  # what the stages import
    return ["torch" in sys.modules, "spacy" in sys.modules]


@pytest.mark.parametrize("without", [True, False], ids=["without torch", "as thinc would"])
def test_the_local_clusters_workers_import_spacy_without_torch_when_asked(without):
    pytest.importorskip("torch")
    pytest.importorskip("distributed")
    from builder.runners import dask_runner

    with dask_runner(workers=1, spacy_without_torch=without) as runner:
        held = runner.client.run(_modules_held)
    assert list(held.values()) == [[not without, True]]
