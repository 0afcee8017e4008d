"""The build on a Dask cluster gives, byte for byte, what a one-process build gives.

A real ``dask scheduler`` and two ``dask worker`` processes are started on 127.0.0.1; the
embedded corpus and a generated one (a few hundred distinct articles of several outlets,
with scrape noise, shared boilerplate, wire copy re-run across outlets and some HTML pages)
are built through ``--scheduler`` and through ``--workers 2`` (a local cluster), and every
output file is compared with the one-process build's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest
from typer.testing import CliRunner

from builder.cli import app

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------
# A generated corpus: templates and word lists, seeded

SYLLABLES = ["ka", "ra", "mi", "lo", "ba", "tu", "sen", "dar", "hal", "mo", "zin", "ga", "fa", "ri", "nu", "sha", "ke", "dul", "wa", "ya"]
PLACE_KINDS = ["", "", "", "Kafr ", "Tal ", "Wadi ", "Bir ", "Port ", "San ", "Ain "]
GROUPS = ["Brigade", "Front", "Movement", "Army", "Battalion", "Guard", "Council", "Legion", "Union", "Alliance"]
VICTIMS = ["civilians", "soldiers", "police officers", "villagers", "fighters", "aid workers", "children", "worshippers", "miners", "traders",
           "students", "farmers", "nurses", "guards", "passengers", "fishermen", "shepherds", "journalists"]
TARGETS = [
    "checkpoint", "police station", "market", "army base", "convoy", "hospital", "mosque", "school", "bridge", "fuel depot",
    "refugee camp", "airport", "prison", "military outpost", "port", "power station", "bus station", "church", "courthouse", "water plant",
]
WEAPONS = ["a drone", "a car bomb", "mortar shells", "an improvised explosive device", "rockets", "artillery fire", "a suicide bomber",
           "airstrikes", "grenades", "a landmine", "sniper fire", "heavy machine guns"]
ROLES = ["spokesman", "governor", "commander", "hospital director", "police chief", "mayor", "minister", "elder", "medic", "researcher"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TIMES = ["at dawn", "before noon", "in the afternoon", "at dusk", "after midnight", "during evening prayers", "on market day", "overnight"]

OPENINGS = [
    "{group} attacked the {target} of {place} {day} {time}, killing {n} {victims}",
    "At least {n} {victims} died when {weapon} hit the {target} in {place} {day}",
    "{weapon_cap} struck the {target} outside {place} {time}, wounding {n} {victims}",
    "{group} ambushed a convoy near the {target} between {place} and {place2} {day}",
    "{n} {victims} were abducted from the {target} in {place} {time}",
    "{group} threatened to attack {place} and {place2} unless {person} resigned",
    "Clashes between {group} and {group2} near the {target} of {place} left {n} {victims} dead",
    "Explosions shook the {target} in {place} {time} as {group} shelled {place2}",
    "Troops loyal to {person} retook the {target} in {place} from {group} {day}",
    "{group} denied shelling the {target} at {place}, blaming {group2}",
    "{n} {victims} fled {place} for {place2} after {weapon} hit the {target}",
    "Residents of {place} buried {n} {victims} killed by {weapon} {day}",
]
ATTRIBUTIONS = [
    "{person}, the {role} of {place}, said", "according to {person}, {a_role}", "{person} told reporters {day}",
    "{a_role} who asked not to be named said", "the {role} {person} wrote on social media", "{person} of {group} said in a statement",
    "figures from {place}'s {role} showed", "witnesses in {place2} said", "local radio in {place} reported", "{person} confirmed {time}",
]
CODAS = [
    "", "", "", " The toll could rise.", " It was the {nth} attack.", " {group_cap} has not commented.",
    " Roads to {place2} remain closed.", " {person} called for calm.", " Fighting resumed {time}.",
]
HEADLINES = ["{n} killed in attack on {target} in {place}", "{group} strike {target} near {place}", "Fears grow in {place} after {weapon}", "{place}: {person} says {n} dead"]
OUTLETS = {
    "Sahel Courier": {
        "menu": "Home | Politics | Security | Economy | Sport",
        "footer": "© Sahel Courier. All rights reserved.",
        "widget": "Share this article: Facebook Twitter WhatsApp",
    },
    "Gulf Dispatch": {
        "menu": "News  World  Business  Opinion  Video",
        "footer": "Subscribe to the Gulf Dispatch newsletter for daily updates",
        "widget": "Follow us on Telegram",
    },
    "Andes Report": {
        "menu": "Inicio · Mundo · Conflicto · Contacto",
        "footer": "Support Andes Report | Donate",
        "widget": "Read more:",
    },
    "Horn Monitor": {
        "menu": "Latest | Somalia | Ethiopia | Sudan | Kenya",
        "footer": "Copyright 2024 Horn Monitor Media Group",
        "widget": "Related stories",
    },
}
NOISE = ["Source link", "Leave a Reply", "Your email address will not be published.", "Post a comment", "A+ A-", "Photo: AFP"]


def _name(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts + rng.randint(0, 1))).capitalize()


def _slots(rng: random.Random) -> dict[str, str]:
    weapon, role, group = rng.choice(WEAPONS), rng.choice(ROLES), f"the {_name(rng)} {rng.choice(GROUPS)}"
    return {
        "place": rng.choice(PLACE_KINDS) + _name(rng), "place2": rng.choice(PLACE_KINDS) + _name(rng),
        "group": group, "group_cap": "T" + group[1:], "group2": f"the {_name(rng)} {rng.choice(GROUPS)}",
        "person": f"{_name(rng)} {_name(rng, 3)}", "role": role, "a_role": ("an " if role[0] in "aeiou" else "a ") + role, "target": rng.choice(TARGETS),
        "victims": rng.choice(VICTIMS), "weapon": weapon, "weapon_cap": weapon[0].upper() + weapon[1:],
        "day": "on " + rng.choice(DAYS), "time": rng.choice(TIMES), "n": str(rng.randint(2, 240)), "nth": f"{rng.randint(3, 9)}th",
    }


def _sentence(rng: random.Random) -> str:
    slots = _slots(rng)
    opening = rng.choice(OPENINGS).format(**slots)
    attribution = rng.choice(ATTRIBUTIONS).format(**slots)
    s = f"{opening}, {attribution}." if rng.random() < 0.7 else f"{attribution[0].upper() + attribution[1:]} that {opening[0].lower() + opening[1:]}."
    s = s[0].upper() + s[1:] + rng.choice(CODAS).format(**slots)
    return s


def generated_corpus(folder: Path, documents: int = 300, seed: int = 7, html_every: int = 10) -> Path:
    """Write ``documents`` distinct articles into ``folder`` with a ``manifest.jsonl``: text
    files and, every ``html_every``-th, an HTML page; outlets with their menus, footers and
    widgets (boilerplate to learn), bylines and scrape noise (to clean), and wire paragraphs
    that several outlets re-run (near-duplicates that group documents)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    wire = [" ".join(_sentence(rng) for _ in range(3)) for _ in range(max(4, documents // 15))]
    manifest = []
    for i in range(documents):
        outlet = rng.choice(sorted(OUTLETS))
        furniture = OUTLETS[outlet]
        headline = rng.choice(HEADLINES).format(**_slots(rng))
        headline = headline[0].upper() + headline[1:]
        paragraphs = [" ".join(_sentence(rng) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(4, 12))]
        paragraphs.insert(0, f"{_name(rng).upper()} - {paragraphs.pop(0)}")
        if rng.random() < 0.35:  # wire copy, sometimes with a different attribution
            para = rng.choice(wire)
            if rng.random() < 0.5:
                para = para.replace(".", ", officials said.", 1)
            paragraphs.insert(rng.randint(1, len(paragraphs)), para)
        day = rng.randint(1, 28)
        author = f"{rng.choice(['Amina', 'Omar', 'Lucia', 'Jean', 'Fatima', 'Ahmed'])} {rng.choice(['Diallo', 'Haddad', 'Ortiz', 'Moreau', 'Yusuf', 'Karimi'])}"
        lines = [furniture["menu"], headline, f"By {author}", f"{day:02d}-03-2024", *paragraphs]
        if rng.random() < 0.5:
            lines.insert(rng.randint(5, len(lines)), furniture["widget"])
        if rng.random() < 0.3:
            lines.insert(rng.randint(5, len(lines)), rng.choice(NOISE))
        lines.append(furniture["footer"])
        if rng.random() < 0.2:
            lines += ["Leave a Reply", "Your email address will not be published.", f"{author.split()[0]} says:", "Great reporting, thank you."]
        doc_id = f"gen-{i:04d}"
        entry = {"id": doc_id, "outlet": outlet, "title": headline, "published": f"2024-03-{day:02d}", "author": author}
        if html_every and i % html_every == html_every - 1:
            body = "".join(f"<p>{line}</p>\n" for line in lines[4:-1])
            page = (
                f"<html><head><title>{headline}</title><meta property=\"og:site_name\" content=\"{outlet}\"></head><body>"
                f"<nav>{furniture['menu']}</nav><article><h1>{headline}</h1><p class=\"byline\">By {author}</p>\n{body}</article>"
                f"<footer>{furniture['footer']}</footer></body></html>\n"
            )
            (folder / f"{doc_id}.html").write_text(page, encoding="utf-8")
            entry["file"] = f"{doc_id}.html"
        else:
            (folder / f"{doc_id}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
            entry["file"] = f"{doc_id}.txt"
        manifest.append(entry)
    (folder / "manifest.jsonl").write_text("".join(json.dumps(e) + "\n" for e in manifest), encoding="utf-8")
    return folder


# ---------------------------------------------------------------------------------------
# Builds compared file by file


def tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (relative path -> sha256)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def build(*args: str):
    return CliRunner().invoke(app, ["build", *args])


def assert_same_build(a: Path, b: Path) -> None:
    """Every output file of two builds is the same, byte for byte (a build writes no timestamp)."""
    ta, tb = tree(a), tree(b)
    assert set(ta) == set(tb)
    assert {"records.jsonl", "removals.jsonl", "duplicates.jsonl", "manifest.json", "votes/votes.json", "dataset/README.md"} <= set(ta)
    assert [k for k in ta if ta[k] != tb[k]] == []


def no_annotations(corpus: Path) -> Path:
    """A folder that does not exist, named as the annotations of ``corpus`` (its build's report names it)."""
    return corpus.parent / "no-annotations"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return generated_corpus(tmp_path_factory.mktemp("generated") / "corpus", 300)


@pytest.fixture(scope="module")
def one_process(tmp_path_factory, generated) -> dict[str, Path]:
    """The one-process builds the cluster builds are compared with."""
    out = tmp_path_factory.mktemp("one-process")
    os.chdir(out)  # the embedded corpus is built as from another directory (its annotations and manifest found all the same)
    try:
        result = build("-o", str(out / "embedded"))
        assert result.exit_code == 0, result.output
        result = build("--corpus", str(generated), "-o", str(out / "generated"), "--annotations", str(no_annotations(generated)))
        assert result.exit_code == 0, result.output
    finally:
        os.chdir(ROOT)
    return {"embedded": out / "embedded", "generated": out / "generated"}


# ---------------------------------------------------------------------------------------
# A real cluster: `dask scheduler` and two `dask worker` processes on 127.0.0.1


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group ``proc`` leads (a nanny and its worker), then SIGKILL it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory) -> Iterator[str]:
    """The address of a scheduler with two single-threaded workers, each in a process of its
    own started from the command line (the repository on their PYTHONPATH), stopped after."""
    distributed = pytest.importorskip("distributed")
    tmp = tmp_path_factory.mktemp("dask")
    scheduler_file = tmp / "scheduler.json"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    common = {"cwd": tmp, "env": env, "stdout": subprocess.DEVNULL, "start_new_session": True}
    procs = []
    logs = []
    try:
        log = (tmp / "scheduler.log").open("wb")
        logs.append(log)
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", ":0", "--scheduler-file", str(scheduler_file)],
            stderr=log, **common,
        ))
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() or not scheduler_file.read_text(encoding="utf-8").strip():
            assert procs[0].poll() is None, (tmp / "scheduler.log").read_text(encoding="utf-8", errors="replace")
            assert time.monotonic() < deadline, "the scheduler did not start within 60 s"
            time.sleep(0.2)
        for i in range(2):
            log = (tmp / f"worker-{i}.log").open("wb")
            logs.append(log)
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1",
                 "--nworkers", "1", "--nthreads", "1", "--no-dashboard", "--name", f"test-worker-{i}"],
                stderr=log, **common,
            ))
        address = json.loads(scheduler_file.read_text(encoding="utf-8"))["address"]
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)
        for log in logs:
            log.close()


@pytest.mark.slow
def test_the_embedded_corpus_built_on_a_cluster_is_the_one_process_build(dask_scheduler, one_process, tmp_path):
    os.chdir(tmp_path)
    try:
        result = build("-o", str(tmp_path / "out"), "--scheduler", dask_scheduler)
    finally:
        os.chdir(ROOT)
    assert result.exit_code == 0, result.output
    assert_same_build(one_process["embedded"], tmp_path / "out")


@pytest.mark.slow
def test_a_generated_corpus_built_on_a_cluster_is_the_one_process_build(dask_scheduler, one_process, generated, tmp_path):
    result = build("--corpus", str(generated), "-o", str(tmp_path / "out"), "--annotations", str(no_annotations(generated)), "--scheduler", dask_scheduler)
    assert result.exit_code == 0, result.output
    assert_same_build(one_process["generated"], tmp_path / "out")
    records = (tmp_path / "out" / "records.jsonl").read_text(encoding="utf-8").splitlines()
    assert len({json.loads(line)["doc_id"] for line in records}) == 300
    assert (tmp_path / "out" / "duplicates.jsonl").read_text(encoding="utf-8")  # wire copy grouped documents


@pytest.mark.slow
def test_a_generated_corpus_built_on_a_local_cluster_is_the_one_process_build(one_process, generated, tmp_path):
    pytest.importorskip("distributed")
    result = build("--corpus", str(generated), "-o", str(tmp_path / "out"), "--annotations", str(no_annotations(generated)), "--workers", "2")
    assert result.exit_code == 0, result.output
    assert_same_build(one_process["generated"], tmp_path / "out")


@pytest.mark.slow
def test_a_runner_lets_the_cluster_go_once_its_documents_are_through_and_serves_one_build(dask_scheduler, tmp_path):
    """The client is let go while the gather steps run (not the cluster: it is not the
    build's), and the runner refuses a second build, with a message saying what to do."""
    import distributed

    from builder import runners
    from builder.errors import ConfigError
    from builder.pipeline import build as run

    corpus = generated_corpus(tmp_path / "corpus", 20, seed=3)
    statuses: list[str] = []
    with runners.dask_runner(scheduler=dask_scheduler) as runner:
        def progress(step: str) -> None:
            if step == "publish":
                runner._closing.join(timeout=30)  # let go in the background: done by now, or soon
                statuses.append(runner.client.status)

        run(corpus, tmp_path / "out", annotations_dir=no_annotations(corpus), runner=runner, progress=progress)
        with pytest.raises(ConfigError, match="make a runner for each build"):
            run(corpus, tmp_path / "again", annotations_dir=no_annotations(corpus), runner=runner)
    assert statuses == ["closed"]
    assert (tmp_path / "out" / "dataset").is_dir() and not (tmp_path / "again" / "dataset").exists()
    with distributed.Client(dask_scheduler, timeout=60) as client:
        assert len(client.scheduler_info()["workers"]) == 2


def small_partitions(monkeypatch, documents: int, window: int) -> None:
    """Builds in this test make partitions of ``documents`` documents and learn boilerplate
    from the first ``window``."""
    from builder import pipeline, runners

    monkeypatch.setattr(runners.Runner, "documents", documents)
    build_stages = pipeline.build_stages

    def short_window(*args, **kwargs):
        stages = build_stages(*args, **kwargs)
        stages[1].window = window
        return stages

    monkeypatch.setattr(pipeline, "build_stages", short_window)


@pytest.mark.slow
def test_small_partitions_and_a_short_boilerplate_window_change_nothing_but_the_window(dask_scheduler, tmp_path, monkeypatch):
    """Partitions of 7 documents (18 of them, most in flight at once) and boilerplate learned
    from the first 40 documents: after the window, the stages run in one task per partition.
    The one-process and cluster builds agree."""
    corpus = generated_corpus(tmp_path / "corpus", 120, seed=3)
    small_partitions(monkeypatch, documents=7, window=40)
    outs = []
    for name, extra in (("one", []), ("cluster", ["--scheduler", dask_scheduler])):
        outs.append(tmp_path / name)
        result = build("--corpus", str(corpus), "-o", str(outs[-1]), "--annotations", str(no_annotations(corpus)), *extra)
        assert result.exit_code == 0, result.output
    assert_same_build(*outs)
    removals = [json.loads(line) for line in (outs[0] / "removals.jsonl").read_text(encoding="utf-8").splitlines()]
    assert any(r["rule"] == "boilerplate" and int(r["doc_id"].split("-")[1]) >= 40 for r in removals)  # learned, applied after the window


@pytest.mark.slow
def test_the_main_process_does_not_keep_the_documents_it_sent(tmp_path, monkeypatch):
    """A local cluster (its scheduler in the main process) of one worker, partitions of one
    document each, boilerplate learned from the first 10: while the last documents come back,
    the main process holds only the documents of the partitions in flight and of Dask's few
    recent messages (``runners.MESSAGE_LOG``), not every document it sent (Dask's comms keep
    their last 1,000 messages by default). Only this corpus's documents are counted: the
    tests before may have left theirs."""
    import gc

    pytest.importorskip("distributed")

    from builder import pipeline, runners
    from builder.stages import Work

    corpus = generated_corpus(tmp_path / "corpus", 120, seed=5)
    small_partitions(monkeypatch, documents=1, window=10)
    held: dict[int, int] = {}

    def progress(step: str) -> None:
        n = len(held)
        if step.startswith("document ") and n < 120:
            held[n] = -1
            if n in (60, 90, 119):  # the 61st, 91st and last document back
                gc.collect()
                held[n] = sum(1 for o in gc.get_objects() if type(o) is Work and o.source is not None and o.where.startswith(str(corpus)))

    with runners.dask_runner(workers=1) as runner:
        pipeline.build(corpus, tmp_path / "out", annotations_dir=no_annotations(corpus), runner=runner, progress=progress)
    sent = {n: held[n] for n in (60, 90, 119)}
    assert len(held) == 120 and max(sent.values()) <= 2 * runners.MESSAGE_LOG + runner.workers + runner.ahead, sent


@pytest.mark.slow
def test_the_partitions_of_a_worker_killed_mid_build_are_run_again(tmp_path, monkeypatch):
    """A local cluster of two workers, one SIGKILLed once the first partition is gathered:
    Dask runs its partitions again (those it had finished too, whose results it held), and
    the build is the one-process build."""
    pytest.importorskip("distributed")
    from builder import runners
    from builder.pipeline import build as run

    corpus = generated_corpus(tmp_path / "corpus", 120, seed=5)
    monkeypatch.setattr(runners.Runner, "documents", 8)
    run(corpus, tmp_path / "one", annotations_dir=no_annotations(corpus))
    killed: list[int] = []
    gather = runners.DaskRunner.result

    def result(self, handle):
        out = gather(self, handle)
        if not killed:
            pids = self.client.run(os.getpid)  # the worker processes this test started
            killed.append(pids[sorted(pids)[0]])
            os.kill(killed[0], signal.SIGKILL)
        return out

    monkeypatch.setattr(runners.DaskRunner, "result", result)
    with runners.dask_runner(workers=2) as runner:
        run(corpus, tmp_path / "cluster", annotations_dir=no_annotations(corpus), runner=runner)
    assert killed
    assert_same_build(tmp_path / "one", tmp_path / "cluster")


# ---------------------------------------------------------------------------------------
# A document that fails is counted and reported, in either runner


def failing_corpus(folder: Path) -> Path:
    """Four articles, two of which fail: one is not UTF-8 (read), one is all noise (clean)."""
    folder.mkdir()
    (folder / "a.txt").write_text("A drone strike hit the port of Hodeidah on Monday, killing three people.\n", encoding="utf-8")
    (folder / "b.txt").write_bytes(b"Militia fighters attacked a checkpoint near Mosul on Sunday.\n\xff\xfe broken\n")
    (folder / "c.txt").write_text("Leave a Reply\nYour email address will not be published.\nPost a comment\n", encoding="utf-8")
    (folder / "d.txt").write_text("Gunmen killed two police officers in Kirkuk on Friday, officials said.\n", encoding="utf-8")
    return folder


FAILED = [
    "2 documents failed (1 in read, 1 in clean); nothing is published:",
    "b.txt: not valid UTF-8 at byte",
    "c.txt: article 'c': every line was removed as scrape noise",
]


@pytest.mark.parametrize("where", ["one process", pytest.param("cluster", marks=pytest.mark.slow)])
def test_failed_documents_are_counted_and_reported_and_nothing_is_published(where, tmp_path, request):
    extra = ["--scheduler", request.getfixturevalue("dask_scheduler")] if where == "cluster" else []
    src = failing_corpus(tmp_path / "src")
    result = build("--corpus", str(src), "-o", str(tmp_path / "out"), "--annotations", str(tmp_path / "none"), *extra)
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    for line in FAILED:
        assert line in output, result.output
    assert output.index("b.txt") < output.index("c.txt")  # in document order
    assert not (tmp_path / "out").exists() or not [p for p in (tmp_path / "out").rglob("*") if p.is_file()]


def test_a_document_a_stage_raises_on_is_named_with_the_stage_and_the_error(tmp_path, monkeypatch):
    """Not only input errors: any exception a stage raises on a document is that document's failure."""
    from builder import stages

    process = stages.Segment.process

    def broken(self, work):
        if work.id == "d":
            raise KeyError("no such thing")
        process(self, work)

    monkeypatch.setattr(stages.Segment, "process", broken)
    src = failing_corpus(tmp_path / "src")
    (src / "c.txt").unlink()
    (src / "b.txt").unlink()
    result = build("--corpus", str(src), "-o", str(tmp_path / "out"), "--annotations", str(tmp_path / "none"))
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert "d.txt: article 'd': the segment stage failed: KeyError: 'no such thing' (at test_dask_build.py:" in output, output


# ---------------------------------------------------------------------------------------
# Options


def test_workers_and_scheduler_are_exclusive(tmp_path):
    result = build("-o", str(tmp_path / "out"), "--workers", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 3, result.output
    assert "give either --workers N" in " ".join(result.output.split())


def test_without_dask_the_options_name_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed raises ImportError
    result = build("-o", str(tmp_path / "out"), "--workers", "2")
    assert result.exit_code == 3, result.output
    assert 'pip install -e ".[dask]"' in " ".join(result.output.split())
    assert not (tmp_path / "out").exists()


def test_an_unreachable_scheduler_is_a_service_error(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    from builder import runners

    monkeypatch.setattr(runners, "WORKER_TIMEOUT", 2)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = build("-o", str(tmp_path / "out"), "--scheduler", f"tcp://127.0.0.1:{port}")
    assert result.exit_code == 4, result.output
    assert f"--scheduler tcp://127.0.0.1:{port}: cannot reach the Dask scheduler" in " ".join(result.output.split())


def test_partitions_do_not_change_the_build(tmp_path, monkeypatch):
    """One-process builds of the embedded corpus in partitions of 2 documents and of 64 are the same."""
    from builder import runners

    os.chdir(tmp_path)
    try:
        assert build("-o", "big").exit_code == 0
        monkeypatch.setattr(runners.Runner, "documents", 2)
        assert build("-o", "small").exit_code == 0
    finally:
        os.chdir(ROOT)
    assert_same_build(tmp_path / "big", tmp_path / "small")


# ---------------------------------------------------------------------------------------
# Every step of the build is timed, in either runner

STEPS = ["read", "clean", "segment", "label", "signatures", "records", "write", "validate", "index", "split", "report", "publish"]


@pytest.mark.parametrize("workers", [None, pytest.param(2, marks=pytest.mark.slow)], ids=["one process", "local cluster"])
def test_every_stage_and_gather_step_is_timed(workers, tmp_path):
    """``BuildSummary.timings`` holds each per-document stage's seconds (merged over the
    partitions, and over the worker processes) and each gather step's, all spent."""
    from builder.pipeline import build as run
    from builder.runners import make_runner

    if workers:
        pytest.importorskip("distributed")
    with make_runner(workers) as runner:
        summary = run(out_dir=tmp_path / "out", runner=runner)
    assert list(summary.timings) == STEPS
    assert [step for step, seconds in summary.timings.items() if not seconds > 0] == []
    assert summary.stages["label"]["sentences"] == summary.sentences  # the counters are kept apart from the seconds
