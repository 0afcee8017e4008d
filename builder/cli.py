"""Command-line interface: ``eventds`` (also ``python -m builder``).

Each command checks its arguments, calls one library function and prints a short summary.
Exit codes: 0 success, 1 invalid content, 2 unreadable input, 3 bad configuration,
4 service (Label Studio) failure.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sys
from pathlib import Path
from typing import Any, Iterator, Optional

import typer
from rich.table import Table

from . import __version__, swap
from .errors import EventdsError, InputError, ServiceError

app = typer.Typer(
    name="eventds",
    help="Build annotated event datasets from news articles: ingest, clean, segment, weak-label, "
    "annotate in Label Studio, validate, split and publish as a Hugging Face dataset.",
    no_args_is_help=True,
    add_completion=False,
)
from .console import err, out
from .console import fail as _fail
from .console import summary_table as _table


def main() -> None:
    try:
        app()
    except EventdsError as e:  # raised lazily from generators consumed inside commands
        err.print(f"error: {e}", highlight=False, markup=False, soft_wrap=True)
        sys.exit(e.exit_code)


def _register_annotate() -> None:
    try:
        from .annotate_cli import annotate_app
    except ImportError:  # the Label Studio commands are being built
        return
    app.add_typer(annotate_app, name="annotate", help="Label Studio: serve, push weak labels, pull corrections.")


_register_annotate()


def _register_weak() -> None:
    from .weak_cli import weak_app

    app.add_typer(weak_app, name="weak", help="The learned labelling function: train it on the human layer.")


_register_weak()


def _print_version(value: bool) -> None:
    if value:
        out.print(__version__, highlight=False)
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
) -> None:
    """Build annotated event datasets from news articles."""


@app.command()
def ingest(
    source: Optional[Path] = typer.Argument(None, help="Folder of .txt and .html files and .warc/.warc.gz archives (or a manifest.jsonl), one .txt, .html or .warc(.gz) file, or JSONL of {id, text or html, ...}. Default: the embedded corpus."),
    output: Path = typer.Option(Path("build/articles.jsonl"), "-o", "--output", help="Cleaned articles (JSONL)."),
    removals: Path = typer.Option(Path("build/removals.jsonl"), "--removals", help="Log of removed blocks (JSONL)."),
) -> None:
    """Read articles and clean them of scrape noise, logging every removal.

    When both outputs are in one folder (the default) they are replaced together."""
    from .clean import clean
    from .ingest import read_articles
    from .io import atomic_open, check_output
    from .warc import WarcCounts

    archives = WarcCounts()
    n_docs = n_removed = 0
    try:
        for path in (output, removals):
            check_output(path)
        with contextlib.ExitStack() as stack:
            if output.parent.resolve() == removals.parent.resolve():
                staging = stack.enter_context(swap.replace_together(output.parent))
                fh = stack.enter_context((staging / output.name).open("w", encoding="utf-8", newline="\n"))
                log = stack.enter_context((staging / removals.name).open("w", encoding="utf-8", newline="\n"))
            else:
                fh, log = stack.enter_context(atomic_open(output)), stack.enter_context(atomic_open(removals))
            for article in clean(read_articles(source, archives)):
                n_docs += 1
                n_removed += len(article.removals)
                fh.write(json.dumps(article.to_dict(), ensure_ascii=False) + "\n")
                for r in article.removals:
                    log.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    except EventdsError as e:
        _fail(e)
    rows = [("web archive records", archives.summary())] if archives.responses else []
    _table("ingest", rows + [("documents", str(n_docs)), ("removed blocks", str(n_removed)), ("output", str(output))])


VOTES_HELP = "The labelling functions' votes on the records (default: votes/ beside RECORDS when it exists; else the functions are run again)."

#: What train, calibrate and label-model read of a record: sentence records, or human-layer lines with a doc_id.
HUMAN_RECORD_FIELDS = {"id": str, "doc_id": str, "text": str, "status": str, "events": list}


def _human_records(path: Path) -> list[dict[str, Any]]:
    """The records of ``path`` that carry a human layer (status corrected or adjudicated).

    Raises:
        InputError: a line lacks a field these commands read (file, line and field named).
    """
    from .io import read_jsonl
    from .labelset import HUMAN_STATUSES

    rows = []
    for lineno, r in read_jsonl(path):
        for key, kind in HUMAN_RECORD_FIELDS.items():
            if not isinstance(r.get(key), kind):
                got = "missing" if key not in r else f"a {type(r[key]).__name__}"
                raise InputError(f"{path}:{lineno} -> {key}: expected a {kind.__name__}, got {got}")
        if r["status"] in HUMAN_STATUSES:
            rows.append(r)
    return rows


def _records_or_objects(path: Path) -> tuple[bool, Iterator[tuple[int, dict[str, Any]]]]:
    """Whether a JSONL file holds sentence records (else any ``{"id", "text"}`` objects), and its lines."""
    from .io import read_jsonl

    lines = read_jsonl(path)
    first = next(lines, None)
    if first is None:
        return False, iter(())
    return "provenance" in first[1] and "doc_id" in first[1], itertools.chain([first], lines)


def _read_clean_articles(path: Path):
    from .errors import InputError
    from .io import read_jsonl
    from .records import CleanArticle

    for lineno, obj in read_jsonl(path):
        try:
            yield CleanArticle.from_dict(obj)
        except (KeyError, TypeError) as e:
            raise InputError(f"{path}:{lineno}: not a cleaned article from `eventds ingest` ({e!r})") from e


@app.command()
def segment(
    articles: Path = typer.Argument(Path("build/articles.jsonl"), help="Cleaned articles from `eventds ingest`."),
    output: Path = typer.Option(Path("build/sentences.jsonl"), "-o", "--output"),
    model: Optional[str] = typer.Option(None, "--model", help="Installed spaCy pipeline to use instead of the blank English sentencizer."),
) -> None:
    """Split cleaned articles into sentence records (paragraph breaks are hard boundaries)."""
    from .io import write_jsonl
    from .segment import segment as run

    try:
        n = write_jsonl(output, (s.to_dict() for s in run(_read_clean_articles(articles), model)))
    except EventdsError as e:
        _fail(e)
    _table("segment", [("sentences", str(n)), ("output", str(output))])


@app.command()
def label(
    input: Path = typer.Argument(..., help="JSONL: sentence records, or any {\"id\", \"text\", ...} objects."),
    output: Path = typer.Option(..., "-o", "--output", help="Same lines with weak `events` added."),
    model: Optional[str] = typer.Option(None, "--model", help="Installed spaCy pipeline whose tokenizer to use (default: the built-in spaCy-compatible one)."),
    tolerant: bool = typer.Option(False, "--tolerant", help="Count and skip a labelling function that fails on a line instead of stopping."),
    span_model: Optional[Path] = typer.Option(None, "--span-model", help="A model folder from `eventds train`, added as a labelling function."),
    weak_config: Optional[Path] = typer.Option(None, "--weak-config", help="The labelling functions to run, in order, with their options (a weak_functions.json; default: the shipped one)."),
    votes: Optional[Path] = typer.Option(None, "--votes", help="Also keep every labelling function's votes in this folder (one VOTES/<function>.jsonl each), for `eventds aggregate`, `report`, `label-model` and `calibrate`."),
) -> None:
    """Pre-annotate text with weak event labels.

    Sentence records (from `eventds segment`) get `events`, `weak_events` and status `weak`;
    any other object with `id` and `text` gets an `events` list.
    """
    from .io import check_output, write_jsonl
    from .records import Sentence
    from .weak import WeakLabeller, label_jsonl_objects, label_sentences

    try:
        check_output(output)
        labeller = WeakLabeller(model=model, tolerant=tolerant, span_model=span_model, config=weak_config)
        is_records, lines = _records_or_objects(input)
        with contextlib.ExitStack() as stack:
            writer, target = None, output
            if votes is not None:
                staging = stack.enter_context(swap.replace_together(votes.parent))  # the votes folder: old or new, whole
                writer = stack.enter_context(labeller.votes_writer(staging / votes.name))
                if output.parent.resolve() == votes.parent.resolve():
                    target = staging / output.name  # replaced together with the votes
            if is_records:
                rows = (s.to_dict() for s in label_sentences((Sentence.from_dict(o) for _, o in lines), labeller, writer))
            else:
                rows = label_jsonl_objects(((str(input), n, o) for n, o in lines), labeller, writer)
            n = write_jsonl(target, rows)
    except EventdsError as e:
        _fail(e)
    stats = labeller.stats
    rows_out = [("lines", str(n))] + [(f"events {t}", str(c)) for t, c in sorted(stats.events.items())]
    rows_out += [(f"failures {k}", str(v)) for k, v in stats.failures.items()]
    rows_out.append(("events dropped (off the tokens)", str(stats.unplaceable)))
    if votes is not None:
        rows_out.append(("votes", str(votes)))
    _table("label", rows_out)


@app.command()
def validate(
    paths: list[Path] = typer.Argument(..., help="JSONL files of records, folders of them, published dataset folders, split manifests (.json) or Label Studio exports (.json)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="jsonl | jsonl-dir | dataset | manifest | ls-export (detected when omitted)."),
    manifest: Optional[Path] = typer.Option(None, "--manifest", "-m", help="Also check records against this split manifest."),
    fmt: str = typer.Option("text", "--format", help="text | json | github (GitHub Actions annotations)."),
) -> None:
    """Check against the JSON Schemas and the semantic rules; report every problem.

    Exit 0 when clean, 1 when the content is invalid, 2 when an input cannot be read.
    """
    from .validate import Problem, Report, format_report, validate_path

    if fmt not in ("text", "json", "github"):
        _fail(InputError(f"--format must be text, json or github, got {fmt!r}"))
    problems: list[Problem] = []
    records = 0
    unreadable: list[str] = []
    for path in paths:
        try:
            report = validate_path(path, kind, manifest)
        except InputError as e:
            unreadable.append(str(e))
            problems.append(Problem.from_message(str(path), str(e)))
            continue
        problems += report.problems
        records += report.records
    text = format_report(Report(sorted(problems), records), fmt)
    if text:
        out.print(text, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(2 if unreadable else 0 if not problems else 1)


@app.command()
def split(
    records: Path = typer.Argument(Path("build/records.jsonl"), help="Sentence records."),
    manifest: Path = typer.Option(Path("splits/manifest.json"), "-m", "--manifest"),
    ratios: str = typer.Option("0.8,0.1,0.1", "--ratios", help="train,validation,test shares for documents not yet assigned."),
    seed: str = typer.Option("eventds", "--seed", help="Seed for the order new groups are assigned in (kept from an existing manifest)."),
) -> None:
    """Assign new documents to train/validation/test; never move an assigned one."""
    from .io import read_jsonl
    from .records import Sentence
    from .split import SPLITS, assign_splits, index_documents, load_manifest, write_manifest
    from .validate import require_valid

    try:
        shares = [float(x) for x in ratios.split(",")]
        if len(shares) != 3:
            raise ValueError
    except ValueError:
        _fail(EventdsError(f"--ratios must be three comma-separated numbers, got {ratios!r}"))
    try:
        index = index_documents(Sentence.from_dict(o) for _, o in read_jsonl(require_valid(records)))
        previous = load_manifest(manifest)
        result = assign_splits(index, previous, dict(zip(SPLITS, shares)) if previous is None else None, seed)
        write_manifest(manifest, result.manifest)
    except EventdsError as e:
        _fail(e)
    for c in result.conflicts + result.notes:
        err.print(f"warning: {c}", highlight=False, markup=False)
    counts = {s: sum(1 for e in result.manifest["documents"].values() if e["split"] == s) for s in SPLITS}
    _table("split", [("new documents", str(len(result.new_documents)))] + [(f"documents in {s}", str(n)) for s, n in counts.items()])


@app.command()
def publish(
    records: Path = typer.Argument(Path("build/records.jsonl"), help="Validated sentence records."),
    manifest: Path = typer.Option(Path("splits/manifest.json"), "-m", "--manifest"),
    output: Path = typer.Option(Path("build/dataset"), "-o", "--output"),
    push_to_hub: Optional[str] = typer.Option(None, "--push-to-hub", help="Also push every config to this Hub repository (needs network and HF_TOKEN)."),
    pseudonyms: Path = typer.Option(Path("annotations/pseudonyms.json"), "--pseudonyms", help="Annotator name -> pseudonym table kept by `eventds annotate pull`."),
    keep_annotator_names: bool = typer.Option(False, "--keep-annotator-names", help="Publish annotator names (Label Studio accounts, often e-mail addresses) instead of their pseudonyms."),
    version: Optional[str] = typer.Option(None, "--version", help="Release version X.Y.Z: stamped in the card, with a changelog entry (CHANGELOG.md, releases.json) against the previous release in OUTPUT."),
) -> None:
    """Write the Hugging Face dataset folder (parquet + dataset card), optionally push it to the Hub.

    Annotators appear under pseudonyms (annotator-1, ...), never by their Label Studio account."""
    from .publish import publish as run
    from .publish import push_to_hub as push
    from .split import load_manifest
    from .validate import require_valid

    try:
        require_valid(records)
        m = load_manifest(manifest)
        if m is None:
            raise EventdsError(f"{manifest}: no split manifest; run `eventds split` first")
        from .pseudonyms import load as load_pseudonyms

        table = None if keep_annotator_names else load_pseudonyms(pseudonyms)
        stats = run(records, m, output, card_extra={"manifest": m}, pseudonyms=table, version=version)
    except EventdsError as e:
        _fail(e)
    try:
        pushed = push(output, push_to_hub) if push_to_hub else []
    except EventdsError as e:
        _fail(e)
    except Exception as e:  # the Hub client raises its own errors (network, auth)
        _fail(ServiceError(f"push to the Hub repository {push_to_hub!r} failed: {e}"))
    for config in pushed:
        err.print(f"pushed config {config!r} to {push_to_hub}", highlight=False)
    _table("publish", [(f"sentences in {s}", str(n)) for s, n in stats.sentences.items()] + [("output", str(output))])


@app.command()
def build(
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Articles to build from, as `ingest` reads them: a folder of .txt/.html files and .warc(.gz) archives, one such file, or JSONL (default: the embedded corpus)."),
    out_dir: Path = typer.Option(Path("build"), "-o", "--output", help="Build folder: everything the build writes goes here (the dataset to OUTPUT/dataset), unless -m names a manifest elsewhere."),
    manifest: Optional[Path] = typer.Option(None, "-m", "--manifest", help="Split manifest to keep assignments in and update. Default: read the project's splits/manifest.json for the embedded corpus, OUTPUT/manifest.json otherwise; write OUTPUT/manifest.json."),
    annotations: Optional[Path] = typer.Option(None, "--annotations", help="Folder of the human layer. Default: ./annotations if it exists, else the project's for the embedded corpus."),
    model: Optional[str] = typer.Option(None, "--model", help="Installed spaCy pipeline instead of the blank English one."),
    keep_annotator_names: bool = typer.Option(False, "--keep-annotator-names", help="Publish annotator names instead of their pseudonyms from ANNOTATIONS/pseudonyms.json."),
    weak_config: Optional[Path] = typer.Option(None, "--weak-config", help="The labelling functions to run, in order, with their options (a weak_functions.json; default: the shipped one)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Run the per-document stages (read, clean, segment, label, near-duplicate signatures) on a local Dask cluster of N worker processes (needs the `dask` extra). The outputs are the same as without it."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Run the per-document stages on an existing Dask cluster: its scheduler's address (tcp://host:8786) or scheduler file (*.json). Its workers need this eventds installed."),
    timings: bool = typer.Option(False, "--timings", help="Also print the seconds each step took and its share: each per-document stage's (added up over the worker processes), then the gather steps' (write, validate, index, split, report, publish)."),
) -> None:
    """Run every stage in order and publish the dataset (every labelling function's votes go to OUTPUT/votes/)."""
    from .allocator import import_spacy_without_torch, map_large_blocks, use_system_arrow_pool

    use_system_arrow_pool()  # Arrow's freed batches back to the heap the build's phases share (builder.allocator)
    blank = model is None  # spaCy's blank pipeline: no component runs on PyTorch
    if blank:
        import_spacy_without_torch()  # before the build's modules bring spaCy in
    from .pipeline import build as run
    from .runners import make_runner

    map_large_blocks()  # and the large arrays of the index and publishing back to the system once freed
    try:
        with err.status("building") as status:
            if workers is not None or scheduler is not None:
                status.update("building: starting the Dask cluster" if scheduler is None else f"building: connecting to {scheduler}")
            with make_runner(workers, scheduler, spacy_without_torch=blank) as runner:
                summary = run(
                    corpus, out_dir, manifest, annotations, model, progress=lambda s: status.update(f"building: {s}"),
                    keep_annotator_names=keep_annotator_names, weak_config=weak_config, runner=runner,
                )
    except EventdsError as e:
        _fail(e)
    for c in summary.conflicts + summary.warnings:
        err.print(f"warning: {c}", highlight=False, markup=False, soft_wrap=True)
    _table("build", summary.table())
    if summary.published:
        from .labelset import event_types

        stats = summary.published.to_dict()["splits"]
        table = Table(title="splits")
        for col in ("split", "documents", "sentences", *event_types()):
            table.add_column(col, justify="left" if col == "split" else "right")
        for split, row in stats.items():
            table.add_row(split, str(row["documents"]), str(row["sentences"]), *(str(row["events"][t]) for t in event_types()))
        err.print(table)
    if timings:
        table = Table(title="timings")
        for col in ("step", "seconds", "share"):
            table.add_column(col, justify="left" if col == "step" else "right")
        for row in summary.timings_table():
            table.add_row(*row)
        err.print(table)
    err.print(f"dataset written to {out_dir / 'dataset'}", highlight=False)


@app.command()
def evaluate(
    predictions: Path = typer.Argument(..., help="JSONL of {id, text, events} to score (e.g. `eventds label` output)."),
    gold: Path = typer.Option(..., "--gold", help="Gold JSONL of {id, text, events} (e.g. build/records.jsonl of human-annotated sentences)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the scores as JSON."),
) -> None:
    """Score predictions against gold: per type, trigger exact/overlap, sentence level, arguments, realis."""
    from .evaluate import evaluate_files, format_scores
    from .io import write_json

    try:
        scores = evaluate_files(gold, predictions)
    except EventdsError as e:
        _fail(e)
    out.print(format_scores(scores), highlight=False, markup=False)
    if json_out:
        write_json(json_out, scores.to_dict())


@app.command()
def agreement(
    annotators: Path = typer.Option(Path("annotations/annotators.jsonl"), "--annotators", help="Per-annotator layer written by `eventds annotate pull`."),
    output: Path = typer.Option(Path("annotations/agreement.json"), "-o", "--output"),
) -> None:
    """Inter-annotator agreement: span F1 (exact, overlap) and Cohen's kappa per type."""
    from .agreement import agreement as run
    from .agreement import format_agreement, load_annotator_layer
    from .io import write_json

    try:
        result = run(load_annotator_layer(annotators))
    except EventdsError as e:
        _fail(e)
    write_json(output, result)
    _table("agreement", list(format_agreement(result)))


@app.command()
def report(
    records: Path = typer.Argument(Path("build/records.jsonl"), help="Sentence records with a human layer."),
    manifest: Path = typer.Option(Path("splits/manifest.json"), "-m", "--manifest"),
    output: Path = typer.Option(Path("build/report"), "-o", "--output", help="Folder for quality.json, index.html and the PNG plots."),
    votes: Optional[Path] = typer.Option(None, "--votes", help=VOTES_HELP),
) -> None:
    """Weak labels against the human layer: per-type scores, accepted share, labelling-function analysis."""
    from .report import quality, write_report
    from .split import load_manifest
    from .validate import require_valid
    from .weak import votes_beside

    try:
        folder = votes_beside(records, votes)
        q = quality(require_valid(records), load_manifest(manifest), votes=folder)
        with swap.replace_together(output.parent) as staging:  # the whole folder, old or new
            write_report(q, staging / output.name)
        files = [output / "quality.json", output / "index.html"]
    except EventdsError as e:
        _fail(e)
    rows = [("human-annotated sentences", str(q["human_sentences"])), ("accepted unchanged", str(q["accepted_unchanged"]))]
    rows += [(f"{t} overlap F1", f"{v['f1']:.2f}") for t, v in q["per_type"].items()]
    _table("report", rows)
    _say_votes(folder, records)
    err.print(f"report written to {files[1]}", highlight=False)


@app.command()
def train(
    records: Path = typer.Argument(Path("build/records.jsonl"), help="Sentence records with a human layer."),
    output: Path = typer.Option(Path("build/span_model"), "-o", "--output", help="Folder for the trained model."),
    manifest: Path = typer.Option(Path("splits/manifest.json"), "-m", "--manifest", help="Document groups for cross-validation."),
    epochs: int = typer.Option(30, "--epochs"),
    seed: int = typer.Option(0, "--seed"),
    cv: bool = typer.Option(True, "--cv/--no-cv", help="Cross-validate by document group first and keep the model only for types where it helps."),
) -> None:
    """Train a spaCy span model (blank English, no pretrained weights) on the human layer."""
    from .io import write_json
    from .labelset import event_types
    from .split import document_groups, load_manifest
    from .train import cross_validate, save
    from .train import train as fit

    try:
        human = _human_records(records)
        rows = [{"id": r["id"], "doc_id": r["doc_id"], "text": r["text"], "events": r["events"]} for r in human]
        weak = {r["id"]: r["weak_events"] for r in human}
        groups = document_groups(load_manifest(manifest))
        result = None
        if cv:
            with err.status("cross-validating by document group"):
                result = cross_validate(rows, groups, weak, epochs=epochs, seed=seed)
        with err.status("training on the whole human layer"):
            nlp = fit(rows, epochs=epochs, seed=seed)
        use_types = result["model_helps"] if result else list(event_types())
        save(nlp, output, {"epochs": epochs, "seed": seed, "sentences": len(rows), "use_types": use_types, "cv": result})
        if result:
            write_json(output / "cv.json", result)
    except EventdsError as e:
        _fail(e)
    if result:
        table = Table(title=f"cross-validation by document group ({result['folds']} folds, overlap F1)")
        table.add_column("type")
        for name in ("rules", "model", "rules+model"):
            table.add_column(name, justify="right")
        for t in event_types():
            table.add_row(t, *(f"{result[n]['overlap_f1'][t]:.2f}" for n in ("rules", "model", "rules+model")))
        table.add_row("micro", *(f"{result[n]['micro_overlap_f1']:.2f}" for n in ("rules", "model", "rules+model")))
        table.add_row("accepted unchanged", *(str(result[n]["accepted_unchanged"]) for n in ("rules", "model", "rules+model")))
        err.print(table)
    err.print(f"model written to {output}; used as span_model.v1 for: {', '.join(use_types) or 'no type (it does not help)'}", highlight=False)


@app.command("label-model")
def label_model(
    records: Path = typer.Argument(Path("build/records.jsonl"), help="Sentence records with a human layer."),
    manifest: Path = typer.Option(Path("splits/manifest.json"), "-m", "--manifest", help="Document groups for cross-validation."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Also write the comparison as JSON."),
    votes: Optional[Path] = typer.Option(None, "--votes", help=VOTES_HELP),
) -> None:
    """Compare voting with a generative label model (Dawid-Skene) on the human layer, by document group."""
    from .io import write_json
    from .labelmodel import compare
    from .labelset import event_types
    from .split import document_groups, load_manifest
    from .weak import votes_beside

    try:
        folder = votes_beside(records, votes)
        result = compare(_human_records(records), document_groups(load_manifest(manifest)), votes=folder)
        if output:
            write_json(output, result)
    except EventdsError as e:
        _fail(e)
    names = ("voting", "dawid_skene", "one_coin")
    table = Table(title=f"voting vs label models ({result['folds']} folds by document group, overlap F1)")
    table.add_column("type")
    for n in names:
        table.add_column(n.replace("_", " "), justify="right")
    for t in event_types():
        table.add_row(t, *(f"{result[n]['overlap_f1'][t]:.2f}" for n in names))
    table.add_row("micro", *(f"{result[n]['micro_overlap_f1']:.2f}" for n in names))
    err.print(table)
    wins = result["label_model_wins"]
    err.print(
        f"{result['candidates']} candidate spans, {result['candidates_with_several_votes']} with more than one vote; "
        + (f"better than voting: {', '.join(wins)}" if wins else "no label model beats voting: the labeller keeps voting"),
        highlight=False,
    )
    _say_votes(folder, records)


@app.command()
def calibrate(
    records: Path = typer.Argument(Path("build/records.jsonl"), help="Sentence records with a human layer."),
    manifest: Path = typer.Option(Path("splits/manifest.json"), "-m", "--manifest", help="Document groups for the out-of-fold check."),
    output: Optional[Path] = typer.Option(None, "-o", "--output", help="Where to write the map (default: the labeller's resources/calibration.json)."),
    votes: Optional[Path] = typer.Option(None, "--votes", help=VOTES_HELP),
) -> None:
    """Fit the map from raw weak-label confidence to precision on the human layer (isotonic regression)."""
    from .calibrate import CALIBRATION_PATH, fit
    from .io import write_json
    from .split import document_groups, load_manifest
    from .weak import votes_beside

    try:
        folder = votes_beside(records, votes)
        result = fit(_human_records(records), document_groups(load_manifest(manifest)), votes=folder)
        write_json(output or CALIBRATION_PATH, result)
    except EventdsError as e:
        _fail(e)
    _table(
        "calibration",
        [
            ("weak events on human sentences", str(result["events"])),
            ("precision", str(result["precision"])),
            ("ECE raw confidence", str(result["ece_raw"])),
            (f"ECE calibrated ({result['folds']} folds, out of fold)", str(result["ece_calibrated_out_of_fold"])),
        ],
    )
    _say_votes(folder, records)


@app.command()
def aggregate(
    records: Path = typer.Argument(..., help="Sentence records (or {\"id\", \"text\", ...} lines) whose votes were kept by `eventds build` or `eventds label --votes`."),
    votes: Optional[Path] = typer.Option(None, "--votes", help="The votes folder (default: votes/ beside RECORDS)."),
    output: Path = typer.Option(..., "-o", "--output", help="The records with their weak events made again from the votes."),
) -> None:
    """Make the weak events again from the labelling functions' votes, without running any function.

    Sentence records get new `weak_events` (and `events` and status `weak` unless they carry a
    human layer); other lines get new `events`. Run it after changing the aggregation
    (min_confidence, type_priority in weak_rules.json) or the calibration map.
    """
    from .io import check_output, write_jsonl
    from .records import Sentence
    from .weak import AggregationSettings, Aggregator, LabelStats, aggregate_objects, aggregate_sentences, votes_beside

    stats = LabelStats()
    try:
        check_output(output)
        folder = votes_beside(records, votes)
        if folder is None:
            raise InputError(f"{records.parent / 'votes'}: no votes folder beside the records; name one with --votes")
        is_records, lines = _records_or_objects(records)
        aggregator = Aggregator(AggregationSettings.load())
        if is_records:
            rows = (s.to_dict() for s in aggregate_sentences((Sentence.from_dict(o) for _, o in lines), folder, aggregator, stats))
        else:
            rows = aggregate_objects((o for _, o in lines), folder, aggregator, stats)
        n = write_jsonl(output, rows)
    except EventdsError as e:
        _fail(e)
    rows_out = [("lines", str(n)), ("votes", str(folder))] + [(f"events {t}", str(c)) for t, c in sorted(stats.events.items())]
    rows_out.append(("events dropped (off the tokens)", str(stats.unplaceable)))
    _table("aggregate", rows_out)


def _say_votes(folder: Optional[Path], records: Path) -> None:
    """Tell where the labelling functions' votes came from."""
    if folder is not None:
        err.print(f"labelling-function votes read from {folder} (no function was run)", highlight=False)
    else:
        err.print(f"no votes folder beside {records} (nor --votes): the labelling functions were run again", highlight=False)


@app.command()
def export(
    path: Path = typer.Argument(Path("build/dataset"), help="A published dataset folder, or a sentence records JSONL file."),
    fmt: str = typer.Option(..., "--format", "-f", help="ee (TextEE JSONL), conll (token, trigger and argument BIO columns), docbin (spaCy .spacy for `spacy train`) or maven (MAVEN documents JSONL)."),
    output: Path = typer.Option(..., "-o", "--output", help="Folder to write one file per split to."),
    manifest: Optional[Path] = typer.Option(None, "-m", "--manifest", help="Split manifest for a records file (without one, a records file is written whole as `all`)."),
) -> None:
    """Write the dataset in an event-extraction format, one file per split."""
    from .export import export as run
    from .split import load_manifest

    try:
        m = load_manifest(manifest) if manifest is not None else None
        if manifest is not None and m is None:
            raise EventdsError(f"{manifest}: no split manifest")
        written, left_out = run(path, fmt, output, m)
    except EventdsError as e:
        _fail(e)
    for lo in left_out:
        err.print(f"warning: {lo.where}: {lo.kind} {lo.label} {lo.text!r} [{lo.start}, {lo.end}) of sentence {lo.id} is {lo.reason}: left out of {fmt}", highlight=False, markup=False, soft_wrap=True)
    _table("export", [(name, str(n)) for name, n in written.items()] + [("output", str(output))])
