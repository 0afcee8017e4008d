"""Which labelling functions run, in which order, with which options: ``weak_functions.json``.

::

    {"version": "weak_functions.v1",
     "functions": [{"name": "strike_lexicon.v5"}, ...,
                   {"name": "tagger.v1", "model": "models/tagger", "types": ["ATTACK"],
                    "threshold": 0.5, "enabled": false}]}

Each entry names a registered function (:data:`builder.weak.base.REGISTRY`); its other keys
are the options of that function's factory (a relative path is read from the current
directory, as on the command line), and ``"enabled": false`` keeps an entry without running
it. The shipped file (``builder/resources/weak_functions.json``) runs the rules; a
configuration of one's own is named with ``--weak-config``.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from ..errors import ConfigError
from . import context, learned, lexicon  # noqa: F401  (each registers its functions)
from .base import REGISTRY, RESOURCES, LabellingFunction, OptionError, create

CONFIG_PATH = RESOURCES / "weak_functions.json"
TOP_KEYS = ("version", "description", "functions")
ENTRY_KEYS = ("name", "enabled")


@dataclass(frozen=True)
class FunctionEntry:
    """One entry of the ``functions`` list."""

    name: str
    options: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    where: str = ""  # "FILE -> functions -> N", for messages


@dataclass(frozen=True)
class WeakConfig:
    """The contents of a ``weak_functions.json``."""

    path: Path
    version: str
    entries: tuple[FunctionEntry, ...]

    @classmethod
    def load(cls, path: Optional[Path] = None) -> "WeakConfig":
        """Read and check a configuration (the shipped one by default).

        Raises:
            ConfigError: every problem at once, each naming the file, the entry and the field.
        """
        path = Path(path) if path is not None else CONFIG_PATH
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as e:
            raise ConfigError(f"{path}: cannot read the labelling-function configuration: {e.strerror}") from e
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}:{e.lineno}: invalid JSON at column {e.colno}: {e.msg}") from e
        problems: list[str] = []
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: expected a JSON object with 'functions', got a {type(data).__name__}")
        problems += [f"{path} -> {key}: unknown key; expected one of {list(TOP_KEYS)}" for key in data if key not in TOP_KEYS]
        version = data.get("version", "")
        if not isinstance(version, str):
            problems.append(f"{path} -> version: expected a string, got {version!r}")
        functions = data.get("functions")
        entries: list[FunctionEntry] = []
        if not isinstance(functions, list):
            problems.append(f"{path} -> functions: expected a list of {{\"name\": ...}} entries, got {'nothing' if functions is None else type(functions).__name__}")
            functions = []
        first: dict[str, int] = {}
        for i, raw in enumerate(functions):
            entry, found = _entry(path, i, raw)
            problems += found
            if entry is None:
                continue
            if entry.name in first:
                problems.append(f"{entry.where} -> name: {entry.name!r} is listed twice (first as entry {first[entry.name]})")
                continue
            first[entry.name] = i
            entries.append(entry)
        if problems:
            raise ConfigError("\n".join(sorted(problems)))
        return cls(path, version, tuple(entries))

    def enabled(self) -> list[FunctionEntry]:
        """The entries that run, in order."""
        return [e for e in self.entries if e.enabled]

    def entry(self, name: str) -> Optional[FunctionEntry]:
        return next((e for e in self.entries if e.name == name), None)

    def create(self, rules: Any, names: Optional[Iterable[str]] = None) -> list[LabellingFunction]:
        """The functions to run: the enabled entries, or the ``names`` given (with the options
        of their entries, when they have one), in order.

        Raises:
            ConfigError: every function that cannot be made, naming the entry and field.
        """
        if names is None:
            chosen = self.enabled()
        else:
            chosen = [self.entry(n) or FunctionEntry(n, where=f"function {n!r}") for n in names]
            unknown = [e.name for e in chosen if e.name not in REGISTRY]
            if unknown:
                raise ConfigError(f"unknown labelling functions {unknown}; registered: {sorted(REGISTRY)}")
        functions, problems = [], []
        for entry in chosen:
            missing = [o for o in _options(entry.name)[1] if o not in entry.options]
            if missing:
                problems += [f"{entry.where} -> {o}: required by {entry.name}" for o in missing]
                continue
            try:
                functions.append(create(entry.name, rules, **entry.options))
            except OptionError as e:
                problems.append(f"{entry.where} -> {e.field}: {e.message}")
            except ConfigError as e:
                problems.append(f"{entry.where}: {e}")
        if problems:
            raise ConfigError("\n".join(sorted(problems)))
        return functions


def _options(name: str) -> tuple[list[str], list[str]]:
    """The options of a registered factory (its keyword parameters after ``name`` and ``rules``), and the required ones."""
    params = list(inspect.signature(REGISTRY[name]).parameters.values())[2:]
    names = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return names, [p.name for p in params if p.name in names and p.default is inspect.Parameter.empty]


def _entry(path: Path, i: int, raw: Any) -> tuple[Optional[FunctionEntry], list[str]]:
    """One entry of ``functions``, and the problems found in it."""
    where = f"{path} -> functions -> {i}"
    if not isinstance(raw, dict):
        return None, [f"{where}: expected an object with a 'name', got {raw!r}"]
    name = raw.get("name")
    if not isinstance(name, str):
        return None, [f"{where} -> name: expected the name of a registered labelling function, got {'nothing' if name is None else repr(name)}"]
    if name not in REGISTRY:
        return None, [f"{where} -> name: {name!r} is not a registered labelling function; registered: {sorted(REGISTRY)}"]
    problems = []
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{where} -> enabled: expected true or false, got {enabled!r}")
    allowed, required = _options(name)
    options = {k: v for k, v in raw.items() if k not in ENTRY_KEYS}
    for key in options:
        if key not in allowed:
            takes = f"its options: {allowed}" if allowed else "it takes none"
            problems.append(f"{where} -> {key}: not an option of {name} ({takes})")
    if enabled is True:
        problems += [f"{where} -> {key}: required by {name}" for key in required if key not in options]
    return FunctionEntry(name, options, enabled is True, where), problems
