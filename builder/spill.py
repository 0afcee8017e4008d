"""Scratch files that hold on disk what a build would otherwise keep in memory for every
sentence: append-only files of bytes, in a temporary folder named after the process.

A folder is removed when its owner closes it or is garbage-collected, or, after a kill, by
the next folder made with the same prefix once the process that made it is gone. Nothing
stays memory-mapped: only what is being read counts in the process's resident memory
(:meth:`AppendFile.gather` maps a stretch of a file for one call).
"""

from __future__ import annotations

import contextlib
import mmap
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Optional, Union

import numpy as np

from .io import process_alive


class AppendFile:
    """An append-only file of bytes, read back at any offset with ``pread``."""

    def __init__(self, path: Path):
        self.path = path
        self.size = 0
        self._fh: BinaryIO = open(path, "w+b")  # noqa: SIM115 (closed by close())
        self._dirty = False

    def append(self, data: bytes) -> None:
        """Append ``data`` at the end (``self.size`` before the call is where it starts)."""
        self._fh.write(data)
        self.size += len(data)
        self._dirty = True

    def read(self, offset: int, length: int) -> bytes:
        """The ``length`` bytes written at ``offset``.

        Raises:
            OSError: when the file is shorter than that (it was removed or truncated).
        """
        self.flush()
        data = os.pread(self._fh.fileno(), length, offset)
        if len(data) != length:
            raise OSError(f"{self.path}: expected {length} bytes at offset {offset}, read {len(data)}")
        return data

    def gather(self, offset: int, length: int, dtype: Any, positions: np.ndarray) -> np.ndarray:
        """Items ``positions`` of the ``length`` bytes written at ``offset``, read as an array
        of ``dtype``: a copy, taken through a read-only mapping of those bytes that is closed
        before returning. Only the pages of the items taken are read, with one call however
        many there are (a read per item, or per few, costs a system call each).

        Raises:
            OSError: when the file is shorter than that (it was removed or truncated).
            IndexError: when a position is outside the ``length`` bytes.
        """
        self.flush()
        count = length // np.dtype(dtype).itemsize
        if not length:
            return np.empty(0, dtype=dtype)[positions]
        have = os.fstat(self._fh.fileno()).st_size
        if offset + length > have:
            raise OSError(f"{self.path}: expected {length} bytes at offset {offset}, the file has {have}")
        base = offset - offset % mmap.ALLOCATIONGRANULARITY
        mapped = mmap.mmap(self._fh.fileno(), offset + length - base, access=mmap.ACCESS_READ, offset=base)
        try:
            return np.frombuffer(mapped, dtype=dtype, count=count, offset=offset - base)[positions]
        finally:
            with contextlib.suppress(BufferError):  # (an error's traceback may hold the view: the mapping closes with it)
                mapped.close()

    def flush(self) -> None:
        """Write out what is buffered (:meth:`read` does it too, but not safely from several threads at once)."""
        if self._dirty:
            self._fh.flush()
            self._dirty = False

    def close(self) -> None:
        self._fh.close()


def remove_folder(folder: Path, files: list[AppendFile]) -> None:
    """Close ``files`` and remove ``folder`` (a finalizer: it must not refer to its owner)."""
    for f in files:
        f.close()
    shutil.rmtree(folder, ignore_errors=True)


def make_folder(prefix: str, parent: Optional[Union[str, Path]] = None) -> Path:
    """A new temporary folder ``PREFIX-PID-XXXX`` in ``parent`` (default: the system's,
    ``TMPDIR``), after removing those of the same prefix whose process is no longer running
    (a killed build cannot remove its own)."""
    where = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    for old in where.glob(f"{prefix}-*"):
        pid = old.name[len(prefix) + 1 :].split("-", 1)[0]
        if old.is_dir() and not (pid.isdigit() and process_alive(int(pid))):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-{os.getpid()}-", dir=where))
