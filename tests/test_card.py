"""The dataset card answers a trainer's questions: its YAML passes ``huggingface_hub``'s
``DatasetCardData`` with licence, version, creators, size and task fields filled from the
Hub's vocabularies, and what its body says is true of the published records."""

import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import yaml
from huggingface_hub import DatasetCard, DatasetCardData
from test_validate import record

from builder import card as cardmod
from builder.labelset import argument_roles, event_types, guidelines, guidelines_version, realis_values
from builder.publish import load_published, publish

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = Path(__import__("datasets").__file__).parent / "utils" / "resources"
#: The Hub's task ids under our two task categories (huggingface.js packages/tasks/src/pipelines.ts).
HUB_TASK_IDS = {
    "token-classification": {"named-entity-recognition", "part-of-speech", "parsing", "lemmatization", "word-sense-disambiguation", "coreference-resolution"},
    "text-classification": {
        "acceptability-classification", "entity-linking-classification", "fact-checking", "intent-classification", "language-identification",
        "multi-class-classification", "multi-label-classification", "multi-input-text-classification", "natural-language-inference",
        "semantic-similarity-classification", "sentiment-classification", "topic-classification", "semantic-similarity-scoring",
        "sentiment-scoring", "sentiment-analysis", "hate-speech-detection", "text-scoring",
    },
}
AI_PROVENANCE = "The annotators were **AI annotators** (instances of a language model), not people."


def corrected(id, doc_id, version, status="corrected", **kw):
    base = record(id=id, doc_id=doc_id, **kw)
    return {**base, "status": status, "guidelines_version": version,
            "provenance": {**base["provenance"], "annotators": ["annotator-1"]}}


def build(tmp_path, records, extra=None, version=None, splits=None):
    src = tmp_path / "records.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    docs = {r["doc_id"] for r in records}
    splits = splits or dict(zip(sorted(docs), ("train", "validation", "test")))
    manifest = {"documents": {d: {"split": s, "group": d} for d, s in splits.items()}}
    out = tmp_path / "dataset"
    stats = publish(src, manifest, out, card_extra=extra, version=version)
    return out, stats


def three_records():
    return [
        corrected("a-1", "a", "1.0.0", document={"outlet": "Rudaw", "title": None, "published": "2020-03-31", "author": "Lawk Ghafuri", "source_file": None}),
        corrected("a-2", "a", "1.0.0", status="adjudicated", index=1),
        corrected("b-1", "b", "1.0.0"),
        {**record(id="c-1", doc_id="c"), "guidelines_version": guidelines_version()},  # weak, current guidelines
    ]


def front_matter(folder):
    text = (folder / "README.md").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1]), text


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("card")
    extra = {
        "provenance": AI_PROVENANCE,
        "agreement": {"sentences": 2, "per_type": {t: {"exact_f1": 1.0, "overlap_f1": 1.0, "kappa": 1.0, "a_events": 3, "b_events": 3} for t in event_types()},
                      "overall": {"exact_f1": 1.0, "overlap_f1": 1.0, "kappa": 1.0}, "realis_agreement": 0.9, "argument_f1": 0.8, "disagreements": ["a-2"]},
        "quality": {"human_sentences": 3, "gold_events": 6, "weak_events": 5, "accepted_unchanged": 0.6667, "accepted_unchanged_count": 2,
                    "per_type": {t: {"tp": 1, "fp": 0, "fn": 1, "precision": 1.0, "recall": 0.5, "f1": 0.6667} for t in event_types()},
                    "scores": {"arguments": {"tp": 1, "fp": 2, "fn": 3, "precision": 0.3333, "recall": 0.25, "f1": 0.2857}, "realis_accuracy": 0.75}},
    }
    out, stats = build(tmp, three_records(), extra, version="1.0.0", splits={"a": "train", "b": "validation", "c": "test"})
    return out, stats


def test_yaml_passes_dataset_card_data_with_the_trainer_fields_filled(published):
    out, _ = published
    meta, _ = front_matter(out)
    data = DatasetCardData(**meta)  # the offline validation huggingface_hub offers: construction
    loaded = DatasetCard.load(out / "README.md").data.to_dict()
    assert loaded == data.to_dict()
    assert loaded["license"] == "other" and loaded["license_name"] == cardmod.LICENSE_SLUG and loaded["license_link"] == "LICENSE"
    assert loaded["version"] == "1.0.0"
    creators = json.loads((RESOURCES / "creators.json").read_text())
    assert loaded["annotations_creators"] and set(loaded["annotations_creators"]) <= set(creators["annotations"])
    assert loaded["language_creators"] == ["found"] and set(loaded["language_creators"]) <= set(creators["language"])
    assert loaded["multilinguality"] == ["monolingual"]
    assert set(loaded["multilinguality"]) <= set(json.loads((RESOURCES / "multilingualities.json").read_text()))
    assert loaded["size_categories"] == ["n<1K"] and set(loaded["size_categories"]) <= set(json.loads((RESOURCES / "size_categories.json").read_text()))
    assert loaded["language"] == ["en"] and "en" in json.loads((RESOURCES / "languages.json").read_text())
    assert loaded["source_datasets"] == ["original"]
    assert loaded["task_categories"] == ["token-classification", "text-classification"]
    assert loaded["task_ids"] == ["multi-label-classification"]
    assert set(loaded["task_ids"]) <= set().union(*(HUB_TASK_IDS[c] for c in loaded["task_categories"]))
    assert loaded["pretty_name"] and {c["config_name"] for c in loaded["configs"]} == {"spans", "bio", "labels", "ee", "documents"}


def test_num_bytes_are_the_data_files_sizes(published):
    import pyarrow.parquet as pq

    out, _ = published
    meta, _ = front_matter(out)
    files = {(c["config_name"], f["split"]): sorted(out.glob(f["path"])) for c in meta["configs"] for f in c["data_files"]}
    for info in meta["dataset_info"]:
        config = info["config_name"]
        for split in info["splits"]:
            paths = files[config, split["name"]]
            assert paths and split["num_bytes"] > 0 and split["num_bytes"] == sum(pq.read_table(p).nbytes for p in paths), (config, split)
        assert info["download_size"] == sum(p.stat().st_size for (c, _), ps in files.items() if c == config for p in ps) > 0
        assert info["dataset_size"] == sum(s["num_bytes"] for s in info["splits"])


def test_creators_follow_the_provenance():
    from builder.publish import PublishStats

    stats = PublishStats()
    stats.status.update({"weak": 3})
    assert cardmod.annotations_creators(stats, {}) == ["machine-generated"]
    stats.status.update({"corrected": 2})
    assert cardmod.annotations_creators(stats, {"provenance": AI_PROVENANCE}) == ["machine-generated"]
    assert cardmod.annotations_creators(stats, {"provenance": "Two linguists corrected every sentence."}) == ["expert-generated", "machine-generated"]
    stats.status.update({"adjudicated": 1})  # adjudication is by the maintainer
    assert cardmod.annotations_creators(stats, {"provenance": AI_PROVENANCE}) == ["expert-generated", "machine-generated"]


def test_size_categories_are_the_hubs_buckets():
    assert [cardmod.size_category(n) for n in (0, 999, 1000, 9999, 10_000, 250_000)] == ["n<1K", "n<1K", "1K<n<10K", "1K<n<10K", "10K<n<100K", "100K<n<1M"]


def test_an_unversioned_folder_gets_a_dev_version_naming_its_data(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one, _ = build(tmp_path / "one", [record(id="a-1", doc_id="a")])
    two, _ = build(tmp_path / "two", [record(id="a-1", doc_id="a", events=[], labels=[])])
    v1, v2 = (DatasetCard.load(f / "README.md").data.version for f in (one, two))
    assert re.fullmatch(r"0\.0\.0-dev\+[0-9a-f]{12}", v1) and v1 != v2
    body = (one / "README.md").read_text(encoding="utf-8")
    assert f"- Dataset version: `{v1}` (not a release" in body and f"version      = {{{v1}}}" in body


def test_the_body_states_the_version_licence_and_citation(published):
    out, _ = published
    _, text = front_matter(out)
    assert "This is version **1.0.0** of the dataset." in text and "- Dataset version: `1.0.0`" in text
    assert "## Licence and sources" in text and "**MIT**" in text and "**not licensed**" in text
    assert "| `a` | Rudaw | Lawk Ghafuri | 2020-03-31 | not stated |" in text
    assert "No published sentence states a licence" in text
    bib = re.search(r"```bibtex\n(@misc\{.*?\n\})\n```", text, re.DOTALL)
    assert bib and "version      = {1.0.0}" in bib[1] and f"annotation guidelines {guidelines_version()}" in bib[1]
    licence = (out / "LICENSE").read_text(encoding="utf-8")
    assert "NOT licensed" in licence and cardmod.MIT_TEXT in licence and "by Rudaw" in licence


def test_the_code_licence_is_the_one_the_project_declares():
    import tomllib

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["license"]
    assert cardmod.CODE_LICENSE in (declared if isinstance(declared, str) else declared.get("text", ""))
    assert (ROOT / "LICENSE").read_text(encoding="utf-8") == cardmod.MIT_TEXT
    assert cardmod.MIT_TEXT.startswith("MIT License")


def test_the_guidelines_version_of_each_status_is_counted_and_explained(published):
    out, _ = published
    _, text = front_matter(out)
    current = guidelines_version()
    assert "| `adjudicated` | `1.0.0` | 1 |" in text and "| `corrected` | `1.0.0` | 2 |" in text and f"| `weak` | `{current}` | 1 |" in text
    if current != "1.0.0":
        assert "Records annotated under an earlier version keep the version they were annotated with" in text
        for version, _, _ in cardmod.guideline_changes():
            if cardmod._vkey("1.0.0") < cardmod._vkey(version) <= cardmod._vkey(current):
                assert f"- `{version}` (" in text
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert stats["status_guidelines_versions"] == {"adjudicated": {"1.0.0": 1}, "corrected": {"1.0.0": 2}, "weak": {current: 1}}


def test_label_definitions_and_rules_come_from_the_guidelines(published):
    out, _ = published
    _, text = front_matter(out)
    g = guidelines()
    for i, t in enumerate(event_types()):
        assert f"| {i} | `{t}` | {g['event_types'][t]['hint']} |" in text
    for i, v in enumerate(realis_values()):
        assert f"| {i} | `{v}` | {g['realis'][v]['hint']} |" in text
    for r in argument_roles():
        assert f"| `{r}` | {', '.join(g['argument_roles'][r]['types'])} | {g['argument_roles'][r]['hint']} |" in text
    rules = cardmod.guideline_rules()
    ids = {rid for _, rid, _ in rules}
    assert {"G5", "S-2", "A-4", "C-9", "T-1", "Th-10", "R-9"} <= ids
    guideline_text = (ROOT / "guidelines" / "GUIDELINES.md").read_text(encoding="utf-8")
    assert len(ids) == len(re.findall(r"^(?:- )?\*\*[A-Z][a-z]?-?\d+\.", guideline_text, re.MULTILINE))
    for _, rid, summary in rules:
        assert f"{rid} {summary}" in text and summary.count("`") % 2 == 0


def test_figures_from_agreement_and_report_are_shown_with_counts(published):
    out, _ = published
    _, text = front_matter(out)
    assert "| ATTACK | 1.0 | 1.0 | 1.0 | 3 | 3 |" in text
    assert "| ATTACK | 1 | 0 | 1 | 1.0 | 0.5 | 0.6667 |" in text
    assert "Over 3 human-annotated sentences: 6 human events, 5 weak events." in text
    assert "arguments: precision 0.3333, recall 0.25, F1 0.2857 (1 true positives, 2 false, 3 missed)" in text
    assert "Share of pre-annotations accepted unchanged: 0.6667 (2 sentences)." in text


def test_the_example_is_a_row_of_the_spans_config_as_loaded(published):
    out, _ = published
    _, text = front_matter(out)
    section = text.split("## Example (`spans`, train)")[1]
    shown = json.loads(re.search(r"```json\n(.*?)\n```", section, re.DOTALL)[1])
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ds = load_published(out, "spans")
    row = next(r for split in ds for r in ds[split] if r["id"] == shown["id"])
    assert shown == {k: row[k] for k in shown}
    names = ds["train"].features["events"].feature["type"].names
    assert all(isinstance(e["type"], int) for e in shown["events"])
    for e in shown["events"]:
        assert f"type `{e['type']}` = `{names[e['type']]}`" in section
    assert f"labels {[names[i] for i in shown['labels']]}" in section


@pytest.mark.slow
def test_the_card_of_the_embedded_corpus(tmp_path):
    """The acceptance check on the real build: the YAML fields, the records' guidelines
    versions explained, the licence evidence and an example that is a loaded row."""
    import shutil

    from typer.testing import CliRunner

    from builder.cli import app

    shutil.copy(ROOT / "splits" / "manifest.json", tmp_path / "manifest.json")
    result = CliRunner().invoke(app, ["build", "-o", str(tmp_path / "build"), "-m", str(tmp_path / "manifest.json"), "--annotations", str(ROOT / "annotations")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "build" / "dataset"
    meta, text = front_matter(out)
    data = DatasetCardData(**meta).to_dict()
    assert data["license"] == "other" and data["license_link"] == "LICENSE" and (out / "LICENSE").exists()
    assert re.fullmatch(r"0\.0\.0-dev\+[0-9a-f]{12}", data["version"])
    assert data["annotations_creators"] == ["expert-generated", "machine-generated"]  # AI annotators + the maintainer's adjudication
    rows = [json.loads(line) for line in (tmp_path / "build" / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    assert data["size_categories"] == [cardmod.size_category(len(rows))]
    for (status, version), n in __import__("collections").Counter((r["status"], r["guidelines_version"]) for r in rows).items():
        assert f"| `{status}` | `{version}` | {n} |" in text
    assert f"The guidelines shipped with this build are `{guidelines_version()}`" in text
    docs = {r["doc_id"]: r["document"] for r in rows}
    for doc_id, d in docs.items():
        assert f"| `{doc_id}` | {d['outlet'] or 'not stated'} | {d['author'] or 'not stated'} |" in text
    shown = json.loads(re.search(r"```json\n(.*?)\n```", text.split("## Example (`spans`, train)")[1], re.DOTALL)[1])
    ds = load_published(out, "spans")
    assert shown == {k: v for k, v in next(r for r in ds["train"] if r["id"] == shown["id"]).items() if k in shown}


def test_past_the_listed_documents_the_card_sums_up_sources_per_outlet(tmp_path, monkeypatch):
    """A corpus of many documents gets a table per outlet (documents, authors, dates, URLs
    stated; the earliest and latest full date), the outlets past the listed ones counted
    together and those that name none last, not a row per document; LICENSE names the
    outlets the same way. Counted as documents come or merged from parts, the same."""
    monkeypatch.setattr(cardmod, "LISTED_DOCUMENTS", 2)
    monkeypatch.setattr(cardmod, "LISTED_OUTLETS", 2)
    doc = lambda outlet, author=None, published=None, url=None: {"outlet": outlet, "title": None, "published": published, "author": author, "source_file": None, "canonical_url": url}
    documents = {
        "d0": doc("Rudaw", "Lawk Ghafuri", "2021-01-05"), "d1": doc("Rudaw", None, "2020-03-31", "https://rudaw.net/x"),
        "d2": doc("Reuters", None, "March 2021"), "d3": doc(None), "d4": doc(None, "A. Writer"), "d5": doc("AFP"),
    }
    records = [record(id=f"{d}-1", doc_id=d, document=meta) for d, meta in documents.items()]
    records.append(record(id="d1-2", doc_id="d1", index=1, document=doc("Other")))  # a later record of d1 counts for nothing
    out, stats = build(tmp_path, records, splits={d: "train" for d in documents})
    text = (out / "README.md").read_text(encoding="utf-8")
    assert "Evidence the texts give (6 documents; 4 name their outlet, 2 an author)" in text
    assert "| outlet | documents | with an author | with a date | full dates, earliest to latest | with a URL |" in text
    table = text.split("| outlet | documents |")[1].split("\n\n")[0]
    assert [line for line in table.splitlines() if line.startswith("| ") and "---" not in line] == [
        "| Rudaw | 2 | 1 | 2 | 2020-03-31 to 2021-01-05 | 1 |",
        "| AFP | 1 | 0 | 0 | not stated | 0 |",
        "| 1 other outlets | 1 | 0 | 1 |  | 0 |",
        "| not stated | 2 | 1 | 0 | not stated | 0 |",
    ]
    assert "`d0`" not in text and "Other" not in text
    licence = (out / "LICENSE").read_text(encoding="utf-8")
    assert "news articles by AFP, Rudaw, 1 other outlets (2 of 6 documents do not name their outlet)." in licence

    whole, first, second = cardmod.Sources(), cardmod.Sources(), cardmod.Sources()
    for k, (d, meta) in enumerate(documents.items()):
        whole.add(d, meta)
        (first if k < 2 else second).add(d, meta)
    assert first.listed is not None and second.listed is None
    first.merge(second)
    assert (first.documents, first.listed, first.outlets) == (whole.documents, None, stats.sources.outlets) == (6, None, whole.outlets)


# ---------------------------------------------------------------------------------------
# Licence statements: counted by the markers' pattern, searched only where a string it needs is


def test_a_sentence_with_words_of_a_licence_counts_as_a_licence_statement():
    count = cardmod.count_licence_statements
    for text in [
        "Photos are licensed under Creative Commons.", "CC-BY 4.0", "cc by-sa", "© 2024 Rudaw Media", "COPYRIGHT RESERVED",
        "Reproduced With Permission of the author.", "The text is in the public domain.", "All rights reserved.", "See the LICENCE.",
        "\u0130t is L\u0130CENSED to us.",  # re takes U+0130 for an i when it ignores case: so does the count
    ]:
        assert count(text) == 1, text
    for text in ["Rebels attacked the convoy, according to officials.", "The licensee accused the occupiers.", "", None]:
        assert count(text) == 0, text


def _licence_pieces() -> list[str]:
    pieces = sorted(cardmod._LICENCE_NEEDS)
    lookalikes = str.maketrans({"i": "\u0130", "s": "\u017f", "k": "\u212a", "I": "\u0131"})
    return pieces + [s.upper() for s in pieces] + [s.title() for s in pieces] + [s.translate(lookalikes) for s in pieces] + [
        "licensed", "licences", "cc", "by", "CC", "-", " ", "reserved", "rights", "all", "(c)", "copy", "right", "accord", "said", "on", "Monday", ".",
    ]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_licence_pieces()), min_size=1, max_size=10), st.sampled_from([" ", "", "-"]))
def test_the_licence_count_is_what_the_markers_pattern_finds(pieces, joint):
    """Sentences made of the strings the markers need (in any case, with look-alike letters)
    and of near misses: a sentence counts exactly when the markers' pattern finds it."""
    text = joint.join(pieces)
    assert cardmod.count_licence_statements(text) == (cardmod._LICENCE_MARKERS.search(text) is not None), text
