"""Time ``eventds build`` stage by stage: the validation and publishing seconds apart.

    python benchmarks/publish_speed.py                      # the embedded corpus
    python benchmarks/publish_speed.py --documents 2000     # a generated corpus (~15 sentences a document)

The generated corpus is the one ``tests/test_dask_build.py`` builds (outlets, boilerplate, wire
copy), written once into ``--work``. Each stage's seconds, wall-clock and CPU (this process's,
which a busy machine changes less), are the time from its progress message to the next one;
``validate`` is about 0 when validation runs inside the gather loop (its time is then in the
first stage).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def timed_build(corpus: Optional[Path], out: Path) -> dict[str, float]:
    """Build ``corpus`` into ``out``; return stage -> seconds (and ``total``)."""
    from builder.pipeline import build

    marks: list[tuple[str, float, float]] = []

    def progress(stage: str) -> None:
        if not stage.startswith("document "):
            marks.append((stage, time.perf_counter(), time.process_time()))

    start = (time.perf_counter(), time.process_time())
    summary = build(corpus=corpus, out_dir=out, annotations_dir=out.parent / "no-annotations" if corpus else None, progress=progress)
    end = ("end", time.perf_counter(), time.process_time())
    wall = {name: round(b[1] - a[1], 2) for a, b in zip(marks, [*marks[1:], end]) for name in [a[0]]}
    cpu = {name: round(b[2] - a[2], 2) for a, b in zip(marks, [*marks[1:], end]) for name in [a[0]]}
    return {
        "sentences": summary.sentences,
        "wall seconds": {**wall, "total": round(end[1] - start[0], 2)},
        "cpu seconds": {**cpu, "total": round(end[2] - start[1], 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=0, help="generate a corpus of this many documents (0: the embedded corpus)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/publish_speed"), help="where the corpus and the build go")
    args = parser.parse_args()
    corpus = None
    if args.documents:
        from test_dask_build import generated_corpus

        corpus = args.work / f"corpus-{args.documents}"
        if not corpus.exists():
            generated_corpus(corpus, documents=args.documents, html_every=0)
    out = args.work / f"build-{args.documents or 'embedded'}"
    print(json.dumps(timed_build(corpus, out)))


if __name__ == "__main__":
    main()
