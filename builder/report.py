"""Quality report: how good are the weak labels against the human layer?

Per type precision / recall / F1 of the weak layer at trigger level (exact and overlap) and
sentence level, the share of pre-annotations accepted unchanged, and, per labelling
function, coverage, overlaps, conflicts and accuracy against gold (the columns of Snorkel's
``LFAnalysis.lf_summary``), from the functions' votes (:mod:`builder.weak.votes`; the
functions run again only when there are none). Written as ``quality.json``, an HTML page
and PNG plots.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional, Sequence

from .evaluate import match, score
from .io import atomic_open, read_jsonl, write_json
from .labelset import HUMAN_STATUSES, event_types
from .weak import VETO, Span, WeakLabeller, span_groups


#: What each column of the labelling-function table means (shown on the report page).
DEFINITIONS = {
    "sentences": "human-annotated sentences the function ran on",
    "spans": "spans the function emitted on them",
    "coverage": "share of the sentences where the function emits at least one span (covered / sentences)",
    "overlaps": "share of the sentences where a span of the function overlaps a span of another function",
    "conflicts": "share of the sentences where a span of the function overlaps another function's span of a different label",
    "accuracy": "share of its spans that overlap a gold event of the same type (correct / spans); for a veto, share that overlap no gold event",
}
#: Wrong spans listed per function and label.
EXAMPLES_KEPT = 3


def lf_summary(
    texts: list[str], gold: list[list[dict]], votes: Sequence[Mapping[str, Sequence[Span]]], names: Sequence[str], ids: Optional[list[str]] = None
) -> dict[str, dict[str, Any]]:
    """Per labelling function: the counts and rates of :data:`DEFINITIONS`, and up to
    :data:`EXAMPLES_KEPT` wrong spans per label (``wrong``: ``{label: [{id, text, span, start,
    end, gold}]}``, where ``gold`` lists the gold events the span overlaps).

    Args:
        votes: per text, each function's spans (``doc.spans`` of an annotated doc, or read
            from a votes folder).
        names: the functions, in order.
    """
    per_lf: dict[str, Counter] = defaultdict(Counter)
    wrong: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for k, (text, g_events, groups) in enumerate(zip(texts, gold, votes)):
        spans = {name: [(label, start, end) for start, end, label, _ in groups.get(name, ())] for name in names}
        for name in names:
            mine = spans[name]
            c = per_lf[name]
            c["sentences"] += 1
            if not mine:
                continue
            c["covered"] += 1
            others = [s for n in names if n != name for s in spans[n]]
            overlapping = [(a, b) for a in mine for b in others if a[1] < b[2] and b[1] < a[2]]
            c["overlapping"] += bool(overlapping)
            c["conflicting"] += any(a[0] != b[0] for a, b in overlapping)
            for label, start, end in mine:
                c["spans"] += 1
                touched = [g for g in g_events if g["start"] < end and start < g["end"]]
                hit = any(label == VETO or g["type"] == label for g in touched)
                correct = (not hit) if label == VETO else hit
                c["correct"] += correct
                if not correct and len(wrong[name][label]) < EXAMPLES_KEPT:
                    wrong[name][label].append({
                        "id": ids[k] if ids else k, "text": text, "span": text[start:end], "start": start, "end": end,
                        "gold": [f"{g['type']} {g['text']!r}" for g in touched],
                    })
    out = {}
    for name in names:
        c = per_lf[name]
        n = c["sentences"] or 1
        out[name] = {
            "sentences": c["sentences"],
            "spans": c["spans"],
            "covered": c["covered"],
            "coverage": round(c["covered"] / n, 4),
            "overlapping": c["overlapping"],
            "overlaps": round(c["overlapping"] / n, 4),
            "conflicting": c["conflicting"],
            "conflicts": round(c["conflicting"] / n, 4),
            "correct": c["correct"],
            "accuracy": round(c["correct"] / c["spans"], 4) if c["spans"] else None,
            "wrong": {label: examples for label, examples in sorted(wrong[name].items())},
        }
    return out


def _lf_table(texts: list[str], gold: list[list[dict]], ids: list[str], labeller: Optional[WeakLabeller], votes: Optional[Path]) -> dict[str, dict[str, Any]]:
    groups = span_groups(zip(ids, texts), votes, labeller)
    return lf_summary(texts, gold, [groups.docs[i].spans for i in ids], groups.names, ids)


def confusion(pairs: Iterable[tuple[list[dict], list[dict]]]) -> dict[str, dict[str, int]]:
    """Gold type (rows, plus ``none``) against weak type (columns, plus ``none``), matched by overlap regardless of type."""
    labels = [*event_types(), "none"]
    matrix = {g: {p: 0 for p in labels} for g in labels}
    for gold, pred in pairs:
        pairs_ = match(gold, pred, "overlap", typed=False)
        mg, mp = {i for i, _ in pairs_}, {j for _, j in pairs_}
        for i, j in pairs_:
            matrix[gold[i]["type"]][pred[j]["type"]] += 1
        for i, g in enumerate(gold):
            if i not in mg:
                matrix[g["type"]]["none"] += 1
        for j, p in enumerate(pred):
            if j not in mp:
                matrix["none"][p["type"]] += 1
    return matrix


def quality(records_path: Path, manifest: Optional[dict] = None, labeller: Optional[WeakLabeller] = None, votes: Optional[Path] = None) -> dict[str, Any]:
    """Compute every figure of the report from a records file.

    Args:
        labeller: runs the functions for the labelling-function table when there is no
            ``votes`` folder (a new one by default).
        votes: a votes folder holding the functions' votes on the records; no function runs.
    """
    texts, ids, gold, weak, split_counts = [], [], [], [], defaultdict(Counter)
    for _, r in read_jsonl(records_path):
        split = (manifest or {}).get("documents", {}).get(r["doc_id"], {}).get("split", "unassigned")
        split_counts[split].update(e["type"] for e in r["events"])
        if r["status"] in HUMAN_STATUSES:
            texts.append(r["text"])
            ids.append(r["id"])
            gold.append(r["events"])
            weak.append(r["weak_events"])
    scores = score(zip(gold, weak)).to_dict()
    n_weak = sum(len(w) for w in weak)
    unchanged = sum(
        1 for g, w in zip(gold, weak) for e in w if any((e["type"], e["start"], e["end"]) == (x["type"], x["start"], x["end"]) for x in g)
    )
    return {
        "human_sentences": len(gold),
        "gold_events": sum(len(g) for g in gold),
        "weak_events": n_weak,
        "accepted_unchanged": round(unchanged / n_weak, 4) if n_weak else None,
        "per_type": {t: scores["trigger_overlap"]["per_type"][t] for t in event_types()},
        "scores": scores,
        "accepted_unchanged_count": unchanged,
        "labelling_functions": _lf_table(texts, gold, ids, labeller, votes) if texts else {},
        "definitions": DEFINITIONS,
        "confusion": confusion(zip(gold, weak)),
        "label_distribution": {s: {t: c[t] for t in event_types()} for s, c in sorted(split_counts.items())},
    }


def _plots(q: dict[str, Any], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    types = list(event_types())

    fig, ax = plt.subplots(figsize=(6, 3.5))
    splits = list(q["label_distribution"])
    width = 0.8 / max(1, len(splits))
    for k, split in enumerate(splits):
        ax.bar([i + k * width for i in range(len(types))], [q["label_distribution"][split][t] for t in types], width, label=split)
    ax.set_xticks([i + width * (len(splits) - 1) / 2 for i in range(len(types))], types)
    ax.set_ylabel("events")
    ax.set_title("Label distribution per split")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "label_distribution.png", dpi=110)
    plt.close(fig)
    files.append("label_distribution.png")

    lfs = q["labelling_functions"]
    if lfs:
        names = list(lfs)
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.bar([i - 0.2 for i in range(len(names))], [lfs[n]["coverage"] for n in names], 0.4, label="coverage")
        ax.bar([i + 0.2 for i in range(len(names))], [lfs[n]["accuracy"] or 0 for n in names], 0.4, label="accuracy vs gold")
        ax.set_xticks(range(len(names)), names, rotation=20, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title("Labelling functions")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "labelling_functions.png", dpi=110)
        plt.close(fig)
        files.append("labelling_functions.png")

    labels = [*types, "none"]
    matrix = [[q["confusion"][g][p] for p in labels] for g in labels]
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("weak label")
    ax.set_ylabel("gold")
    for i, row in enumerate(matrix):
        for j, v in enumerate(row):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8)
    ax.set_title("Confusion between types (overlap match)")
    fig.tight_layout()
    fig.savefig(out / "confusion.png", dpi=110)
    plt.close(fig)
    files.append("confusion.png")
    return files


def _html_table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(q: dict[str, Any], out: Path) -> list[Path]:
    """Write ``quality.json``, PNG plots and ``index.html`` into ``out``; return the files."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "quality.json", q)
    images = _plots(q, out)
    s = q["scores"]
    def prf(c: dict) -> str:
        return f"{c['precision']:.2f} / {c['recall']:.2f} / {c['f1']:.2f} (tp {c['tp']}, fp {c['fp']}, fn {c['fn']})"

    type_rows = [[t, *(prf(s[k]["per_type"][t]) for k in ("trigger_exact", "trigger_overlap", "sentence"))] for t in event_types()]
    lfs = q["labelling_functions"]

    def rate(v: dict, key: str, count: str, of: str) -> str:
        return "-" if v[key] is None else f"{v[key]:.2f} ({v[count]}/{v[of]})"

    lf_rows = [
        [n, v["sentences"], v["spans"], rate(v, "coverage", "covered", "sentences"), rate(v, "overlaps", "overlapping", "sentences"),
         rate(v, "conflicts", "conflicting", "sentences"), rate(v, "accuracy", "correct", "spans")]
        for n, v in lfs.items()
    ]
    definitions = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in DEFINITIONS.items())
    example_rows = [
        [n, label, e["id"], f"{e['span']} [{e['start']}, {e['end']})", "; ".join(e["gold"]) or "no gold event", e["text"]]
        for n, v in lfs.items() for label, examples in v["wrong"].items() for e in examples
    ]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>eventds weak-label quality</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:.3em .6em;text-align:right}}td:first-child,th:first-child{{text-align:left}}</style></head><body>
<h1>Weak labels against the human layer</h1>
<p>{q['human_sentences']} human-annotated sentences, {q['gold_events']} gold events, {q['weak_events']} weak events;
share of pre-annotations accepted unchanged: <b>{q['accepted_unchanged']}</b> ({q['accepted_unchanged_count']} of {q['weak_events']}).</p>
<h2>Per type (precision / recall / F1, with the counts)</h2>
{_html_table(["type", "trigger exact", "trigger overlap", "sentence"], type_rows)}
<h2>Labelling functions</h2>
{_html_table(["function", "sentences", "spans", "coverage", "overlaps", "conflicts", "accuracy"], lf_rows)}
<dl>{definitions}</dl>
<h2>Wrong spans (up to {EXAMPLES_KEPT} per function and label)</h2>
{_html_table(["function", "label", "sentence", "span", "gold events it overlaps", "text"], example_rows)}
{"".join(f'<p><img src="{html.escape(i)}" alt="{html.escape(i)}"></p>' for i in images)}
</body></html>
"""
    with atomic_open(out / "index.html") as fh:
        fh.write(page)
    return [out / "quality.json", out / "index.html", *(out / i for i in images)]


def write_no_human_report(out: Path, reason: str) -> list[Path]:
    """Write a report that says there is nothing to measure the weak labels against, so that
    a report of an earlier build never stands beside records it does not describe."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "quality.json", {"human_sentences": 0, "reason": reason})
    with atomic_open(out / "index.html") as fh:
        fh.write(
            '<!doctype html><html><head><meta charset="utf-8"><title>eventds weak-label quality</title></head><body>\n'
            f"<h1>Weak labels against the human layer</h1>\n<p>No human layer: {html.escape(reason)}.</p>\n</body></html>\n"
        )
    return [out / "quality.json", out / "index.html"]

