"""Serving the ML backend: Label Studio's ML backend API over HTTP on 127.0.0.1.

:class:`BackendServer` is the standard library's threaded HTTP server answering ``/health``,
``/setup``, ``/predict``, ``/webhook`` and ``/train`` from a :class:`~builder.studio.backend.Backend`:
a request the backend cannot use gets a 4xx with ``{"error": ...}`` naming what is wrong, an
unexpected failure a 500, and the server keeps serving. ``/setup``, ``/webhook`` and
``/train`` need the workspace's secret (:func:`~builder.studio.credentials.load_secret`) as
HTTP basic auth. :func:`start_backend` also records where it listens
(``WORKSPACE/backend/endpoint.json``) so that ``annotate push`` registers it.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Mapping, Optional

from ..errors import ServiceError, ValidationFailed
from ..io import atomic_open
from .backend import DEBOUNCE, LOG_FILE, Backend, PayloadError, log
from .client import StudioClient
from .credentials import SECRET_FILE, Secret, backend_dir, load_secret
from .project import register

MAX_BODY = 64 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    server: "BackendServer"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), fmt % args)

    def _answer(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise PayloadError("Content-Length is not a number") from None
        if length > MAX_BODY:
            raise PayloadError(f"request body of {length} bytes is over the limit of {MAX_BODY}", 413)
        raw = self.rfile.read(length) if length else b""
        if not raw.strip():
            raise PayloadError("empty request body: expected a JSON object")
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise PayloadError(f"request body is not JSON: {e}") from None

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in ("/health", ""):
            self._answer(200, self.server.backend.status())
        elif path == "/versions":
            self._answer(200, {"versions": [self.server.backend.model_version]})
        else:
            self._answer(404, {"error": f"no such endpoint: GET {path}"})

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        backend = self.server.backend
        try:
            if path in ("/setup", "/webhook", "/train") and not self.server.secret.accepts(self.headers.get("Authorization")):
                self._answer(401, {"error": f"POST {path} needs the backend's secret (HTTP basic auth; see backend/{SECRET_FILE})"})
                return
            if path == "/predict":
                body = self._body()
                if not isinstance(body, Mapping):
                    raise PayloadError(f"predict: expected a JSON object with 'tasks', got {type(body).__name__}")
                self._answer(200, {"results": backend.predict(body.get("tasks")), "model_version": backend.model_version})
            elif path == "/setup":
                self._answer(200, backend.setup(self._body()))
            elif path == "/webhook":
                self._answer(200, backend.webhook(self._body()))
            elif path == "/train":
                self._body() if int(self.headers.get("Content-Length") or 0) else None
                self._answer(200, backend.train_soon(delay=0.0))
            elif path == "/health":
                self._answer(200, backend.status())
            else:
                self._answer(404, {"error": f"no such endpoint: POST {path}"})
        except PayloadError as e:
            self._answer(e.status, {"error": str(e)})
        except ValidationFailed as e:
            self._answer(422, {"error": str(e), "problems": list(getattr(e, "problems", []))})
        except Exception as e:  # one bad request never stops the server
            log.exception("POST %s failed", path)
            self._answer(500, {"error": f"{type(e).__name__}: {e}"})


class BackendServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, backend: Backend, secret: Secret, host: str = "127.0.0.1", port: int = 9090):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ServiceError(f"the backend binds to the loopback interface only, not {host!r}")
        super().__init__((host, port), _Handler)
        self.backend = backend
        self.secret = secret

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> threading.Thread:
        """Serve in a background thread (for tests and ``annotate serve``)."""
        thread = threading.Thread(target=self.serve_forever, name="eventds-backend", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self.backend.close()


ENDPOINT_FILE = "endpoint.json"


def write_endpoint(workspace: Path, url: Optional[str]) -> None:
    """Record where the workspace's backend listens (``None``: it stopped), for ``annotate push``."""
    path = backend_dir(workspace) / ENDPOINT_FILE
    if url is None:
        path.unlink(missing_ok=True)
        return
    with atomic_open(path) as fh:
        fh.write(json.dumps({"url": url}) + "\n")


def running_endpoint(workspace: Path) -> Optional[str]:
    """The URL of the workspace's backend when one is running and answers ``/health``."""
    path = backend_dir(workspace) / ENDPOINT_FILE
    try:
        url = json.loads(path.read_text(encoding="utf-8"))["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        import httpx

        return url if httpx.get(f"{url}/health", timeout=2).status_code == 200 else None
    except httpx.HTTPError:
        return None


def start_backend(workspace: Path, port: int, config: Optional[Path] = None, debounce: float = DEBOUNCE) -> BackendServer:
    """Start the workspace's backend on 127.0.0.1:``port`` in a background thread and record
    where it listens (for ``annotate push``).

    Raises:
        OSError: the port cannot be bound.
    """
    server = BackendServer(Backend(workspace, config=config, debounce=debounce), load_secret(workspace), port=port)
    _log_to_file(workspace)
    server.start()
    write_endpoint(workspace, server.url)
    return server


def stop_backend(workspace: Path, server: BackendServer) -> None:
    write_endpoint(workspace, None)
    server.close()


def register_with(workspace: Path, server: BackendServer, title: str) -> Optional[int]:
    """Register ``server`` with the project titled ``title`` of the workspace's Label Studio;
    its id, or ``None`` when there is no such project yet."""
    with StudioClient.connect(workspace) as client:
        found = client.find_project(title)
        if found is None:
            return None
        register(client, found["id"], server.url, server.secret)
        return found["id"]


def _log_to_file(workspace: Path) -> None:
    path = backend_dir(workspace) / LOG_FILE
    if not any(isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path.resolve() for h in log.handlers):
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
