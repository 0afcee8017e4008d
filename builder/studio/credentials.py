"""The admin account and API token of a workspace's Label Studio server, and where they are kept.

They are generated on first start and kept in ``WORKSPACE/label-studio/credentials.json``
(mode 0600); clients read them from there unless ``LABEL_STUDIO_URL`` and
``LABEL_STUDIO_API_KEY`` are set.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..errors import ConfigError, InputError
from ..io import atomic_open

DATA_SUBDIR = "label-studio"
CREDENTIALS_FILE = "credentials.json"
ENV_URL = "LABEL_STUDIO_URL"
ENV_API_KEY = "LABEL_STUDIO_API_KEY"


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
# The ML backend's shared secret

BACKEND_DIR = "backend"  # WORKSPACE/backend/: the ML backend's state (builder.studio.backend)
SECRET_FILE = "secret.json"
BACKEND_USER = "eventds"


def backend_dir(workspace: Path) -> Path:
    return Path(workspace) / BACKEND_DIR


@dataclass(frozen=True)
class Secret:
    user: str
    password: str

    def header(self) -> str:
        return "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()

    def accepts(self, header: Optional[str]) -> bool:
        return header is not None and hmac.compare_digest(header.encode(), self.header().encode())


def load_secret(workspace: Path) -> Secret:
    """The backend's shared secret, made (mode 0600) on first use."""
    path = backend_dir(workspace) / SECRET_FILE
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return Secret(str(data["user"]), str(data["password"]))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise InputError(f"{path}: cannot read the backend's secret ({e!r}); delete it to make a new one") from e
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = Secret(BACKEND_USER, secrets.token_urlsafe(24))
    with atomic_open(path, permissions=0o600) as fh:
        fh.write(json.dumps({"user": secret.user, "password": secret.password}) + "\n")
    return secret
