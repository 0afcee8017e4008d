"""Shared fixtures: a real Label Studio server per test, started from a pre-migrated data dir.

Migrating a fresh Label Studio database takes ~25 s, so it is done once per session
(``ls_template``); each ``ls_server`` copies that workspace and starts a server on a free
port of 127.0.0.1 in a few seconds, and stops it after the test.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

import pytest

from builder.records import Argument, DocumentMeta, Event, Sentence

LABELLER = "eventds-weak/weak_rules.v1"


@dataclass
class LiveServer:
    """A running test server: its URL, API token and workspace; can be killed and restarted."""

    workspace: Path
    port: int
    server: Optional[object] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        from builder.studio.credentials import Credentials, credentials_path

        return Credentials.load(credentials_path(self.workspace)).token

    @property
    def credentials(self):
        from builder.studio.credentials import Credentials, credentials_path

        return Credentials.load(credentials_path(self.workspace))

    def start(self) -> "LiveServer":
        from builder.studio.server import start_server

        self.server = start_server(self.workspace, self.port, timeout=120)
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()

    def kill(self) -> None:
        """Kill the server process at once, as a crash would."""
        if self.server is not None:
            self.server.kill()

    def client(self):
        from builder.studio.client import StudioClient

        return StudioClient(self.url, self.token)


@pytest.fixture(scope="session")
def ls_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace whose Label Studio database is migrated and has the admin account (once per session)."""
    from builder.studio.server import free_port, start_server

    workspace = tmp_path_factory.mktemp("ls-template") / "workspace"
    server = start_server(workspace, free_port(), timeout=240)
    server.stop()
    return workspace


@pytest.fixture
def ls_server(ls_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """A fresh Label Studio server (copy of the template) on a free port; stopped after the test."""
    from builder.studio.server import free_port

    workspace = tmp_path / "workspace"
    shutil.copytree(ls_template, workspace)
    (workspace / "label-studio" / "server.log").unlink(missing_ok=True)
    live = LiveServer(workspace, free_port()).start()
    try:
        yield live
    finally:
        live.stop()


# ---------------------------------------------------------------------------------------
# Records with awkward texts


def sentence(sid: str, text: str, events: list[Event], index: int = 0) -> Sentence:
    """A weak-labelled sentence record with ``events`` as both layers."""
    return Sentence(
        id=sid,
        doc_id=sid.split("-")[0],
        index=index,
        text=text,
        start=0,
        end=len(text),
        raw_start=0,
        raw_end=len(text),
        meta=DocumentMeta(outlet="Test Wire", title="Test article", published="2024-05-01"),
        events=tuple(events),
        weak_events=tuple(events),
        status="weak",
        guidelines_version="1.0.0",
        labeller=LABELLER,
    )


def ev(text: str, word: str, type_: str, occurrence: int = 0, confidence: Optional[float] = 0.8, realis=None, args=()) -> Event:
    """An event whose trigger is the ``occurrence``-th ``word`` in ``text``; ``args`` are (role, word) pairs."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(word, start + 1)
    arguments = tuple(Argument(role, text.index(w), text.index(w) + len(w), w) for role, w in args)
    return Event(type_, start, start + len(word), word, confidence, ("test_lf.v1",), realis, arguments)


def tricky_sentences() -> list[Sentence]:
    """Sentences with astral-plane characters, CJK, NBSP, curly quotes, CRLF and combining marks."""
    rows = []
    t = "Militants fired rockets at the base 🚀🔥, killing 3 soldiers, officials said on Monday."
    rows.append(sentence("doc1-a", t, [
        ev(t, "fired", "ATTACK", realis="ACTUAL", args=[("attacker", "Militants"), ("instrument", "rockets"), ("target", "the base")]),
        ev(t, "killing", "CASUALTY", confidence=0.9, realis="ACTUAL", args=[("victim", "soldiers"), ("count", "3")]),
    ]))
    t = "据报道，无人机袭击了港口 😡 — a drone strike hit the port"
    rows.append(sentence("doc2-a", t, [ev(t, "袭击", "STRIKE", confidence=0.6), ev(t, "drone strike", "STRIKE", confidence=0.7)]))
    t = "The group “vowed\u00a0revenge” after the shelling of 𝕄𝕒𝕣𝕚𝕦𝕡𝕠𝕝 𝟚𝟘𝟚𝟚."
    rows.append(sentence("doc3-a", t, [
        ev(t, "vowed", "THREAT", realis="OTHER", args=[("threatener", "The group")]),
        ev(t, "shelling", "ATTACK", confidence=None, args=[("place", "𝕄𝕒𝕣𝕚𝕦𝕡𝕠𝕝")]),
    ]))
    t = "Gunmen attacked the convoy 👨‍👩‍👧.\r\nTwo guards were wounded and one was killed in the 𝄞 Hall attack."
    rows.append(sentence("doc4-a", t, [
        ev(t, "attacked", "ATTACK", confidence=0.75),
        ev(t, "wounded", "CASUALTY", confidence=0.55, args=[("place", "𝄞 Hall")]),
        ev(t, "attack", "ATTACK", occurrence=1, confidence=0.5),
    ]))
    t = "Nothing happened in Cafe\u0301 🙂 today."
    rows.append(sentence("doc5-a", t, []))
    t = "🚀 Strikes 🚀"
    rows.append(sentence("doc6-a", t, [ev(t, "Strikes", "STRIKE", confidence=0.65)]))
    return rows


def write_records(path: Path, sentences: list[Sentence]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for s in sentences:
            fh.write(json.dumps(s.to_dict(), ensure_ascii=False) + "\n")
    return path


@pytest.fixture
def tricky_records(tmp_path: Path) -> Path:
    return write_records(tmp_path / "records.jsonl", tricky_sentences())
