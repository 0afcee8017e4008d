"""The Label Studio server process: start it in a workspace, wait until it answers, stop it."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import httpx

from ..errors import ConfigError, ServiceError
from .credentials import ENV_API_KEY, ENV_URL, Credentials, credentials_path, data_dir, ensure_credentials

SERVER_LOG = "server.log"
DEFAULT_PORT = 8080


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
            # The ML backend and its webhook listen on 127.0.0.1 beside the server; Label
            # Studio refuses local URLs for both unless these are off. The server itself is
            # bound to 127.0.0.1 (see start_server).
            "SSRF_PROTECTION_ENABLED": "false",
            "ML_BLOCK_LOCAL_IP": "false",
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
