"""The whole build on the embedded corpus, as `make dataset` runs it."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.cli import app
from builder.publish import load_published

ROOT = Path(__file__).resolve().parents[1]
NOISE = [
    "moderates all comments", "Post a comment", "Leave a Reply", "Source link", "Support SouthFront",
    "Consider helping us", "Your support helps us", "Your donation", "A+ A-", "Click to see full-size image",
    "Join our commenting forum", "Thank you for registering", "Photo:", "Associated Press", "2,500 $",
    "Your email address will not be published", "Lawk Ghafuri", "International Correspondent",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("build")
    shutil.copy(ROOT / "splits" / "manifest.json", tmp / "manifest.json")
    result = CliRunner().invoke(
        app, ["build", "-o", str(tmp / "build"), "-m", str(tmp / "manifest.json"), "--annotations", str(ROOT / "annotations")]
    )
    assert result.exit_code == 0, result.output
    return tmp, result.output


@pytest.mark.slow
def test_build_summary_table(built):
    _, output = built
    for row in ("documents", "removed blocks", "sentences", "events ATTACK", "sentences in test"):
        assert row in output


@pytest.mark.slow
def test_published_dataset_loads_offline_and_validates(built):
    tmp, _ = built
    ds = load_published(tmp / "build" / "dataset")
    assert set(ds) == {"train", "validation", "test"} and all(len(ds[s]) for s in ds)
    result = CliRunner().invoke(app, ["validate", str(tmp / "build" / "dataset")])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_no_scrape_noise_is_published_and_the_doubled_body_appears_once(built):
    tmp, _ = built
    rows = [json.loads(l) for l in (tmp / "build" / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    for row in rows:
        for noise in NOISE:
            assert noise not in row["text"], (row["id"], noise)
    doubled = [r["text"] for r in rows if r["doc_id"] == "001_feb1b3a331c06813"]
    assert len(doubled) == len(set(doubled))
    assert sum("scathing attack on Kadhimi" in t for t in doubled) == 1
    removals = [json.loads(l) for l in (tmp / "build" / "removals.jsonl").read_text(encoding="utf-8").splitlines()]
    raw = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.txt")}
    for r in removals:
        assert raw[r["doc_id"]][r["start"] : r["end"]] == r["text"]


@pytest.mark.slow
def test_sentences_are_verbatim_slices_of_the_raw_articles(built):
    tmp, _ = built
    raw = {p.stem: p.read_text(encoding="utf-8") for p in (ROOT / "corpus").glob("*.txt")}
    for line in (tmp / "build" / "records.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        assert raw[r["doc_id"]][r["provenance"]["raw_start"] : r["provenance"]["raw_end"]] == r["text"]


@pytest.mark.slow
def test_committed_manifest_is_kept(built):
    tmp, _ = built
    committed = json.loads((ROOT / "splits" / "manifest.json").read_text(encoding="utf-8"))
    rebuilt = json.loads((tmp / "manifest.json").read_text(encoding="utf-8"))
    for doc, entry in committed["documents"].items():
        assert rebuilt["documents"][doc]["split"] == entry["split"]


def _independent_shingles(text):
    """Word 3-shingles of a normalised text, written here without the splitter's code."""
    import re
    import unicodedata

    t = unicodedata.normalize("NFKC", text).casefold()
    for a, b in (("‘", "'"), ("’", "'"), ("“", '"'), ("”", '"')):
        t = t.replace(a, b)
    words = re.sub(r"[\W_]+", " ", t).split()
    if len(words) < 3:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}


@pytest.mark.slow
def test_no_near_duplicate_pair_crosses_splits(built):
    tmp, _ = built
    ds = load_published(tmp / "build" / "dataset")
    rows = [(split, r["doc_id"], r["text"]) for split in ds for r in ds[split]]
    docs_per_split = {}
    for split, doc, _ in rows:
        docs_per_split.setdefault(doc, set()).add(split)
    assert all(len(s) == 1 for s in docs_per_split.values())
    manifest = json.loads((tmp / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["documents"]) >= set(docs_per_split)
    shingled = [(split, text, _independent_shingles(text)) for split, _, text in rows]
    crossing, near = [], 0
    for i, (sa, ta, a) in enumerate(shingled):
        for sb, tb, b in shingled[i + 1 :]:
            if min(len(a), len(b)) < 4:
                continue
            inter = len(a & b)
            if inter / len(a | b) >= 0.5 or inter / min(len(a), len(b)) >= 0.75:
                near += 1
                if sa != sb:
                    crossing.append((sa, ta, sb, tb))
    assert near > 0  # the corpus does repeat itself: the check is not vacuous
    assert crossing == []


@pytest.mark.slow
def test_card_numbers_match_the_data(built):
    tmp, _ = built
    folder = tmp / "build" / "dataset"
    card = (folder / "README.md").read_text(encoding="utf-8")
    ds = load_published(folder)
    names = ds["train"].features["events"].feature["type"].names
    for split in ds:
        counts = [sum(1 for r in ds[split] for e in r["events"] if names[e["type"]] == t) for t in names]
        docs = len(set(ds[split]["doc_id"]))
        row = f"| {split} | {docs} | {len(ds[split])} | " + " | ".join(map(str, counts)) + " |"
        assert row in card, row
    total_events = sum(len(r["events"]) for split in ds for r in ds[split])
    assert total_events == sum(int(c) for line in card.splitlines() if line.startswith("| total |") for c in line.strip("| \n").split(" | ")[3:])
    assert f"`{json.loads((ROOT / 'guidelines' / 'labels.json').read_text())['version']}`" in card


@pytest.mark.slow
def test_bio_and_labels_configs_load_and_agree_with_spans(built):
    from builder.bio import from_bio

    tmp, _ = built
    folder = tmp / "build" / "dataset"
    spans, bio, labels = (load_published(folder, c) for c in ("spans", "bio", "labels"))
    tag_names = bio["train"].features["ner_tags"].feature.names
    type_names = spans["train"].features["events"].feature["type"].names
    for split in spans:
        assert len(spans[split]) == len(bio[split]) == len(labels[split])
        for s, b, l in zip(spans[split], bio[split], labels[split]):
            assert s["id"] == b["id"] == l["id"]
            assert "".join(t + " " * sp for t, sp in zip(b["tokens"], b["spaces"])) == s["text"]
            got = from_bio(b["tokens"], b["spaces"], [tag_names[t] for t in b["ner_tags"]])
            assert got == sorted(((type_names[e["type"]], e["start"], e["end"]) for e in s["events"]), key=lambda x: x[1])
            assert sorted(l["labels"]) == sorted({e["type"] for e in s["events"]})


@pytest.mark.slow
def test_spacy_ner_trains_straight_from_the_bio_config(built):
    import random

    import spacy
    from datasets import load_dataset
    from spacy.tokens import Doc
    from spacy.training import Example, iob_to_biluo

    tmp, _ = built
    bio = load_dataset(str(tmp / "build" / "dataset"), "bio")
    train = bio["train"]
    names = train.features["ner_tags"].feature.names
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    examples = []
    for row in train:
        doc = Doc(nlp.vocab, words=row["tokens"], spaces=row["spaces"])
        tags = iob_to_biluo([names[t] for t in row["ner_tags"]])
        examples.append(Example.from_dict(doc, {"entities": tags}))
    for name in names[1:]:
        ner.add_label(name[2:])
    optimizer = nlp.initialize(lambda: examples)
    random.seed(0)
    losses = []
    for _ in range(12):
        step = {}
        random.shuffle(examples)
        for batch in spacy.util.minibatch(examples, size=16):
            nlp.update(batch, sgd=optimizer, losses=step)
        losses.append(step["ner"])
    assert losses[-1] < 0.5 * max(losses), losses  # it learns


@pytest.mark.slow
def test_every_published_sentence_is_human_annotated(built):
    tmp, _ = built
    ds = load_published(tmp / "build" / "dataset")
    statuses = {r["status"] for split in ds for r in ds[split]}
    assert statuses <= {"corrected", "adjudicated"} and "adjudicated" in statuses
    for split in ds:
        for r in ds[split]:
            assert r["provenance"]["annotators"], r["id"]


@pytest.mark.slow
def test_annotators_are_published_under_pseudonyms_not_their_accounts(built):
    tmp, _ = built
    table = json.loads((ROOT / "annotations" / "pseudonyms.json").read_text(encoding="utf-8"))["pseudonyms"]
    ds = load_published(tmp / "build" / "dataset")
    published = {a for split in ds for r in ds[split] for a in r["provenance"]["annotators"]}
    assert published == set(table.values())
    internal = {a for line in (tmp / "build" / "records.jsonl").read_text(encoding="utf-8").splitlines() for a in json.loads(line)["provenance"]["annotators"]}
    assert internal == set(table)  # the build's own records keep the accounts
    files = b"".join(p.read_bytes() for p in (tmp / "build" / "dataset").rglob("*") if p.is_file())
    assert not [name for name in table if name.encode() in files]


@pytest.mark.slow
def test_agreement_is_recomputed_from_the_committed_annotations_and_shown_in_the_card(built, tmp_path):
    from builder.agreement import agreement, load_annotator_layer

    committed = json.loads((ROOT / "annotations" / "agreement.json").read_text(encoding="utf-8"))
    recomputed = agreement(load_annotator_layer(ROOT / "annotations" / "annotators.jsonl"))
    assert recomputed == committed
    assert recomputed["sentences"] >= 147 // 4
    out = tmp_path / "agreement.json"
    result = CliRunner().invoke(app, ["agreement", "-o", str(out), "--annotators", str(ROOT / "annotations" / "annotators.jsonl")])
    assert result.exit_code == 0 and json.loads(out.read_text()) == committed
    tmp, _ = built
    card = (tmp / "build" / "dataset" / "README.md").read_text(encoding="utf-8")
    for t, v in committed["per_type"].items():
        assert f"| {t} | {v['exact_f1']} | {v['overlap_f1']} | {v['kappa']} |" in card
    assert "## Weak-label quality" in card
    report = tmp / "build" / "report"
    assert (report / "index.html").exists() and (report / "confusion.png").exists()


@pytest.mark.slow
def test_adjudications_are_recorded_and_published(built):
    tmp, _ = built
    adjudicated = [json.loads(l) for l in (ROOT / "annotations" / "adjudication.jsonl").read_text(encoding="utf-8").splitlines()]
    committed = json.loads((ROOT / "annotations" / "agreement.json").read_text(encoding="utf-8"))
    assert sorted(a["id"] for a in adjudicated) == sorted(committed["disagreements"])
    rows = {json.loads(l)["id"]: json.loads(l) for l in (tmp / "build" / "records.jsonl").read_text(encoding="utf-8").splitlines()}
    for a in adjudicated:
        assert a["reason"]
        row = rows[a["id"]]
        assert row["status"] == "adjudicated"
        assert sorted((e["type"], e["start"], e["end"]) for e in row["events"]) == sorted((e["type"], e["start"], e["end"]) for e in a["events"])


@pytest.mark.slow
def test_near_duplicate_clusters_are_written_and_stay_in_one_split(built):
    tmp, _ = built
    clusters = [json.loads(l) for l in (tmp / "build" / "duplicates.jsonl").read_text(encoding="utf-8").splitlines()]
    manifest = json.loads((tmp / "manifest.json").read_text(encoding="utf-8"))["documents"]
    assert any(len(c["documents"]) > 1 for c in clusters)
    for c in clusters:
        assert len(c["members"]) >= 2
        assert len({manifest[d]["split"] for d in c["documents"]}) == 1
        texts = [_independent_shingles(m["text"]) for m in c["members"]]
        assert any(len(a & b) for a in texts for b in texts if a is not b)


def test_stage_commands_chain_like_build(tmp_path):
    runner = CliRunner()
    src = tmp_path / "articles"
    src.mkdir()
    (src / "a.txt").write_text("Militia vows revenge\n\nA drone strike killed 25 fighters on Sunday.\n\nSource link\n", encoding="utf-8")
    steps = [
        ["ingest", str(src), "-o", str(tmp_path / "clean.jsonl"), "--removals", str(tmp_path / "removals.jsonl")],
        ["segment", str(tmp_path / "clean.jsonl"), "-o", str(tmp_path / "sentences.jsonl")],
        ["label", str(tmp_path / "sentences.jsonl"), "-o", str(tmp_path / "records.jsonl")],
        ["validate", str(tmp_path / "records.jsonl")],
    ]
    for args in steps:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    rows = [json.loads(l) for l in (tmp_path / "records.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows] == ["Militia vows revenge", "A drone strike killed 25 fighters on Sunday."]
    assert rows[1]["status"] == "weak" and {e["type"] for e in rows[1]["events"]} == {"STRIKE", "CASUALTY"}
    assert json.loads((tmp_path / "removals.jsonl").read_text(encoding="utf-8"))["rule"] == "source_link"
