"""Play annotation files into a real Label Studio server, then pull the human layer.

How the committed gold layer under ``annotations/`` was made: each annotator's decisions
(one JSONL line per sentence: ``{"id", "events": [...]}`` with triggers, realis and
arguments) are posted through Label Studio's API as that annotator's annotations on the
pushed tasks (pre-annotated with the weak labels), adjudications as ground-truth
annotations by the adjudicator, and ``eventds annotate pull`` writes the export and the
human layer.

    python scripts/gold_session.py --records build/records.jsonl \
        --annotator ann1=PATH --annotator ann2=PATH --adjudication annotations/adjudication.jsonl \
        --out annotations
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from builder.records import Event
from builder.studio.client import StudioClient
from builder.studio.pull import pull
from builder.studio.push import push
from builder.studio.server import start_server
from builder.studio.tasks import event_results

EMAIL = "{}@annotators.eventds.example"


def read(path: Path) -> dict[str, dict]:
    return {o["id"]: o for o in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def results(text: str, events: list[dict]) -> list[dict]:
    evs = [Event.from_dict({"confidence": None, "sources": [], "count": None, **e}) for e in events]
    for e in evs:
        assert text[e.start : e.end] == e.text, (text, e)
    return event_results(evs, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, default=Path("build/records.jsonl"))
    parser.add_argument("--annotator", action="append", default=[], help="NAME=PATH of one annotator's decisions")
    parser.add_argument("--adjudication", type=Path)
    parser.add_argument("--out", type=Path, default=Path("annotations"))
    parser.add_argument("--port", type=int, default=8093)
    args = parser.parse_args()

    texts = {o["id"]: o["text"] for o in map(json.loads, args.records.read_text(encoding="utf-8").splitlines())}
    with tempfile.TemporaryDirectory() as workspace, start_server(Path(workspace), port=args.port) as server:
        client = StudioClient.connect(Path(workspace))
        push(client, args.records)
        project = client.find_project("eventds")
        tasks = {t["data"]["sentence_id"]: t["id"] for t in client.tasks(project["id"])}

        def user(name: str) -> int:
            return client.post("/api/users/", {"email": EMAIL.format(name), "username": name})["id"]

        for spec in args.annotator:
            name, path = spec.split("=", 1)
            uid = user(name)
            for sid, decision in read(Path(path)).items():
                client.post(f"/api/tasks/{tasks[sid]}/annotations/", {"result": results(texts[sid], decision["events"]), "completed_by": uid})
        if args.adjudication:
            adjudications = read(args.adjudication)
            uid = user(next(iter(adjudications.values()))["adjudicator"]) if adjudications else None
            for sid, decision in adjudications.items():
                client.post(
                    f"/api/tasks/{tasks[sid]}/annotations/",
                    {"result": results(texts[sid], decision["events"]), "completed_by": uid, "ground_truth": True},
                )
        stats = pull(client, out_dir=args.out)
        print(stats)
        server.stop()


if __name__ == "__main__":
    main()
