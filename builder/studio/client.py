"""A small client of the Label Studio REST API."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Mapping, Optional

import httpx

from ..errors import ConfigError, ServiceError
from .credentials import ENV_API_KEY, ENV_URL, Credentials, credentials_path

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
