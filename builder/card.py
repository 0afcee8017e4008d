"""The dataset card (``README.md``) and the dataset's ``LICENSE`` of a published folder.

Everything the card says is computed from what is published: the records (counts per split,
status and guidelines version, the example row), the data files (sizes), the shipped
guidelines (label definitions from ``guidelines/labels.json``, decision rules and changelog
from ``guidelines/GUIDELINES.md``) and the figures handed over by the build (``agreement``,
``quality``, ``provenance``, ``corpus``, ``release``). Nothing is hard-coded that could drift
from the data.

YAML fields a trainer filters on (Hub vocabularies, as listed in ``datasets/utils/resources``
and the Hub's task list):

- ``license: other`` with ``license_name`` and ``license_link: LICENSE``: the annotations are
  under the project's licence (MIT), the news texts under their publishers' copyright and no
  licence (see :func:`dataset_license`);
- ``annotations_creators``: ``machine-generated`` (the weak layer, and a human layer made by AI
  annotators), ``expert-generated`` (a human layer made by people, or adjudicated sentences);
- ``language_creators: found``, ``multilinguality: monolingual``, ``source_datasets: original``;
- ``size_categories``: the Hub bucket of the number of sentences;
- ``task_categories``: ``token-classification`` (``spans``, ``bio``, ``ee``) and
  ``text-classification`` (``labels``); ``task_ids``: ``multi-label-classification`` only. The
  Hub has no task id for event extraction, and ``named-entity-recognition`` would be wrong
  (triggers are events, not entities): ``event-extraction`` is a tag instead;
- ``version``: the release version (``publish --version``), else ``0.0.0-dev+<digest of the
  data files>``, so that two unversioned folders with other data never share a version;
- ``configs``: per config, its data files as ``data/<config>/<split>-*`` (shards
  ``<split>-0000K-of-0000N.parquet``) and a ``description`` naming the sha256 of its files'
  bytes: ``datasets`` caches a local folder under its name and card, so a rebuilt folder with
  other rows must have another card (see :func:`content_digests`);
- ``dataset_info``: per config and split, ``num_bytes`` (the split's in-memory Arrow size, as
  ``datasets`` defines it) and ``num_examples``; ``download_size`` (the parquet files' bytes) and
  ``dataset_size`` per config.
"""

from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .clean import holds_any, lowered, needed_text
from .labelset import HUMAN_STATUSES, event_types, guidelines, guidelines_version, project_file
from .split import SPLITS

CARD_NAME = "README.md"
STATS_NAME = "stats.json"
LICENSE_NAME = "LICENSE"
PRETTY_NAME = "Conflict events in news (eventds)"
#: ``license_name`` of the card: annotations MIT, news texts not licensed (their publishers' copyright).
LICENSE_SLUG = "annotations-mit-texts-publishers-copyright"
CODE_LICENSE = "MIT"
CITATION_KEY = "eventds_conflict_events"

#: The Hub's size buckets (``datasets/utils/resources/size_categories.json``), upper bounds exclusive.
SIZE_BUCKETS = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"))

#: Words in a published sentence that would state a licence or a permission (none is expected in news text).
_LICENCE_MARKERS = re.compile(r"(?i)\blicen[cs]e[ds]?\b|creative commons|\bcc[ -]by\b|public domain|copyright|©|all rights reserved|reproduced with permission")
#: One of these is in every text the markers are found in (lower-cased): a sentence holding none is not searched.
_LICENCE_NEEDS = needed_text(_LICENCE_MARKERS.pattern, 0)


def size_category(n: int) -> str:
    """The Hub's ``size_categories`` bucket of ``n`` examples."""
    for bound, name in SIZE_BUCKETS:
        if n < bound:
            return name
    return "n>1B"


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("eventds")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def dataset_version(extra: dict, digests: dict[str, str]) -> str:
    """The release version, or ``0.0.0-dev+<12 hex>`` (a digest of the data files' content digests).

    Args:
        extra: the build's figures; ``release`` holds the release version.
        digests: config -> the sha256 of its data files (:func:`content_digests`).
    """
    release = extra.get("release") or {}
    if release.get("version"):
        return str(release["version"])
    digest = hashlib.sha256("\n".join(f"{c} {d}" for c, d in sorted(digests.items())).encode("utf-8")).hexdigest()[:12]
    return f"0.0.0-dev+{digest}"


def content_digests(folder: Path, files: dict[tuple[str, str], list[str]]) -> dict[str, str]:
    """Config -> sha256 (hex) of its data files' bytes, split by split and shard by shard in order.

    ``datasets`` keys its cache of a local folder on the card (data file patterns, features,
    sizes), not on the files' content: the card carries this digest so that a folder rebuilt
    with other rows is read again rather than served from the cache."""
    digests: dict[str, str] = {}
    for config in dict.fromkeys(c for c, _ in files):
        h = hashlib.sha256()
        for split in SPLITS:
            for rel in files.get((config, split), ()):
                h.update(f"{rel}\n".encode())
                with open(Path(folder) / rel, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        h.update(chunk)
        digests[config] = h.hexdigest()
    return digests


def data_files_pattern(config: str, split: str) -> str:
    """The card's ``data_files`` path of a config's split: every shard of it."""
    return f"data/{config}/{split}-*"


def uses_ai_annotators(provenance: str | None) -> bool:
    """Whether the human layer's ``PROVENANCE.md`` says it was made by AI annotators."""
    return bool(provenance) and re.search(r"\bAI annotators?\b", provenance) is not None


def annotations_creators(stats: Any, extra: dict) -> list[str]:
    """``machine-generated`` for the weak layer (every record has one) and for a human layer
    made by AI annotators; ``expert-generated`` for a human layer made by people, and for
    adjudicated sentences (adjudication is by the maintainer)."""
    if extra.get("annotations_creators"):
        return list(extra["annotations_creators"])
    creators = {"machine-generated"}
    human = any(stats.status[s] for s in HUMAN_STATUSES)
    if human and (not uses_ai_annotators(extra.get("provenance")) or stats.status["adjudicated"]):
        creators.add("expert-generated")
    return sorted(creators)


# --- YAML ---------------------------------------------------------------------------------------


#: How many data files :func:`split_sizes` reads at once.
SIZE_THREADS = 2


def split_sizes(folder: Path, files: dict[tuple[str, str], list[str]]) -> dict[tuple[str, str], tuple[int, int]]:
    """``(config, split) -> (Arrow bytes, parquet file bytes)`` of the written data files (every shard)."""
    import pyarrow.parquet as pq

    def arrow_bytes(path: Path) -> int:  # one row group at a time: a whole shard would sit in memory
        parquet = pq.ParquetFile(path)
        return sum(parquet.read_row_group(i).nbytes for i in range(parquet.num_row_groups))

    paths = {key: [Path(folder) / rel for rel in shards] for key, shards in files.items()}
    # a shard per thread: Arrow decodes without holding the interpreter (at 1M sentences, 4.0 s instead of 5.7)
    with ThreadPoolExecutor(max_workers=SIZE_THREADS) as pool:
        decoded = {key: [pool.submit(arrow_bytes, path) for path in shards] for key, shards in paths.items()}
        return {key: (sum(f.result() for f in decoded[key]), sum(p.stat().st_size for p in shards)) for key, shards in paths.items()}


def card_metadata(features: dict, stats: Any, files: dict[tuple[str, str], list[str]], extra: dict | None = None,
                  sizes: dict[tuple[str, str], tuple[int, int]] | None = None, default_config: str = "spans",
                  digests: dict[str, str] | None = None):
    """The card's YAML metadata, via ``huggingface_hub``'s and ``datasets``' own classes.

    Args:
        features: config -> ``datasets.Features``, in config order.
        stats: the :class:`builder.publish.PublishStats` of the folder.
        files: (config, split) -> its data files (shards), relative to the folder.
        extra: the build's figures (``release``, ``provenance``, ...).
        sizes: (config, split) -> (Arrow bytes, parquet bytes) (:func:`split_sizes`).
        default_config: the config marked ``default``.
        digests: config -> content digest (:func:`content_digests`); each config's
            ``description`` names it.

    Returns:
        ``huggingface_hub.DatasetCardData``.
    """
    from datasets import DatasetInfo, SplitInfo
    from datasets.info import DatasetInfosDict
    from datasets.splits import SplitDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    extra = extra or {}
    sizes = sizes or {}
    digests = digests or {}
    card_data = DatasetCardData(
        pretty_name=PRETTY_NAME,
        language=["en"],
        license="other",
        license_name=LICENSE_SLUG,
        license_link=LICENSE_NAME,
        annotations_creators=annotations_creators(stats, extra),
        language_creators=["found"],
        multilinguality=["monolingual"],
        size_categories=[size_category(sum(stats.sentences.values()))],
        source_datasets=["original"],
        task_categories=["token-classification", "text-classification"],
        task_ids=["multi-label-classification"],
        tags=["event-extraction", "conflict", "news", "weak-supervision"],
        version=dataset_version(extra, digests),
    )
    present = [s for s in SPLITS if stats.sentences[s]]
    infos = {}
    for config, config_features in features.items():
        splits = SplitDict()
        for split in present:
            rows = len(stats.documents[split]) if config == "documents" else stats.sentences[split]
            splits.add(SplitInfo(name=split, num_bytes=sizes.get((config, split), (0, 0))[0], num_examples=rows))
        infos[config] = DatasetInfo(
            features=config_features, splits=splits,
            download_size=sum(sizes.get((config, s), (0, 0))[1] for s in present),
            dataset_size=sum(sizes.get((config, s), (0, 0))[0] for s in present),
        )
    DatasetInfosDict(infos).to_dataset_card_data(card_data)
    MetadataConfigs(
        {
            config: {
                **({"default": True} if config == default_config else {}),
                **({"description": f"eventds {config}, data sha256:{digests[config]}"} if config in digests else {}),
                "data_files": [{"split": s, "path": data_files_pattern(config, s)} for s in present],
            }
            for config in features
        }
    ).to_dataset_card_data(card_data)
    return card_data


# --- The guidelines, summarised -------------------------------------------------------------------

_RULE = re.compile(r"^(?:- )?\*\*(?P<id>[A-Z][a-z]?-?\d+)\.(?P<title>[^*]*)\*\*(?P<rest>.*)$")
_RULE_GROUPS = (("G", "General trigger rules"), ("S-", "STRIKE"), ("A-", "ATTACK"), ("C-", "CASUALTY"),
                ("Th-", "THREAT"), ("T-", "THREAT"), ("R-", "Argument spans"))


def _plain(text: str) -> str:
    return re.sub(r"\*\*", "", text).strip().rstrip(":").strip()


def _first_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of ``text`` without its parentheticals, at most ``limit`` characters."""
    text = re.sub(r"\s*\([^()]*\)", "", _plain(text))
    first = re.split(r"(?<=[.:])\s", text, maxsplit=1)[0].rstrip(".:")
    if len(first) > limit and "; " in first:
        first = first.split("; ")[0]
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0] + " ..."
    if first.count("`") % 2:
        first = first.replace("`", "")
    return first


def guideline_rules() -> list[tuple[str, str, str]]:
    """``(group, rule id, summary)`` of every numbered rule of ``GUIDELINES.md``: its bold
    title (continued when the sentence goes on after it), or for a rule without a title its
    first sentence, parentheticals left out."""
    text = project_file("guidelines", "GUIDELINES.md").read_text(encoding="utf-8")
    rules = []
    for line in text.splitlines():
        m = _RULE.match(line.strip())
        if not m:
            continue
        rid, title, rest = m["id"], _plain(m["title"]).rstrip("."), m["rest"].strip()
        if len(title) < 3:
            title = _first_sentence(rest)
        elif rest[:1].islower():  # the bold part is the start of a sentence: keep its end
            title = _first_sentence(f"{title} {rest}")
        elif rest[:1] == ",":
            title = _first_sentence(f"{title}{rest}")
        elif len(title.split()) <= 3 and (rest[:1].isalnum() or rest[:1] == "`"):  # a terse title: say what it decides
            title = f"{title}: {_first_sentence(rest, 160)}"
        group = next(name for prefix, name in _RULE_GROUPS if rid.startswith(prefix))
        rules.append((group, rid, title.rstrip(".")))
    return rules


def guideline_changes() -> list[tuple[str, str, str]]:
    """``(version, date, summary)`` of the guidelines' changelog, newest first: the entry's
    first sentence and what it says of existing annotations."""
    text = project_file("guidelines", "GUIDELINES.md").read_text(encoding="utf-8")
    rows = []
    for m in re.finditer(r"^\| (\d+\.\d+\.\d+) \| ([^|]+) \| (.+) \|$", text, re.MULTILINE):
        sentences = re.split(r"(?<=\.)\s+(?=[A-Z])", m[3].strip())
        kept = [sentences[0]] + [x for x in sentences[1:] if re.match(r"(Existing annotations|What gets annotated)", x)]
        rows.append((m[1], m[2].strip(), " ".join(kept)))
    return rows


def _vkey(v: str) -> tuple:
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        return (-1,)


def label_section() -> str:
    """Label definitions (``labels.json``) and decision rules (``GUIDELINES.md``)."""
    g = guidelines()
    types = list(event_types())
    defs = g.get("event_types", {})
    rows = [[i, f"`{t}`", defs.get(t, {}).get("hint", "")] for i, t in enumerate(types)]
    from .labelset import argument_roles, realis_values

    realis = [[i, f"`{v}`", g.get("realis", {}).get(v, {}).get("hint", "")] for i, v in enumerate(realis_values())]
    roles_hints = g.get("argument_roles", {})
    roles = [[f"`{r}`", ", ".join(roles_hints.get(r, {}).get("types", [])), roles_hints.get(r, {}).get("hint", "")] for r in argument_roles()]
    by_group: dict[str, list[str]] = {}
    for group, rid, summary in guideline_rules():
        by_group.setdefault(group, []).append(f"{rid} {summary}")
    rules = "\n".join(f"- **{group}**: " + "; ".join(items) + "." for group, items in by_group.items())
    return (
        f"## Labels and how they were decided\n\n"
        f"Summarised from the annotation guidelines version `{guidelines_version()}` (`guidelines/labels.json` and "
        "`guidelines/GUIDELINES.md` in the source repository, which give examples and hard cases). A trigger is the "
        "minimal word (or a listed multiword form) that expresses the event; the unit is one sentence, and labels are "
        "decided from its words alone.\n\n"
        "Event types (`events[].type`, `labels`, `ner_tags` as `B-`/`I-` tags); the number is the `ClassLabel` id:\n\n"
        + _table(["id", "type", "definition"], rows)
        + "\n\nRealis (`events[].realis`; a `ClassLabel` in `ee` and `documents`, a string in `spans`):\n\n"
        + _table(["id", "realis", "definition"], realis)
        + "\n\nArgument roles (`events[].arguments[].role`):\n\n"
        + _table(["role", "of", "definition"], roles)
        + "\n\nDecision rules (rule ids as in the guidelines):\n\n" + rules
    )


def guidelines_section(stats: Any) -> str:
    """Records per status and guidelines version, and why they may differ from the current version."""
    rows = [[f"`{s}`", f"`{v}`", n] for (s, v), n in sorted(stats.status_guidelines.items())]
    current = guidelines_version()
    versions = sorted(stats.guidelines, key=_vkey)
    older = [v for v in versions if _vkey(v) < _vkey(current)]
    text = (
        "## Guidelines version of the records\n\n"
        "Every record carries `guidelines_version`, the version of the guidelines it was annotated under "
        f"(weak labels: the version the labelling functions followed). The guidelines shipped with this build are `{current}`.\n\n"
        + _table(["status", "guidelines_version", "sentences"], rows)
    )
    if older:
        oldest = older[0]
        changes = [(v, d, c) for v, d, c in guideline_changes() if _vkey(oldest) < _vkey(v) <= _vkey(current)]
        same_major = all(_vkey(v)[0] == _vkey(current)[0] for v in older)
        text += (
            f"\n\nRecords annotated under an earlier version keep the version they were annotated with; they were not "
            f"re-annotated when the guidelines changed. The changes since `{oldest}`:\n\n"
            + "\n".join(f"- `{v}` ({d}): {c}" for v, d, c in changes)
            + ("\n\nThe guidelines follow semantic versioning and these are MINOR or PATCH versions: by their own rule, "
               "annotations made under the earlier version stay valid under the current one."
               if same_major else "\n\nA MAJOR version lies between them: some earlier annotations may not follow the current rules.")
        )
    return text


# --- Figures -------------------------------------------------------------------------------------


def agreement_section(agreement: dict, stats: Any) -> str:
    rows = [[t, v["exact_f1"], v["overlap_f1"], v["kappa"], v.get("a_events", ""), v.get("b_events", "")] for t, v in agreement["per_type"].items()]
    overall = agreement.get("overall") or {}
    overall_text = (
        f" Over all types: exact F1 {overall.get('exact_f1')}, overlap F1 {overall.get('overlap_f1')}, kappa {overall.get('kappa')}."
        if overall else ""
    )
    return (
        "## Inter-annotator agreement\n\n"
        f"{agreement['sentences']} sentences were annotated twice, independently. Span F1 between the two "
        "annotators (exact and overlapping triggers) and Cohen's kappa on sentence-level labels:\n\n"
        + _table(["type", "exact F1", "overlap F1", "kappa", "events (first)", "events (second)"], rows)
        + f"\n\n{overall_text.strip()} Realis agreement on matched triggers: {agreement.get('realis_agreement')}; argument F1 on matched "
        f"triggers: {agreement.get('argument_f1')}. {len(agreement.get('disagreements', []))} of them differ in any way; "
        f"{stats.status['adjudicated']} published sentences were adjudicated (status `adjudicated`)."
    )


def quality_section(quality: dict) -> str:
    rows = [[t, v.get("tp", ""), v.get("fp", ""), v.get("fn", ""), v["precision"], v["recall"], v["f1"]] for t, v in quality["per_type"].items()]
    scores = quality.get("scores") or {}
    lines = []
    for key, name in (("trigger_exact", "triggers, exact match"), ("trigger_overlap", "triggers, overlap match"), ("sentence", "sentence labels")):
        micro = (scores.get(key) or {}).get("micro")
        if micro:
            lines.append(f"- {name}: micro precision {micro['precision']}, recall {micro['recall']}, F1 {micro['f1']} "
                         f"({micro['tp']} true positives, {micro['fp']} false, {micro['fn']} missed); macro F1 {scores[key].get('macro_f1')}")
    args = scores.get("arguments")
    if args:
        lines.append(f"- arguments: precision {args['precision']}, recall {args['recall']}, F1 {args['f1']} "
                     f"({args['tp']} true positives, {args['fp']} false, {args['fn']} missed)")
    if scores.get("realis_accuracy") is not None:
        lines.append(f"- realis accuracy on matched triggers: {scores['realis_accuracy']}")
    counts = ""
    if quality.get("human_sentences") is not None:
        counts = (f" Over {quality['human_sentences']} human-annotated sentences: {quality.get('gold_events')} human events, "
                  f"{quality.get('weak_events')} weak events.")
    accepted = quality.get("accepted_unchanged", "n/a")
    if quality.get("accepted_unchanged_count") is not None:
        accepted = f"{accepted} ({quality['accepted_unchanged_count']} sentences)"
    return (
        "## Weak-label quality\n\nWeak labels against the human layer, trigger level, overlap match (from the build's "
        f"`report/quality.json`).{counts}\n\n"
        + _table(["type", "TP", "FP", "FN", "precision", "recall", "F1"], rows)
        + ("\n\n" + "\n".join(lines) if lines else "")
        + f"\n\nShare of pre-annotations accepted unchanged: {accepted}."
    )


# --- Licence -------------------------------------------------------------------------------------


#: Up to this many documents the card lists each with what its text states of its source;
#: past it, the card sums them up per outlet (each document's fields are in the ``documents`` config).
LISTED_DOCUMENTS = 100
#: The outlets the card's table and ``LICENSE`` name one by one, those of most documents first;
#: the others are counted together.
LISTED_OUTLETS = 100
_NOT_STATED = "not stated"
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass
class Sources:
    """What the published documents' texts state of their sources (their ``document``
    fields), added once per document: every document's fields while there are at most
    :data:`LISTED_DOCUMENTS`, and per outlet how many documents name an author, a date and
    a URL, with the earliest and latest date. Past that many documents, what it holds grows
    with the outlets, not the documents."""

    documents: int = 0
    listed: Optional[dict[str, tuple]] = field(default_factory=dict)  # doc_id -> (outlet, author, published, url); None past LISTED_DOCUMENTS
    outlets: dict[str, list] = field(default_factory=dict)  # outlet ("" if not stated) -> [documents, with author, with date, with URL, earliest, latest full date]

    def add(self, doc_id: str, meta: dict) -> None:
        """Count one document (once) by its ``document`` fields."""
        fields = (meta.get("outlet") or "", meta.get("author") or "", meta.get("published") or "", meta.get("canonical_url") or meta.get("source_url") or "")
        self.documents += 1
        if self.listed is not None:
            self.listed[doc_id] = fields
            if len(self.listed) > LISTED_DOCUMENTS:
                self.listed = None
        iso = fields[2][:10] if _ISO_DATE.match(fields[2]) else None  # (a date as the text states it may be partial)
        self._count(fields[0], [1, int(bool(fields[1])), int(bool(fields[2])), int(bool(fields[3])), iso, iso])

    def merge(self, other: "Sources") -> None:
        """Add another set of documents (none of them counted here)."""
        self.documents += other.documents
        if self.listed is not None and other.listed is not None and len(self.listed) + len(other.listed) <= LISTED_DOCUMENTS:
            self.listed.update(other.listed)
        else:
            self.listed = None
        for outlet, counts in other.outlets.items():
            self._count(outlet, counts)

    def _count(self, outlet: str, counts: list) -> None:
        mine = self.outlets.get(outlet)
        if mine is None:
            self.outlets[outlet] = list(counts)
            return
        for k in range(4):
            mine[k] += counts[k]
        dates = [d for d in (mine[4], counts[4]) if d]
        mine[4] = min(dates) if dates else None
        dates = [d for d in (mine[5], counts[5]) if d]
        mine[5] = max(dates) if dates else None

    def named_outlets(self) -> list[str]:
        """The outlets documents name, those of most documents first (then by name)."""
        return [o for o, _ in sorted(((o, c) for o, c in self.outlets.items() if o), key=lambda oc: (-oc[1][0], oc[0]))]

    def with_outlet(self) -> int:
        return self.documents - self.outlets.get("", [0])[0]

    def with_author(self) -> int:
        return sum(c[1] for c in self.outlets.values())


def licence_evidence(stats: Any) -> tuple[list[str], list[list[Any]], int]:
    """What the published documents' texts say of their sources (``document`` fields, given
    only where the text states them): a table's header and rows, per document up to
    :data:`LISTED_DOCUMENTS` documents, per outlet past them; and how many published
    sentences carry a licence or permission statement."""
    sources: Sources = stats.sources
    if sources.listed is not None:
        rows = [[f"`{doc_id}`", *(v or _NOT_STATED for v in fields)] for doc_id, fields in sorted(sources.listed.items())]
        return ["document", "outlet", "author", "published", "URL"], rows, stats.licence_statements
    rows = []
    outlets = sources.named_outlets()
    for outlet in outlets[:LISTED_OUTLETS] + ([""] if "" in sources.outlets else []):
        n, author, dated, url, first, last = sources.outlets[outlet]
        rows.append([outlet or _NOT_STATED, n, author, dated, (first if first == last else f"{first} to {last}") if first else _NOT_STATED, url])
    if len(outlets) > LISTED_OUTLETS:
        rest = [sources.outlets[o] for o in outlets[LISTED_OUTLETS:]]
        rows.insert(LISTED_OUTLETS, [f"{len(rest)} other outlets", sum(c[0] for c in rest), sum(c[1] for c in rest), sum(c[2] for c in rest), "", sum(c[3] for c in rest)])
    return ["outlet", "documents", "with an author", "with a date", "full dates, earliest to latest", "with a URL"], rows, stats.licence_statements


def licence_section(stats: Any, extra: dict) -> str:
    header, rows, statements = licence_evidence(stats)
    sources: Sources = stats.sources
    corpus = extra.get("corpus") or {}
    description = corpus["description"].strip() + "\n\n" if corpus.get("description") else ""
    statement_note = (
        f"{statements} published sentences contain words of a licence or permission statement; read them before reuse."
        if statements else
        "No published sentence states a licence, a copyright waiver or a permission to republish."
    )
    per = (
        "Outlets, authors and dates below are given only where the article text itself states them."
        if sources.listed is not None else
        f"Per outlet, below (more than {LISTED_DOCUMENTS} documents; each document's fields are in the `documents` "
        "config), counted only where the article text itself states them."
    )
    return (
        "## Licence and sources\n\n"
        f"{description}"
        f"YAML `license: other` (`license_name: {LICENSE_SLUG}`, see `{LICENSE_NAME}` in this folder), because the two parts "
        "of the dataset are not under the same terms:\n\n"
        f"- **Annotations** (event spans, types, realis, arguments, counts, sentence labels, splits): "
        f"the `eventds` project's licence, **{CODE_LICENSE}** (the text is in `{LICENSE_NAME}` here and in the source repository).\n"
        "- **Texts** (`text`, `tokens`, the `document` fields): news articles that remain under their publishers' and "
        "authors' copyright. They are **not licensed** by this dataset; they are included to develop and evaluate "
        "annotation tooling. Check your own right to use them (e.g. text-and-data-mining exceptions where you are) "
        "before training or redistributing.\n\n"
        f"Evidence the texts give ({sources.documents} documents; {sources.with_outlet()} name their outlet, {sources.with_author()} an author): "
        f"{statement_note} {per}\n\n"
        + _table(header, rows)
    )


def dataset_license_text(stats: Any, extra: dict) -> str:
    """``LICENSE`` of the published folder: the annotations' licence and the texts' status."""
    sources: Sources = stats.sources
    statements = stats.licence_statements
    outlets = sources.named_outlets()
    named = sorted(outlets[:LISTED_OUTLETS]) + ([f"{len(outlets) - LISTED_OUTLETS} other outlets"] if len(outlets) > LISTED_OUTLETS else [])
    unnamed = sources.documents - sources.with_outlet()
    return (
        f"This dataset has two parts under different terms ({LICENSE_SLUG}).\n\n"
        "1. The texts (the `text` and `tokens` fields and the `document` metadata) are news articles"
        + (f" by {', '.join(named)}" if named else "")
        + (f" ({unnamed} of {sources.documents} documents do not name their outlet)" if unnamed else "")
        + ". They remain under their publishers' and authors' copyright and are NOT licensed by this dataset. "
        + ("No published sentence states a licence or a permission to republish. " if not statements else
           f"{statements} published sentences contain words of a licence or permission statement. ")
        + "Check your own right to use them before training on or redistributing them.\n\n"
        "2. The annotations (event spans, types, realis, arguments, counts, labels, splits) are released under the "
        f"{CODE_LICENSE} licence of the eventds project:\n\n" + code_license_text()
    )


def code_license_text() -> str:
    """The project's licence text (the same as ``LICENSE`` of the source repository, which a test checks)."""
    return MIT_TEXT


MIT_TEXT = """MIT License

Copyright (c) 2026 eventds contributors

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


# --- Citation, example ------------------------------------------------------------------------------


def citation_section(version: str) -> str:
    return (
        "## Citation\n\n"
        "If you use this dataset, cite it with its version (and cite the outlets for the texts):\n\n"
        "```bibtex\n"
        f"@misc{{{CITATION_KEY},\n"
        f"  title        = {{{{{PRETTY_NAME}}}}},\n"
        "  author       = {{eventds contributors}},\n"
        f"  version      = {{{version}}},\n"
        f"  note         = {{Dataset built with eventds {package_version()}; annotation guidelines {guidelines_version()}}},\n"
        "  howpublished = {Hugging Face dataset}\n"
        "}\n"
        "```"
    )


def example_row(features: dict, record: dict | None) -> dict | None:
    """The shown fields of ``record``'s ``spans`` row, encoded as the data stores them (class ids)."""
    if record is None:
        return None
    row = features["spans"].encode_example(record)
    return {k: row[k] for k in ("id", "doc_id", "text", "events", "labels", "status", "guidelines_version")}


def example_section(features: dict, record: dict | None) -> str:
    row = example_row(features, record)
    if row is None:
        return "## Example (`spans`, train)\n\n_No training sentence has events yet._"
    types = list(event_types())
    names = ", ".join(f"`{i}` = `{t}`" for i, t in enumerate(types))
    decoded = "; ".join(f"`{e['text']}` [{e['start']}, {e['end']}): type `{e['type']}` = `{types[e['type']]}`, realis `{e['realis']}`"
                        for e in row["events"])
    return (
        "## Example (`spans`, train)\n\n"
        "The first training sentence with events, as `load_dataset(..., \"spans\")` returns it (the fields `document`, "
        "`weak_events`, `start`, `end`, `index` and `provenance` left out here). `type` and `labels` are `ClassLabel` "
        f"ids: {names} (`features[\"events\"].feature[\"type\"].names`).\n\n"
        "```json\n" + json.dumps(row, ensure_ascii=False, indent=2) + "\n```\n\n"
        f"Decoded: {decoded}; labels {[types[i] for i in row['labels']]}."
    )


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# --- The card ----------------------------------------------------------------------------------------


def card_body(stats: Any, extra: dict, features: dict, version: str | None = None) -> str:
    """The card's Markdown, every number taken from ``stats`` or ``extra``."""
    types = list(event_types())
    split_rows = [[s, len(stats.documents[s]), stats.sentences[s], *(stats.events[s][t] for t in types)] for s in SPLITS]
    split_rows.append(["total", sum(len(stats.documents[s]) for s in SPLITS), sum(stats.sentences.values()), *(sum(stats.events[s][t] for s in SPLITS) for t in types)])
    sections = []
    if extra.get("agreement"):
        sections.append(agreement_section(extra["agreement"], stats))
    if extra.get("quality"):
        sections.append(quality_section(extra["quality"]))
    human = sum(stats.status[s] for s in HUMAN_STATUSES)
    if human and extra.get("provenance"):
        sections.insert(0, "## How the human layer was made\n\n" + extra["provenance"])
    elif not human:
        sections.insert(0, "## No human layer\n\nNo sentence of this dataset was corrected by an annotator: every label is a weak "
                        "(machine) label from the labelling functions, with the confidence they gave it.")
    if extra.get("release"):
        from .release import card_section

        sections.insert(0, card_section(extra["release"]))
    grouping = (extra.get("manifest") or {}).get("grouping")
    split_note = (
        f"Documents linked by a near-duplicate sentence (word {grouping['shingle_words']}-shingles, Jaccard >= "
        f"{grouping['jaccard']} or containment >= {grouping['containment']}) share a split, so no near-duplicate "
        "pair crosses splits. Assignments are recorded in the build's split manifest and never move."
        if isinstance(grouping, dict) and {"shingle_words", "jaccard", "containment"} <= grouping.keys()
        else "Splits are by document."
    )
    status = ", ".join(f"{k}: {v}" for k, v in sorted(stats.status.items()))
    left_out = stats.bio_left_out
    bio_note = (
        f" {len(left_out)} events whose trigger does not fall on token boundaries are left out of `bio` "
        f"(they stay in `spans`; listed in `{STATS_NAME}`)." if left_out else ""
    )
    correction = (
        f"corrected by annotators in Label Studio ({human} of {sum(stats.status.values())} sentences)"
        if human else "not corrected by annotators (weak labels only)"
    )
    versions = ", ".join(f"`{v}` ({n} sentences)" for v, n in sorted(stats.guidelines.items(), key=lambda kv: _vkey(kv[0])))
    current = guidelines_version()
    version_note = "" if set(stats.guidelines) <= {current} else (
        f" The current guidelines are `{current}`; records annotated under an earlier version keep "
        "the version they were annotated with (see *Guidelines version of the records*)."
    )
    version = version or "unknown"
    version_line = (
        f"- Dataset version: `{version}`" + ("" if extra.get("release") else
        " (not a release: published without `--version`; the part after `+` identifies the data files)")
    )
    creators = ", ".join(f"`{c}`" for c in annotations_creators(stats, extra))
    why = ["`weak_events` (and `events` of `weak` sentences) come from labelling functions"]
    if human:
        why.append("the human layer was made by AI annotators (machine-generated)" if uses_ai_annotators(extra.get("provenance"))
                   else "the human layer was made by annotators (expert-generated)")
        if stats.status["adjudicated"]:
            why.append(f"{stats.status['adjudicated']} sentences were adjudicated by the maintainer (expert-generated)")
    corpus = extra.get("corpus") or {}
    corpus_limitations = "".join(f"- {item}\n" for item in corpus.get("limitations", []))
    if len(stats.documents) and sum(len(d) for d in stats.documents.values()) < 20:
        corpus_limitations += (
            f"- {sum(len(d) for d in stats.documents.values())} documents: counts are small, and the splits cannot "
            "follow their target shares closely when documents must stay grouped.\n"
        )
    return f"""
# Conflict events in news

Sentences from news articles about conflict, annotated with event
triggers of four types: {", ".join(f"`{t}`" for t in types)}. Built with `eventds` {package_version()}: articles are
cleaned of scrape noise (comment sections, donation widgets, bylines, captions, repeated
paragraphs), segmented with spaCy, pre-annotated by weak labelling functions, {correction},
validated against the JSON Schema in `schema/`, and split by groups of documents.

{version_line}
- Licence: annotations {CODE_LICENSE}; texts under their publishers' copyright, not licensed (see *Licence and sources*).
- Annotation creators: {creators}: {"; ".join(why)}.
- Annotation guidelines versions of the records: {versions} (see `guidelines/` in the source repository).{version_note}
- Annotation status of the sentences: {status}

## Counts per split

Events per type (from `events`, the best available layer):

{_table(["split", "documents", "sentences", *types], split_rows)}

{split_note}

{guidelines_section(stats)}

{label_section()}

{chr(10).join(s + chr(10) for s in sections)}
## Configs and how to load them

```python
from datasets import load_dataset
spans = load_dataset("PATH_OR_REPO")            # "spans" (default): text + events with offsets
bio = load_dataset("PATH_OR_REPO", "bio")       # tokens, spaces, ner_tags (BIO, ClassLabel)
labels = load_dataset("PATH_OR_REPO", "labels") # text + multi-label sentence labels
ee = load_dataset("PATH_OR_REPO", "ee")         # TextEE's unified format (event extraction)
docs = load_dataset("PATH_OR_REPO", "documents")  # one row per document, document offsets
names = bio["train"].features["ner_tags"].feature.names
```

- `spans`: `events` is the best available layer (human where `status` is `corrected` or
  `adjudicated`), `weak_events` the weak labeller's output. Offsets are character offsets
  into `text` (Python string indices, end exclusive); every event's `text` equals
  `text[start:end]`. Events carry `type` (ClassLabel), `realis`, `arguments` (role + span),
  `count` (casualty counts), `confidence` and `sources` (labelling functions) where known.
- `bio`: spaCy tokens of `text` (blank English tokenizer) with `spaces` so that
  `"".join(t + " " * s for t, s in zip(tokens, spaces)) == text`; tags aligned with
  `Doc.char_span(..., alignment_mode="strict")`, never shifted.{bio_note}
- `labels`: the distinct event types of each sentence, for multi-label classification.
- `bio` also has `arg_tags`: one argument BIO sequence (roles, `ClassLabel`) per tagged event,
  in the order of the triggers in `ner_tags`, each aligned 1:1 with `tokens` (one sequence per
  event, because an argument can fill different roles in two events).
- `ee`: TextEE's unified format, one window per sentence (`wnd_id` is the sentence id): `tokens`
  (the `bio` tokens, `spaces` kept), `entity_mentions` (every distinct argument span, type
  `ENTITY`), `event_mentions` with `event_type`, `trigger` and `arguments` (`entity_id`, `role`)
  at token offsets, end exclusive; `realis` and `count` kept as extra fields. Event types, roles
  and realis are `ClassLabel`s. `eventds export --format ee` writes it as TextEE JSONL with string labels.
- `documents`: one row per document: `sentences` with their offsets in the document, and
  `events` (type, realis and roles as `ClassLabel`s) with document-level character offsets into
  `text`, the document rebuilt from its sentences (characters between sentences are spaces).
- `eventds export PATH --format ee|conll|docbin|maven -o DIR` writes the dataset for TextEE,
  CoNLL-style taggers, `spacy train` (`.spacy` DocBin) or MAVEN-style code, one file per split.

Task metadata: `task_categories` `token-classification` (trigger and argument tagging: `spans`,
`bio`, `ee`) and `text-classification` (`labels`); `task_ids` `multi-label-classification`. The Hub
has no task id for event extraction (`named-entity-recognition` would be wrong: triggers are events,
not entities), so `event-extraction` is a tag.

{example_section(features, stats.example)}

{licence_section(stats, extra)}

{citation_section(version)}

## Known limitations

{corpus_limitations}- Sentences with `status` `weak` carry only machine labels.
- Realis, arguments and casualty counts are filled only where the annotators or the rules
  gave them.
- The blank English sentencizer splits on punctuation; a few abbreviations may split a sentence.
"""


def write_card(folder: Path, features: dict, stats: Any, files: dict[tuple[str, str], list[str]], extra: dict, default_config: str = "spans") -> None:
    """Write ``README.md`` (YAML + Markdown) and ``LICENSE`` into the dataset folder ``folder``.

    Args:
        files: (config, split) -> its data files (shards), relative to ``folder``.
    """
    from huggingface_hub import DatasetCard

    folder = Path(folder)
    digests = content_digests(folder, files)
    card_data = card_metadata(features, stats, files, extra, split_sizes(folder, files), default_config, digests)
    body = card_body(stats, extra, features, card_data.version)
    DatasetCard(f"---\n{card_data.to_yaml()}\n---\n{body}").save(folder / CARD_NAME)
    (folder / LICENSE_NAME).write_text(dataset_license_text(stats, extra), encoding="utf-8")


def count_licence_statements(text: str) -> int:
    """1 if a sentence has words of a licence or permission statement, else 0."""
    text = text or ""
    return 1 if holds_any(lowered(text), _LICENCE_NEEDS) and _LICENCE_MARKERS.search(text) else 0

