"""Sentence records -> the forms event-extraction code reads. Pure conversions, no I/O.

Every form is on spaCy's blank English tokens of the sentence (:func:`builder.bio.tokenizer_nlp`,
the tokens of the ``bio`` config; found by :func:`builder.bio.sentence_tokens`, the same
boundaries without a ``Doc``, except where a form needs a ``Doc``: :func:`maven_document` and
:func:`spacy_doc`), and a span (trigger or argument) is put on tokens with spaCy's strict
alignment only (``Doc.char_span(..., alignment_mode="strict")``): a span that does not fall on
token boundaries is never shifted; it is left out and reported through a ``left_out`` list as
:class:`LeftOut` entries.

- :func:`ee_row`: TextEE's unified format (``doc_id``, ``wnd_id``, ``text``, ``tokens``,
  ``entity_mentions``, ``event_mentions`` with ``trigger`` and ``arguments`` pointing at entity
  ids; token offsets, end exclusive), plus ``spaces``, ``realis`` and ``count`` kept as extra
  fields. Arguments become entity mentions: one per distinct argument span of the sentence
  (an argument shared by two events is one entity referenced twice), entity type ``ENTITY``
  (the records carry no entity types).
- :func:`document_rows`: one row per document: its sentences and their events with
  document-level character offsets.
- :func:`arg_bio`: argument BIO tags, one token-aligned sequence per event (in trigger order);
  a single sequence cannot hold an argument that two events give different roles.
- :func:`conll_lines`: CoNLL-2005-SRL-like columns: token, trigger BIO, one argument BIO column
  per event.
- :func:`maven_document`: MAVEN's document JSON (``content``, ``events`` with ``mention``,
  ``negative_triggers``), with arguments in MAVEN-ARG's ``argument`` form.
- :func:`spacy_doc`: a spaCy ``Doc`` with triggers as ``doc.ents`` and ``doc.spans["sc"]``
  (what the ``ner`` and ``spancat`` components train on), arguments in ``doc.spans["arguments"]``
  (labelled by role) and the full events in ``doc.user_data["events"]``.

Text rule (documented for consumers): for a mention ``[start, end)`` on tokens,
``"".join(t + " " * s for t, s in zip(tokens[start:end], spaces[start:end])).rstrip()`` equals the
mention text exactly, and ``" ".join(tokens[start:end])`` equals it modulo whitespace.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from .bio import SentenceTokens, sentence_tokens, tokenizer_nlp
from .labelset import argument_roles, event_types

#: TextEE's ``entity_type`` for an argument span: the records carry no entity types.
ENTITY_TYPE = "ENTITY"
#: The spans key of the triggers in a spaCy Doc (spaCy's ``spancat`` default key).
TRIGGER_SPANS_KEY = "sc"
ARGUMENT_SPANS_KEY = "arguments"


@dataclass(frozen=True)
class LeftOut:
    """A span a form could not hold: ``kind`` is ``trigger`` or ``argument``, ``label`` its
    event type or role, ``reason`` ``misaligned`` (not on token boundaries) or ``overlapping``."""

    where: str
    id: str
    kind: str
    label: str
    start: int
    end: int
    text: str
    reason: str = "misaligned"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "label": self.label, "start": self.start, "end": self.end, "text": self.text, "reason": self.reason}


def arg_bio_labels() -> list[str]:
    """Argument tag names: ``O`` then ``B-``/``I-`` for each role, in schema order."""
    return ["O"] + [f"{p}-{r}" for r in argument_roles() for p in ("B", "I")]


def _doc(text: str):
    return tokenizer_nlp().make_doc(text)


def _char_span(doc, start: int, end: int) -> Optional[tuple[int, int]]:
    """``(first token, last token + 1)`` of ``[start, end)`` in a :class:`SentenceTokens` or a
    spaCy ``Doc`` (strict alignment), else ``None``."""
    if isinstance(doc, SentenceTokens):
        return doc.char_span(start, end)
    span = doc.char_span(start, end, alignment_mode="strict")
    return None if span is None else (span.start, span.end)


def _note(left_out: Optional[list], where: str, record: dict, kind: str, label: str, start: int, end: int, reason: str = "misaligned") -> None:
    if left_out is not None:
        left_out.append(LeftOut(where, record["id"], kind, label, start, end, record["text"][start:end], reason))


def _aligned_events(record: dict, doc, where: str, left_out: Optional[list]) -> list[tuple[dict, int, int, list[tuple[dict, int, int]]]]:
    """The events of ``record`` in trigger order as ``(event, tok_start, tok_end, [(argument,
    tok_start, tok_end)])``, misaligned triggers and arguments left out (and noted)."""
    out = []
    for event in sorted(record["events"], key=lambda e: (e["start"], e["end"])):
        span = _char_span(doc, event["start"], event["end"])
        if span is None:
            _note(left_out, where, record, "trigger", event["type"], event["start"], event["end"])
            continue
        arguments = []
        for arg in event.get("arguments") or ():
            a = _char_span(doc, arg["start"], arg["end"])
            if a is None:
                _note(left_out, where, record, "argument", arg["role"], arg["start"], arg["end"])
                continue
            arguments.append((arg, *a))
        out.append((event, *span, arguments))
    return out


def _count(event: dict) -> Optional[dict]:
    count = event.get("count")
    return None if count is None else {k: count.get(k) for k in ("value", "min", "max", "qualifier")}


# --- TextEE ----------------------------------------------------------------------------------


def ee_row(record: dict, where: str = "", left_out: Optional[list] = None) -> dict[str, Any]:
    """The TextEE row (one window = one sentence) of a sentence record."""
    doc = sentence_tokens(record["text"])
    tokens, spaces = list(doc.texts), list(doc.spaces)
    wnd = record["id"]
    events = _aligned_events(record, doc, where, left_out)
    spans = sorted({(a[1], a[2]) for _, _, _, args in events for a in args})
    entity_of = {}
    entities = []
    for n, (s, e) in enumerate(spans):
        entity_of[s, e] = f"{wnd}-E{n}"
        entities.append({"id": f"{wnd}-E{n}", "entity_type": ENTITY_TYPE, "text": doc.span_text(s, e), "start": s, "end": e})
    mentions = []
    for n, (event, s, e, args) in enumerate(events):
        mentions.append(
            {
                "id": f"{wnd}-EV{n}",
                "event_type": event["type"],
                "trigger": {"text": event["text"], "start": s, "end": e},
                "arguments": [{"entity_id": entity_of[a, b], "role": arg["role"], "text": arg["text"], "start": a, "end": b} for arg, a, b in args],
                "realis": event.get("realis"),
                "count": _count(event),
            }
        )
    return {
        "doc_id": record["doc_id"],
        "wnd_id": wnd,
        "text": record["text"],
        "lang": "en",
        "tokens": tokens,
        "spaces": spaces,
        "entity_mentions": entities,
        "event_mentions": mentions,
        "status": record["status"],
    }


def textee_problems(row: dict, type_names: Iterable[str] = (), role_names: Iterable[str] = ()) -> list[str]:
    """What TextEE's loaders and scorers would trip on in a row (string labels), empty when none:
    entity ids unique, every argument's ``entity_id`` an entity mention of the row with the same
    span, every mention's token offsets in range with an exclusive end and rebuilding its text
    (modulo whitespace), every ``event_type`` and ``role`` known."""
    problems = []
    tokens = row["tokens"]
    types = set(type_names) or set(event_types())
    roles = set(role_names) or set(argument_roles())

    def check_span(what: str, m: dict) -> None:
        s, e = m["start"], m["end"]
        if not (isinstance(s, int) and isinstance(e, int) and 0 <= s < e <= len(tokens)):
            problems.append(f"{row['wnd_id']}: {what} [{s}, {e}) is not a token range of {len(tokens)} tokens")
        elif "".join(tokens[s:e]) != "".join(m["text"].split()):
            problems.append(f"{row['wnd_id']}: {what} tokens {tokens[s:e]} do not rebuild {m['text']!r}")

    ids = [m["id"] for m in row["entity_mentions"]]
    if len(ids) != len(set(ids)):
        problems.append(f"{row['wnd_id']}: entity ids are not unique: {ids}")
    entities = {m["id"]: m for m in row["entity_mentions"]}
    for m in row["entity_mentions"]:
        check_span(f"entity {m['id']}", m)
    event_ids = [m["id"] for m in row["event_mentions"]]
    if len(event_ids) != len(set(event_ids)):
        problems.append(f"{row['wnd_id']}: event ids are not unique: {event_ids}")
    for ev in row["event_mentions"]:
        if ev["event_type"] not in types:
            problems.append(f"{row['wnd_id']}: event {ev['id']} has unknown type {ev['event_type']!r}")
        check_span(f"trigger of {ev['id']}", ev["trigger"])
        for arg in ev["arguments"]:
            if arg["role"] not in roles:
                problems.append(f"{row['wnd_id']}: argument of {ev['id']} has unknown role {arg['role']!r}")
            entity = entities.get(arg["entity_id"])
            if entity is None:
                problems.append(f"{row['wnd_id']}: argument of {ev['id']} points at {arg['entity_id']!r}, not an entity mention of the row")
            elif (entity["start"], entity["end"]) != (arg["start"], arg["end"]):
                problems.append(f"{row['wnd_id']}: argument of {ev['id']} has span [{arg['start']}, {arg['end']}), its entity {entity['id']} [{entity['start']}, {entity['end']})")
    return problems


# --- documents -------------------------------------------------------------------------------


def document_row(records: list[dict]) -> dict[str, Any]:
    """One document's row from its sentence records: sentences in ``index`` order with their
    offsets in the cleaned document, and every event with document-level offsets
    (``sentence`` is the position of its sentence in ``sentences``).

    ``text`` is the document rebuilt from its sentences at their offsets; characters between
    sentences (whitespace, paragraph breaks, sentences not published) are spaces, so that
    ``text[start:end]`` is the sentence, trigger or argument at every offset."""
    records = sorted(records, key=lambda r: r["index"])
    first = records[0]
    chars: list[str] = []
    sentences, events = [], []
    for n, r in enumerate(records):
        if r["start"] > len(chars):
            chars.extend(" " * (r["start"] - len(chars)))
        chars[r["start"] : r["end"]] = r["text"]
        sentences.append({"id": r["id"], "index": r["index"], "text": r["text"], "start": r["start"], "end": r["end"], "status": r["status"]})
        off = r["start"]
        for e in sorted(r["events"], key=lambda e: (e["start"], e["end"])):
            events.append(
                {
                    "sentence": n,
                    "type": e["type"],
                    "start": off + e["start"],
                    "end": off + e["end"],
                    "text": e["text"],
                    "realis": e.get("realis"),
                    "arguments": [{"role": a["role"], "start": off + a["start"], "end": off + a["end"], "text": a["text"]} for a in e.get("arguments") or ()],
                    "count": _count(e),
                }
            )
    return {"doc_id": first["doc_id"], "document": first.get("document"), "text": "".join(chars), "sentences": sentences, "events": events}


def document_rows(records: Iterable[dict]) -> list[dict[str, Any]]:
    """:func:`document_row` of every document, in the order documents first appear."""
    by_doc: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_doc[r["doc_id"]].append(r)
    return [document_row(rs) for rs in by_doc.values()]


# --- token-level argument tags and CoNLL -----------------------------------------------------


def arg_bio(record: dict, where: str = "", left_out: Optional[list] = None) -> tuple[list[str], list[str], list[list[str]], list[dict]]:
    """``(tokens, trigger_tags, arg_tags, events)``: trigger BIO tags, and one argument BIO
    sequence per tagged event (trigger order), each aligned 1:1 with the tokens. A trigger that
    overlaps an earlier one, and an argument that overlaps another of its event, are left out."""
    doc = sentence_tokens(record["text"])
    trigger_tags = ["O"] * len(doc)
    arg_tags, kept = [], []
    for event, s, e, args in _aligned_events(record, doc, where, left_out):
        if any(t != "O" for t in trigger_tags[s:e]):
            _note(left_out, where, record, "trigger", event["type"], event["start"], event["end"], "overlapping")
            continue
        trigger_tags[s : e] = [f"B-{event['type']}"] + [f"I-{event['type']}"] * (e - s - 1)
        tags = ["O"] * len(doc)
        for arg, a, b in sorted(args, key=lambda x: (x[1], x[2])):
            if any(t != "O" for t in tags[a:b]):
                _note(left_out, where, record, "argument", arg["role"], arg["start"], arg["end"], "overlapping")
                continue
            tags[a:b] = [f"B-{arg['role']}"] + [f"I-{arg['role']}"] * (b - a - 1)
        arg_tags.append(tags)
        kept.append(event)
    return list(doc.texts), trigger_tags, arg_tags, kept


def conll_lines(record: dict, where: str = "", left_out: Optional[list] = None) -> list[str]:
    """One sentence in CoNLL columns: ``# id``, ``# text`` and one ``# event N`` comment per
    event (type, realis, trigger), then ``token<TAB>trigger tag<TAB>arg tags of event 1<TAB>...``
    per token, then a blank line."""
    tokens, triggers, arg_tags, events = arg_bio(record, where, left_out)
    lines = [f"# id = {record['id']}", f"# doc_id = {record['doc_id']}", "# text = " + record["text"].replace("\n", " ")]
    for n, e in enumerate(events):
        lines.append(f"# event {n + 1} = {e['type']} {e.get('realis') or '_'} {e['text']!r}")
    for i, token in enumerate(tokens):
        lines.append("\t".join([token.replace("\t", " ").replace("\n", " ") or "_", triggers[i], *(tags[i] for tags in arg_tags)]))
    return lines + [""]


# --- MAVEN -----------------------------------------------------------------------------------


def maven_document(records: list[dict], where: str = "", left_out: Optional[list] = None) -> dict[str, Any]:
    """A document in MAVEN's form: ``content`` (sentence + tokens), ``events`` (one per event
    mention: the records have no event coreference) with ``type_id`` 1-based in schema order
    (0 is MAVEN's "None"), ``mention`` offsets ``[start, end)`` in the sentence's tokens, and
    MAVEN-ARG's ``argument`` (role -> mentions); ``negative_triggers`` are the other content
    words (alphabetic, not stop words, not in a trigger), as MAVEN's candidates."""
    records = sorted(records, key=lambda r: r["index"])
    types = list(event_types())
    content, events, negatives = [], [], []
    for sent_id, r in enumerate(records):
        doc = _doc(r["text"])
        content.append({"sentence": r["text"], "tokens": [t.text for t in doc]})
        in_trigger = set()
        for event, s, e, args in _aligned_events(r, doc, where, left_out):
            in_trigger.update(range(s, e))
            n = len(events)
            argument: dict[str, list] = defaultdict(list)
            for arg, a, b in args:
                argument[arg["role"]].append({"content": arg["text"], "sent_id": sent_id, "offset": [a, b]})
            events.append(
                {
                    "id": f"{r['doc_id']}-EV{n}",
                    "type": event["type"],
                    "type_id": types.index(event["type"]) + 1,
                    "mention": [{"id": f"{r['doc_id']}-M{n}", "trigger_word": event["text"], "sent_id": sent_id, "offset": [s, e]}],
                    "argument": dict(argument),
                    "realis": event.get("realis"),
                    "count": _count(event),
                }
            )
        for t in doc:
            if t.i not in in_trigger and t.is_alpha and not t.is_stop:
                negatives.append({"id": f"{r['doc_id']}-N{len(negatives)}", "trigger_word": t.text, "sent_id": sent_id, "offset": [t.i, t.i + 1]})
    title = (records[0].get("document") or {}).get("title") or ""
    return {"id": records[0]["doc_id"], "title": title, "content": content, "events": events, "negative_triggers": negatives}


# --- spaCy -----------------------------------------------------------------------------------


def spacy_doc(record: dict, where: str = "", left_out: Optional[list] = None):
    """A spaCy ``Doc`` of the sentence for ``DocBin`` (save it with ``store_user_data=True`` to
    keep ``user_data``): triggers as ``doc.ents`` (an overlapping trigger is left out of the
    ents only) and ``doc.spans["sc"]``, argument spans labelled by role in
    ``doc.spans["arguments"]`` (one per distinct span and role), and ``user_data["events"]``
    linking each trigger to its arguments (token offsets), realis and count."""
    from spacy.tokens import Span

    doc = _doc(record["text"])
    triggers, ents, arguments, events = [], [], {}, []
    taken: set[int] = set()
    for event, s, e, args in _aligned_events(record, doc, where, left_out):
        span = Span(doc, s, e, label=event["type"])
        triggers.append(span)
        if taken.isdisjoint(range(s, e)):
            ents.append(span)
            taken.update(range(s, e))
        else:
            _note(left_out, where, record, "trigger", event["type"], event["start"], event["end"], "overlapping")
        for arg, a, b in args:
            arguments.setdefault((a, b, arg["role"]), Span(doc, a, b, label=arg["role"]))
        events.append(
            {
                "type": event["type"],
                "start": s,
                "end": e,
                "realis": event.get("realis"),
                "count": _count(event),
                "arguments": [{"role": arg["role"], "start": a, "end": b} for arg, a, b in args],
            }
        )
    doc.ents = ents
    doc.spans[TRIGGER_SPANS_KEY] = triggers
    doc.spans[ARGUMENT_SPANS_KEY] = [arguments[k] for k in sorted(arguments)]
    doc.user_data["id"] = record["id"]
    doc.user_data["doc_id"] = record["doc_id"]
    doc.user_data["events"] = events
    return doc
