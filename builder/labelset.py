"""The label set, read from the record schema so that there is one place to change it."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent

ANNOTATION_STATUSES = frozenset({"unlabelled", "weak", "corrected", "adjudicated"})
#: Statuses of a sentence whose ``events`` are a human layer.
HUMAN_STATUSES = frozenset({"corrected", "adjudicated"})


def project_file(*parts: str) -> Path:
    """Locate a shipped project file (``schema/...``, ``guidelines/...``).

    In a wheel the folders are copied into the package as ``builder/_data/<folder>``; in a
    source checkout they sit beside the package.
    """
    for base in (PACKAGE_DIR / "_data", PACKAGE_DIR.parent):
        candidate = base.joinpath(*parts)
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"shipped file {'/'.join(parts)} not found under {PACKAGE_DIR}")


@lru_cache(maxsize=None)
def load_schema(name: str = "sentence") -> dict[str, Any]:
    """Return the JSON Schema ``schema/<name>.schema.json``."""
    return json.loads(project_file("schema", f"{name}.schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def event_types() -> tuple[str, ...]:
    """The event types, in schema order (the order of the published ``ClassLabel``)."""
    return tuple(load_schema()["$defs"]["event_type"]["enum"])


@lru_cache(maxsize=None)
def argument_roles() -> tuple[str, ...]:
    return tuple(load_schema()["$defs"]["argument"]["properties"]["role"]["enum"])


@lru_cache(maxsize=None)
def realis_values() -> tuple[str, ...]:
    return tuple(v for v in load_schema()["$defs"]["event"]["properties"]["realis"]["enum"] if v is not None)


@lru_cache(maxsize=None)
def guidelines() -> dict[str, Any]:
    """The machine-readable guidelines summary (version, hints per label)."""
    return json.loads(project_file("guidelines", "labels.json").read_text(encoding="utf-8"))


def guidelines_version() -> str:
    return str(guidelines()["version"])


SCHEMAS = ("sentence", "split_manifest", "ls_task", "ls_export")


def validator(name: str):
    """A Draft 2020-12 validator for ``schema/<name>.schema.json``, able to resolve ``$ref``s
    between the project's schemas by their ``$id``."""
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry = Registry().with_resources(
        (load_schema(n)["$id"], Resource.from_contents(load_schema(n))) for n in SCHEMAS
    )
    return Draft202012Validator(load_schema(name), registry=registry)
