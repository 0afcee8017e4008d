"""push_to_hub through the fake Hub seam, the local folder as the reference."""

import json

from typer.testing import CliRunner

from builder import publish as publish_module
from builder.cli import app
from builder.publish import CONFIGS, load_published, publish, push_to_hub

from test_validate import record


class FakeHub:
    """Stands in for the Hugging Face Hub: keeps what each push would upload."""

    def __init__(self):
        self.repos = {}

    def __call__(self, dataset, repo_id, config_name, set_default):
        self.repos.setdefault(repo_id, {})[config_name] = {
            "default": set_default,
            "splits": {split: ds.to_list() for split, ds in dataset.items()},
            "features": {split: ds.features for split, ds in dataset.items()},
        }


def make_folder(tmp_path):
    src = tmp_path / "records.jsonl"
    rows = [record(id="a-1", doc_id="a"), record(id="b-1", doc_id="b")]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    manifest = {"documents": {"a": {"split": "train"}, "b": {"split": "test"}}}
    publish(src, manifest, tmp_path / "dataset")
    return tmp_path / "dataset"


def test_every_config_is_pushed_with_the_default_marked(tmp_path):
    folder = make_folder(tmp_path)
    hub = FakeHub()
    assert push_to_hub(folder, "org/conflict-events", pusher=hub) == list(CONFIGS)
    pushed = hub.repos["org/conflict-events"]
    assert [c for c, v in pushed.items() if v["default"]] == ["spans"]
    for config in CONFIGS:
        local = load_published(folder, config)
        assert pushed[config]["splits"] == {s: local[s].to_list() for s in local}
        assert pushed[config]["features"]["train"] == local["train"].features


def test_publish_command_reports_a_failed_push(tmp_path, monkeypatch):
    folder = make_folder(tmp_path)

    def unreachable(dataset, repo_id, config_name, set_default):
        raise ConnectionError("huggingface.co unreachable")

    monkeypatch.setattr(publish_module, "datasets_pusher", unreachable)
    monkeypatch.setattr(publish_module.push_to_hub, "__defaults__", (unreachable,))
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"documents": {"a": {"split": "train"}, "b": {"split": "test"}}}), encoding="utf-8")
    result = CliRunner().invoke(app, ["publish", str(tmp_path / "records.jsonl"), "-m", str(manifest), "-o", str(folder), "--push-to-hub", "org/x"])
    assert result.exit_code == 4
    assert "push to the Hub repository 'org/x' failed" in result.output
