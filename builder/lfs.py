"""Context labelling functions: rules that look beyond the trigger word.

Each is registered under a versioned name in :data:`builder.label.REGISTRY`, writes only
its own span group, and names the words it starts from (``anchors``) so that the labeller
skips texts without them. Word lists are the guidelines' definitions, not sentences of the
embedded corpus (see ``guidelines/GUIDELINES.md`` sections 3, 4 and 6).
"""

from __future__ import annotations

from typing import Callable, Iterable, Optional

from .label import VETO, Doc, WeakRules, register, word_positions

# S-4 / S-5: the means that make a generic attack word a STRIKE.
MEANS = frozenset(
    "drone drones aircraft jet jets warplane warplanes helicopter helicopters gunship gunships missile missiles "
    "plane planes bomber bombers airstrike airstrikes".split()
)
NOT_MEANS_AFTER = frozenset("defense defence defences defenses system systems battery batteries shield base bases launcher launchers factory".split())
GENERIC_ATTACK = frozenset("attack attacks attacked attacking raid raids bombing bombings bombed struck hit hitting targeted targeting barrage barrages assault".split())
ROCKETS = frozenset("rocket rockets katyusha katyushas mortar mortars shell shells projectile projectiles artillery grenade grenades".split())

# T-1 / T-3: communication of force.
FORCE = frozenset(
    "retaliate retaliated retaliation retaliatory revenge avenge response respond responded confront confrontation "
    "resist resistance fight fighting attack attacks strike strikes force forces reprisal reprisals punish punishment "
    "war destroy kill target consequences harsh decisive crush crushing expel eliminate hit".split()
)
WARN = frozenset("warn warns warned warning".split())
READY = frozenset("ready readiness prepared".split())
T2_NOUNS = frozenset("response revenge retaliation reprisal".split())
T2_ADJ = frozenset("harsh tough decisive severe strong crushing painful".split())
CLAUSE_END = frozenset({";", ".", "!", "?"})

SPORTS = frozenset(
    "striker strikers midfielder midfielders goalkeeper goalie scored scores goal goals match league championship tournament "
    "football soccer basketball cricket rugby hockey penalty fixture fixtures defender defenders derby coach".split()
)
LABOUR = frozenset("workers worker union unions wage wages pay pension pensions walkout picket pickets staff employees industrial".split())


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


class ContextFunction:
    """A labelling function written in code: ``rule(words, at)`` gives ``(token, label,
    confidence)`` for single-token spans, where ``at`` lists, in order, the positions of the
    function's ``anchors`` in ``words``; it runs only on texts with one of them."""

    def __init__(self, name: str, anchors: Iterable[str], rule: Callable[[list[str], list[int]], list[tuple[int, str, float]]]):
        self.name = name
        self.anchors: Optional[frozenset[str]] = frozenset(anchors)
        self.rule = rule

    def __call__(self, doc: Doc) -> None:
        words = doc.words
        where = doc.at if doc.at is not None else word_positions(words, self.anchors)
        at = sorted(i for w in self.anchors.intersection(where) for i in where[w])
        doc.spans[self.name] = [(*doc.char_span(i, i + 1), label, conf) for i, label, conf in self.rule(words, at)]


def _is_means(words: list[str], j: int) -> bool:
    return words[j] in MEANS and not (j + 1 < len(words) and words[j + 1] in NOT_MEANS_AFTER)


@register("strike_means.v1")
def strike_means(rules: WeakRules):
    """A generic attack word is STRIKE when aircraft, drones or missiles deliver it (S-4, S-5),
    and a barrage of rockets or shells is ATTACK."""

    def rule(words: list[str], at: list[int]) -> list[tuple[int, str, float]]:
        spans = []
        for i in at:
            low = words[i]
            window = list(_window(words, i, 8, 8))
            if any(_is_means(words, j) for j in window):
                spans.append((i, "STRIKE", 0.85))
            elif low.startswith("barrage") and any(words[j] in ROCKETS for j in window):
                spans.append((i, "ATTACK", 0.8))
        return spans

    return ContextFunction("strike_means.v1", GENERIC_ATTACK, rule)


@register("threat_speech.v1")
def threat_speech(rules: WeakRules):
    """THREAT from speech that commits to force (T-1: warned of / ready to + force; T-2: the
    future force itself when no threat word is there)."""
    threat_words = rules.words(["threat_lexicon.v2"])

    def rule(words: list[str], at: list[int]) -> list[tuple[int, str, float]]:
        spans = []
        for i in at:
            low = words[i]
            if low in WARN and any(words[j] in FORCE for j in _window(words, i, 0, 10)):
                spans.append((i, "THREAT", 0.8))
            elif low in READY:
                after = [j for j in _window(words, i, 0, 8) if words[j].isalnum()]
                if after and words[after[0]] in ("to", "for") and any(words[j] in FORCE for j in after):
                    spans.append((i, "THREAT", 0.75))
        has_t1 = bool(spans) or not threat_words.isdisjoint(words)
        if not has_t1:
            for i in at:
                low = words[i]
                if low in T2_NOUNS:
                    after = [words[j] for j in _window(words, i, 0, 8)]
                    if any(w in ("will", "would") for w in after) and any(w in T2_ADJ for w in after):
                        spans.append((i, "THREAT", 0.65))
                elif low == "fighting" and i >= 2:
                    before = [words[j] for j in _window(words, i, 4, 0)]
                    if ("stop" in before and ("not" in before or "n't" in before)) or "continue" in before:
                        if any(w in ("will", "would", "wo") for w in before) or "ready" in before:
                            spans.append((i, "THREAT", 0.6))
        return spans

    return ContextFunction("threat_speech.v1", WARN | READY | T2_NOUNS | {"fighting"}, rule)


@register("context_veto.v1")
def context_veto(rules: WeakRules):
    """Veto attack and strike words in sports sentences, and strikes in a labour context."""
    attack_words = GENERIC_ATTACK | {"strike", "strikes", "shot", "fired", "killed", "killing"}

    def rule(words: list[str], at: list[int]) -> list[tuple[int, str, float]]:
        spans = []
        sports = not SPORTS.isdisjoint(words)
        for i in at:
            low = words[i]
            if sports and low in attack_words:
                spans.append((i, VETO, 1.0))
            elif low in ("strike", "strikes") and any(words[j] in LABOUR for j in _window(words, i, 6, 6)):
                spans.append((i, VETO, 1.0))
        return spans

    return ContextFunction("context_veto.v1", attack_words, rule)
