"""Pull merges into the human layer, push sends the human layer for review, and a killed pull
leaves the old layer or the new one (against a real Label Studio server from conftest)."""

from __future__ import annotations

import importlib.util
import json
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.cli import app
from builder.io import read_jsonl
from builder.records import Event, Sentence
from builder.studio.interface import LabelSet
from builder.studio.pull import PullRefused, pull
from builder.studio.push import push
from builder.studio.results import annotatable, events_from_results
from builder.studio.tasks import HUMAN_MARK
from builder.swap import PREFIX
from conftest import LiveServer, tricky_sentences, write_records

pytestmark = [pytest.mark.server, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
LABELS = LabelSet.current()
LAYER_FILES = ("export.json", "human.jsonl", "annotators.jsonl", "pseudonyms.json")


def tasks_by_sentence(client, project_id: int) -> dict[str, dict]:
    return {t["data"]["sentence_id"]: t for t in client.tasks(project_id)}


def prediction_of(client, task_id: int) -> list:
    [pred] = client.get("/api/predictions/", task=task_id)
    return pred["result"]


def annotate(client, task_id: int, result: list, user: int | None = None, **extra) -> dict:
    body = {"result": result, **extra}
    if user is not None:
        body["completed_by"] = user
    return client.post(f"/api/tasks/{task_id}/annotations/", body)


def annotations_of(client, task_id: int) -> list[dict]:
    return client.get(f"/api/tasks/{task_id}/annotations/")


def layer(folder: Path) -> dict[str, dict]:
    return {o["id"]: o for _, o in read_jsonl(folder / "human.jsonl")}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def cli(ls_server: LiveServer, *args: str):
    return CliRunner().invoke(app, ["annotate", *args, "--workspace", str(ls_server.workspace)])


def first_event_only(result: list) -> list:
    """An annotator's correction: keep the first trigger (and its realis), drop the rest."""
    first = result[0]["id"]
    return [r for r in result if r.get("id") == first]


# ---------------------------------------------------------------------------------------
# Pull merges


def test_pulling_a_second_project_merges_into_the_human_layer(ls_server: LiveServer, tricky_records: Path, tmp_path: Path):
    """The reported case: a second project with one annotated task must not take the layer from 4 lines to 1."""
    client = ls_server.client()
    sentences = tricky_sentences()
    push(client, tricky_records)
    first = tasks_by_sentence(client, client.find_project("eventds")["id"])
    for s in sentences[:4]:
        annotate(client, first[s.id]["id"], prediction_of(client, first[s.id]["id"]))
    out = tmp_path / "annotations"
    pull(client, out_dir=out)
    before = snapshot(out)
    assert len(layer(out)) == 4

    push(client, tricky_records, project_title="second")
    second = tasks_by_sentence(client, client.find_project("second")["id"])
    changed, added = sentences[0], sentences[5]
    annotate(client, second[changed.id]["id"], first_event_only(prediction_of(client, second[changed.id]["id"])))
    annotate(client, second[added.id]["id"], prediction_of(client, second[added.id]["id"]))

    result = cli(ls_server, "pull", "--project", "second", "--out", str(out))
    assert result.exit_code == 0, result.output
    merged = layer(out)
    assert set(merged) == {s.id for s in sentences[:4]} | {added.id}
    assert len(merged[changed.id]["events"]) == 1
    assert merged[sentences[1].id] == {o["id"]: o for o in map(json.loads, before["human.jsonl"].decode().splitlines())}[sentences[1].id]
    assert f"added: {added.id}" in result.output and f"changed: {changed.id}" in result.output
    assert re.search(r"sentences kept \(not annotated here\)\s*│\s*3 ", result.output), result.output
    # export.json: one task per sentence, from the project its human record came from.
    export = {t["data"]["sentence_id"]: t for t in json.loads((out / "export.json").read_text(encoding="utf-8"))}
    assert len(export) == len(sentences)
    assert export[changed.id]["id"] == second[changed.id]["id"] and export[sentences[1].id]["id"] == first[sentences[1].id]["id"]
    # The replaced files are kept, and the output says where.
    [previous] = (out / ".previous").iterdir()
    assert str(previous) in result.output.replace("\n", "")
    assert {name: (previous / name).read_bytes() for name in ("human.jsonl", "annotators.jsonl", "export.json")} == {
        name: before[name] for name in ("human.jsonl", "annotators.jsonl", "export.json")
    }
    assert not list(out.glob(f"{PREFIX}*"))

    again = cli(ls_server, "pull", "--project", "second", "--out", str(out))
    assert again.exit_code == 0 and "up to date: nothing written" in again.output


def test_a_pull_that_would_remove_or_downgrade_stops_and_writes_nothing(ls_server: LiveServer, tricky_records: Path, tmp_path: Path):
    client = ls_server.client()
    push(client, tricky_records)
    tasks = tasks_by_sentence(client, client.find_project("eventds")["id"])
    s0, s1, s2 = tricky_sentences()[:3]
    t0, t1, t2 = (tasks[s.id]["id"] for s in (s0, s1, s2))
    second = client.post("/api/users/", {"email": "second@example.org", "username": "second"})
    annotate(client, t0, prediction_of(client, t0))
    by_second = annotate(client, t0, first_event_only(prediction_of(client, t0)), user=second["id"], ground_truth=True)
    mine = annotate(client, t1, prediction_of(client, t1))
    annotate(client, t2, prediction_of(client, t2))
    out = tmp_path / "annotations"
    pull(client, out_dir=out)
    assert {k: v["status"] for k, v in layer(out).items()} == {s0.id: "adjudicated", s1.id: "corrected", s2.id: "corrected"}
    before = snapshot(out)

    # s0: the other annotator's work is deleted, so the ground truth is one person's: corrected.
    # s1: its annotation is deleted and the task skipped. s2: fewer events is a correction.
    client.delete(f"/api/annotations/{[a for a in annotations_of(client, t0) if a['id'] != by_second['id']][0]['id']}/")
    client.delete(f"/api/annotations/{mine['id']}/")
    annotate(client, t1, [], was_cancelled=True)
    time.sleep(0.05)
    annotate(client, t2, first_event_only(prediction_of(client, t2)))

    result = cli(ls_server, "pull", "--out", str(out))
    assert result.exit_code == 1, result.output
    message = result.output.replace("\n", " ")
    assert f"downgraded {s0.id}: adjudicated -> corrected" in message
    assert f"removed {s1.id}: task {t1} has no completed annotation (skipped)" in message
    assert s2.id not in message  # a change, not a loss
    assert "--replace" in message
    assert snapshot(out) == before and not (out / ".previous").exists() and not list(out.glob(f"{PREFIX}*"))
    with pytest.raises(PullRefused):
        pull(client, out_dir=out)

    result = cli(ls_server, "pull", "--out", str(out), "--replace")
    assert result.exit_code == 0, result.output
    after = layer(out)
    assert set(after) == {s0.id, s2.id} and after[s0.id]["status"] == "corrected" and len(after[s2.id]["events"]) == 1
    for line in (f"removed: {s1.id}", f"downgraded: {s0.id}", f"changed: {s2.id}"):
        assert line in result.output
    [previous] = (out / ".previous").iterdir()
    assert (previous / "human.jsonl").read_bytes() == before["human.jsonl"]
    assert {d["id"] for _, d in read_jsonl(out / "annotators.jsonl")} == {s0.id, s2.id}


# ---------------------------------------------------------------------------------------
# Push sends the human layer for review


def human_sentences() -> list[Sentence]:
    """Two gold sentences (one corrected, one adjudicated) and one with weak labels only."""
    s0, s1, s2 = tricky_sentences()[:3]
    gold0 = tuple(annotatable(e) for e in s0.weak_events[:1])
    gold2 = tuple(annotatable(e) for e in s2.weak_events)
    return [
        s0.with_(events=gold0, status="corrected", annotators=("ann1@annotators.example",)),
        s1,
        s2.with_(events=gold2, status="adjudicated", annotators=("ann1@annotators.example", "ann2@annotators.example", "adj@annotators.example")),
    ]


def human_records(sentences: list[Sentence]) -> list[dict]:
    """The human layer these sentences came from, as `annotate pull` writes it."""
    return [
        {"id": s.id, "text": s.text, "events": [e.to_dict() for e in s.events], "status": s.status, "annotators": list(s.annotators),
         "guidelines_version": s.guidelines_version, "label_studio": {"task": n, "annotation": n, "selected_by": "most_recent"}}
        for n, s in enumerate(sentences, 1) if s.status in ("corrected", "adjudicated")
    ]


def said(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "label_studio"}


def gold_layer(tmp_path: Path):
    """Sentence records and the human layer of them in ``tmp_path/annotations``."""
    sentences = human_sentences()
    records = write_records(tmp_path / "records.jsonl", sentences)
    out = tmp_path / "annotations"
    out.mkdir()
    (out / "human.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in human_records(sentences)), encoding="utf-8")
    return sentences, records, out


def test_push_with_human_round_trips_and_is_idempotent(ls_server: LiveServer, tmp_path: Path):
    client = ls_server.client()
    sentences, records, out = gold_layer(tmp_path)
    before = snapshot(out)

    result = cli(ls_server, "push", str(records), "--with-human")
    assert result.exit_code == 0, result.output
    tasks = tasks_by_sentence(client, client.find_project("eventds")["id"])
    s0, s1, s2 = sentences
    assert [len(annotations_of(client, tasks[s.id]["id"])) for s in sentences] == [1, 0, 1]
    [adjudicated] = annotations_of(client, tasks[s2.id]["id"])
    assert adjudicated["ground_truth"] is True
    assert tasks[s0.id]["meta"][HUMAN_MARK]["status"] == "corrected"

    # Re-running sends nothing twice; nor does a push of tasks that already exist.
    again = push(client, records, with_human=True)
    assert (again.human, again.human_created, again.human_updated, again.human_unchanged) == (2, 0, 0, 2)
    assert [len(annotations_of(client, tasks[s.id]["id"])) for s in sentences] == [1, 0, 1]

    # Pulled back into the layer it came from: nothing changes.
    stats = pull(client, out_dir=out)
    assert stats.pushed_unedited == 2 and stats.unchanged == sorted([s0.id, s2.id]) and not stats.written
    assert snapshot(out) == before
    # Pulled into an empty folder: the same human records (status and annotators included).
    fresh = tmp_path / "fresh"
    pull(client, out_dir=fresh)
    assert {k: said(v) for k, v in layer(fresh).items()} == {r["id"]: said(r) for r in human_records(sentences)}
    assert not (fresh / "annotators.jsonl").exists()  # pushed annotations are no annotator's own work


def test_human_annotations_edited_in_label_studio_are_pulled_and_never_overwritten(ls_server: LiveServer, tmp_path: Path):
    client = ls_server.client()
    sentences, records, out = gold_layer(tmp_path)
    push(client, records, with_human=True)
    tasks = tasks_by_sentence(client, client.find_project("eventds")["id"])
    s0, _, s2 = sentences
    [gold2] = annotations_of(client, tasks[s2.id]["id"])
    client.patch(f"/api/annotations/{gold2['id']}/", {"result": first_event_only(gold2["result"])})  # a reviewer re-corrects

    # The local layer has not seen the review: push leaves the edited annotation alone and says so.
    result = cli(ls_server, "push", str(records), "--with-human")
    assert result.exit_code == 1 and f"not sent: {s2.id}" in result.output and "pull first" in result.output
    [still] = annotations_of(client, tasks[s2.id]["id"])
    assert still["result"] == first_event_only(gold2["result"])

    # Pull takes the review. The edited annotation is one account's work now, so the sentence
    # would go from adjudicated to corrected: refused without --replace.
    with pytest.raises(PullRefused, match=f"downgraded {s2.id}"):
        pull(client, out_dir=out)
    stats = pull(client, out_dir=out, replace=True)
    assert stats.downgraded == [s2.id] and stats.unchanged == [s0.id]
    assert len(layer(out)[s2.id]["events"]) == 1

    # A local change of an unedited human annotation updates it in place.
    s0_new = s0.with_(events=tuple(annotatable(e) for e in s0.weak_events))
    write_records(records, [s0_new, *sentences[1:]])
    again = push(client, records, with_human=True)
    assert again.human_updated == 1 and again.human_not_sent == [f"{s2.id}: task {tasks[s2.id]['id']}: the human annotation pushed earlier was edited in Label Studio; pull first"]
    [gold0] = annotations_of(client, tasks[s0.id]["id"])
    assert events_from_results(gold0["result"], s0.text, LABELS, "t")[0] == list(s0_new.events)

    # Deleting a pushed human annotation is a removal: refused without --replace.
    client.delete(f"/api/annotations/{gold0['id']}/")
    with pytest.raises(PullRefused, match=f"removed {s0.id}: .*the human annotation pushed to it was deleted"):
        pull(client, out_dir=out)


def test_push_refuses_records_that_validate_rejects_before_sending_anything(ls_server: LiveServer, tmp_path: Path):
    s = tricky_sentences()[0]
    t = "  " + s.text
    shifted = [Event(e.type, e.start + 2, e.end + 2, e.text, e.confidence, e.sources, e.realis,
                     tuple(a.__class__(a.role, a.start + 2, a.end + 2, a.text) for a in e.arguments)) for e in s.weak_events]
    bad = s.with_(text=t, end=len(t), raw_end=len(t), events=tuple(shifted), weak_events=tuple(shifted))
    records = write_records(tmp_path / "records.jsonl", [tricky_sentences()[1], bad])
    result = cli(ls_server, "push", str(records))
    assert result.exit_code == 1, result.output
    assert "records.jsonl:2: [record 2 -> text] sentence text has leading or trailing whitespace" in result.output
    assert ls_server.client().find_project("eventds") is None  # nothing was sent


# ---------------------------------------------------------------------------------------
# Killed pulls


def kill_pull_module():
    spec = importlib.util.spec_from_file_location("kill_pull", ROOT / "benchmarks" / "kill_pull.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_pull_killed_at_random_moments_leaves_the_old_layer_or_the_new(ls_server: LiveServer, tmp_path: Path):
    """30 SIGKILLs of `eventds annotate pull` (benchmarks/kill_pull.py runs more and prints the figures)."""
    kp = kill_pull_module()
    client = ls_server.client()
    old, old_files, new_files = kp.prepare(client, ls_server.token, tmp_path, 40)
    counts = kp.kill_pulls(ls_server.url, ls_server.token, tmp_path, old, old_files, new_files, kills=30)
    print(f"\n30 kills of annotate pull: {counts}")
    assert counts.get("old", 0) + counts.get("new", 0) == 30
