"""Label Studio's ML backend: pre-annotations for any task, retrained on every correction.

:class:`Backend` is the model and its state on disk, behind the HTTP API that
:mod:`builder.studio.serving` serves on 127.0.0.1 (``eventds annotate backend``):

- ``GET /health``: ``{"status": "UP", "model_version": ...}``;
- ``POST /setup``: Label Studio connects a project; answers the model version;
- ``POST /predict``: ``{"tasks": [...]}`` -> ``{"results": [one prediction per task]}``, each
  with ``result`` (regions as :func:`builder.studio.tasks.event_results` makes them),
  ``score`` and ``model_version``;
- ``POST /webhook``: Label Studio's events. Submitted, updated and deleted annotations are
  kept in the human layer format (``WORKSPACE/backend/human.jsonl``, made by the same
  conversion as ``annotate pull``) and start retraining after ``debounce`` seconds without a
  new one; ``START_TRAINING`` starts it at once; tasks created without a prediction (imported
  from the web UI) are predicted and given a priority;
- ``POST /train``: as ``START_TRAINING``.

Training learns the corrections memory (:mod:`builder.weak.memory`) from the human layer in
the background; then every unannotated task of the projects it serves gets a prediction of
the new model version and a new ``data.priority`` (:mod:`builder.studio.priority`). Its state
(annotations received, the memory, the version) is on disk, so a restarted backend carries on
where it stopped. A payload it cannot use gets a 4xx answer naming what is wrong, and the
backend keeps serving.

Security (:mod:`builder.studio.serving`): it binds to 127.0.0.1 only. Everything that
changes its state (``/setup``, ``/webhook``, ``/train``) needs the shared secret of
``WORKSPACE/backend/secret.json`` (mode 0600) as HTTP basic auth;
:func:`builder.studio.project.register` gives it to Label Studio with the backend.
``/health`` and ``/predict`` change nothing, and answer without it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

from ..errors import EventdsError, InputError
from ..io import atomic_open, read_jsonl
from ..labelset import guidelines_version
from ..weak import WeakLabeller
from ..weak.learned import CORRECTIONS
from ..weak.memory import MEMORY_FILE, CorrectionMemory, CorrectionsFunction
from .client import StudioClient
from .credentials import backend_dir
from .export import human_layer_from_export
from .interface import TEXT, LabelSet
from .priority import Prioritizer
from .project import ensure_priority_view, unannotated_tasks
from .tasks import event_results, prediction_score

log = logging.getLogger("eventds.backend")

STATE_FILE = "state.json"
TASKS_FILE = "tasks.jsonl"  # the tasks annotated, with their annotations as Label Studio sent them
HUMAN_FILE = "human.jsonl"  # the human layer made from them
MODEL_DIR = "model"
LOG_FILE = "backend.log"
MODEL_CLASS = "eventds"
DEBOUNCE = 3.0
#: Webhook actions that change the annotations.
ANNOTATION_ACTIONS = ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATIONS_CREATED")
DELETE_ACTIONS = ("ANNOTATION_DELETED", "ANNOTATIONS_DELETED")


class PayloadError(InputError):
    """A request the backend cannot use; answered with ``status`` and the message."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status




def _task_id(task: Mapping[str, Any], where: str) -> int:
    tid = task.get("id")
    if isinstance(tid, bool) or not isinstance(tid, int):
        raise PayloadError(f"{where} -> id: expected the task's integer id, got {tid!r}")
    return tid


def _task_text(task: Any, where: str) -> str:
    if not isinstance(task, Mapping):
        raise PayloadError(f"{where}: expected a task object, got {type(task).__name__}")
    data = task.get("data")
    if not isinstance(data, Mapping):
        raise PayloadError(f"{where} -> data: expected an object with {TEXT!r}, got {type(data).__name__}")
    text = data.get(TEXT)
    if not isinstance(text, str):
        raise PayloadError(f"{where} -> data -> {TEXT}: expected the sentence as a string, got {type(text).__name__}")
    return text


def _project_id(value: Any) -> Optional[int]:
    """A project id from a webhook's ``project`` object or a predict/setup ``"ID.TIMESTAMP"``."""
    if isinstance(value, Mapping):
        value = value.get("id")
    if isinstance(value, str):
        value = value.split(".", 1)[0]
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


class Backend:
    """The model behind the HTTP API, and its state on disk (no HTTP here).

    Args:
        workspace: the workspace folder; the state is in ``WORKSPACE/backend/``, and Label
            Studio is reached with the workspace's credentials (or those ``/setup`` gave).
        config: the ``weak_functions.json`` of the rules.
        debounce: seconds without a new annotation before training starts.
        client: makes a client of Label Studio (for tests); by default from the workspace.
    """

    def __init__(
        self,
        workspace: Path,
        config: Optional[Path] = None,
        debounce: float = DEBOUNCE,
        client: Optional[Callable[[], StudioClient]] = None,
    ):
        self.workspace = Path(workspace)
        self.folder = backend_dir(self.workspace)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.debounce = debounce
        self.labels = LabelSet.current()
        self._client_factory = client
        self._lock = threading.RLock()
        self._labelling = threading.Lock()
        self._state = self._read_state()
        self._tasks: dict[int, dict[str, Any]] = {t["id"]: t for t in self._read_tasks()}
        self._labeller = self._make_labeller()
        self._wake = threading.Condition()
        self._due: Optional[float] = None
        self._pending: list[tuple[int, list[dict[str, Any]]]] = []  # (project, tasks) to predict
        self._stop = False
        self._busy = False
        self.last_error: Optional[str] = None
        self._worker = threading.Thread(target=self._work, name="eventds-backend-trainer", daemon=True)
        self._worker.start()

    # -- state

    def _read_state(self) -> dict[str, Any]:
        path = self.folder / STATE_FILE
        if not path.exists():
            return {"trainings": 0, "trained_on": 0, "projects": [], "hostname": None, "access_token": None}
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise InputError(f"{path}: cannot read the backend's state ({e!r})") from e
        if not isinstance(state, dict) or not isinstance(state.get("trainings"), int):
            raise InputError(f"{path}: not a backend state (no 'trainings' count)")
        return state

    def _write_state(self) -> None:
        with atomic_open(self.folder / STATE_FILE, permissions=0o600) as fh:
            fh.write(json.dumps(self._state, indent=1, sort_keys=True) + "\n")

    def _read_tasks(self) -> list[dict[str, Any]]:
        path = self.folder / TASKS_FILE
        return [t for _, t in read_jsonl(path)] if path.exists() and path.stat().st_size else []

    def _write_tasks(self) -> None:
        with atomic_open(self.folder / TASKS_FILE) as fh:
            for tid in sorted(self._tasks):
                fh.write(json.dumps(self._tasks[tid], ensure_ascii=False, sort_keys=True) + "\n")

    def _make_labeller(self) -> WeakLabeller:
        labeller = WeakLabeller(config=self.config)
        if (self.folder / MODEL_DIR / MEMORY_FILE).exists():
            labeller.add(CORRECTIONS, CorrectionsFunction(CorrectionMemory.load(self.folder / MODEL_DIR)))
        return labeller

    @property
    def model_version(self) -> str:
        """The rules' version, then ``+corrections.N`` after the N-th training."""
        base = self._labeller.version
        n = self._state["trainings"]
        return f"{base}+corrections.{n}" if n else base

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "status": "UP",
                "model_class": MODEL_CLASS,
                "model_version": self.model_version,
                "annotated_tasks": len(self._tasks),
                "trained_on": self._state["trained_on"],
                "training_due": self._due is not None,
                "last_error": self.last_error,
            }

    # -- predictions

    def _snapshot(self) -> tuple[WeakLabeller, str]:
        """The labeller and its model version, taken together (training swaps both)."""
        with self._lock:
            return self._labeller, self.model_version

    def _label(self, texts: Sequence[str], labeller: WeakLabeller) -> list[tuple[list, Optional[list]]]:
        """``(events, rules' events)`` per text: with the corrections memory, and without it
        (``None`` when there is no memory yet). One request labels at a time."""
        with self._labelling:
            docs = labeller.annotate_batch([labeller.make_doc(t) for t in texts])
            rule_names = [n for n in labeller.functions if n != CORRECTIONS]
            out = []
            for doc in docs:
                events = labeller.events(doc)
                rules = labeller.aggregator.events(doc, rule_names) if CORRECTIONS in labeller.functions else None
                out.append((events, rules))
            return out

    def predict(self, tasks: Any) -> list[dict[str, Any]]:
        """One prediction per task (``{"result", "score", "model_version"}``).

        Raises:
            PayloadError: ``tasks`` is not a list of tasks with ``data.text``.
        """
        if not isinstance(tasks, list):
            raise PayloadError(f"tasks: expected a list of tasks, got {type(tasks).__name__}")
        texts = [_task_text(t, f"tasks {i}") for i, t in enumerate(tasks)]
        labeller, version = self._snapshot()
        return [
            {"result": event_results(events, text), "score": prediction_score(events), "model_version": version}
            for text, (events, _) in zip(texts, self._label(texts, labeller))
        ]

    def assess(self, tasks: list[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[float]]:
        """Each task's prediction (as :meth:`predict`) and priority against the sentences
        annotated so far (:mod:`builder.studio.priority`), labelling each text once."""
        texts = [_task_text(t, f"task {t.get('id')}") for t in tasks]
        with self._lock:
            seen = Prioritizer.from_texts(_task_text(t, "task") for t in self._tasks.values())
        labeller, version = self._snapshot()
        preds, priorities = [], []
        for text, (events, rules) in zip(texts, self._label(texts, labeller)):
            preds.append({"result": event_results(events, text), "score": prediction_score(events), "model_version": version})
            priorities.append(seen.priority(text, events, rules))
        return preds, priorities

    # -- webhooks

    def webhook(self, payload: Any) -> dict[str, Any]:
        """Handle one of Label Studio's webhook events.

        Raises:
            PayloadError: the payload is not an event the backend can use (naming the field).
            ValidationFailed: an annotation has regions pull would refuse (nothing is kept).
        """
        if not isinstance(payload, Mapping):
            raise PayloadError(f"webhook: expected a JSON object with 'action', got {type(payload).__name__}")
        action = payload.get("action")
        if not isinstance(action, str):
            raise PayloadError(f"webhook -> action: expected the event's name, got {action!r}")
        project = _project_id(payload.get("project"))
        if project is not None:
            self._serve_project(project)
        if action in ANNOTATION_ACTIONS:
            return self._annotated(payload, action)
        if action in DELETE_ACTIONS:
            return self._deleted(payload)
        if action == "START_TRAINING":
            return self.train_soon(delay=0.0)
        if action == "TASKS_CREATED" and project is not None:
            tasks = payload.get("tasks")
            if not isinstance(tasks, list):
                raise PayloadError(f"webhook {action} -> tasks: expected a list of tasks, got {type(tasks).__name__}")
            fresh = [t for t in tasks if isinstance(t, Mapping) and isinstance(t.get("data"), Mapping) and "priority" not in t["data"]]
            if fresh:
                with self._wake:
                    self._pending.append((project, fresh))
                    self._wake.notify()
            return {"status": f"{len(fresh)} tasks to predict"}
        return {"status": f"ignored {action}"}

    def _annotated(self, payload: Mapping[str, Any], action: str) -> dict[str, Any]:
        annotations = payload.get("annotation", payload.get("annotations"))
        if isinstance(annotations, Mapping):
            annotations = [annotations]
        if not isinstance(annotations, list) or not annotations or not all(isinstance(a, Mapping) for a in annotations):
            raise PayloadError(f"webhook {action} -> annotation: expected the annotation object, got {type(annotations).__name__}")
        task = payload.get("task")
        if not isinstance(task, Mapping):
            raise PayloadError(f"webhook {action} -> task: expected the annotated task with its data, got {type(task).__name__}")
        tid = _task_id(task, f"webhook {action} -> task")
        _task_text(task, f"webhook {action} -> task")
        with self._lock:
            entry = dict(self._tasks.get(tid) or {"id": tid, "data": dict(task["data"]), "annotations": []})
            entry["data"] = dict(task["data"])
            entry["data"].setdefault("sentence_id", f"ls-task-{tid}")
            if isinstance(task.get("meta"), Mapping):
                entry["meta"] = dict(task["meta"])
            kept = {a.get("id"): a for a in entry["annotations"]}
            for a in annotations:
                kept[a.get("id")] = dict(a)
            entry["annotations"] = list(kept.values())
            # The same checks as a pull: a region pull would refuse is refused here.
            human_layer_from_export([entry], self.labels, {}, guidelines_version())
            self._tasks[tid] = entry
            self._write_tasks()
        self.train_soon()
        return {"status": f"task {tid}: {len(annotations)} annotation(s) kept; training in {self.debounce:g} s"}

    def _deleted(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        items = payload.get("annotations", payload.get("annotation"))
        if isinstance(items, Mapping):
            items = [items]
        if not isinstance(items, list):
            raise PayloadError(f"webhook {payload['action']} -> annotations: expected a list of {{\"id\": ...}}, got {type(items).__name__}")
        gone = {a.get("id") for a in items if isinstance(a, Mapping)}
        removed = 0
        with self._lock:
            for tid, entry in list(self._tasks.items()):
                left = [a for a in entry["annotations"] if a.get("id") not in gone]
                removed += len(entry["annotations"]) - len(left)
                if left:
                    entry["annotations"] = left
                else:
                    del self._tasks[tid]
            if removed:
                self._write_tasks()
        if removed:
            self.train_soon()
        return {"status": f"{removed} annotation(s) removed"}

    def _serve_project(self, project: int) -> None:
        with self._lock:
            if project not in self._state["projects"]:
                self._state["projects"].append(project)
                self._write_state()

    def setup(self, payload: Any) -> dict[str, Any]:
        """Label Studio connects a project: remember it (and how to reach Label Studio)."""
        if not isinstance(payload, Mapping):
            raise PayloadError(f"setup: expected a JSON object, got {type(payload).__name__}")
        project = _project_id(payload.get("project"))
        if project is not None:
            self._serve_project(project)
        with self._lock:
            if isinstance(payload.get("hostname"), str) and isinstance(payload.get("access_token"), str):
                self._state["hostname"], self._state["access_token"] = payload["hostname"], payload["access_token"]
                self._write_state()
        return {"model_version": self.model_version}

    # -- training

    def human_layer(self) -> list[dict[str, Any]]:
        """The human layer of the annotations received (as ``annotate pull`` would make it)."""
        with self._lock:
            entries = [self._tasks[t] for t in sorted(self._tasks)]
        return human_layer_from_export(entries, self.labels, {}, guidelines_version()).records if entries else []

    def train(self) -> dict[str, Any]:
        """Learn the corrections memory from the human layer now; a new model version if it changed.

        With no annotation there is nothing to learn: the answer says so and the model stays.
        """
        records = self.human_layer()
        with atomic_open(self.folder / HUMAN_FILE) as fh:
            for r in records:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        if not records:
            return {"status": "no annotations yet: nothing to train on", "model_version": self.model_version}
        rules = WeakLabeller(config=self.config)
        rule_events = [[e.to_dict() for e in events] for events in rules.label_texts([r["text"] for r in records])]
        memory = CorrectionMemory.learn((r["text"], r["events"], ev) for r, ev in zip(records, rule_events))
        memory.save(self.folder / MODEL_DIR)
        labeller = self._make_labeller()
        with self._lock:
            self._labeller = labeller
            self._state["trainings"] += 1
            self._state["trained_on"] = len(records)
            self._write_state()
        log.info("trained on %d sentences: %d words voted, %d vetoed; model %s", len(records), len(memory.votes), len(memory.vetoes), self.model_version)
        return {"status": f"trained on {len(records)} sentences", "model_version": self.model_version, "votes": len(memory.votes), "vetoes": len(memory.vetoes)}

    def train_soon(self, delay: Optional[float] = None) -> dict[str, Any]:
        """Train after ``delay`` seconds (the debounce) with no newer request; then refresh the projects."""
        with self._wake:
            self._due = time.monotonic() + (self.debounce if delay is None else delay)
            self._wake.notify()
        return {"status": "training scheduled", "model_version": self.model_version}

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no training or prediction is due or running (for tests and scripts)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._wake:
                if self._due is None and not self._pending and not self._busy:
                    return True
            time.sleep(0.05)
        return False

    def _work(self) -> None:
        while True:
            with self._wake:
                while not self._stop and not self._pending and (self._due is None or self._due > time.monotonic()):
                    self._wake.wait(None if self._due is None else max(0.0, self._due - time.monotonic()))
                if self._stop:
                    return
                pending, self._pending = self._pending, []
                train = self._due is not None and self._due <= time.monotonic()
                if train:
                    self._due = None
                self._busy = True
            try:
                for project, tasks in pending:
                    self._predict_new(project, tasks)
                if train and "trained on" in self.train()["status"]:
                    for project in list(self._state["projects"]):
                        self.refresh(project)
                self.last_error = None
            except Exception as e:  # the backend keeps serving; the error shows in /health and the log
                self.last_error = f"{type(e).__name__}: {e}"
                log.exception("background work failed")
            finally:
                with self._wake:
                    self._busy = False

    def close(self) -> None:
        with self._wake:
            self._stop = True
            self._wake.notify()
        self._worker.join(timeout=10)

    # -- Label Studio

    def client(self) -> StudioClient:
        if self._client_factory is not None:
            return self._client_factory()
        try:
            return StudioClient.connect(self.workspace)
        except EventdsError:
            if self._state.get("hostname") and self._state.get("access_token"):
                return StudioClient(self._state["hostname"], self._state["access_token"])
            raise

    def _predict_new(self, project: int, tasks: list[Mapping[str, Any]]) -> None:
        """Predict tasks created without a prediction and give them a priority."""
        with self.client() as client:
            todo = [t for t in tasks if not client.get("/api/predictions", task=t["id"])]
            if not todo:
                return
            preds, priorities = self.assess(todo)
            client.post(f"/api/projects/{project}/import/predictions", [{"task": t["id"], **p} for t, p in zip(todo, preds)])
            for t, p in zip(todo, priorities):
                client.patch(f"/api/tasks/{t['id']}", {"data": {**t["data"], "priority": p}})

    def refresh(self, project: int) -> dict[str, int]:
        """Give every unannotated task of ``project`` a prediction of the current model version
        (replacing this backend's older ones) and its new priority."""
        version = self.model_version
        with self.client() as client:
            tasks = unannotated_tasks(client, project)
            if not tasks:
                return {"predicted": 0, "reordered": 0}
            preds, priorities = self.assess(tasks)
            ours = self._labeller.version
            wanted = {t["id"] for t in tasks}
            old = [p for p in client.predictions(project) if p.get("task") in wanted and str(p.get("model_version", "")).startswith(ours)]
            client.post(f"/api/projects/{project}/import/predictions", [{"task": t["id"], **p} for t, p in zip(tasks, preds)])
            for p in old:
                if p.get("model_version") != version:
                    client.delete(f"/api/predictions/{p['id']}")
            reordered = 0
            for t, priority in zip(tasks, priorities):
                if t["data"].get("priority") != priority:
                    client.patch(f"/api/tasks/{t['id']}", {"data": {**t["data"], "priority": priority}})
                    reordered += 1
            client.patch(f"/api/projects/{project}", {"model_version": version})
            ensure_priority_view(client, project)
        log.info("project %d: %d tasks predicted with %s, %d priorities changed", project, len(tasks), version, reordered)
        return {"predicted": len(tasks), "reordered": reordered}
