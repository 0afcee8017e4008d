"""Scratch files that hold on disk what a build would otherwise keep in memory for every
sentence: append-only files of bytes, in a temporary folder named after the process.

A folder is removed when its owner closes it or is garbage-collected, or, after a kill, by
the next folder made with the same prefix once the process that made it is gone. Nothing is
memory-mapped: only what is being read counts in the process's resident memory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Optional, Union

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
