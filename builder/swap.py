"""Replace a set of files and folders in one folder as one step: old or new, even under SIGKILL.

A stage that writes several outputs that belong together (the human layer's
``export.json``, ``human.jsonl``, ``annotators.jsonl`` and ``pseudonyms.json``; a build's
records, report and dataset) must never leave some of them new and some old. Renaming
each file into place is atomic per file only, so the set is replaced through a journal:

1. ``replace_together(folder)`` locks the folder and makes a transaction folder
   ``FOLDER/.swap-XXXX/`` whose ``new/`` subfolder (the *staging* folder) the caller fills.
2. On a successful exit, every file under ``new/`` is flushed to disk, then the journal
   ``.swap-XXXX/COMMIT`` (the names to replace and to remove) is written and renamed into
   place. That rename is the commit point.
3. Each entry is then moved: ``new/NAME`` and the current ``FOLDER/NAME`` are exchanged in
   one ``renameat2(RENAME_EXCHANGE)`` (so ``FOLDER/NAME`` never goes missing, a dataset
   folder included) and the old entry moved to ``.swap-XXXX/old/NAME``; where the system
   cannot exchange, the current entry is moved to ``old/`` first and the new one after it. Finally the replaced entries are kept (``keep``) or
   deleted, the journal last, and the transaction folder removed.

A process killed at any moment leaves the transaction folder behind. :func:`recover`
(which every ``replace_together`` also runs first) finishes a transaction whose journal
exists (roll forward: every step above can be repeated) and deletes one without a journal
(roll back: nothing in the folder was touched yet). So after ``recover`` the folder holds
either every old entry or every new one.

The folder is locked with ``flock`` on the folder itself (no lock file is left behind): a
writer holds an exclusive lock for the whole ``with`` block, so a second writer stops at
once (:class:`FolderBusy`) and ``recover`` never touches the transaction of a live writer.
Readers that may run beside a writer read inside ``with reading(folder):`` (a shared lock).
Locks are released by the kernel when a process dies. All entries must live on the same
file system as the folder (they are renamed, never copied).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import functools
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional

from .errors import EventdsError

PREFIX = ".swap-"
NEW = "new"
OLD = "old"
JOURNAL = "COMMIT"
_FORMAT = 1


class FolderBusy(EventdsError):
    """Another process is replacing files in the folder. Wait for it to finish, then run again."""

    exit_code = 1


@dataclass
class Recovery:
    """What :func:`recover` found in a folder.

    Attributes:
        rolled_forward: transactions (``.swap-XXXX`` names) that had committed and were completed.
        rolled_back: transactions that had not committed and were deleted.
        busy: another process holds the folder; nothing was done.
    """

    rolled_forward: list[str] = field(default_factory=list)
    rolled_back: list[str] = field(default_factory=list)
    busy: bool = False

    def __bool__(self) -> bool:
        return bool(self.rolled_forward or self.rolled_back)


# ---------------------------------------------------------------------------------------
# Locking


@contextlib.contextmanager
def _locked(folder: Path, exclusive: bool, wait: bool) -> Iterator[bool]:
    """Hold ``flock`` on the folder itself; yields ``False`` (and holds nothing) when it is
    taken and ``wait`` is false."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        try:
            fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | (0 if wait else fcntl.LOCK_NB))
        except OSError as e:
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                yield False
                return
            raise
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock


# ---------------------------------------------------------------------------------------
# Durability


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    """Flush a file, or a folder and everything under it, to disk."""
    if path.is_symlink() or not path.is_dir():
        if path.is_file() and not path.is_symlink():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
        return
    for root, dirs, files in os.walk(path):
        for name in files:
            p = Path(root) / name
            if not p.is_symlink():
                with open(p, "rb") as fh:
                    os.fsync(fh.fileno())
        _fsync_dir(Path(root))


def _remove(path: Path) -> None:
    """Delete a file, link or folder tree; nothing if it is not there."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


# ---------------------------------------------------------------------------------------
# The journal and its replay


def _check_name(name: str, where: str) -> None:
    if not name or name in (".", "..") or "/" in name or os.sep in name or name.startswith(PREFIX):
        raise ValueError(f"{where}: {name!r} is not a plain entry name of the folder (and must not start with {PREFIX!r})")


def _identity(path: str | Path) -> list[int]:
    st = os.lstat(path)
    return [st.st_dev, st.st_ino]


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``): neither is ever
    missing. Returns ``False`` where the system or file system cannot."""
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


@functools.lru_cache(maxsize=1)
def _libc():
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _write_journal(tx: Path, entries: list[str], remove: list[str], keep: Optional[str]) -> dict:
    # Each new entry's identity tells a replay whether it is in place already: after an
    # exchange the staging path holds the old entry.
    identities = {name: _identity(tx / NEW / name) for name in entries}
    journal = {"format": _FORMAT, "replace": entries, "remove": remove, "keep": keep, "identities": identities}
    fd, tmp = tempfile.mkstemp(prefix=f".{JOURNAL}.", dir=tx)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(journal, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.rename(tmp, tx / JOURNAL)  # the commit point
    _fsync_dir(tx)
    return journal


def _read_journal(tx: Path) -> Optional[dict]:
    try:
        data = json.loads((tx / JOURNAL).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise ValueError(f"{tx / JOURNAL}: not a journal this version can replay")
    return data


def _keep_path(folder: Path, keep: Optional[str]) -> Optional[Path]:
    if keep is None:
        return None
    path = Path(keep)
    return path if path.is_absolute() else folder / path


def _replay(folder: Path, tx: Path, journal: dict) -> None:
    """Complete a committed transaction; every step is skipped when already done."""
    new, old = tx / NEW, tx / OLD
    old.mkdir(exist_ok=True)
    identities = journal.get("identities", {})
    for name in journal["replace"]:
        src, dst, backup = new / name, folder / name, old / name
        if name in identities and os.path.lexists(dst) and _identity(dst) == identities[name]:
            if os.path.lexists(src):  # exchanged: the staging path holds the old entry
                os.rename(src, backup)
            continue  # already in place
        if not os.path.lexists(src):
            continue  # already moved into place
        if os.path.lexists(dst):
            if os.path.lexists(backup):
                _remove(dst)  # cannot happen in one run; the backup is the older entry
            elif _exchange(src, dst):  # the new entry in place, and the path never missing
                os.rename(src, backup)
                continue
            else:
                os.rename(dst, backup)
        os.rename(src, dst)
    for name in journal["remove"]:
        dst, backup = folder / name, old / name
        if os.path.lexists(dst) and not os.path.lexists(backup):
            os.rename(dst, backup)
    _fsync_dir(folder)
    keep = _keep_path(folder, journal.get("keep"))
    if old.exists():
        if keep is not None and any(old.iterdir()):
            keep.parent.mkdir(parents=True, exist_ok=True)
            _remove(keep)
            os.rename(old, keep)
            _fsync_dir(keep.parent)
        else:
            shutil.rmtree(old)
    _finish(tx)


def _finish(tx: Path) -> None:
    """Delete a transaction folder, the journal last, so that a kill during this leaves a
    folder that is either replayed again (journal present) or deleted (journal gone)."""
    for child in tx.iterdir():
        if child.name != JOURNAL:
            _remove(child)
    with contextlib.suppress(FileNotFoundError):
        (tx / JOURNAL).unlink()
    tx.rmdir()
    _fsync_dir(tx.parent)


def _recover_locked(folder: Path) -> Recovery:
    found = Recovery()
    for tx in sorted(folder.glob(f"{PREFIX}*")):
        if not tx.is_dir() or tx.is_symlink():
            _remove(tx)
            found.rolled_back.append(tx.name)
            continue
        journal = _read_journal(tx)
        if journal is None:
            shutil.rmtree(tx)
            found.rolled_back.append(tx.name)
        else:
            _replay(folder, tx, journal)
            found.rolled_forward.append(tx.name)
    if found:
        _fsync_dir(folder)
    return found


# ---------------------------------------------------------------------------------------
# Public API


def recover(folder: str | Path) -> Recovery:
    """Finish or undo what a killed :func:`replace_together` left in ``folder``.

    A transaction that had committed (its journal exists) is completed; one that had not is
    deleted. Call it before reading a folder that is written with :func:`replace_together`
    (``replace_together`` and :func:`reading` call it themselves).

    Args:
        folder: the folder whose entries are replaced together.

    Returns:
        What was done; ``busy`` when a live process holds the folder (its transaction is
        left alone: that process will complete or undo it).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return Recovery()
    with _locked(folder, exclusive=True, wait=False) as held:
        if not held:
            return Recovery(busy=True)
        return _recover_locked(folder)


@contextlib.contextmanager
def replace_together(
    folder: str | Path,
    remove: Iterable[str] = (),
    keep: Optional[str | Path] = None,
    wait: bool = False,
) -> Iterator[Path]:
    """Stage new entries of ``folder`` and put them all in place as one step when the block succeeds.

    Write files and folders into the yielded staging folder under the names they should
    have in ``folder``; subfolders are replaced whole. When the block exits normally, every
    staged entry replaces (or creates) ``folder/NAME`` and every name in ``remove`` is
    taken out of ``folder``, all or none (after :func:`recover` if the process is killed).
    When the block raises, nothing in ``folder`` changes and the staging folder is deleted.
    An empty staging folder and nothing to remove commits nothing.

    ``folder`` is locked for the whole block, so code inside it may read the current
    entries and write new ones without another writer changing them in between.

    Args:
        folder: the folder whose entries are replaced (created if missing).
        remove: names of entries to take out of the folder in the same step; read when the
            block ends, so it may be a set that the block adds to.
        keep: where to move the entries that were replaced or removed (a folder that is
            created, or replaced if it exists; relative paths are relative to ``folder``);
            ``None`` deletes them. Not created when nothing was replaced.
        wait: wait for another writer to finish instead of raising :class:`FolderBusy`.

    Yields:
        The staging folder (``folder/.swap-XXXX/new``).

    Raises:
        FolderBusy: another process holds the folder (and ``wait`` is false).
        ValueError: a name in ``remove`` or in the staging folder is not a plain entry
            name, or starts with ``.swap-``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in remove:
        _check_name(name, "remove")
    keep_rel: Optional[str] = None
    if keep is not None:
        keep_path = Path(keep) if Path(keep).is_absolute() else folder / keep
        try:
            keep_rel = str(keep_path.relative_to(folder))
        except ValueError:
            keep_rel = str(keep_path.resolve())
    with _locked(folder, exclusive=True, wait=wait) as held:
        if not held:
            raise FolderBusy(f"{folder}: another process is writing this folder; run again when it has finished")
        _recover_locked(folder)
        tx = Path(tempfile.mkdtemp(prefix=PREFIX, dir=folder))
        staging = tx / NEW
        staging.mkdir()
        try:
            yield staging
            entries = sorted(p.name for p in staging.iterdir())
            removals = sorted(set(remove))
            for name in entries:
                _check_name(name, "staging")
            for name in removals:
                _check_name(name, "remove")
            if not entries and not any(os.path.lexists(folder / n) for n in removals):
                _finish(tx)
                return
            _fsync_tree(staging)
            journal = _write_journal(tx, entries, removals, keep_rel)
        except BaseException:
            if tx.exists():
                journal = _read_journal(tx)
                if journal is None:
                    _finish(tx)  # not committed: nothing in the folder changed
                else:
                    with contextlib.suppress(OSError):  # committed: complete it now, or the next recover will
                        _replay(folder, tx, journal)
            raise
        _replay(folder, tx, journal)


@contextlib.contextmanager
def reading(folder: str | Path, wait: bool = True) -> Iterator[Path]:
    """Read ``folder`` while no writer can replace its entries (a shared lock), after :func:`recover`.

    Args:
        folder: the folder to read.
        wait: wait for a writer to finish (else raise :class:`FolderBusy`).

    Yields:
        ``folder``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        yield folder
        return
    while True:
        with _locked(folder, exclusive=False, wait=wait) as held:
            if not held:
                raise FolderBusy(f"{folder}: another process is writing this folder; run again when it has finished")
            if not any(folder.glob(f"{PREFIX}*")):
                yield folder
                return
        # A transaction is left over: recover it (exclusive lock), then read.
        with _locked(folder, exclusive=True, wait=wait) as held:
            if not held:
                raise FolderBusy(f"{folder}: another process is writing this folder; run again when it has finished")
            _recover_locked(folder)
