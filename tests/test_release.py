"""`eventds publish --version`: the card stamped, a changelog entry per release, and no
published sentence moving to another split across versions."""

import json

from typer.testing import CliRunner

from builder.cli import app
from builder.publish import load_published

from test_validate import record


def write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def setup(tmp_path, splits=None):
    records = [record(id="a-1", doc_id="a"), record(id="a-2", doc_id="a", index=1), record(id="b-1", doc_id="b"), record(id="c-1", doc_id="c")]
    write(tmp_path / "records.jsonl", records)
    manifest = {"documents": {d: {"split": s, "group": d} for d, s in (splits or {"a": "train", "b": "validation", "c": "test"}).items()}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return records


def publish(tmp_path, *extra):
    return CliRunner().invoke(
        app,
        ["publish", str(tmp_path / "records.jsonl"), "-m", str(tmp_path / "manifest.json"), "-o", str(tmp_path / "dataset"), "--keep-annotator-names", *extra],
    )


def test_a_second_release_names_the_reannotated_sentence(tmp_path):
    records = setup(tmp_path)
    result = publish(tmp_path, "--version", "1.0.0")
    assert result.exit_code == 0, result.output
    card = (tmp_path / "dataset" / "README.md").read_text(encoding="utf-8")
    assert "This is version **1.0.0** of the dataset. First versioned release." in card
    assert "## 1.0.0 (first release)" in (tmp_path / "dataset" / "CHANGELOG.md").read_text(encoding="utf-8")

    records[2]["events"][0]["type"] = "ATTACK"  # b-1 re-annotated
    records[2]["labels"] = ["ATTACK", "CASUALTY"]
    records = [r for r in records if r["id"] != "c-1"] + [record(id="a-3", doc_id="a", index=2)]  # c-1 removed, a-3 added
    write(tmp_path / "records.jsonl", records)
    result = publish(tmp_path, "--version", "1.1.0")
    assert result.exit_code == 0, result.output

    changelog = (tmp_path / "dataset" / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.index("## 1.1.0 (since 1.0.0)") < changelog.index("## 1.0.0 (first release)")
    assert "- Re-annotated in `validation`: `b-1`" in changelog
    assert "- Added in `train`: `a-3`" in changelog and "- Removed in `test`: `c-1`" in changelog
    assert "| validation | 1 | 0 | 0 | 1 |" in changelog
    releases = json.loads((tmp_path / "dataset" / "releases.json").read_text(encoding="utf-8"))
    assert [r["version"] for r in releases["releases"]] == ["1.0.0", "1.1.0"]
    assert releases["releases"][1]["changes"]["validation"] == {"added": [], "removed": [], "reannotated": ["b-1"]}
    assert releases["releases"][1]["changes"]["train"]["reannotated"] == []  # unchanged sentences are not listed
    card = (tmp_path / "dataset" / "README.md").read_text(encoding="utf-8")
    assert "version **1.1.0**" in card and "Since 1.0.0: 1 sentences added, 1 removed, 1 re-annotated" in card
    assert len(load_published(tmp_path / "dataset")["validation"]) == 1


def test_a_release_that_moves_a_published_sentence_to_another_split_is_refused(tmp_path):
    setup(tmp_path)
    assert publish(tmp_path, "--version", "1.0.0").exit_code == 0
    before = sorted(p.relative_to(tmp_path / "dataset") for p in (tmp_path / "dataset").rglob("*"))
    manifest = {"documents": {"a": {"split": "train"}, "b": {"split": "test"}, "c": {"split": "test"}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = publish(tmp_path, "--version", "1.1.0")
    assert result.exit_code != 0
    assert "b-1 (validation -> test)" in " ".join(result.output.split())
    assert sorted(p.relative_to(tmp_path / "dataset") for p in (tmp_path / "dataset").rglob("*")) == before


def test_a_version_must_be_well_formed_and_above_the_last(tmp_path):
    setup(tmp_path)
    assert publish(tmp_path, "--version", "1.0").exit_code != 0
    assert publish(tmp_path, "--version", "1.2.0").exit_code == 0
    result = publish(tmp_path, "--version", "1.1.9")
    assert result.exit_code != 0 and "not above the last release 1.2.0" in " ".join(result.output.split())


def test_an_unversioned_publish_keeps_the_release_history(tmp_path):
    setup(tmp_path)
    assert publish(tmp_path, "--version", "0.1.0").exit_code == 0
    history = (tmp_path / "dataset" / "releases.json").read_text(encoding="utf-8")
    assert publish(tmp_path).exit_code == 0
    assert (tmp_path / "dataset" / "releases.json").read_text(encoding="utf-8") == history
    assert "## Version" not in (tmp_path / "dataset" / "README.md").read_text(encoding="utf-8")


def test_an_unversioned_folder_has_no_release_files(tmp_path):
    setup(tmp_path)
    assert publish(tmp_path).exit_code == 0
    assert not (tmp_path / "dataset" / "releases.json").exists() and not (tmp_path / "dataset" / "CHANGELOG.md").exists()
