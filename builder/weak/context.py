"""Context labelling functions: rules that look beyond the trigger word.

Each is registered under a versioned name in :data:`builder.weak.base.REGISTRY`, writes only
its own span group, and names the words it starts from (``anchors``) so that the labeller
skips texts without them. Their rules are module-level functions, so that the functions pickle. Their word lists, in ``resources/context_words.json``, are the
guidelines' definitions, not sentences of the embedded corpus (each names its section of
``guidelines/GUIDELINES.md``).
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Callable, Iterable, Optional

from spacy.lang.en.lex_attrs import like_num

from ..errors import ConfigError
from .base import RESOURCES, VETO, BatchByLoop, Doc, register, word_positions
from .lexicon import WeakRules

WORDS_PATH = RESOURCES / "context_words.json"


class _WordLists(dict):
    """Word lists by name; a missing one is a configuration error naming the file."""

    path: Path = WORDS_PATH

    def __missing__(self, name: str) -> frozenset[str]:
        raise ConfigError(f"{self.path} -> lists -> {name}: missing")


def _word_lists(path: Path = WORDS_PATH) -> _WordLists:
    """The word lists of ``context_words.json``, each documented there with its guideline section."""
    lists = _WordLists()
    lists.path = path
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["lists"]
        for name, entry in entries.items():
            words = entry["words"]
            if not isinstance(words, list) or not all(isinstance(w, str) and w == w.lower() for w in words):
                raise ConfigError(f"{path} -> lists -> {name} -> words: expected a list of lower-case strings")
            lists[name] = frozenset(words)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConfigError(f"{path}: cannot read the word lists ({e!r})") from e
    return lists


_W = _word_lists()
MEANS, NOT_MEANS_AFTER, GENERIC_ATTACK, ROCKETS = _W["means"], _W["not_means_after"], _W["generic_attack"], _W["rockets"]
FORCE, WARN, PROMISE, PROMISED_FORCE, THREAT_VERBS, READY = _W["force"], _W["warn"], _W["promise"], _W["promised_force"], _W["threat_verbs"], _W["ready"]
T2_NOUNS, T2_ADJ, T2_VERBS, SPEECH = _W["t2_nouns"], _W["t2_adjectives"], _W["t2_verbs"], _W["speech"]
SPORTS, SPORTS_MAYBE, SPORTS_SENSES, LABOUR = _W["sports"], _W["sports_maybe"], _W["sports_senses"], _W["labour"]
IMPACT, LANDED, LAUNCHES, EVENT_NOUNS = _W["impact"], _W["landed"], _W["launches"], _W["event_nouns"]
EXPLOSIVES, PROJECTILES, STRIKE_PROJECTILES = _W["explosives"], _W["projectiles"], _W["strike_projectiles"]
BARRAGE, FIRING_VERBS, STRUCK_OBJECTS, KILLED_OBJECTS = _W["barrage"], _W["firing_verbs"], _W["struck_objects"], _W["killed_objects"]
NATURAL_CAUSES, VIOLENCE, CASUALTY_WORDS, ACCIDENT_EXPLOSIONS = _W["natural_causes"], _W["violence"], _W["casualty_words"], _W["accident_explosions"]
DROPS, SPECULATION = _W["drops"], _W["speculation"]
RESTATING_NOUNS, RESTATED_ACTS = _W["restating_nouns"], _W["restated_acts"]
SHELLS_VERB_BEFORE = _W["shells_verb_before"]
ARMED_ACTORS, ARREST, RAIDS, CLASHES = _W["armed_actors"], _W["arrest"], _W["raids"], _W["clashes"]
RAID_MODIFIERS, POLICE_RAIDERS, RAID_TARGETS = _W["raid_modifiers"], _W["police_raiders"], _W["raid_targets"]
CLASH_CUES, FIGHTING_CUES, OPEN_ENDED, SIEGE_ENDED = _W["clash_cues"], _W["fighting_cues"], _W["open_ended"], _W["siege_ended"]
NON_FORCE, DEATH_NOT = _W["non_force"], _W["death_not"]
RAID_VIOLENCE = VIOLENCE - RAIDS  # words of violence beside a raid, other than the raid word itself
THREATENING = frozenset({"threaten", "threatens", "threatened", "threatening"})
ARMED_FORCES = ARMED_ACTORS | _W["regular_forces"]
ALL_PROJECTILES = STRIKE_PROJECTILES | PROJECTILES
FALLING = PROJECTILES | {"bomb", "bombs"}  # what lands or falls in an ATTACK
FORCEFUL = FORCE | T2_ADJ
UNDER_FIRE = ARMED_FORCES | _W["under_fire_targets"]

# Grammar, not vocabulary: clause limits, determiners, modals.
FUTURE = frozenset("will would 'll shall".split())
VERB_BEFORE = frozenset("to will would could can may might shall 'll not n't never".split())  # "strike" after these is a verb (S-4)
DETERMINERS = frozenset("a an the its their his her our".split())
CLAUSE_END = frozenset({";", ".", "!", "?"})
CLAUSE_PUNCT = frozenset({",", ";", ".", "!", "?", ":", "(", ")", "“", "”", '"'})


def _window(words: list[str], i: int, before: int, after: int) -> Iterable[int]:
    """Token indices around ``i`` that stay within the clause (no crossing ; . ! ?)."""
    j = i - 1
    while j >= max(0, i - before) and words[j] not in CLAUSE_END:
        yield j
        j -= 1
    j = i + 1
    while j < min(len(words), i + after + 1) and words[j] not in CLAUSE_END:
        yield j
        j += 1


class ContextFunction(BatchByLoop):
    """A labelling function written in code: ``rule(words, at)`` gives ``(token, label,
    confidence)`` for single-token spans, where ``at`` lists, in order, the positions of the
    function's ``anchors`` in ``words``; it runs only on texts with one of them. Spans of the
    ``generic`` words are G5 generic predicates, dropped where a specific trigger names the attack."""

    def __init__(self, name: str, anchors: Iterable[str], rule: Callable[[list[str], list[int]], list[tuple[int, str, float]]], generic: Iterable[str] = ()):
        self.name = name
        self.anchors: Optional[frozenset[str]] = frozenset(anchors)
        self.rule = rule
        self.generic = frozenset(generic)  # G5 priority-3 words: dropped where a specific trigger names the attack

    def __call__(self, doc: Doc) -> None:
        words = doc.words
        where = doc.at if doc.at is not None else word_positions(words, self.anchors)
        at = sorted(i for w in self.anchors.intersection(where) for i in where[w])
        spans = doc.spans[self.name] = [(*doc.char_span(i, i + 1), label, conf) for i, label, conf in self.rule(words, at)]
        if self.generic:
            generic = {(s, e) for s, e, _, _ in spans if doc.text[s:e].lower() in self.generic}
            if generic:
                doc.generic[self.name] = generic


def _among_natural_causes(words: list[str]) -> bool:
    """Whether a sentence names accidents, illness or natural causes and no violence (5.1)."""
    return VIOLENCE.isdisjoint(words) and not NATURAL_CAUSES.isdisjoint(words)


def _is_means(words: list[str], j: int) -> bool:
    return words[j] in MEANS and not (j + 1 < len(words) and words[j + 1] in NOT_MEANS_AFTER)


def _strike_means(words: list[str], at: list[int]) -> list[tuple[int, str, float]]:
    """The rule of :func:`strike_means`."""
    spans = []
    for i in at:
        low = words[i]
        window = list(_window(words, i, 8, 12))  # "targeted the tanker ... with a ballistic missile"
        means = any(_is_means(words, j) for j in window)
        if low in IMPACT:
            if i + 1 < len(words) and words[i + 1] == "into":
                subject = {words[j] for j in _window(words, i, 4, 0)}
                if not STRIKE_PROJECTILES.isdisjoint(subject):
                    spans.append((i, "STRIKE", 0.8))
                elif not PROJECTILES.isdisjoint(subject):
                    spans.append((i, "ATTACK", 0.75))
        elif low in LANDED:
            subject = {words[j] for j in _window(words, i, 4, 0)}
            if i + 1 < len(words) and words[i + 1] in ("on", "in", "near", "inside"):
                if not STRIKE_PROJECTILES.isdisjoint(subject):
                    spans.append((i, "STRIKE", 0.7))
                elif not FALLING.isdisjoint(subject):
                    spans.append((i, "ATTACK", 0.7))
        elif low in DROPS:  # "drones dropping explosives on the orchards"
            if any(words[j] in EXPLOSIVES for j in _window(words, i, 0, 3)) and any(words[j] in STRIKE_PROJECTILES or words[j] in MEANS for j in _window(words, i, 12, 8)):
                spans.append((i, "STRIKE", 0.75))
        elif low in LAUNCHES:  # "launched 42 drones and three missiles at": the launch is the attack (no event noun)
            after = [words[j] for j in _window(words, i, 0, 6)]
            around = after + [words[j] for j in _window(words, i, 6, 0)]
            if after[:1] != ["by"] and EVENT_NOUNS.isdisjoint(around) and not ALL_PROJECTILES.isdisjoint(after):
                spans.append((i, "STRIKE", 0.75) if not STRIKE_PROJECTILES.isdisjoint(after) else (i, "ATTACK", 0.7))
        elif low in ("strike", "strikes"):
            if i > 0 and words[i - 1] in VERB_BEFORE:  # a verb: the noun reading of strike_lexicon does not hold
                spans.append((i, "STRIKE", 0.85) if means else (i, "ATTACK", 0.8))
        elif means:
            spans.append((i, "STRIKE", 0.85))
        elif low.startswith("barrage") and any(words[j] in ROCKETS for j in window):
            spans.append((i, "ATTACK", 0.8))
    return spans


@register("strike_means.v4")
def strike_means(name: str, rules: WeakRules) -> ContextFunction:
    """A generic attack word is STRIKE when aircraft, drones or missiles deliver it (S-4, S-5),
    and a barrage of rockets or shells is ATTACK; the verb "strike" without such means is
    ATTACK (S-4). Projectiles that crash into something, or land or fall on it (A-3: generic
    words), drones dropping explosives, and a launch of drones, missiles or rockets with no
    event noun to support (G3) are STRIKE or ATTACK by the projectile (S-5)."""
    return ContextFunction(name, GENERIC_ATTACK | {"pounded", "pounding", "lobbed", "lobbing", "fired", "firing", "strike", "strikes"} | IMPACT | LANDED | LAUNCHES | DROPS, _strike_means, generic=LANDED)


def _threat_speech(words: list[str], at: list[int], threat_words: frozenset[str]) -> list[tuple[int, str, float]]:
    """The rule of :func:`threat_speech`."""
    spans = []
    # "warned that antimicrobial resistance poses a threat": no force among illness words
    natural = _among_natural_causes(words)
    for i in at:
        low = words[i]
        if i > 0 and words[i - 1] == "," and low.endswith("ing") and not threat_words.isdisjoint(words[:i]):
            continue  # G5: "vowed to avenge ..., promising a response" restates the threat
        if low in WARN and not natural and any(words[j] in FORCE for j in _window(words, i, 0, 10)):
            after = [words[j] for j in _window(words, i, 0, 10)]
            force_at = next(k for k, w in enumerate(after) if w in FORCE)
            if SPECULATION.isdisjoint(after[:force_at]):  # Th-6: "warned the group could strike again" is no threat
                spans.append((i, "THREAT", 0.8))
        elif low in PROMISE and any(words[j] in PROMISED_FORCE for j in _window(words, i, 0, 6)):
            spans.append((i, "THREAT", 0.75))  # "promised to hit back harder"
        elif low in READY:
            after = [j for j in _window(words, i, 0, 8) if words[j].isalnum()]
            if after and words[after[0]] in ("to", "for") and any(words[j] in FORCE for j in after):
                spans.append((i, "THREAT", 0.75))
    has_t1 = bool(spans) or not threat_words.isdisjoint(words)
    if not has_t1:
        speech = not SPEECH.isdisjoint(words)
        for i in at:
            low = words[i]
            before = [words[j] for j in _window(words, i, 6, 0)]
            following = {words[j] for j in _window(words, i, 0, 4)}
            forceful = low != "respond" or not FORCEFUL.isdisjoint(following)  # "respond" alone is not force
            if low in T2_VERBS and forceful and speech and any(w in FUTURE for w in before[:3]):
                spans.append((i, "THREAT", 0.65))  # "would retaliate with full force if attacked, the minister said"
            elif low == "force" and speech and before[:1] == ["use"] and any(w in FUTURE or w == "hesitate" for w in before):
                spans.append((i, "THREAT", 0.6))  # "would not hesitate to use force"
            elif low in T2_NOUNS and speech and any(w in FUTURE for w in before[:4]):
                spans.append((i, "THREAT", 0.65))  # "said the group would take revenge on"
            elif low in T2_NOUNS:
                after = [words[j] for j in _window(words, i, 0, 8)]
                if any(w in ("will", "would") for w in after) and any(w in T2_ADJ for w in after):
                    spans.append((i, "THREAT", 0.65))
            elif low == "fighting" and i >= 2:
                before = [words[j] for j in _window(words, i, 4, 0)]
                if ("stop" in before and ("not" in before or "n't" in before)) or "continue" in before:
                    if any(w in ("will", "would", "wo") for w in before) or "ready" in before:
                        spans.append((i, "THREAT", 0.6))
    return spans


@register("threat_speech.v5")
def threat_speech(name: str, rules: WeakRules) -> ContextFunction:
    """THREAT from speech that commits to force (T-1: warned of / promised / ready to + force,
    unless the warning only speculates that someone could strike, Th-6; T-2: the future force
    itself, "would retaliate", "would take revenge", "would not hesitate to use force", when
    no threat word is there and the sentence reports speech). A participle after a comma that
    follows a threat word restates that threat (G5: "vowed revenge, promising a response").
    A warning among illness or disaster words, with no violence, is no threat (5.1)."""
    threat_words = frozenset(rules.words(["threat_lexicon.v3"]))
    return ContextFunction(name, WARN | PROMISE | READY | T2_NOUNS | T2_VERBS | {"fighting", "force"}, partial(_threat_speech, threat_words=threat_words))


def _context_veto(words: list[str], at: list[int]) -> list[tuple[int, str, float]]:
    """The rule of :func:`context_veto`."""
    spans = []
    sports = not SPORTS.isdisjoint(words) or len(SPORTS_MAYBE.intersection(words)) >= 2
    peaceful = VIOLENCE.isdisjoint(words)
    natural = _among_natural_causes(words)
    for i in at:
        low = words[i]
        if sports and (low in SPORTS_SENSES or (low in CASUALTY_WORDS and peaceful)):
            spans.append((i, VETO, 1.0))
        elif low in ("strike", "strikes") and any(words[j] in LABOUR for j in _window(words, i, 10, 10)):
            spans.append((i, VETO, 1.0))
        elif low in ("strike", "strikes", "struck", "striking") and i + 1 < len(words) and words[i + 1] in DETERMINERS and _object_in(words, i, STRUCK_OBJECTS):
            spans.append((i, VETO, 1.0))
        elif low in ("kill", "kills", "killed", "killing") and _object_in(words, i, KILLED_OBJECTS):
            spans.append((i, VETO, 1.0))
        elif natural and (low in CASUALTY_WORDS or low in ACCIDENT_EXPLOSIONS or low in ("threat", "threats")):
            spans.append((i, VETO, 1.0))
        elif low in ("casualties", "casualty") and not any(like_num(words[j]) for j in _window(words, i, 3, 0)):
            spans.append((i, VETO, 1.0))  # 5.1: "casualties" only with a number
        elif low in ACCIDENT_EXPLOSIONS and words[max(0, i - 2) : i] in (["in", "a"], ["in", "the"]) and not ACCIDENT_EXPLOSIONS.isdisjoint(words[: i - 2]):
            spans.append((i, VETO, 1.0))  # G5: "an explosion ripped through ... in a blast that" restates it
        elif low in RESTATING_NOUNS and _restates(words, i):
            spans.append((i, VETO, 1.0))  # G5: "was ambushed ... in a two-hour firefight" restates the ambush
        elif low in BARRAGE and any(words[j] in FIRING_VERBS for j in _window(words, i, 6, 0)):
            spans.append((i, VETO, 1.0))
        elif low in ("fired", "launched") and any(words[j] in BARRAGE for j in _window(words, i, 6, 0)):
            spans.append((i, VETO, 1.0))  # "a barrage of missiles fired from Iran"
        elif low in THREATENING and _threatens_no_force(words, i):
            spans.append((i, VETO, 1.0))  # T-1: "threatened several times to withdraw" names no force
    return spans


def _threatens_no_force(words: list[str], i: int) -> bool:
    """Whether threatening word ``i`` is followed, within four words of its clause, by "to"
    and a verb of something other than force (T-1: a threat is a threat to use force)."""
    for j in range(i + 1, min(len(words) - 1, i + 5)):
        if words[j] in CLAUSE_PUNCT:
            return False
        if words[j] == "to":
            return words[j + 1] in NON_FORCE
    return False


@register("context_veto.v5")
def context_veto(name: str, rules: WeakRules) -> ContextFunction:
    """Veto attack and strike words in sports sentences, strikes in a labour context, strike
    and kill words with a figurative object ("struck a long-awaited deal", "killed the reform
    bill"), deaths, injuries, explosions and "threats" among natural causes or accidents
    (5.1), "casualties" without a number (5.1), and restatements of one event (G5): a barrage
    fired by the verb before it, "in a blast" after an explosion, "in a firefight" after an
    ambush; a threat to do something other than use force ("threatened to withdraw", T-1)."""
    attack_words = GENERIC_ATTACK | {"strike", "strikes", "struck", "striking", "shot", "fired", "killed", "killing", "kill", "kills"}
    anchors = attack_words | CASUALTY_WORDS | BARRAGE | ACCIDENT_EXPLOSIONS | RESTATING_NOUNS | THREATENING | {"launched", "casualties", "casualty", "threat", "threats"}
    return ContextFunction(name, anchors, _context_veto)


def _restates(words: list[str], i: int) -> bool:
    """Whether word ``i`` ends an "in a/an/the" phrase (at most three words between) that
    follows, in the same sentence, a specific attack word (G5: one trigger per instance)."""
    for k in range(i - 2, max(-1, i - 6), -1):
        if words[k] in CLAUSE_END:
            return False
        if words[k] == "in" and words[k + 1] in ("a", "an", "the"):
            return any(w in RESTATED_ACTS for w in words[:k]) and CLAUSE_END.isdisjoint(words[:k])
    return False


def _object_in(words: list[str], i: int, objects: frozenset[str]) -> bool:
    """Whether one of ``objects`` follows word ``i`` within six words, before any punctuation or "and"."""
    for j in range(i + 1, min(len(words), i + 7)):
        if words[j] in CLAUSE_PUNCT or words[j] == "and":
            return False
        if words[j] in objects:
            return True
    return False


def _attack_context(words: list[str], at: list[int]) -> list[tuple[int, str, float]]:
    """The rule of :func:`attack_context`."""
    spans = []
    wordset = set(words)
    for i in at:
        low = words[i]
        if low in RAIDS:
            # an arrest operation is not an attack. The armed group raids (before the
            # word, in its clause), or the raid is "by" it, or one is named just after it ("a
            # raid blamed on militiamen"), or a modifier makes it a military operation
            # ("ground raids"): ATTACK. So is a raid on a place of armed conflict ("a raid on a
            # village", "raids on army positions") or one with violence in its sentence,
            # unless security forces, who raid to arrest, are named around it.
            armed = (i > 0 and words[i - 1] in RAID_MODIFIERS) or any(words[j] in ARMED_ACTORS for j in _window(words, i, 10, 6))
            police = any(words[j] in POLICE_RAIDERS for j in _window(words, i, 10, 6))
            on_place = any(words[j] in RAID_TARGETS for j in _window(words, i, 0, 6))
            violence = not RAID_VIOLENCE.isdisjoint(wordset) or not CASUALTY_WORDS.isdisjoint(wordset)
            if ARREST.isdisjoint(wordset) and (armed or (not police and (on_place or violence))):
                spans.append((i, "ATTACK", 0.75 if armed else 0.65))
        elif low in CLASHES:
            # a clash of armed forces, or one the sentence bounds as an engagement
            # ("fresh clashes", "clashes erupted") or where people were killed or wounded
            around = {words[j] for j in _window(words, i, 8, 8)}
            if not ARMED_FORCES.isdisjoint(around):
                spans.append((i, "ATTACK", 0.7))
            elif not CLASH_CUES.isdisjoint(around) or not CASUALTY_WORDS.isdisjoint(wordset):
                spans.append((i, "ATTACK", 0.6))
        elif low in ("fighting", "fought"):
            # A-5: a specific engagement ("heavy fighting", "fighting broke out", "soldiers
            # and rebels fought for two days"), not the open-ended struggle or its continuation
            before = [words[j] for j in _window(words, i, 3, 0)]
            if OPEN_ENDED.isdisjoint(before):
                if low == "fighting" and not FIGHTING_CUES.isdisjoint(words[j] for j in _window(words, i, 2, 2)):
                    spans.append((i, "ATTACK", 0.65))
                elif low == "fought" and not ARMED_FORCES.isdisjoint(words[j] for j in _window(words, i, 6, 0)) and i + 1 < len(words) and words[i + 1] in ("for", "near", "in", "on", "overnight", "through", "with", "around"):
                    spans.append((i, "ATTACK", 0.65))
        elif low in ("siege", "sieges"):
            # the siege of a given town, camp or building, not its end or lifting
            if SIEGE_ENDED.isdisjoint(words[j] for j in _window(words, i, 3, 1)):
                spans.append((i, "ATTACK", 0.65))
        elif low in ("invaded", "invading"):
            # an armed group that invaded a place ("gunmen invaded the village")
            if any(words[j] in ARMED_ACTORS for j in _window(words, i, 8, 0)):
                spans.append((i, "ATTACK", 0.7))
        elif low in ("rained", "raining"):
            # A-3, S-5: projectiles or bombs that rained down; STRIKE when aircraft, drones
            # or missiles deliver them
            window = list(_window(words, i, 8, 6))
            if i + 1 < len(words) and words[i + 1] == "down" and any(words[j] in FALLING or words[j] in EXPLOSIVES for j in window):
                spans.append((i, "STRIKE", 0.7) if any(_is_means(words, j) for j in window) else (i, "ATTACK", 0.7))
        elif low == "fire":
            if i > 0 and words[i - 1] == "under" and any(words[j] in UNDER_FIRE for j in _window(words, i, 8, 8)):
                spans.append((i, "ATTACK", 0.75))
        elif low in ("offensive", "offensives"):
            # an offensive is ATTACK when the sentence says what it hit or entered
            following = words[i + 1] if i + 1 < len(words) else ""
            if following in ("on", "against", "into", "toward", "towards"):
                spans.append((i, "ATTACK", 0.7))
        elif low == "shoot":  # T-3: the threatened attack is an event of its own ("threatened to shoot him")
            if i > 0 and words[i - 1] == "to" and any(words[j] in THREAT_VERBS for j in _window(words, i, 3, 0)):
                spans.append((i, "ATTACK", 0.7))
        elif low in ("hurled", "hurling", "threw", "throwing", "tossed"):
            if any(words[j] in EXPLOSIVES for j in _window(words, i, 0, 4)):
                spans.append((i, "ATTACK", 0.75))  # "hurled grenades at a camp"
        elif low == "went":
            if i + 1 < len(words) and words[i + 1] == "off" and any(words[j] in EXPLOSIVES for j in _window(words, i, 8, 0)):
                spans.append((i, "ATTACK", 0.7))  # "a device planted by the roadside went off" (G2: one word)
        elif low == "shells":  # the verb ("the army routinely shells villages"), not the projectiles
            if i > 0 and words[i - 1] in SHELLS_VERB_BEFORE:
                spans.append((i, "ATTACK", 0.75))
        elif low in ("sprayed", "raked"):
            if "bullets" in {words[j] for j in _window(words, i, 0, 8)}:
                spans.append((i, "ATTACK", 0.75))
    return spans


@register("attack_context.v3")
def attack_context(name: str, rules: WeakRules) -> ContextFunction:
    """ATTACK words that need their context: raids that are not arrest operations (A-4);
    clashes of armed forces or bounded as an engagement, specific fighting, a siege (A-5); a
    patrol or convoy that came under fire; an offensive on a target and armed groups that
    invaded a place (A-12); a threatened shooting (T-3); grenades hurled; a device that went
    off; "shells" as a verb; people sprayed with bullets; bombs that rained down."""
    return ContextFunction(name, RAIDS | CLASHES | {"fire", "offensive", "offensives", "shoot", "shells", "sprayed", "raked", "hurled", "hurling", "threw", "throwing", "tossed", "went", "fighting", "fought", "siege", "sieges", "invaded", "invading", "rained", "raining"}, _attack_context)


def _casualty_context(words: list[str], at: list[int]) -> list[tuple[int, str, float]]:
    """The rule of :func:`casualty_context`."""
    spans = []
    if VIOLENCE.isdisjoint(words) or not NATURAL_CAUSES.isdisjoint(words):
        return spans  # 5.1: deaths are CASUALTY when violence is named, and not among accidents or illness
    for i in at:
        if i + 1 < len(words) and (words[i + 1] in DEATH_NOT or words[i + 1] == "toll"):
            continue  # "death penalty", "death threats"; "death toll" is the lexicon's
        spans.append((i, "CASUALTY", 0.7 if words[i] == "deaths" else 0.6))
    return spans


@register("casualty_context.v1")
def casualty_context(name: str, rules: WeakRules) -> ContextFunction:
    """``death`` and ``deaths`` (5.1: violent deaths) in a sentence that names violence and
    no accident or illness, except a death that names none ("death penalty", "death threats",
    C-5)."""
    return ContextFunction(name, {"death", "deaths"}, _casualty_context)
