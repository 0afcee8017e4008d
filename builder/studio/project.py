"""The Label Studio project: create it, or bring its settings and labelling config up to date without orphaning annotations."""

from __future__ import annotations

from collections import Counter
from typing import Any, Mapping, Optional

from ..errors import ConfigError
from .client import StudioClient, StudioHTTPError
from .credentials import Secret
from .instructions import instructions_html
from .interface import ARGUMENT, _normalise, config_labels, with_legacy_argument
from .priority import VIEW_TITLE
from .results import labels_in_results

DEFAULT_PROJECT = "eventds"
#: Share of tasks annotated twice by default (what inter-annotator agreement is measured on).
DEFAULT_OVERLAP = 0.2


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
    return labels_in_results(results)


def orphaned_labels(used: Mapping[tuple[str, str], int], config: str) -> list[str]:
    """Labels used by annotations that ``config`` no longer offers, as ``control: label (n uses)``."""
    offered = config_labels(config)
    return [f"{control}: {label} ({n} uses)" for (control, label), n in sorted(used.items()) if label not in offered.get(control, set())]


def project_settings(overlap: float = DEFAULT_OVERLAP, instructions: Optional[str] = None) -> dict[str, Any]:
    """The project settings eventds manages besides the config.

    * ``show_collab_predictions``: tasks open with their prediction as the annotation to edit;
    * ``expert_instruction``, ``show_instruction``: the instructions (default: the page's
      how-to and the guidelines, :func:`~builder.studio.instructions.instructions_html`),
      shown when an annotator starts labelling;
    * ``maximum_annotations``, ``overlap_cohort_percentage``: ``overlap`` (0-1) of the tasks
      are annotated by two annotators (for agreement), the rest by one; 0 disables overlap.

    Raises:
        ConfigError: ``overlap`` is not between 0 and 1.
    """
    if not 0 <= overlap <= 1:
        raise ConfigError(f"overlap is the share of tasks annotated twice, between 0 and 1; got {overlap}")
    if instructions is None:
        instructions = instructions_html()
    return {
        "show_collab_predictions": True,
        "show_instruction": True,
        "expert_instruction": instructions,
        "maximum_annotations": 2 if overlap > 0 else 1,
        "overlap_cohort_percentage": round(100 * overlap),
    }


def ensure_project(
    client: StudioClient,
    title: str,
    config: str,
    overlap: float = DEFAULT_OVERLAP,
    instructions: Optional[str] = None,
) -> dict[str, Any]:
    """Create the project, or reuse it and bring its config and settings up to date without
    orphaning annotations.

    The settings are those of :func:`project_settings` (predictions as the starting point,
    instructions, overlap). A project whose annotations or drafts use the old single
    ``argument`` control (made before the per-type argument controls) keeps it, hidden
    (:func:`~builder.studio.interface.with_legacy_argument`): Label Studio refuses a config
    that drops a control annotations use, and those annotations stay readable.

    Args:
        client: connection to the server.
        title: the project's title.
        config: the labelling config (:func:`~builder.studio.interface.label_config`).
        overlap: share of tasks annotated twice (0-1; 0 disables).
        instructions: the instructions (HTML; default: the how-to and the guidelines).

    Raises:
        ConfigError: the config is invalid, updating would drop labels that annotations use,
            or ``overlap`` is out of range.
    """
    settings = project_settings(overlap, instructions)
    project = client.find_project(title)
    if project is None:
        check_config(client, config)
        return client.post("/api/projects", {"title": title, "label_config": config, **settings})
    changes = {k: v for k, v in settings.items() if project.get(k) != v}
    current = project.get("label_config") or ""
    kept = config_labels(current).get(ARGUMENT) if current else None
    if kept and ARGUMENT not in config_labels(config):
        with_kept = with_legacy_argument(config, sorted(kept))
        if _normalise(with_kept) == _normalise(current):
            config = with_kept  # the project already keeps the old control: nothing to change
    if _normalise(current) != _normalise(config):
        used = used_labels(client, project["id"])
        old = sorted({label for control, label in used if control == ARGUMENT})
        if old and ARGUMENT not in config_labels(config):
            config = with_legacy_argument(config, old)
        if _normalise(current) != _normalise(config):
            lost = orphaned_labels(used, config)
            if lost:
                raise ConfigError(
                    f"project {title!r} (id {project['id']}): the new label config drops labels that existing annotations "
                    f"use: {'; '.join(lost)}. Fix those annotations first or keep the labels."
                )
            check_config(client, config, project["id"])
            changes["label_config"] = config
    if changes:
        project = client.patch(f"/api/projects/{project['id']}", changes)
    return project


# ---------------------------------------------------------------------------------------
# The ML backend's side of a project: its registration, the priority tab, the tasks to predict

BACKEND_TITLE = "eventds"


def unannotated_tasks(client: StudioClient, project: int, page_size: int = 500) -> list[dict[str, Any]]:
    """The tasks of ``project`` with no annotation (skipped ones count as annotated), with their data."""
    out: list[dict[str, Any]] = []
    page = 1
    while True:
        body = client.get("/api/tasks", project=project, page=page, page_size=page_size, include="id,data,total_annotations,cancelled_annotations")
        tasks = body.get("tasks", [])
        out += [t for t in tasks if not t.get("total_annotations") and not t.get("cancelled_annotations")]
        if not tasks or page * page_size >= body.get("total", 0):
            break
        page += 1
    return sorted(out, key=lambda t: t["id"])


def ensure_priority_view(client: StudioClient, project: int) -> dict[str, Any]:
    """The data manager tab that lists unannotated tasks, highest priority first."""
    data = {
        "title": VIEW_TITLE,
        "ordering": ["-tasks:data.priority"],
        "filters": {"conjunction": "and", "items": [{"filter": "filter:tasks:total_annotations", "operator": "equal", "type": "Number", "value": 0}]},
    }
    views = client.get("/api/dm/views", project=project)
    for v in views if isinstance(views, list) else []:
        if (v.get("data") or {}).get("title") == VIEW_TITLE:
            return v
    return client.post("/api/dm/views", {"project": project, "data": data})


def register(client: StudioClient, project: int, url: str, secret: Secret) -> dict[str, Any]:
    """Connect the backend at ``url`` to ``project`` (idempotent).

    First the webhook that carries annotations to ``url/webhook`` with the secret (Label
    Studio's own would go without it), then the ML backend (``POST /api/ml``, basic auth),
    then the project settings that fetch predictions for tasks that have none.
    """
    url = url.rstrip("/")
    hook = {"project": project, "url": f"{url}/webhook", "send_payload": True, "send_for_all_actions": True,
            "headers": {"Authorization": secret.header()}, "is_active": True}
    hooks = client.get("/api/webhooks/", project=project)
    existing = next((h for h in hooks if isinstance(h, Mapping) and h.get("url") == hook["url"]), None) if isinstance(hooks, list) else None
    if existing:
        client.patch(f"/api/webhooks/{existing['id']}/", hook)
    else:
        client.post("/api/webhooks/", hook)
    ml = {"url": url, "project": project, "title": BACKEND_TITLE, "is_interactive": False, "auth_method": "BASIC_AUTH",
          "basic_auth_user": secret.user, "basic_auth_pass": secret.password, "auto_update": True}
    backends = client.get("/api/ml", project=project)
    mine = next((b for b in backends if isinstance(b, Mapping) and str(b.get("url", "")).rstrip("/") == url), None) if isinstance(backends, list) else None
    backend = client.patch(f"/api/ml/{mine['id']}", ml) if mine else client.post("/api/ml", ml)
    client.patch(f"/api/projects/{project}", {"evaluate_predictions_automatically": True, "show_collab_predictions": True})
    ensure_priority_view(client, project)
    return backend
