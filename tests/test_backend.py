"""The ML backend: Label Studio's API served on 127.0.0.1, on its own and against a real Label Studio."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, sentence, write_records

from builder.errors import ServiceError
from builder.studio.backend import Backend
from builder.studio.credentials import load_secret
from builder.studio.priority import VIEW_TITLE
from builder.studio.project import unannotated_tasks
from builder.studio.push import push
from builder.studio.server import free_port
from builder.studio.serving import BackendServer
from builder.studio.tasks import task

ROOT = Path(__file__).resolve().parents[1]

RAZED = [
    "Militias razed three hamlets on Tuesday, residents said.",
    "Army units razed a camp near the river.",
]
UNSEEN = [
    "Rebels razed the customs post before dawn.",
    "The council met to discuss the budget on Monday.",
    "Gunmen opened fire on a bus, killing four passengers.",
]


def no_studio():
    raise ServiceError("no Label Studio in this test")


def wait_for(check, timeout: float = 60.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@pytest.fixture
def backend(tmp_path: Path):
    b = Backend(tmp_path / "workspace", debounce=0.2, client=no_studio)
    server = BackendServer(b, load_secret(tmp_path / "workspace"), port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.close()


def push_shaped_tasks() -> list[dict]:
    sentences = [sentence(f"doc0-s{i}", t, [], index=i) for i, t in enumerate(RAZED + UNSEEN)]
    return [{"id": i + 1, **task(s)} for i, s in enumerate(sentences)]


def test_predict_gives_exact_slices_and_a_model_version(backend):
    tasks = push_shaped_tasks()
    r = httpx.post(f"{backend.url}/predict", json={"tasks": tasks, "project": "1.1700000000"})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert len(results) == len(tasks)
    regions = 0
    for t, p in zip(tasks, results):
        assert p["model_version"] == backend.backend.model_version
        for item in p["result"]:
            if "value" in item and "start" in item["value"]:
                regions += 1
                assert t["data"]["text"][item["value"]["start"] : item["value"]["end"]] == item["value"]["text"]
    assert regions >= 2  # the attack and the killing of the last sentence at least


def test_bad_requests_get_clear_errors_and_the_backend_keeps_serving(backend):
    auth = {"Authorization": backend.secret.header()}
    cases = [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "expected a JSON object with 'action'"),
        (json.dumps({"action": "ANNOTATION_CREATED", "annotation": {"id": 1, "result": []}}).encode(), "task: expected the annotated task"),
        (json.dumps({"action": "ANNOTATION_CREATED", "task": {"id": 3, "data": {}}, "annotation": {"id": 1, "result": []}}).encode(), "data -> text"),
        (json.dumps({"action": 7}).encode(), "action: expected the event's name"),
    ]
    for body, message in cases:
        r = httpx.post(f"{backend.url}/webhook", content=body, headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == 400, (body, r.text)
        assert message in r.json()["error"]
    bad_region = {"action": "ANNOTATION_CREATED", "project": {"id": 1}, "task": {"id": 4, "data": {"text": RAZED[0]}},
                  "annotation": {"id": 9, "completed_by": 1, "result": [{"id": "x", "from_name": "trigger", "to_name": "text", "type": "labels",
                                 "value": {"start": 0, "end": 5, "text": "Milit", "labels": ["PARADE"]}}]}}
    r = httpx.post(f"{backend.url}/webhook", json=bad_region, headers=auth)
    assert r.status_code == 422 and "PARADE" in r.text
    assert httpx.post(f"{backend.url}/predict", json={"tasks": [{"data": {"txt": "x"}}]}).status_code == 400
    assert httpx.post(f"{backend.url}/webhook", json={"action": "START_TRAINING"}).status_code == 401  # no secret
    assert httpx.post(f"{backend.url}/webhook", json={"action": "START_TRAINING"}, headers={"Authorization": "Basic eDp5"}).status_code == 401
    assert httpx.get(f"{backend.url}/health").json()["status"] == "UP"
    assert httpx.post(f"{backend.url}/predict", json={"tasks": push_shaped_tasks()[:1]}).status_code == 200


def test_training_with_no_annotations_says_so_and_keeps_the_model(backend):
    before = backend.backend.model_version
    auth = {"Authorization": backend.secret.header()}
    r = httpx.post(f"{backend.url}/train", headers=auth)
    assert r.status_code == 200
    # the "start training" event of Label Studio's UI, and an event the backend has no use for
    assert httpx.post(f"{backend.url}/webhook", json={"action": "START_TRAINING", "project": {"id": 3}}, headers=auth).status_code == 200
    assert httpx.post(f"{backend.url}/webhook", json={"action": "LABEL_LINK_CREATED", "label_link": {}}, headers=auth).json() == {"status": "ignored LABEL_LINK_CREATED"}
    assert backend.backend.wait_idle()
    assert backend.backend.last_error is None
    assert backend.backend.model_version == before
    assert backend.backend.train()["status"] == "no annotations yet: nothing to train on"


def annotation(text: str, word: str, type_: str, ann_id: int) -> dict:
    s = text.index(word)
    return {"id": ann_id, "completed_by": 1, "result": [{"id": f"r{ann_id}", "from_name": "trigger", "to_name": "text", "type": "labels",
            "value": {"start": s, "end": s + len(word), "text": word, "labels": [type_]}}]}


def test_state_survives_a_restart(tmp_path: Path):
    ws = tmp_path / "workspace"
    b = Backend(ws, debounce=60, client=no_studio)
    for i, text in enumerate(RAZED):
        b.webhook({"action": "ANNOTATION_CREATED", "task": {"id": i + 1, "data": {"text": text, "sentence_id": f"d-s{i}"}},
                   "annotation": annotation(text, "razed", "ATTACK", i + 1)})
    assert b.train()["status"] == "trained on 2 sentences"
    version = b.model_version
    b.close()
    again = Backend(ws, debounce=60, client=no_studio)
    try:
        assert again.model_version == version and version.endswith("+corrections.1")
        [p] = again.predict([{"data": {"text": UNSEEN[0]}}])
        assert [r["value"]["text"] for r in p["result"] if r.get("from_name") == "trigger"] == ["razed"]
        human = [json.loads(line) for line in (ws / "backend" / "human.jsonl").read_text().splitlines()]
        assert [(h["id"], h["status"], [e["text"] for e in h["events"]]) for h in human] == [("d-s0", "corrected", ["razed"]), ("d-s1", "corrected", ["razed"])]
    finally:
        again.close()


# ---------------------------------------------------------------------------------------
# Against a real Label Studio


@pytest.mark.server
@pytest.mark.slow
def test_the_loop_with_a_real_label_studio(ls_server: LiveServer, tmp_path: Path):
    client = ls_server.client()
    sentences = [sentence(f"doc1-s{i}", t, [], index=i) for i, t in enumerate(RAZED + UNSEEN)]
    b = Backend(ls_server.workspace, debounce=0.5)
    server = BackendServer(b, load_secret(ls_server.workspace), port=free_port())
    server.start()
    try:
        # push sends the tasks highest priority first, and registers the backend
        stats = push(client, write_records(tmp_path / "records.jsonl", sentences), backend=(server.url, server.secret))
        project = stats.project_id
        assert stats.backend == server.url
        assert [m["url"] for m in client.get("/api/ml", project=project)] == [server.url]
        pushed = client.tasks(project)
        assert [t["data"]["priority"] for t in pushed] == sorted((t["data"]["priority"] for t in pushed), reverse=True)
        assert {t["data"]["sentence_id"]: t["data"]["next"] for t in pushed}["doc1-s0"] == RAZED[1]

        # a task imported through the API after start-up gets a prediction
        imported = client.post(f"/api/projects/{project}/import", [{"data": {"text": "Insurgents shelled the market, killing two."}}])
        new_id = max(t["id"] for t in client.tasks(project))
        preds = wait_for(lambda: client.get("/api/predictions", task=new_id), what="a prediction of the imported task")
        assert imported["task_count"] == 1
        assert preds[0]["model_version"] == b.model_version and preds[0]["score"] is not None
        assert {r["value"]["text"] for r in preds[0]["result"] if r.get("from_name") == "trigger"} >= {"shelled"}

        # annotations submitted through the API train the model
        before = b.model_version
        by_sid = {t["data"]["sentence_id"]: t for t in client.tasks(project) if "sentence_id" in t["data"]}
        for i, text in enumerate(RAZED):
            tid = by_sid[f"doc1-s{i}"]["id"]
            client.post(f"/api/tasks/{tid}/annotations/", {"result": annotation(text, "razed", "ATTACK", i)["result"], "lead_time": 3.0})
        wait_for(lambda: b.model_version != before, what="training after the annotations")
        assert b.wait_idle(120) and b.last_error is None, b.last_error
        version = b.model_version
        assert version.endswith("+corrections.1")

        # unannotated tasks are predicted again with the new version...
        unseen = by_sid["doc1-s2"]["id"]
        latest = [p for p in client.get("/api/predictions", task=unseen) if p["model_version"] == version]
        assert [r["value"]["text"] for r in latest[0]["result"] if r.get("from_name") == "trigger"] == ["razed"]
        todo = unannotated_tasks(client, project)
        assert {t["id"] for t in todo} == {t["id"] for t in client.tasks(project)} - {by_sid["doc1-s0"]["id"], by_sid["doc1-s1"]["id"]}
        # ... and the priority tab lists them by their new priorities
        view = next(v for v in client.get("/api/dm/views", project=project) if v["data"].get("title") == VIEW_TITLE)
        listed = client.get("/api/tasks", project=project, view=view["id"], include="id,data")["tasks"]
        priorities = [t["data"]["priority"] for t in listed]
        assert [t["id"] for t in listed] == [t["id"] for t in sorted(todo, key=lambda t: (-t["data"]["priority"], t["id"]))]
        assert priorities == sorted(priorities, reverse=True)
        assert listed[0]["id"] == unseen  # the model and the rules disagree there: it comes first

        # a malformed webhook gets a clear error, and the backend keeps serving Label Studio
        r = httpx.post(f"{server.url}/webhook", content=b"{", headers={"Authorization": server.secret.header()})
        assert r.status_code == 400 and "not JSON" in r.json()["error"]
        assert client.get(f"/api/ml/{client.get('/api/ml', project=project)[0]['id']}")["state"] in ("CO", "TR")
    finally:
        server.close()


@pytest.mark.server
def test_the_backend_command_serves_predict(tmp_path: Path):
    """As an outside check would: start the command, wait for /health, post push-shaped tasks."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "builder", "annotate", "backend", "--port", str(port), "--workspace", str(tmp_path / "ws")],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"

        def healthy():
            try:
                return httpx.get(f"{url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                assert proc.poll() is None, proc.stdout.read().decode()
                return False

        wait_for(healthy, timeout=60, what="/health")
        tasks = push_shaped_tasks()
        body = httpx.post(f"{url}/predict", json={"tasks": tasks}, timeout=30).json()
        for t, p in zip(tasks, body["results"]):
            assert p["model_version"]
            for item in p["result"]:
                if "start" in item.get("value", {}):
                    assert t["data"]["text"][item["value"]["start"] : item["value"]["end"]] == item["value"]["text"]
        assert oct((tmp_path / "ws" / "backend" / "secret.json").stat().st_mode & 0o777) == "0o600"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0, proc.stdout.read().decode()
