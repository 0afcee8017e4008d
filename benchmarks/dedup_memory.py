"""Peak memory of the near-duplicate index: the compact one against the one before it.

    python benchmarks/dedup_memory.py [--sizes 100000 300000 1000000] [--old-up-to 300000]

Feeds N generated news-like sentences (Zipf-distributed words over a made-up vocabulary,
names, places, numbers; 2 % of them re-runs of an earlier one with an attribution added; all
texts distinct) to a :class:`builder.dedup.NearDuplicateIndex` in one process, asks for its
clusters and document links, and prints the peak resident memory (``ru_maxrss``) and the
times. The index before this one (``git show HEAD:builder/dedup.py``, or ``--old FILE``) runs
on the same sentences; each run is a fresh subprocess so the peaks are separate. The
clusters' digest shows both found the same ones.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
SYLLABLES = "ka ri mo sal den tor vi lan bru mek sha zin dor pel qua fen ab ul nas ire".split()
FUNCTION = "the of and to a in that on for was with by said at from as it were after had".split()
WORDS = (
    "attack forces base rocket government protest minister militia troops strike killed wounded police officials city "
    "province border army drone convoy embassy ceasefire talks election parliament statement spokesman reporters "
    "residents village hospital market bridge airport"
).split()


def vocabulary(rng: random.Random) -> list[str]:
    """Function words, news words, then 20,000 made-up words: the order is their rank."""
    made = sorted({"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(30000)})
    rng.shuffle(made)
    return FUNCTION + WORDS + made[:20000]


def sentences(n: int, seed: int = 1, reruns: float = 0.02) -> Iterator[tuple[str, str, str]]:
    """``(sentence_id, doc_id, text)`` for ``n`` distinct sentences, about 20 per document.

    Each sentence has a unique (name, place, number) triple, so no two texts are equal; a
    re-run repeats an earlier sentence (regenerated from its seed) with an attribution."""
    rng = random.Random(seed)
    vocab = vocabulary(rng)
    weights = [1 / (k + 1) for k in range(len(vocab))]
    cum, total = [], 0.0
    for w in weights:
        total += w
        cum.append(total)
    names = [f"{a.title()} {b.title()}" for a, b in zip(vocab[60:2060], vocab[2060:4060])]
    places = [p.title() for p in vocab[4060:6060]]

    def base(i: int) -> str:
        r = random.Random(seed * 1_000_003 + i)
        u = (i * 2_654_435_761) % (2000 * 2000 * 1000)  # a bijection of i below 4e9: a unique triple
        name, place, number = names[u % 2000], places[(u // 2000) % 2000], u // 4_000_000 + 1
        words = r.choices(vocab, cum_weights=cum, k=r.randint(8, 22))
        cut = r.randrange(len(words))
        return f"{' '.join(words[:cut]).capitalize()} {name} in {place} {number:,} {' '.join(words[cut:])}."

    for i in range(n):
        if i > 100 and rng.random() < reruns:
            j = rng.randrange(i)
            text = f"{base(j)[:-1]}, {names[i % 2000]} told reporters on day {i}."
        else:
            text = base(i)
        yield f"doc{i // 20:07d}-{hashlib.sha1(text.encode()).hexdigest()[:12]}", f"doc{i // 20:07d}", text


def load_old(path: Path):
    spec = importlib.util.spec_from_file_location("builder._old_dedup", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["builder._old_dedup"] = module
    spec.loader.exec_module(module)
    return module


def child(impl: str, n: int, old_path: str) -> None:
    """Index ``n`` sentences with one implementation; print one JSON line of figures."""
    import builder.dedup as new

    module = load_old(Path(old_path)) if impl == "old" else new
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    index = module.NearDuplicateIndex()
    t0 = time.perf_counter()
    for sid, doc, text in sentences(n):
        index.add_signature(sid, doc, module.signature(text, index.params))
    t1 = time.perf_counter()
    clusters = index.clusters()
    links = list(index.document_links())
    t2 = time.perf_counter()
    digest = hashlib.sha1(json.dumps([clusters, links]).encode()).hexdigest()[:12]
    spilled = sum(f.stat().st_size for f in index.spill_folder.iterdir()) if impl == "new" else 0
    print(json.dumps({
        "impl": impl, "n": n, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "start_mib": before / 1024,
        "add_s": t1 - t0, "clusters_s": t2 - t1, "clusters": len(clusters), "members": sum(map(len, clusters)), "digest": digest,
        "disk_mib": spilled / 2**20,
    }))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--old-up-to", type=int, default=300_000, help="run the old index only up to this size (~10 KiB a sentence)")
    parser.add_argument("--old", type=Path, help="the old builder/dedup.py (default: the one of git HEAD)")
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--old-path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]), args.old_path)
        return
    old = args.old
    if old is None:
        old = Path("/tmp") / "old_dedup_head.py"
        old.write_text(subprocess.run(["git", "-C", str(ROOT), "show", "HEAD:builder/dedup.py"], check=True, capture_output=True, text=True).stdout)
    print(f"{'index':5} {'sentences':>10} {'peak RSS MiB':>12} {'at start':>8} {'B/sentence':>10} {'add s':>7} {'clusters s':>10} {'clusters':>8} {'members':>8} {'disk MiB':>8}  digest")
    for n in args.sizes:
        for impl in ("old", "new"):
            if impl == "old" and n > args.old_up_to:
                continue
            out = subprocess.run([sys.executable, __file__, "--child", impl, str(n), "--old-path", str(old)], check=False, capture_output=True, text=True, cwd=ROOT)
            if out.returncode:
                print(f"{impl:5} {n:>10,} failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            per = (r["rss_mib"] - r["start_mib"]) * 2**20 / n
            print(
                f"{impl:5} {n:>10,} {r['rss_mib']:>12,.0f} {r['start_mib']:>8,.0f} {per:>10,.0f} {r['add_s']:>7.1f} {r['clusters_s']:>10.1f} "
                f"{r['clusters']:>8,} {r['members']:>8,} {r['disk_mib']:>8,.0f}  {r['digest']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
