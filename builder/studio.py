"""Label Studio: run the server, generate the labelling interface, push weak labels, pull annotations.

The server runs from the ``label-studio`` package (optional extra ``server``) with its data in
``WORKSPACE/label-studio/``. Its admin account and API token are generated on first start
and kept in ``WORKSPACE/label-studio/credentials.json`` (mode 0600); other commands read
them from there unless ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY`` are set.

Tasks carry the sentence id in ``data.sentence_id``; pushes look tasks up by it, so a push
can be repeated (or resumed after a failure) without creating duplicates. A push with the
human layer also marks each task it sends a human annotation to (``meta.eventds_human``).

A pull merges the export into the human layer in ``annotations/`` (see
:func:`builder.studio_convert.merge_human_layer`) and replaces its files as one step
(:mod:`builder.swap`), keeping the files it replaced in ``annotations/.previous/``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Optional

import httpx

from . import pseudonyms, swap
from . import studio_convert as conv
from .errors import ConfigError, InputError, ServiceError, ValidationFailed
from .io import read_jsonl
from .labelset import HUMAN_STATUSES, guidelines_version
from .records import Sentence
from .studio_convert import LS_OFFSET_UNIT, LabelSet, OffsetUnit, PullStats
from .validate import require_valid

DATA_SUBDIR = "label-studio"
CREDENTIALS_FILE = "credentials.json"
SERVER_LOG = "server.log"
ENV_URL = "LABEL_STUDIO_URL"
ENV_API_KEY = "LABEL_STUDIO_API_KEY"
DEFAULT_PROJECT = "eventds"
DEFAULT_PORT = 8080
EXPORT_FILE = "export.json"
HUMAN_FILE = "human.jsonl"
ANNOTATORS_FILE = "annotators.jsonl"
PREVIOUS_DIR = ".previous"  # in the pull's folder: the files each pull replaced, one folder per pull
PREVIOUS_KEPT = 10  # how many of those folders are kept


# ---------------------------------------------------------------------------------------
# Credentials


@dataclass(frozen=True)
class Credentials:
    """The admin account and API token of a workspace's server (secrets: never print them)."""

    username: str
    password: str = field(repr=False)
    token: str = field(repr=False)
    url: Optional[str] = None

    @classmethod
    def generate(cls) -> "Credentials":
        """New random credentials (the token is a 40-character legacy API token)."""
        return cls(username="admin@eventds.local", password=secrets.token_urlsafe(18), token=secrets.token_hex(20))

    @classmethod
    def load(cls, path: Path) -> "Credentials":
        """Read a credentials file.

        Raises:
            ConfigError: the file is missing or not a credentials file.
        """
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            return cls(username=d["username"], password=d["password"], token=d["token"], url=d.get("url"))
        except FileNotFoundError as e:
            raise ConfigError(f"{path}: no credentials; start the server with `eventds annotate serve` first") from e
        except (json.JSONDecodeError, KeyError, TypeError) as e:
            raise ConfigError(f"{path}: not a credentials file ({e!r})") from e

    def save(self, path: Path) -> None:
        """Write the file atomically with mode 0600 (created so, never widened)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"url": self.url, "username": self.username, "password": self.password, "token": self.token}, fh, indent=2)
                fh.write("\n")
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def data_dir(workspace: Path) -> Path:
    """Where the server of ``workspace`` keeps its database, credentials and log."""
    return Path(workspace) / DATA_SUBDIR


def credentials_path(workspace: Path) -> Path:
    return data_dir(workspace) / CREDENTIALS_FILE


def ensure_credentials(workspace: Path) -> Credentials:
    """Load the workspace's credentials, generating and saving them on first use."""
    path = credentials_path(workspace)
    if path.exists():
        return Credentials.load(path)
    creds = Credentials.generate()
    creds.save(path)
    return creds


# ---------------------------------------------------------------------------------------
# Server process


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on ``host:port`` (connections lingering in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself binds
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running Label Studio server started by :func:`start_server`."""

    url: str
    workspace: Path
    process: subprocess.Popen
    log_path: Path

    @property
    def credentials(self) -> Credentials:
        return Credentials.load(credentials_path(self.workspace))

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 20.0) -> int:
        """Terminate the server (SIGTERM, then SIGKILL after ``timeout``) and wait for it."""
        if self.alive():
            self._signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
        return self.process.wait()

    def kill(self) -> None:
        """Kill the server at once, as a crash would (for tests of interrupted work)."""
        if self.alive():
            self._signal(signal.SIGKILL)
        self.process.wait()

    def _signal(self, sig: int) -> None:
        # The server runs in its own process group (start_new_session): signal that group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _server_env(creds: Credentials, ddir: Path) -> dict[str, str]:
    env = dict(os.environ)
    for key in (ENV_URL, ENV_API_KEY):
        env.pop(key, None)
    env.update(
        {
            "LABEL_STUDIO_USERNAME": creds.username,
            "LABEL_STUDIO_PASSWORD": creds.password,
            "LABEL_STUDIO_USER_TOKEN": creds.token,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_BASE_DATA_DIR": str(ddir),
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def start_server(
    workspace: Path = Path("workspace"),
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    timeout: float = 180.0,
) -> Server:
    """Start Label Studio on ``host:port`` with its data in ``workspace/label-studio/`` and wait until it answers.

    The first start creates the database (about 25 s), the admin account and API token
    (saved in ``credentials.json``); later starts reuse them (a few seconds). The server
    log goes to ``workspace/label-studio/server.log``.

    Args:
        workspace: the workspace folder.
        port: the port to listen on.
        host: the address to bind (loopback by default: the server has no TLS).
        timeout: seconds to wait for the server to answer.

    Returns:
        The running :class:`Server`; call ``stop()`` (or use it as a context manager).

    Raises:
        ConfigError: Label Studio is not installed.
        ServiceError: the port is taken, or the server died or did not answer in time.
    """
    if importlib.util.find_spec("label_studio") is None:
        raise ConfigError("Label Studio is not installed: pip install 'eventds[server]'")
    if not port_is_free(port, host):
        raise ServiceError(f"port {port} on {host} is in use; choose another with --port")
    ddir = data_dir(Path(workspace)).resolve()
    ddir.mkdir(parents=True, exist_ok=True)
    ddir.chmod(0o700)  # the database holds the API token in clear
    creds = ensure_credentials(Path(workspace))
    url = f"http://{host}:{port}"
    log_path = ddir / SERVER_LOG
    cmd = [
        sys.executable, "-c", "from label_studio.server import main; main()",
        "start", "--no-browser", "--internal-host", host, "--port", str(port), "--data-dir", str(ddir),
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            cmd, cwd=ddir, env=_server_env(creds, ddir), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(url=url, workspace=Path(workspace), process=process, log_path=log_path)
    try:
        wait_ready(url, creds.token, timeout, process, log_path)
    except BaseException:
        server.stop()
        raise
    if creds.url != url:
        Credentials(creds.username, creds.password, creds.token, url).save(credentials_path(Path(workspace)))
    return server


def wait_ready(
    url: str,
    token: Optional[str] = None,
    timeout: float = 180.0,
    process: Optional[subprocess.Popen] = None,
    log_path: Optional[Path] = None,
) -> None:
    """Wait until the server at ``url`` is healthy and (with ``token``) accepts the token.

    Raises:
        ServiceError: the process exited, or the server did not get ready within ``timeout``.
    """
    deadline = time.monotonic() + timeout
    headers = {"Authorization": f"Token {token}"} if token else {}
    where = f" (see {log_path})" if log_path else ""
    with httpx.Client(base_url=url, timeout=5.0) as http:
        while True:
            if process is not None and process.poll() is not None:
                raise ServiceError(f"Label Studio exited with code {process.returncode} while starting{where}")
            try:
                if http.get("/health").status_code == 200:
                    if not token or http.get("/api/current-user/whoami", headers=headers).status_code == 200:
                        return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise ServiceError(f"Label Studio at {url} did not get ready within {timeout:.0f} s{where}")
            time.sleep(0.25)


# ---------------------------------------------------------------------------------------
# Client


_JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


class StudioHTTPError(ServiceError):
    """Label Studio answered with an error status."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


class StudioClient:
    """A small client of the Label Studio REST API that raises :class:`ServiceError` on failure.

    Args:
        url: the server's base URL.
        api_key: a legacy API token, or a personal access token (a JWT refresh token, which
            is exchanged for access tokens as needed).
        timeout: seconds per request.
    """

    def __init__(self, url: str, api_key: str, timeout: float = 300.0):
        self.url = url.rstrip("/")
        self._key = api_key
        self._jwt = bool(_JWT.match(api_key))
        self._http = httpx.Client(base_url=self.url, timeout=timeout)
        self._access: Optional[str] = None

    @classmethod
    def connect(cls, workspace: Path = Path("workspace")) -> "StudioClient":
        """Find the server: ``LABEL_STUDIO_URL`` + ``LABEL_STUDIO_API_KEY`` win, else the workspace's credentials.

        Raises:
            ConfigError: only one of the variables is set, or there are no credentials.
        """
        url, key = os.environ.get(ENV_URL), os.environ.get(ENV_API_KEY)
        if url or key:
            if not (url and key):
                raise ConfigError(f"set both {ENV_URL} and {ENV_API_KEY} (or neither, to use {credentials_path(workspace)})")
            return cls(url, key)
        creds = Credentials.load(credentials_path(workspace))
        if not creds.url:
            raise ConfigError(f"{credentials_path(workspace)}: no server URL; start it with `eventds annotate serve`")
        return cls(creds.url, creds.token)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "StudioClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _auth(self, refresh: bool = False) -> dict[str, str]:
        if not self._jwt:
            return {"Authorization": f"Token {self._key}"}
        if self._access is None or refresh:
            body = self._send("POST", "/api/token/refresh/", json={"refresh": self._key}, auth={})
            self._access = body["access"]
        return {"Authorization": f"Bearer {self._access}"}

    def request(self, method: str, path: str, *, params: Optional[Mapping[str, Any]] = None, json: Any = None) -> Any:
        """Send a request; return the decoded JSON body (``None`` when empty).

        Raises:
            ServiceError: the server cannot be reached or answers with an error status.
        """
        try:
            return self._send(method, path, params=params, json=json, auth=self._auth())
        except StudioHTTPError as e:
            if self._jwt and e.status == 401:
                return self._send(method, path, params=params, json=json, auth=self._auth(refresh=True))
            raise

    def _send(self, method: str, path: str, *, auth: Mapping[str, str], params: Any = None, json: Any = None) -> Any:
        try:
            r = self._http.request(method, path, params=params, json=json, headers=dict(auth))
        except httpx.HTTPError as e:
            raise ServiceError(
                f"cannot reach Label Studio at {self.url} ({type(e).__name__}: {e}); is `eventds annotate serve` running?"
            ) from e
        if r.status_code >= 400:
            raise StudioHTTPError(f"Label Studio {method} {path}: HTTP {r.status_code}: {_error_detail(r)}", r.status_code)
        if not r.content:
            return None
        try:
            return r.json()
        except ValueError as e:
            raise ServiceError(f"Label Studio {method} {path}: the answer is not JSON: {r.text[:200]!r}") from e

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.request("POST", path, json=body, params=params or None)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, json=body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    # -- reads used by push and pull

    def find_project(self, title: str) -> Optional[dict[str, Any]]:
        """The project with exactly this title (the lowest id if several), or ``None``."""
        page, found = 1, []
        while True:
            body = self.get("/api/projects", title=title, page=page, page_size=100)
            found += [p for p in body.get("results", []) if p.get("title") == title]
            if not body.get("next"):
                break
            page += 1
        return min(found, key=lambda p: p["id"]) if found else None

    def tasks(self, project_id: int, page_size: int = 500) -> list[dict[str, Any]]:
        """Every task of a project (``id``, ``data`` and ``meta`` only), in id order."""
        tasks: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.get("/api/tasks", project=project_id, page=page, page_size=page_size, include="id,data,meta")
            tasks += body.get("tasks", [])
            if len(tasks) >= body.get("total", 0) or not body.get("tasks"):
                break
            page += 1
        return sorted(tasks, key=lambda t: t["id"])

    def predictions(self, project_id: int) -> list[dict[str, Any]]:
        """Every prediction of a project (with task, model_version, score and result)."""
        body = self.get("/api/predictions", project=project_id)
        return body if isinstance(body, list) else body.get("results", [])

    def export(self, project_id: int) -> Any:
        """The project's JSON export of all tasks (annotations, drafts; predictions as ids)."""
        return self.get(f"/api/projects/{project_id}/export", exportType="JSON", download_all_tasks="true")

    def users(self) -> dict[int, str]:
        """User id -> email (empty if this token may not list users)."""
        try:
            body = self.get("/api/users/")
        except ServiceError:
            return {}
        users = body if isinstance(body, list) else body.get("results", [])
        return {u["id"]: u.get("email") or u.get("username") or f"user:{u['id']}" for u in users if "id" in u}


def _error_detail(r: httpx.Response) -> str:
    try:
        body = r.json()
    except ValueError:
        return r.text[:500] or r.reason_phrase
    if isinstance(body, dict):
        for key in ("validation_errors", "detail", "label_config"):
            if body.get(key):
                return json.dumps(body[key], ensure_ascii=False)[:1000]
    return json.dumps(body, ensure_ascii=False)[:1000]


# ---------------------------------------------------------------------------------------
# Labelling interface


def label_config(labels: Optional[LabelSet] = None) -> str:
    """The labelling interface (XML) for a label set.

    Trigger labels (the event types) and argument labels (the roles) on one text, relations
    labelled with the roles, and a realis choice per trigger region. Hints from the
    guidelines show on hover; colours come from the guidelines (or a default palette).
    """
    labels = labels or LabelSet.current()
    view = ET.Element("View")
    ET.SubElement(view, "Header", value="$context", size="6")
    for name, values in ((conv.TRIGGER, labels.event_types), (conv.ARGUMENT, labels.roles)):
        group = ET.SubElement(view, "Labels", name=name, toName=conv.TEXT, choice="single", showInline="true")
        for v in values:
            attrs = {"value": v, "background": labels.colors.get(name, {}).get(v, "#7F7F7F")}
            hint = labels.hints.get(name, {}).get(v)
            if name == conv.ARGUMENT and labels.role_types.get(v):
                hint = f"{hint or v} [{', '.join(labels.role_types[v])}]"
            if hint:
                attrs["hint"] = hint
            ET.SubElement(group, "Label", attrs)
    ET.SubElement(view, "Text", name=conv.TEXT, value=f"${conv.TEXT}", granularity="symbol")
    relations = ET.SubElement(view, "Relations")
    for role in labels.roles:
        ET.SubElement(relations, "Relation", value=role)
    realis = ET.SubElement(
        view, "Choices", name=conv.REALIS, toName=conv.TEXT, perRegion="true", choice="single", showInline="true",
        visibleWhen="region-selected", whenTagName=conv.TRIGGER,
    )
    for v in labels.realis:
        attrs = {"value": v}
        if hint := labels.hints.get(conv.REALIS, {}).get(v):
            attrs["hint"] = hint
        ET.SubElement(realis, "Choice", attrs)
    ET.indent(view)
    return ET.tostring(view, encoding="unicode")


def config_labels(config: str) -> dict[str, set[str]]:
    """Label values per control name of a labelling config (relations under ``relation``).

    Raises:
        ConfigError: the config is not XML.
    """
    try:
        root = ET.fromstring(config)
    except ET.ParseError as e:
        raise ConfigError(f"label config is not valid XML: {e}") from e
    out: dict[str, set[str]] = defaultdict(set)
    for el in root.iter():
        if el.tag == "Relations":
            out[conv.RELATION] |= {c.get("value", "") for c in el if c.tag == "Relation"}
        elif el.get("name") and el.tag.endswith(("Labels", "Choices")):
            out[el.get("name", "")] |= {c.get("value", "") for c in el if c.tag in ("Label", "Choice")}
    return dict(out)


def check_config(client: StudioClient, config: str, project_id: Optional[int] = None) -> None:
    """Validate a config with the SDK's parser and with the server.

    Raises:
        ConfigError: either finds the config invalid.
    """
    try:
        from label_studio_sdk.label_interface import LabelInterface

        LabelInterface(config).validate()
    except ImportError:
        pass
    except Exception as e:  # the SDK raises assorted errors on invalid configs
        raise ConfigError(f"invalid label config: {e}") from e
    path = f"/api/projects/{project_id}/validate/" if project_id else "/api/projects/validate/"
    try:
        client.post(path, {"label_config": config})
    except StudioHTTPError as e:
        if e.status == 400:
            raise ConfigError(f"Label Studio rejects the label config: {e}") from e
        raise


def used_labels(client: StudioClient, project_id: int) -> Counter:
    """``(control, label) -> count`` over every annotation and draft of a project."""
    export = client.export(project_id)
    results = []
    for t in export if isinstance(export, list) else []:
        for a in (t.get("annotations") or []) + (t.get("drafts") or []):
            if isinstance(a, Mapping):
                results.append(a.get("result"))
    return conv.labels_in_results(results)


def orphaned_labels(used: Mapping[tuple[str, str], int], config: str) -> list[str]:
    """Labels used by annotations that ``config`` no longer offers, as ``control: label (n uses)``."""
    offered = config_labels(config)
    return [f"{control}: {label} ({n} uses)" for (control, label), n in sorted(used.items()) if label not in offered.get(control, set())]


def ensure_project(client: StudioClient, title: str, config: str) -> dict[str, Any]:
    """Create the project, or reuse it and bring its config up to date without orphaning annotations.

    Raises:
        ConfigError: the config is invalid, or updating would drop labels that annotations use.
    """
    project = client.find_project(title)
    settings: dict[str, Any] = {"show_collab_predictions": True}
    if project is None:
        check_config(client, config)
        return client.post("/api/projects", {"title": title, "label_config": config, **settings})
    changes = {k: v for k, v in settings.items() if project.get(k) != v}
    if _normalise(project.get("label_config", "")) != _normalise(config):
        check_config(client, config, project["id"])
        lost = orphaned_labels(used_labels(client, project["id"]), config)
        if lost:
            raise ConfigError(
                f"project {title!r} (id {project['id']}): the new label config drops labels that existing annotations "
                f"use: {'; '.join(lost)}. Fix those annotations first or keep the labels."
            )
        changes["label_config"] = config
    if changes:
        project = client.patch(f"/api/projects/{project['id']}", changes)
    return project


def _normalise(config: str) -> str:
    return re.sub(r">\s+<", "><", config.strip())


# ---------------------------------------------------------------------------------------
# Push


@dataclass
class PushStats:
    """What a push did."""

    project_id: int = 0
    sentences: int = 0
    created: int = 0
    predictions_updated: int = 0
    unchanged: int = 0
    data_updated: int = 0
    duplicate_tasks: int = 0
    model_versions: list[str] = field(default_factory=list)
    with_human: bool = False
    human: int = 0
    human_created: int = 0
    human_updated: int = 0
    human_unchanged: int = 0
    human_not_sent: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, str]]:
        rows = [
            ("project id", str(self.project_id)),
            ("sentences", str(self.sentences)),
            ("tasks created", str(self.created)),
            ("predictions replaced", str(self.predictions_updated)),
            ("task data updated", str(self.data_updated)),
            ("unchanged", str(self.unchanged)),
            ("duplicate tasks found", str(self.duplicate_tasks)),
            ("model version", ", ".join(self.model_versions)),
        ]
        if self.with_human:
            rows += [
                ("human annotations", str(self.human)),
                ("  sent", str(self.human_created)),
                ("  updated", str(self.human_updated)),
                ("  already there", str(self.human_unchanged)),
                ("  not sent (edited in Label Studio)", str(len(self.human_not_sent))),
            ]
        return rows


def read_sentences(
    path: Path, labels: LabelSet, unit: OffsetUnit = LS_OFFSET_UNIT, with_human: bool = False
) -> Iterator[tuple[Sentence, dict[str, Any], list[str]]]:
    """Stream sentence records as ``(sentence, task, problems)``: ``problems`` says where
    its weak events would not make valid predictions (unknown label, span text mismatch).

    With ``with_human``, the task of a ``corrected`` or ``adjudicated`` sentence also holds
    its events as an annotation (``annotations``) and the mark of that annotation (``meta``),
    and ``problems`` covers that annotation too.

    Raises:
        InputError: unreadable file or line, or a duplicate sentence id.
    """
    seen: dict[str, int] = {}
    for lineno, obj in read_jsonl(path):
        try:
            s = Sentence.from_dict(obj)
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"{path}:{lineno}: not a sentence record ({e!r})") from e
        if s.id in seen:
            raise InputError(f"{path}:{lineno}: duplicate sentence id {s.id!r} (first at line {seen[s.id]})")
        seen[s.id] = lineno
        task = conv.task(s, unit)
        found = conv.record_problems(s, labels, f"{path}:{lineno} sentence {s.id}")
        found += [f"{path}:{lineno} {p}" for p in conv.prediction_problems(s, task["predictions"][0], labels, unit)]  # "sentence ID prediction ..."
        if with_human and s.status in HUMAN_STATUSES:
            annotation = conv.human_annotation(s, unit)
            found += [f"{path}:{lineno} {p}" for p in conv.human_problems(s, annotation, labels, unit)]
            task["annotations"] = [annotation]
            task["meta"] = {conv.HUMAN_MARK: conv.human_mark(s)}
        yield s, task, found


def check_sentences(
    path: Path, labels: LabelSet, unit: OffsetUnit = LS_OFFSET_UNIT, with_human: bool = False
) -> tuple[list[str], Counter]:
    """Read a whole records file, keeping only the sentence ids (in order) and the model
    versions of their predictions.

    Raises:
        InputError: unreadable file or line, or a duplicate sentence id.
        ValidationFailed: every problem of every record, together.
    """
    ids: list[str] = []
    versions: Counter = Counter()
    problems: list[str] = []
    for s, _, found in read_sentences(path, labels, unit, with_human):
        problems += found
        ids.append(s.id)
        versions[conv.model_version(s)] += 1
    if problems:
        raise ValidationFailed(problems)
    return ids, versions


def _same_prediction(existing: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    score = existing.get("score")
    return existing.get("result") == new["result"] and (score == new["score"] or (score is not None and new["score"] is not None and abs(score - new["score"]) < 1e-9))


def _send_human(
    client: StudioClient, existing: Mapping[str, Any], s: Sentence, task: Mapping[str, Any], labels: LabelSet, unit: OffsetUnit, stats: PushStats
) -> None:
    """Bring the human annotation of a sentence that already has a task into Label Studio.

    The task's annotations are compared with the human events by digest: an annotation equal
    to them is the human annotation (only its mark and ground-truth flag are brought up to
    date); the unedited annotation of an earlier push (equal to the task's mark) is updated
    in place; an earlier one edited or deleted in Label Studio is left alone and listed
    (pull first); otherwise the annotation is created. The mark is written after the
    annotation, so an interrupted push finds its annotation by digest and never adds a second.
    """
    task_id = existing["id"]
    wanted, mark = task["annotations"][0], task["meta"][conv.HUMAN_MARK]
    meta = existing.get("meta") if isinstance(existing.get("meta"), Mapping) else {}
    previous = meta.get(conv.HUMAN_MARK) if isinstance(meta.get(conv.HUMAN_MARK), Mapping) else None
    digests: list[tuple[dict[str, Any], str]] = []
    for a in client.get(f"/api/tasks/{task_id}/annotations/") or []:
        if isinstance(a, Mapping) and not a.get("was_cancelled"):
            events, problems = conv.events_from_results(a.get("result"), s.text, labels, "", unit)
            if not problems:
                digests.append((a, conv.events_digest(events)))
    same = [a for a, d in digests if d == mark["events"]]
    earlier = [a for a, d in digests if previous is not None and d == previous.get("events")]
    if same:
        if bool(same[0].get("ground_truth")) != wanted["ground_truth"]:
            client.patch(f"/api/annotations/{same[0]['id']}/", {"ground_truth": wanted["ground_truth"]})
        if previous == mark and bool(same[0].get("ground_truth")) == wanted["ground_truth"]:
            stats.human_unchanged += 1
            return
        stats.human_updated += 1
    elif earlier:
        client.patch(f"/api/annotations/{earlier[0]['id']}/", dict(wanted))
        stats.human_updated += 1
    elif previous is not None:
        how = "edited" if digests else "deleted or skipped"
        stats.human_not_sent.append(f"{s.id}: task {task_id}: the human annotation pushed earlier was {how} in Label Studio; pull first")
        return
    else:
        client.post(f"/api/tasks/{task_id}/annotations/", dict(wanted))
        stats.human_created += 1
    client.patch(f"/api/tasks/{task_id}", {"meta": {**meta, conv.HUMAN_MARK: mark}})


def push(
    client: StudioClient,
    records: Path,
    project_title: str = DEFAULT_PROJECT,
    batch_size: int = 100,
    labels: Optional[LabelSet] = None,
    unit: OffsetUnit = LS_OFFSET_UNIT,
    progress: Callable[[str, int, int], None] = lambda stage, done, total: None,
    with_human: bool = False,
) -> PushStats:
    """Push sentence records as tasks, their weak events as predictions (and, with
    ``with_human``, their human events as annotations).

    Checks the file as ``eventds validate`` does, then creates or reuses the project (config
    from the label set), imports one task per new sentence in batches (each batch with its
    predictions, and human annotations, in one atomic request), for sentences that already
    have a task replaces the prediction of the same model version when it differs and
    updates changed task data, and finally sets the project's model version to the
    labeller's so the predictions pre-annotate the tasks. Tasks are found by
    ``data.sentence_id``, so re-running (also after an interrupted push) never creates
    duplicates.

    With ``with_human``, every ``corrected`` or ``adjudicated`` sentence gets its events as
    an annotation (ground truth when adjudicated) for review, and its task a mark
    (``meta.eventds_human``: digest of the events, status, annotators, guidelines version)
    by which a pull gives back the same human record while the annotation is unedited. A
    task that already has an annotation equal to the human one gets none; see
    :func:`_send_human` for the rest.

    The file is read three times, to validate it, to check every record before anything
    is sent and then to send it a batch at a time, so memory does not grow with its size.

    Args:
        client: connection to the server.
        records: sentence records (JSONL).
        project_title: the project to create or reuse.
        batch_size: tasks (or predictions) per request.
        labels: the label set (default: the project's).
        unit: Label Studio's offset unit.
        progress: called as ``progress(stage, done, total)`` after every batch.
        with_human: send the human layer as annotations too.

    Raises:
        InputError, ValidationFailed: bad records (nothing is sent).
        ConfigError: the config is invalid or would orphan annotations.
        ServiceError: the server failed; re-run to complete.
    """
    if batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, got {batch_size}")
    labels = labels or LabelSet.current()
    records = Path(records)
    # Three passes over the file, so that memory holds one batch and not the whole file: the
    # first two check every record (nothing is sent if any is bad), the third sends.
    require_valid(records)  # what `eventds validate` rejects is never sent
    ids, versions = check_sentences(records, labels, unit, with_human)
    stats = PushStats(sentences=len(ids), model_versions=sorted(versions), with_human=with_human)
    project = ensure_project(client, project_title, label_config(labels))
    pid = stats.project_id = project["id"]

    existing: dict[str, dict[str, Any]] = {}
    for t in client.tasks(pid):
        sid = (t.get("data") or {}).get("sentence_id")
        if sid in existing:
            stats.duplicate_tasks += 1
        elif sid is not None:
            existing[sid] = t
    to_create = sum(sid not in existing for sid in ids)
    to_check = len(ids) - to_create  # sentences with a task: at most this many predictions to replace
    by_task: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if to_check:
        for pred in client.predictions(pid):
            by_task[pred.get("task")].append(pred)
    del ids

    new: list[dict[str, Any]] = []
    replace: list[dict[str, Any]] = []
    stale: list[int] = []

    def import_new() -> None:
        client.post(f"/api/projects/{pid}/import", new)
        stats.created += len(new)
        stats.human_created += sum(bool(t.get("annotations")) for t in new)
        progress("import", stats.created, to_create)
        new.clear()

    def replace_predictions() -> None:
        # New predictions first: an interruption leaves old + new, which the next push cleans up.
        client.post(f"/api/projects/{pid}/import/predictions", replace)
        for pred_id in stale:
            client.delete(f"/api/predictions/{pred_id}/")
        stats.predictions_updated += len(replace)
        progress("predictions", stats.predictions_updated, to_check)
        replace.clear()
        stale.clear()

    for s, task, problems in read_sentences(records, labels, unit, with_human):
        if problems:  # the file changed since the first pass
            raise ValidationFailed(problems)
        stats.human += "annotations" in task
        if s.id not in existing:
            new.append(task)
            if len(new) >= batch_size:
                import_new()
            continue
        task_id = existing[s.id]["id"]
        changed = False
        if existing[s.id].get("data") != task["data"]:
            client.patch(f"/api/tasks/{task_id}", {"data": task["data"]})
            stats.data_updated += 1
            changed = True
        if "annotations" in task:
            _send_human(client, existing[s.id], s, task, labels, unit, stats)
        pred = task["predictions"][0]
        mine = [p for p in by_task.get(task_id, []) if p.get("model_version") == pred["model_version"]]
        if len(mine) == 1 and _same_prediction(mine[0], pred):
            stats.unchanged += not changed
            continue
        replace.append({"task": task_id, **pred})
        stale.extend(p["id"] for p in mine)
        if len(replace) >= batch_size:
            replace_predictions()
    if new:
        import_new()
    if replace:
        replace_predictions()
    # Only now: Label Studio refuses a model version that no prediction has yet.
    if versions and project.get("model_version") != (version := versions.most_common(1)[0][0]):
        client.patch(f"/api/projects/{pid}", {"model_version": version})
    return stats


# ---------------------------------------------------------------------------------------
# Pull


class PullRefused(ValidationFailed):
    """A pull would remove or downgrade human annotations; nothing was written."""


def _read_layer(path: Path) -> list[dict[str, Any]]:
    return [obj for _, obj in read_jsonl(path)] if path.exists() else []


def _read_export(path: Path) -> list[Any]:
    if not path.exists():
        return []
    try:
        export = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a readable JSON export ({e})") from e
    if not isinstance(export, list):
        raise InputError(f"{path}: expected a JSON list of tasks, got {type(export).__name__}")
    return export


def _sentence_of(task: Any) -> Optional[str]:
    data = task.get("data") if isinstance(task, Mapping) else None
    sid = data.get("sentence_id") if isinstance(data, Mapping) else None
    return sid if isinstance(sid, str) else None


def merge_exports(old: list[Any], new: list[Any], outcome: Mapping[str, str]) -> list[Any]:
    """One task per sentence: from the export its human record came from.

    A sentence whose existing record stays (``unchanged``, ``kept``) keeps its earlier task;
    every other sentence of the new export takes its new task. Earlier tasks stay in
    their order; tasks of sentences new to the file follow in the new export's order.
    """
    fresh = {sid: t for t in new if (sid := _sentence_of(t)) is not None}
    stays = {sid for sid, what in outcome.items() if what in ("unchanged", "kept")}
    merged, seen = [], set()
    for t in old:
        sid = _sentence_of(t)
        merged.append(fresh[sid] if sid in fresh and sid not in stays else t)
        seen.add(sid)
    merged += [t for t in new if _sentence_of(t) not in seen]
    return merged


def _jsonl(records: list[dict[str, Any]]) -> Optional[bytes]:
    if not records:
        return None  # an empty file would not be readable JSONL: the file is removed instead
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def _previous_folder(out_dir: Path) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name, n = stamp, 1
    while (out_dir / PREVIOUS_DIR / name).exists():
        n += 1
        name = f"{stamp}-{n}"
    return f"{PREVIOUS_DIR}/{name}"


def _prune_previous(out_dir: Path, keep: int = PREVIOUS_KEPT) -> None:
    folder = out_dir / PREVIOUS_DIR
    if folder.is_dir():
        for old in sorted(p for p in folder.iterdir() if p.is_dir())[:-keep]:
            shutil.rmtree(old)


def write_pull(
    export: Any,
    out_dir: Path,
    users: Mapping[int, str],
    include_drafts: bool = False,
    labels: Optional[LabelSet] = None,
    unit: OffsetUnit = LS_OFFSET_UNIT,
    replace: bool = False,
) -> PullStats:
    """Convert an export and merge it into the human layer in ``out_dir``.

    The export is converted and checked first; then, with ``out_dir`` locked, the current
    ``human.jsonl``, ``annotators.jsonl`` and ``export.json`` are read and merged with it by
    sentence id (:func:`builder.studio_convert.merge_human_layer`; :func:`merge_exports`),
    each new annotator gets a pseudonym in ``pseudonyms.json`` (see
    :mod:`builder.pseudonyms`), and the files whose content changed are replaced as one step
    (:func:`builder.swap.replace_together`). The files replaced are kept in
    ``out_dir/.previous/<UTC time>/`` (the last 10 such folders are kept). When the human
    layer and the per-annotator detail do not change, nothing is written.

    Args:
        export: the parsed Label Studio JSON export.
        out_dir: the human layer's folder.
        users: user id -> annotator name.
        include_drafts: use drafts as annotations.
        labels: the label set (default: the project's).
        unit: Label Studio's offset unit.
        replace: apply removals and downgrades instead of refusing them.

    Returns:
        The counts and, per outcome, the sentence ids.

    Raises:
        ValidationFailed: a region or relation is invalid or the export is malformed; no file
            is written.
        PullRefused: the merge would remove or downgrade human annotations (and ``replace`` is
            false); no file is written.
        InputError: a current file of the human layer cannot be read; no file is written.
        FolderBusy: another process is writing ``out_dir``.
    """
    labels = labels or LabelSet.current()
    layer = conv.human_layer_from_export(export, labels, users, labels.version or guidelines_version(), include_drafts, unit)
    stats = layer.stats
    out_dir = Path(out_dir)
    recovered = swap.recover(out_dir)
    if recovered.rolled_forward:
        stats.recovered = "completed an interrupted pull"
    elif recovered.rolled_back:
        stats.recovered = "undid an interrupted pull"
    if not layer.records and not (out_dir / HUMAN_FILE).exists():
        return stats  # nothing to merge into and nothing to add: write nothing
    keep = _previous_folder(out_dir)
    removals: set[str] = set()
    with swap.replace_together(out_dir, remove=removals, keep=keep) as staging:
        existing = _read_layer(out_dir / HUMAN_FILE)
        existing_detail = _read_layer(out_dir / ANNOTATORS_FILE)
        old_export = _read_export(out_dir / EXPORT_FILE)
        table = pseudonyms.load(out_dir / pseudonyms.PSEUDONYMS_FILE)  # unreadable: stop before writing anything
        merge = conv.merge_human_layer(existing, existing_detail, layer, allow_loss=replace)
        for what in ("added", "changed", "unchanged", "kept", "removed", "downgraded"):
            setattr(stats, what, merge.ids(what))
        if merge.refused:
            raise PullRefused(
                [f"{out_dir}: this pull would remove or downgrade {len(merge.refused)} human annotation(s); nothing was "
                 "written (pull again with --replace to accept, or fix them in Label Studio):", *merge.refused]
            )
        contents: dict[str, Optional[bytes]] = {
            HUMAN_FILE: _jsonl(merge.records),
            ANNOTATORS_FILE: _jsonl(merge.annotators),
        }
        current = {name: (out_dir / name).read_bytes() if (out_dir / name).exists() else None for name in contents}
        if contents == current:
            return stats
        contents[EXPORT_FILE] = (json.dumps(merge_exports(old_export, export, merge.outcome), ensure_ascii=False, indent=2) + "\n").encode("utf-8")
        extended = pseudonyms.extend(table, pseudonyms.names_in(merge.annotators) + pseudonyms.names_in(merge.records))
        if len(extended) > len(table):
            with (staging / pseudonyms.PSEUDONYMS_FILE).open("w", encoding="utf-8", newline="\n") as fh:
                pseudonyms.dump(fh, extended)
            stats.written.append(pseudonyms.PSEUDONYMS_FILE)
        for name, data in contents.items():
            path = out_dir / name
            if data is None:
                if path.exists():
                    removals.add(name)
                    stats.written.append(f"{name} (removed: empty)")
            elif not path.exists() or path.read_bytes() != data:
                (staging / name).write_bytes(data)
                stats.written.append(name)
    stats.written.sort()
    if (out_dir / keep).exists():
        stats.previous = str(out_dir / keep)
        _prune_previous(out_dir)
    return stats


def pull(
    client: StudioClient,
    project_title: str = DEFAULT_PROJECT,
    out_dir: Path = Path("annotations"),
    include_drafts: bool = False,
    labels: Optional[LabelSet] = None,
    unit: OffsetUnit = LS_OFFSET_UNIT,
    replace: bool = False,
) -> PullStats:
    """Export a project's annotations and merge them into the human layer (see :func:`write_pull`).

    Raises:
        ConfigError: there is no such project.
        ServiceError: the server failed.
        ValidationFailed: an invalid region or a malformed export; nothing is written.
        PullRefused: the pull would remove or downgrade human annotations; nothing is written.
    """
    project = client.find_project(project_title)
    if project is None:
        raise ConfigError(f"no Label Studio project titled {project_title!r} at {client.url}; push records first")
    export = client.export(project["id"])
    return write_pull(export, out_dir, client.users(), include_drafts, labels, unit, replace)
