"""Push, pull and serve against a real Label Studio server (started by the fixtures in conftest)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, ev, sentence, tricky_sentences, write_records
from typer.testing import CliRunner

from builder.cli import app
from builder.errors import ConfigError, ServiceError, ValidationFailed
from builder.io import read_jsonl
from builder.pipeline import load_human_layer
from builder.records import Argument, Event, Sentence
from builder.studio.client import StudioHTTPError
from builder.studio.credentials import Credentials, credentials_path
from builder.studio.instructions import instructions_html
from builder.studio.interface import ARGTYPE, ARGTYPE_CAPTION, LabelSet, label_config
from builder.studio.project import ensure_project
from builder.studio.pull import pull
from builder.studio.push import push
from builder.studio.results import annotatable, events_from_results, sort_events
from builder.studio.server import start_server
from builder.studio.tasks import event_results

pytestmark = [pytest.mark.server, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
LABELS = LabelSet.current()


def tasks_by_sentence(client, project_id: int) -> dict[str, dict]:
    tasks = client.tasks(project_id)
    ids = [t["data"]["sentence_id"] for t in tasks]
    assert len(ids) == len(set(ids)), "duplicate tasks"
    return {t["data"]["sentence_id"]: t for t in tasks}


def prediction_of(client, task_id: int) -> dict:
    [pred] = client.get("/api/predictions/", task=task_id)
    return pred


def annotate(client, task_id: int, result: list, user: int | None = None, **extra) -> dict:
    body = {"result": result, **extra}
    if user is not None:
        body["completed_by"] = user
    return client.post(f"/api/tasks/{task_id}/annotations/", body)


def human_events(path: Path) -> dict[str, list[Event]]:
    return {k: list(v.events) for k, v in load_human_layer(path).items()}


def weak(s: Sentence) -> list[Event]:
    return sort_events(annotatable(e) for e in s.weak_events)


# ---------------------------------------------------------------------------------------


def test_push_then_pull_without_edits_returns_the_weak_layer(ls_server: LiveServer, tricky_records: Path, tmp_path: Path):
    client = ls_server.client()
    stats = push(client, tricky_records, batch_size=4)
    sentences = tricky_sentences()
    assert stats.created == len(sentences)
    project = client.find_project("eventds")
    assert project["model_version"] == "eventds-weak/weak_rules.v1"
    tasks = tasks_by_sentence(client, project["id"])
    for s in sentences:
        task = tasks[s.id]
        assert task["data"]["text"] == s.text  # CRLF, NBSP and astral characters stored verbatim
        pred = prediction_of(client, task["id"])
        assert pred["model_version"] == s.labeller
        annotate(client, task["id"], pred["result"])  # the annotator accepts the pre-annotation as is

    out = tmp_path / "annotations"
    pulled = pull(client, out_dir=out)
    assert pulled.annotated == len(sentences)
    human = human_events(out / "human.jsonl")
    for s in sentences:
        assert human[s.id] == weak(s), s.id
    export = json.loads((out / "export.json").read_text(encoding="utf-8"))
    assert {t["data"]["sentence_id"] for t in export} == {s.id for s in sentences}
    detail = [o for _, o in read_jsonl(out / "annotators.jsonl")]
    assert {(d["id"], d["annotator"]) for d in detail} == {(s.id, ls_server.credentials.username) for s in sentences}


def test_two_annotators_skips_drafts_and_ground_truth(ls_server: LiveServer, tricky_records: Path, tmp_path: Path):
    client = ls_server.client()
    push(client, tricky_records)
    project = client.find_project("eventds")
    tasks = tasks_by_sentence(client, project["id"])
    second = client.post("/api/users/", {"email": "second@example.org", "username": "second"})
    s = tricky_sentences()[3]  # "Gunmen attacked the convoy 👨‍👩‍👧.\r\nTwo guards were wounded in the 𝄞 Hall attack."
    task_id = tasks[s.id]["id"]
    accepted = prediction_of(client, task_id)["result"]

    first = annotate(client, task_id, accepted)  # annotator 1 accepts the predictions
    # Annotator 2 deletes the false positive "attack" (e2), retypes "attacked" (e0) as STRIKE,
    # and adds the missed CASUALTY "killed" and the missed attacker "Gunmen" of e0.
    t = s.text
    gunmen, killed = t.index("Gunmen"), t.index("killed")
    edited = []
    for item in json.loads(json.dumps(accepted)):
        if item.get("id") == "e2":
            continue
        if item.get("id") == "e0":
            item["value"]["labels"] = ["STRIKE"]
        edited.append(item)
    edited += [
        {"id": "new1", "from_name": "trigger", "to_name": "text", "type": "labels",
         "value": {"start": killed, "end": killed + 6, "text": "killed", "labels": ["CASUALTY"]}},
        {"id": "new2", "from_name": "argument_STRIKE", "to_name": "text", "type": "labels",
         "value": {"start": gunmen, "end": gunmen + 6, "text": "Gunmen", "labels": ["attacker"]}},
        {"from_id": "e0", "to_id": "new2", "type": "relation", "direction": "right", "labels": ["attacker"]},
    ]
    time.sleep(0.05)
    annotate(client, task_id, edited, user=second["id"])

    other = tasks[tricky_sentences()[1].id]["id"]
    annotate(client, other, [], was_cancelled=True)  # skipped
    client.post(f"/api/tasks/{other}/drafts", {"result": prediction_of(client, other)["result"], "lead_time": 1.0})

    out = tmp_path / "annotations"
    stats = pull(client, out_dir=out)
    assert (stats.annotated, stats.skipped, stats.drafts_ignored, stats.annotations) == (1, 1, 1, 2)

    hall = t.index("𝄞 Hall")
    expected_second = sort_events([
        Event("STRIKE", t.index("attacked"), t.index("attacked") + 8, "attacked", arguments=(Argument("attacker", gunmen, gunmen + 6, "Gunmen"),)),
        Event("CASUALTY", t.index("wounded"), t.index("wounded") + 7, "wounded", arguments=(Argument("place", hall, hall + 6, "𝄞 Hall"),)),
        Event("CASUALTY", killed, killed + 6, "killed"),
    ])
    layer = load_human_layer(out / "human.jsonl")
    assert list(layer) == [s.id]
    assert list(layer[s.id].events) == expected_second  # the most recent annotation wins
    assert layer[s.id].annotators == ("second@example.org", ls_server.credentials.username)
    detail = {d["annotator"]: d for _, d in read_jsonl(out / "annotators.jsonl")}
    assert [Event.from_dict(e) for e in detail["second@example.org"]["events"]] == expected_second
    assert [Event.from_dict(e) for e in detail[ls_server.credentials.username]["events"]] == weak(s)

    # Ground truth beats recency.
    client.patch(f"/api/annotations/{first['id']}/", {"ground_truth": True})
    pull(client, out_dir=out)
    assert list(load_human_layer(out / "human.jsonl")[s.id].events) == weak(s)

    # Drafts count only when asked for.
    stats = pull(client, out_dir=out, include_drafts=True)
    assert stats.drafts_used == 1
    assert human_events(out / "human.jsonl")[tricky_sentences()[1].id] == weak(tricky_sentences()[1])


def test_repush_creates_no_duplicates_and_replaces_changed_predictions(ls_server: LiveServer, tmp_path: Path):
    client = ls_server.client()
    sentences = tricky_sentences()
    records = write_records(tmp_path / "records.jsonl", sentences)
    ensure_project(client, "eventds", label_config(LABELS))  # as `eventds annotate config --apply` does
    push(client, records, batch_size=2)
    assert client.find_project("eventds")["model_version"] == "eventds-weak/weak_rules.v1"
    again = push(client, records, batch_size=2)
    assert (again.created, again.unchanged, again.predictions_updated) == (0, len(sentences), 0)

    s = sentences[0]
    changed = s.with_(weak_events=(ev(s.text, "fired", "STRIKE", confidence=0.4),), events=())
    write_records(records, [changed, *sentences[1:]])
    third = push(client, records, batch_size=2)
    assert (third.created, third.predictions_updated, third.unchanged) == (0, 1, len(sentences) - 1)

    project = client.find_project("eventds")
    tasks = tasks_by_sentence(client, project["id"])
    assert len(tasks) == len(sentences)
    preds = client.predictions(project["id"])
    assert len(preds) == len(sentences)  # one prediction per task: the old one was deleted
    pred = prediction_of(client, tasks[s.id]["id"])
    assert pred["result"] == event_results(changed.weak_events, s.text)
    assert pred["score"] == pytest.approx(0.4)


def test_interrupted_push_completes_on_rerun_without_duplicates(ls_server: LiveServer, tmp_path: Path):
    sentences = []
    for i in range(23):
        t = f"Report {i} 🚀: militants shelled the 中文 town\u00a0“Alpha-{i}”."
        sentences.append(sentence(f"doc{i}-s", t, [ev(t, "shelled", "ATTACK", confidence=0.6)], index=i))
    records = write_records(tmp_path / "records.jsonl", sentences)
    client = ls_server.client()
    landed = []

    def crash_after_first_batch(stage: str, done: int, total: int) -> None:
        landed.append(done)
        if len(landed) == 1:
            ls_server.kill()  # the server dies after the first batch is in

    with pytest.raises(ServiceError, match="cannot reach Label Studio"):
        push(client, records, batch_size=5, progress=crash_after_first_batch)
    assert landed == [5]

    ls_server.start()  # same data dir, same port
    client = ls_server.client()
    project = client.find_project("eventds")
    assert len(client.tasks(project["id"])) == 5
    stats = push(client, records, batch_size=5)
    assert (stats.created, stats.unchanged) == (18, 5)
    tasks = tasks_by_sentence(client, project["id"])
    assert set(tasks) == {s.id for s in sentences}
    assert len(client.predictions(project["id"])) == len(sentences)


def test_server_killed_during_an_import_request_loses_no_task_and_duplicates_none(ls_server: LiveServer, tmp_path: Path):
    """The kill is not synchronised with the push: it lands while the next import request is in flight."""
    import threading

    sentences = [sentence(f"doc{i}-k", f"Shelling {i} 🚀 hit the town.", [ev(f"Shelling {i} 🚀 hit the town.", "Shelling", "ATTACK")], i)
                 for i in range(400)]
    records = write_records(tmp_path / "records.jsonl", sentences)
    client, watcher_client = ls_server.client(), ls_server.client()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            push(client, records, batch_size=80)
        except ServiceError as e:
            errors.append(e)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        project = watcher_client.find_project("eventds")
        if project and watcher_client.get("/api/tasks", project=project["id"], page_size=1)["total"] >= 80:
            break
        time.sleep(0.02)
    ls_server.kill()
    worker.join(60)
    assert errors, "the push finished before the server was killed"

    ls_server.start()
    client = ls_server.client()
    project = client.find_project("eventds")
    landed = len(client.tasks(project["id"]))
    assert landed % 80 == 0 and 80 <= landed < 400  # whole batches only: each import is one transaction
    stats = push(client, records, batch_size=80)
    assert stats.created == 400 - landed
    assert set(tasks_by_sentence(client, project["id"])) == {s.id for s in sentences}
    assert len(client.predictions(project["id"])) == 400


def test_config_update_that_would_orphan_annotations_is_refused(ls_server: LiveServer, tricky_records: Path):
    client = ls_server.client()
    push(client, tricky_records)
    project = client.find_project("eventds")
    s = tricky_sentences()[2]  # has a THREAT
    task_id = tasks_by_sentence(client, project["id"])[s.id]["id"]
    annotate(client, task_id, prediction_of(client, task_id)["result"])

    without_threat = LabelSet(("ATTACK", "STRIKE", "CASUALTY"), LABELS.roles, LABELS.realis)
    with pytest.raises(ConfigError, match=r"drops labels that existing annotations use: .*trigger: THREAT \(1 uses\)"):
        ensure_project(client, "eventds", label_config(without_threat))
    assert client.get(f"/api/projects/{project['id']}")["label_config"] == project["label_config"]

    # A change that keeps every used label goes through (after server-side validation).
    hinted = LabelSet(LABELS.event_types, LABELS.roles, LABELS.realis, hints={"trigger": {"ATTACK": "changed hint"}})
    updated = ensure_project(client, "eventds", label_config(hinted))
    assert "changed hint" in updated["label_config"]

    broken = label_config(LABELS).replace('toName="text" perRegion', 'toName="nowhere" perRegion')
    with pytest.raises(ConfigError, match="nowhere"):
        ensure_project(client, "eventds", broken)


def old_label_config(labels: LabelSet) -> str:
    """The labelling config before the per-type argument controls: one ``argument`` control."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(label_config(labels))
    for el in list(root):
        if el.tag == "View" or el.get("name") == ARGTYPE or el.get("value") == ARGTYPE_CAPTION:
            root.remove(el)
    old = ET.Element("Labels", name="argument", toName="text", choice="single", showInline="true")
    for role in labels.roles:
        ET.SubElement(old, "Label", value=role)
    root.insert(2, old)
    return ET.tostring(root, encoding="unicode")


def test_a_project_with_old_argument_annotations_keeps_that_control_hidden_and_gets_the_page_settings(
    ls_server: LiveServer, tmp_path: Path, monkeypatch
):
    client = ls_server.client()
    s = tricky_sentences()[0]  # an ATTACK with three arguments, a CASUALTY with two
    ensure_project(client, "eventds", old_label_config(LABELS))
    project = client.find_project("eventds")
    client.post(f"/api/projects/{project['id']}/import", [{"data": {"text": s.text, "sentence_id": s.id, "doc_id": s.doc_id}}])
    [task] = client.tasks(project["id"])
    old = [{**r, "from_name": "argument"} if str(r.get("from_name", "")).startswith("argument_") else r for r in event_results(s.weak_events, s.text)]
    annotate(client, task["id"], old)  # made on the old page
    with pytest.raises(StudioHTTPError, match="incompatible"):
        client.patch(f"/api/projects/{project['id']}", {"label_config": label_config(LABELS)})  # what Label Studio refuses

    updated = ensure_project(client, "eventds", label_config(LABELS), overlap=0.3)
    assert 'name="argument_ATTACK"' in updated["label_config"] and '<View style="display: none">' in updated["label_config"]
    assert (updated["maximum_annotations"], updated["overlap_cohort_percentage"]) == (2, 30)
    assert updated["show_instruction"] is True and updated["show_collab_predictions"] is True
    assert updated["expert_instruction"] == instructions_html()  # stored as sent
    # Nothing left to change: the next push neither exports the project nor updates it.
    monkeypatch.setattr(client, "patch", lambda *a, **k: pytest.fail("updated an up-to-date project"))
    monkeypatch.setattr(client, "export", lambda *a, **k: pytest.fail("exported for an up-to-date config"))
    assert ensure_project(client, "eventds", label_config(LABELS), overlap=0.3)["id"] == project["id"]
    monkeypatch.undo()

    out = tmp_path / "annotations"
    pull(client, out_dir=out)
    assert human_events(out / "human.jsonl")[s.id] == weak(s)  # the old annotation still reads
    assert ensure_project(client, "eventds", label_config(LABELS), overlap=0)["maximum_annotations"] == 1


def test_invalid_annotations_are_rejected_and_nothing_is_written(ls_server: LiveServer, tricky_records: Path, tmp_path: Path):
    client = ls_server.client()
    push(client, tricky_records)
    project = client.find_project("eventds")
    tasks = tasks_by_sentence(client, project["id"])
    s0, s1, s2 = tricky_sentences()[:3]
    t0, t1, t2 = (tasks[s.id]["id"] for s in (s0, s1, s2))
    # Label Studio itself accepts all three.
    annotate(client, t0, [{"id": "bad1", "from_name": "trigger", "to_name": "text", "type": "labels",
                           "value": {"start": 10, "end": 15, "text": "fired", "labels": ["BOMBING"]}}])
    annotate(client, t1, [{"id": "bad2", "from_name": "trigger", "to_name": "text", "type": "labels",
                           "value": {"start": 0, "end": 2, "text": "xx", "labels": ["STRIKE"]}}])
    good = prediction_of(client, t2)["result"]
    annotate(client, t2, good + [{"from_id": "e0", "to_id": "ghost", "type": "relation", "direction": "right", "labels": ["target"]}])

    out = tmp_path / "annotations"
    with pytest.raises(ValidationFailed) as e:
        pull(client, out_dir=out)
    msg = str(e.value)
    assert f"task {t0} (sentence {s0.id}) annotation" in msg and "region bad1: trigger label 'BOMBING' is not in the label set" in msg
    assert f"task {t1} (sentence {s1.id}) annotation" in msg and "region bad2: region text 'xx' does not equal" in msg
    assert f"task {t2} (sentence {s2.id}) annotation" in msg and "relation 'e0' -> 'ghost': points to missing region 'ghost'" in msg
    assert not out.exists()

    # Through the CLI: exit 1, the message names the region, and still nothing is written.
    result = CliRunner().invoke(app, ["annotate", "pull", "--out", str(out), "--workspace", str(ls_server.workspace)])
    assert result.exit_code == 1, result.output
    assert "bad1" in result.output
    assert not out.exists()


def test_pulled_layer_is_merged_by_build(ls_server: LiveServer, tmp_path: Path):
    from builder.pipeline import build

    manifest = tmp_path / "manifest.json"
    shutil.copy(ROOT / "splits" / "manifest.json", manifest)
    build(out_dir=tmp_path / "b0", manifest_path=manifest, annotations_dir=tmp_path / "none")
    records = [Sentence.from_dict(o) for _, o in read_jsonl(tmp_path / "b0" / "records.jsonl")]
    chosen = [s for s in records if s.weak_events][:4]
    pushed = write_records(tmp_path / "push.jsonl", chosen)
    client = ls_server.client()
    push(client, pushed)
    tasks = tasks_by_sentence(client, client.find_project("eventds")["id"])

    expected = {}
    for n, s in enumerate(chosen):
        result = prediction_of(client, tasks[s.id]["id"])["result"]
        if n == 0:  # one annotator drops everything but the first trigger and retypes it
            first = json.loads(json.dumps(result[0]))
            first["value"]["labels"] = ["CASUALTY" if first["value"]["labels"] != ["CASUALTY"] else "ATTACK"]
            result = [first]
        annotate(client, tasks[s.id]["id"], result)
        expected[s.id] = events_from_results(result, s.text, LABELS, "t")[0]
    annotations = tmp_path / "annotations"
    pull(client, out_dir=annotations)

    build(out_dir=tmp_path / "b1", manifest_path=manifest, annotations_dir=annotations)
    merged = {o["id"]: o for _, o in read_jsonl(tmp_path / "b1" / "records.jsonl")}
    for s in chosen:
        rec = merged[s.id]
        assert rec["status"] == "corrected"
        assert [Event.from_dict(e) for e in rec["events"]] == expected[s.id]
        assert [Event.from_dict(e) for e in rec["weak_events"]] == list(s.weak_events)
        assert rec["provenance"]["annotators"] == [ls_server.credentials.username]
    assert sum(o["status"] == "corrected" for o in merged.values()) == len(chosen)
    table = json.loads((annotations / "pseudonyms.json").read_text(encoding="utf-8"))["pseudonyms"]
    assert table == {ls_server.credentials.username: "annotator-1"}

    from builder.publish import load_published

    dataset = load_published(tmp_path / "b1" / "dataset")
    statuses = {row["id"]: row["status"] for split in dataset.values() for row in split}
    assert all(statuses[s.id] == "corrected" for s in chosen)
    assert {a for split in dataset.values() for row in split for a in row["provenance"]["annotators"]} == {"annotator-1"}


# ---------------------------------------------------------------------------------------
# CLI


def test_cli_push_and_pull_find_the_server_by_env_or_credentials(ls_server: LiveServer, tricky_records: Path, tmp_path: Path, monkeypatch):
    runner = CliRunner()
    ws = ["--workspace", str(ls_server.workspace)]
    result = runner.invoke(app, ["annotate", "push", str(tricky_records), "--batch-size", "2", *ws])
    assert result.exit_code == 0, result.output
    assert ls_server.token not in result.output and ls_server.credentials.password not in result.output

    # The environment wins over the credentials file.
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "not-a-token")
    result = runner.invoke(app, ["annotate", "pull", "--out", str(tmp_path / "a"), *ws])
    assert result.exit_code == 4, result.output
    assert "cannot reach Label Studio at http://127.0.0.1:9" in result.output
    monkeypatch.setenv("LABEL_STUDIO_URL", ls_server.url)
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", ls_server.token)
    result = runner.invoke(app, ["annotate", "pull", "--out", str(tmp_path / "a"), "--workspace", str(tmp_path / "nowhere")])
    assert result.exit_code == 0, result.output
    assert "no completed annotations yet" in result.output
    # A personal access token (JWT refresh token) works too.
    pat = ls_server.client().post("/api/token/", {})["token"]
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", pat)
    result = runner.invoke(app, ["annotate", "pull", "--out", str(tmp_path / "a")])
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "0" * 40)
    result = runner.invoke(app, ["annotate", "pull", "--out", str(tmp_path / "a")])
    assert result.exit_code == 4 and "HTTP 401" in result.output

    monkeypatch.delenv("LABEL_STUDIO_URL")
    monkeypatch.delenv("LABEL_STUDIO_API_KEY")
    result = runner.invoke(app, ["annotate", "push", str(tricky_records), "--workspace", str(tmp_path / "nowhere")])
    assert result.exit_code == 3 and "eventds annotate serve" in result.output

    bad = write_records(tmp_path / "bad.jsonl", [tricky_sentences()[0].with_(weak_events=(Event("BOMBING", 10, 15, "fired"),))])
    result = runner.invoke(app, ["annotate", "push", str(bad), *ws])
    # `eventds validate`'s checks run first, with its messages.
    assert result.exit_code == 1 and "[record 1 -> weak_events -> 0 -> type] 'BOMBING' is not one of" in result.output


def test_cli_serve_keeps_secrets_out_of_the_output_and_stops_on_ctrl_c(ls_template: Path, tmp_path: Path):
    from builder.studio.credentials import load_secret
    from builder.studio.server import free_port

    workspace = tmp_path / "ws"
    shutil.copytree(ls_template, workspace)
    port, backend_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "builder", "annotate", "serve", "--port", str(port), "--workspace", str(workspace), "--backend-port", str(backend_port)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"},
        # As from a terminal: a shell's background job (tests run with `&`) ignores SIGINT,
        # and the child would inherit that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C" in line:
                break
        stdout = "".join(lines)
        assert f"http://127.0.0.1:{port}" in stdout, stdout
        assert str(credentials_path(workspace)) in stdout.replace("\n", "")
        creds = Credentials.load(credentials_path(workspace))
        assert creds.url == f"http://127.0.0.1:{port}"
        assert oct(credentials_path(workspace).stat().st_mode & 0o777) == "0o600"
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200
        assert f"ML backend at http://127.0.0.1:{backend_port}" in stdout
        assert httpx.get(f"http://127.0.0.1:{backend_port}/health").json()["status"] == "UP"
        proc.send_signal(signal.SIGINT)
        rest, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, stderr
    for secret in (creds.password, creds.token, load_secret(workspace).password):
        assert secret not in stdout + rest + stderr
        assert secret not in (workspace / "label-studio" / "server.log").read_text(errors="replace")
    for stopped in (port, backend_port):
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{stopped}/health", timeout=2)


def test_first_start_generates_credentials_and_a_busy_port_is_reported(tmp_path: Path, ls_server: LiveServer):
    with pytest.raises(ServiceError, match=f"port {ls_server.port} on 127.0.0.1 is in use"):
        start_server(tmp_path / "other", ls_server.port)
    creds = ls_server.credentials
    assert len(creds.token) == 40 and len(creds.password) >= 20
    assert "password" not in repr(creds) and creds.token not in repr(creds)
