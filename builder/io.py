"""Reading and writing JSONL, streaming, with errors that name the file and line.

Writers go to a temporary file beside the target and rename on success, so a failed
stage never leaves a half-written output.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional, TextIO

from .errors import InputError

MAX_LINE_BYTES = 8 * 1024 * 1024  # bytes; a JSONL line longer than this is not a record but a broken file

# JSON escapes that decode to a NUL or to a UTF-16 surrogate: a cheap test on the raw line
# before the decoded object is searched for what no record may hold.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89abcdefABCDEF][0-9a-fA-F]{2})")
_FORBIDDEN_CHAR = re.compile("[\x00\ud800-\udfff]")


def forbidden_characters(obj: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Yield ``(json_path, description)`` for every NUL or lone surrogate in the strings
    (keys included) of a decoded JSON value: neither can be written as UTF-8 or stored."""
    if isinstance(obj, str):
        m = _FORBIDDEN_CHAR.search(obj)
        if m:
            ch = m.group()
            what = "NUL character" if ch == "\x00" else f"lone surrogate U+{ord(ch):04X}"
            yield path, f"{what} at character {m.start()} (not valid in UTF-8 text)"
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if _FORBIDDEN_CHAR.search(k):
                yield path + (k.encode("unicode_escape").decode("ascii"),), "key holds a NUL character or a lone surrogate"
            yield from forbidden_characters(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from forbidden_characters(v, path + (str(i),))


def check_path(path: Path, what: str = "file") -> None:
    """Raise :class:`InputError` naming ``path`` unless it is a readable regular file:
    says whether it is missing, a folder, a broken or looping symbolic link."""
    try:
        os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise InputError(f"{path}: symbolic link loop") from e
        if path.is_symlink():
            raise InputError(f"{path}: broken symbolic link to {os.readlink(path)!r}") from e
        if e.errno == errno.ENOENT:
            raise InputError(f"{path}: no such {what}") from e
        raise InputError(f"{path}: cannot be read: {e.strerror}") from e
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a {what}")
    if not path.is_file():
        raise InputError(f"{path}: not a regular file, expected a {what}")


def check_output(path: Path) -> None:
    """Raise :class:`InputError` when ``path`` cannot be written as a file (it is a folder)."""
    if Path(path).is_dir():
        raise InputError(f"{path}: is a folder; give a file path to write to")


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSONL file.

    Raises:
        InputError: naming the file and line when the file is missing, a folder, binary,
            not UTF-8, starts with a byte-order mark, is empty, has an over-long line, a line
            is not a JSON object, or a string holds a NUL or a lone surrogate (named by its
            field).
    """
    path = Path(path)
    check_path(path, "JSONL file")
    seen_any = False
    try:
        fh = path.open("rb")
    except OSError as e:
        raise InputError(f"{path}: cannot be read: {e.strerror}") from e
    with fh:
        head = fh.read(8192)
        if b"\x00" in head:
            raise InputError(f"{path}:1: NUL byte: this looks like a binary file, not JSONL")
        if head.startswith(b"\xef\xbb\xbf"):
            raise InputError(f"{path}:1: file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM")
        fh.seek(0)
        for lineno, raw in enumerate(fh, start=1):
            if len(raw) > MAX_LINE_BYTES:
                raise InputError(f"{path}:{lineno}: line is {len(raw):,} bytes long, over the limit of {MAX_LINE_BYTES:,}")
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(f"{path}:{lineno}: not valid UTF-8 at byte {e.start} of the line: {e.reason}") from e
            if not line.strip():
                continue
            if "\x00" in line:
                raise InputError(f"{path}:{lineno}: NUL byte: this looks like a binary file, not JSONL")
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{lineno}: invalid JSON at column {e.colno}: {e.msg}") from e
            if not isinstance(obj, dict):
                raise InputError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
            if _SUSPECT_ESCAPE.search(line):
                for where, what in forbidden_characters(obj):
                    raise InputError(f"{path}:{lineno}" + (" -> " + " -> ".join(where) if where else "") + f": {what}")
            seen_any = True
            yield lineno, obj
    if not seen_any:
        raise InputError(f"{path}: empty file, expected JSON lines")


def umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` is running (another user's included)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_dead_temporaries(path: Path) -> list[Path]:
    """Delete the temporary files of :func:`atomic_open` beside ``path`` whose writer is no
    longer running (``.NAME.PID.XXXX.tmp``), and those of earlier versions, which carried no
    process id (``.NAME.XXXX.tmp``, where ``XXXX`` is not a number); return them."""
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        middle = tmp.name[len(path.name) + 2: -len(".tmp")]
        pid = middle.split(".", 1)[0] if "." in middle else ""
        if pid.isdigit() and process_alive(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", permissions: Optional[int] = None) -> Iterator[TextIO]:
    """Open a temporary file beside ``path``; rename it onto ``path`` only if the block succeeds.

    The file gets ``permissions`` (default: what ``open`` would give, 0666 less the umask;
    ``mkstemp`` alone would leave 0600). The temporary file's name carries the writer's
    process id, so that the next writer of ``path`` deletes what a killed one left
    (:func:`remove_dead_temporaries`).
    """
    path = Path(path)
    check_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding="utf-8", newline="\n") as fh:
            yield fh
        os.chmod(tmp, permissions if permissions is not None else 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_jsonl(path: str | Path, objects: Iterable[dict[str, Any]]) -> int:
    """Write objects as JSON lines atomically; return how many were written."""
    n = 0
    with atomic_open(path) as fh:
        for obj in objects:
            fh.write(json.dumps(obj, ensure_ascii=False, sort_keys=False))
            fh.write("\n")
            n += 1
    return n


def write_json(path: str | Path, obj: Any) -> None:
    """Write one JSON document atomically, pretty-printed."""
    with atomic_open(path) as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
