"""How well ingestion and cleaning separate article text from scrape noise, on pages from
outlets the rules were not written for (``tests/data/cleaning/``, written blind).

The pages are ingested together as one corpus (so that boilerplate shared by pages of one
outlet can be learned, as in a real crawl), cleaned and segmented. Per form (HTML, plain
text) it prints:

- content kept: the share of gold body paragraphs whose text is in the cleaned article;
- noise published: the share of gold noise strings published: a kept line that is the noise
  string, or, for a string of 15 characters or more (a comment, a caption), a kept line
  outside the body content and the title that contains it (short strings such as a menu
  item "Mali" also occur as words of the article, so they count only as whole lines);
- title and date: the share of pages whose stated title and date the metadata gives;
- repeated sentences: sentences that occur twice in one document;

each for the templates the rules were revised on (dev), the templates never looked at
(held_out, ``splits.json``), and all.

    python benchmarks/cleaning.py            # table
    python benchmarks/cleaning.py --json     # figures as JSON
    python benchmarks/cleaning.py --misses   # also list every lost paragraph and published noise
    python benchmarks/cleaning.py --set tests/data/cleaning_blind2   # the set no rule was revised on
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from builder.clean import clean  # noqa: E402
from builder.ingest import read_articles  # noqa: E402
from builder.segment import segment  # noqa: E402

DATA = ROOT / "tests" / "data" / "cleaning"
_SPACE = re.compile(r"\s+")


def norm(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def load_gold(folder: Path = DATA) -> dict[str, dict]:
    gold = {}
    for line in (folder / "gold.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            g = json.loads(line)
            gold[Path(g["file"]).stem] = g
    return gold


def measure(folder: Path = DATA) -> dict:
    """Clean every page of ``folder/pages`` as one corpus and score it against ``gold.jsonl``."""
    gold = load_gold(folder)
    articles = list(clean(read_articles(folder / "pages")))
    by_id = {a.id: a for a in articles}
    missing = sorted(set(gold) - set(by_id))
    if missing:
        raise SystemExit(f"pages not ingested: {missing}")
    sentences = defaultdict(list)
    for s in segment(articles):
        sentences[s.doc_id].append(s.text)

    splits_file = folder / "splits.json"
    splits = json.loads(splits_file.read_text(encoding="utf-8")) if splits_file.exists() else {"dev": [], "held_out": []}
    split_of = {t: name for name in ("dev", "held_out") for t in splits[name]}
    tally: dict[str, Counter] = defaultdict(Counter)
    misses: list[str] = []
    for doc_id, g in sorted(gold.items()):
        form, article = g["form"], by_id[doc_id]
        split = split_of.get(g["template"], "untouched")
        for key in (form, f"{split}: {form}", split):
            tally[key]["pages"] += 0  # every group listed, in order
        t = _Many([tally[form], tally[f"{split}: {form}"], tally[split]])
        kept_lines = [norm(p) for p in article.text.split("\n\n")]
        content = [norm(p) for p in g["content"]]
        kept_text = " ".join(kept_lines)
        t["pages"] += 1
        for para in content:
            t["content"] += 1
            if para in kept_text:
                t["content_kept"] += 1
            else:
                misses.append(f"{split} {g['file']}: content lost: {para[:100]!r}")
        title = norm(g["title"]) if g.get("title") else None
        other = [line for line in kept_lines if line != title and not any(line in c or c in line for c in content)]
        lines = set(kept_lines)
        for noise in {norm(n) for n in g["noise"]}:
            t["noise"] += 1
            if noise in lines or (len(noise) >= 15 and any(noise in line for line in other)):
                t["noise_published"] += 1
                misses.append(f"{split} {g['file']}: noise published: {noise[:100]!r}")
        meta = article.meta
        if g.get("title"):
            t["titles"] += 1
            t["title_found"] += int(meta.title is not None and norm(meta.title) == title)
        if g.get("published"):
            t["dates"] += 1
            t["date_found"] += int((meta.published or "")[:10] == g["published"])
            if (meta.published or "")[:10] != g["published"]:
                misses.append(f"{split} {g['file']}: date {meta.published!r}, page states {g['published']!r}")
        repeated = [s for s, n in Counter(sentences[doc_id]).items() if n > 1]
        t["repeated_sentences"] += len(repeated)
        misses += [f"{split} {g['file']}: sentence repeated: {s[:100]!r}" for s in repeated]

    def share(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None

    figures = {}
    tally["all"] = tally["html"] + tally["text"]
    for form in ["html", "text", "dev: html", "dev: text", "dev", "held_out: html", "held_out: text", "held_out", "all"]:
        if form not in tally or (form != "all" and not tally[form]["pages"]):
            continue
        t = tally[form]
        figures[form] = {
            "pages": t["pages"],
            "content_paragraphs": t["content"],
            "content_kept": share(t["content_kept"], t["content"]),
            "noise_strings": t["noise"],
            "noise_published": share(t["noise_published"], t["noise"]),
            "title_from_metadata": share(t["title_found"], t["titles"]),
            "date_from_metadata": share(t["date_found"], t["dates"]),
            "repeated_sentences": t["repeated_sentences"],
        }
    return {"figures": figures, "misses": misses}


class _Many:
    """Adds to several counters at once."""

    def __init__(self, counters: list[Counter]):
        self.counters = counters

    def __getitem__(self, key: str) -> int:
        return self.counters[0][key]

    def __setitem__(self, key: str, value: int) -> None:
        delta = value - self.counters[0][key]
        for c in self.counters:
            c[key] += delta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--misses", action="store_true")
    parser.add_argument("--set", type=Path, default=DATA, help="a folder with pages/ and gold.jsonl (default: tests/data/cleaning)")
    args = parser.parse_args(argv)
    result = measure(args.set)
    if args.json:
        print(json.dumps(result if args.misses else result["figures"], indent=2, ensure_ascii=False))
        return 0
    cols = ["pages", "content_paragraphs", "content_kept", "noise_strings", "noise_published", "title_from_metadata", "date_from_metadata", "repeated_sentences"]
    print("| form | " + " | ".join(c.replace("_", " ") for c in cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for form, f in result["figures"].items():
        print(f"| {form} | " + " | ".join("-" if f[c] is None else str(f[c]) for c in cols) + " |")
    if args.misses:
        print()
        print("\n".join(result["misses"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
