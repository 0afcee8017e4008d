"""The build at scale: words per second with 1 and N workers against spaCy's sentencizer, peak memory, stage shares.

    python benchmarks/build_scale.py [--sentences 100000] [--workers 1,2] [--seed 1]
                                     [--skip-blank] [--skip-local] [--skip-dask] [--repeat 1]

Generates a news corpus of at least ``--sentences`` sentences (JSONL articles, as
``eventds build --corpus`` reads them) from a wide vocabulary: conflict, politics, economy,
sport, weather and society paragraphs, quotes, attributions and subordinate clauses drawn
independently, so that nearly every sentence is distinct and near-duplicates are rare, as in
real news. The corpus is cached by size and seed in the temporary folder (``--cache``), and
how many of its sentences are distinct is printed.

Each run is a separate process, whose process tree (Dask's worker processes included) is
polled every 0.2 s for its resident memory:

- ``blank``: ``spacy.blank("en")`` with a sentencizer over the article texts (``nlp.pipe``);
- ``build 1 process``: the build in one process (:class:`~builder.runners.LocalRunner`),
  whose per-step timings (``BuildSummary.timings``) give each stage's share;
- ``build --workers N``: the build with the per-document stages on a local Dask cluster of
  ``N`` worker processes, for each ``N`` of ``--workers``.

Each build's time is also cut in two: the stream (until every document is through the
stages) and the gather steps after it (validation, the near-duplicate index, the split,
publishing), which run in the main process whatever the number of workers; with the CPU
seconds of the main process (in the stream, and in all) and of the workers. Two workers can
only speed up the stream, and on a machine with two cores they share them with the main
process.

Words are the whitespace-separated tokens of the article texts (the same count for every
run). Words/s of a build is over the ``build()`` call (the cluster's start included), of
``blank`` over ``nlp.pipe``. Targets: a build in one process keeps at least half of
``blank``'s words/s; 2 workers reach 1.7 times one worker's; no process's peak RSS reaches
1 GiB at 1M sentences, and it stays flat from 100k to 1M. On a shared machine the figures
are noisy: run it when nothing else does. ``--repeat N`` runs each N times, taking the runs
in turn, and reports the median run of each (ratios between medians; the peak RSS the
highest of any run).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
POLL_SECONDS = 0.2

# ---------------------------------------------------------------------------------------
# The corpus: a seeded generator of news articles

FIRST_NAMES = """Amina Omar Lucia Jean Fatima Ahmed Maria Juan Chen Wei Priya Ravi Olga Ivan Sofia Mateo Aisha Yusuf Elena Pablo Hannah
David Grace Samuel Leila Karim Ngozi Chidi Kwame Abena Tomas Ingrid Lars Mei Hiroshi Yuki Carlos Ana Pedro Beatriz Nadia Sami Rania
Tariq Zainab Ibrahim Miriam Noah Emma Lena Felix Clara Jonas Marta Pavel Irina Dmitri Anya Kofi Efua Thabo Lerato Sipho Naledi Arjun
Kavya Vikram Ananya Hassan Salma Mustafa Layla Farid Yasmin Rashid Hana Diego Valentina Andres Camila Rafael Isabel Luis Gabriela
Mohammed Khadija Ali Maryam Bilal Sara Kenji Aiko Min Jisoo Tuan Linh Bao Ngoc Amir Shirin Reza Parisa Ewa Piotr Agnieszka Marek
Astrid Nils Freya Oskar Sean Aoife Liam Niamh Jacques Camille Olivier Amelie Rui Ines Joao Catarina Moses Ruth Peter Esther""".split()
LAST_NAMES = """Diallo Haddad Ortiz Moreau Yusuf Karimi Okafor Mensah Nakamura Tanaka Petrov Ivanova Garcia Lopez Silva Santos Kowalski
Nowak Hansen Larsen Nguyen Tran Kim Park Singh Sharma Patel Gupta Mahmoud Hassan Abdi Warsame Osei Boateng Adeyemi Okonkwo Ndlovu
Dlamini Mokoena Kariuki Otieno Mwangi Kamau Rossi Bianchi Ferrari Muller Schmidt Weber Fischer Novak Horvat Popescu Ionescu Dimitrov
Georgiou Papadopoulos Yilmaz Demir Kaya Aziz Rahman Chowdhury Hossain Begum Iqbal Qureshi Farouk Saleh Nasser Khalil Mansour
Suleiman Barzani Talabani Mirza Jafari Moradi Rezaei Sato Suzuki Watanabe Ito Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou
Fernandez Gonzalez Rodriguez Martinez Sanchez Ramirez Torres Flores Rivera Gomez Diaz Reyes Morales Cruz Ortega Castillo Vargas
Mendoza Romero Herrera Medina Aguilar Ruiz Alvarez Jimenez Moreno Navarro Dubois Laurent Lefebvre Girard Bonnet Fontaine""".split()
CITIES = """Mosul Kirkuk Aleppo Idlib Homs Raqqa Deir-ez-Zor Sanaa Aden Taiz Hodeidah Marib Mogadishu Kismayo Baidoa Garowe Hargeisa
Khartoum Omdurman Nyala Juba Malakal Bor Goma Bukavu Beni Bunia Kinshasa Bangui Maiduguri Kano Kaduna Jos Zaria Abuja Lagos Niamey
Agadez Diffa Tillaberi Bamako Gao Timbuktu Mopti Kidal Ouagadougou Djibo Dori Kaya Fada Tripoli Benghazi Misrata Sirte Derna Sabha
Kabul Kandahar Herat Jalalabad Kunduz Mazar Quetta Peshawar Karachi Lahore Kharkiv Odesa Dnipro Zaporizhzhia Mykolaiv Kherson Sumy
Donetsk Luhansk Mariupol Bakhmut Gaza Rafah Khan-Yunis Jenin Nablus Hebron Beirut Tyre Sidon Tripoli Baalbek Damascus Daraa Latakia
Tartus Maputo Pemba Mocimboa Beira Nampula Addis Mekelle Gondar Bahir-Dar Dessie Asmara Kassala Port-Sudan Medellin Cali Cucuta
Tumaco Arauca Culiacan Tijuana Juarez Acapulco Morelia Marawi Cotabato Zamboanga Jolo Yangon Mandalay Sittwe Myitkyina Lashio
Bogota Caracas Lima Quito Haiti Port-au-Prince Kumasi Tamale Bouake Abidjan Dakar Ziguinchor Conakry Freetown Monrovia Douala
Bamenda Buea Maroua Garoua Ndjamena Abeche Moundou Bossangoa Bria Kaga-Bandoro""".split()
SYLLABLES = ["ka", "ra", "mi", "lo", "ba", "tu", "sen", "dar", "hal", "mo", "zin", "ga", "fa", "ri", "nu", "sha", "ke", "dul", "wa",
             "ya", "bor", "el", "an", "os", "ti", "ve", "qu", "de", "lin", "pa", "sor", "ma", "ne", "gi", "ho", "us"]
REGIONS = ["province", "district", "region", "state", "county", "governorate", "valley", "border area", "highlands", "delta"]
GROUP_KINDS = ["Brigade", "Front", "Movement", "Army", "Battalion", "Guard", "Council", "Legion", "Union", "Alliance", "Militia", "Forces"]
GROUP_ADJ = ["Popular", "Revolutionary", "National", "Islamic", "Liberation", "Democratic", "United", "Free", "Patriotic", "Northern",
             "Southern", "Eastern", "Western", "Martyrs'", "Republican", "People's"]
VICTIMS = ["civilians", "soldiers", "police officers", "villagers", "fighters", "aid workers", "children", "worshippers", "miners",
           "traders", "students", "farmers", "nurses", "guards", "passengers", "fishermen", "shepherds", "journalists", "teachers",
           "election officials", "militiamen", "border guards", "pilgrims", "truck drivers", "health workers", "peacekeepers"]
TARGETS = ["checkpoint", "police station", "market", "army base", "convoy", "hospital", "mosque", "school", "bridge", "fuel depot",
           "refugee camp", "airport", "prison", "military outpost", "port", "power station", "bus station", "church", "courthouse",
           "water plant", "village", "gold mine", "customs post", "radio station", "clinic", "warehouse", "rail yard", "barracks",
           "university campus", "grain silo", "ministry building", "displacement camp", "telecom tower", "border crossing"]
WEAPONS = ["a drone", "a car bomb", "mortar shells", "an improvised explosive device", "rockets", "artillery fire", "a suicide bomber",
           "airstrikes", "grenades", "a landmine", "sniper fire", "heavy machine guns", "a roadside bomb", "cluster munitions",
           "a barrel bomb", "anti-tank missiles", "a motorcycle bomb", "tank shells", "a guided missile"]
ATTACK_VERBS = ["attacked", "stormed", "raided", "overran", "shelled", "bombed", "ambushed", "besieged", "set fire to", "targeted"]
KILL_VERBS = ["killing", "leaving dead", "killing at least", "wounding", "injuring", "killing or wounding"]
ROLES = ["spokesman", "governor", "commander", "hospital director", "police chief", "mayor", "minister", "elder", "medic",
         "researcher", "analyst", "district commissioner", "army spokeswoman", "health official", "rights activist", "prosecutor",
         "aid coordinator", "tribal leader", "senator", "deputy minister", "union leader", "economist", "coach", "meteorologist"]
AGENCIES = ["the United Nations", "the Red Cross", "Doctors Without Borders", "the World Food Programme", "UNICEF", "Amnesty International",
            "Human Rights Watch", "the African Union", "the European Union", "the World Bank", "the International Monetary Fund",
            "the interior ministry", "the defence ministry", "the health ministry", "the electoral commission", "the central bank"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
TIMES = ["at dawn", "before noon", "in the afternoon", "at dusk", "after midnight", "during evening prayers", "on market day",
         "overnight", "early in the morning", "late in the evening", "shortly after sunrise", "around lunchtime"]
COMMODITIES = ["wheat", "maize", "cooking oil", "diesel", "petrol", "sugar", "rice", "cement", "fertiliser", "copper", "gold", "coffee",
               "cocoa", "cotton", "sorghum", "natural gas", "electricity", "bread", "medicine", "steel"]
CURRENCIES = ["the shilling", "the naira", "the pound", "the dinar", "the rial", "the peso", "the cedi", "the birr", "the franc", "the kwacha", "the rupee"]
INDICATORS = ["inflation", "unemployment", "the trade deficit", "foreign reserves", "public debt", "fuel prices", "food prices",
              "remittances", "exports", "tax revenue", "youth unemployment", "the budget deficit"]
SPORTS_TEAMS = ["Rangers", "United", "City", "Stars", "Lions", "Eagles", "Sharks", "Warriors", "Rovers", "Athletic", "Dynamos", "Wanderers"]
SPORTS = ["league", "cup", "championship", "qualifier", "derby", "tournament", "semi-final", "final"]
WEATHER = ["heavy rain", "flash floods", "a heatwave", "a sandstorm", "strong winds", "a cyclone", "hailstorms", "a cold snap",
           "drought", "thunderstorms", "landslides", "dense fog"]
ISSUES = ["the new constitution", "fuel subsidies", "the ceasefire", "the peace talks", "the budget", "electoral reform",
          "the mining code", "land rights", "the prisoner exchange", "the disarmament plan", "the curfew", "press freedom",
          "school fees", "the national census", "power cuts", "the teachers' strike", "a new tax on mobile money"]
ADVERBS = ["sharply", "slightly", "steadily", "unexpectedly", "again", "for the third month", "for the first time since 2019", "modestly"]
QUOTE_OPENINGS = ["We will not leave our homes", "Nobody came to help us", "The situation is under control", "We need food and water",
                  "This was a cowardly act", "The talks will continue next week", "Prices have doubled since the spring",
                  "Our players gave everything", "The roads are impassable", "We demand an independent investigation",
                  "The government has failed us", "We are ready to negotiate", "Schools must reopen", "The harvest is lost",
                  "We counted the bodies ourselves", "There is no fuel left in the city"]


def _name(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts + rng.randint(0, 1))).capitalize()


def _place(rng: random.Random) -> str:
    return rng.choice(CITIES) if rng.random() < 0.55 else _name(rng)


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def _group(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"the {rng.choice(GROUP_ADJ)} {rng.choice(GROUP_KINDS)} of {_name(rng)}"
    return f"the {_name(rng)} {rng.choice(GROUP_KINDS)}"


def _number(rng: random.Random) -> str:
    n = rng.choice([rng.randint(2, 12), rng.randint(2, 60), rng.randint(10, 400)])
    return str(n) if n > 10 or rng.random() < 0.5 else ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"][min(n, 10) - 2]


def _when(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        return f"on {rng.choice(DAYS)}"
    if r < 0.6:
        return f"on {rng.randint(1, 28)} {rng.choice(MONTHS)}"
    if r < 0.8:
        return f"on {rng.choice(DAYS)} {rng.choice(TIMES)}"
    return rng.choice(["last week", "earlier this month", "late last year", "over the weekend", f"in {rng.choice(MONTHS)}"])


def _slots(rng: random.Random) -> dict[str, str]:
    role = rng.choice(ROLES)
    return {
        "place": _place(rng), "place2": _place(rng), "region": f"{_name(rng)} {rng.choice(REGIONS)}", "group": _group(rng), "group2": _group(rng),
        "person": _person(rng), "person2": _person(rng), "role": role, "a_role": ("an " if role[0] in "aeiou" else "a ") + role,
        "target": rng.choice(TARGETS), "target2": rng.choice(TARGETS), "victims": rng.choice(VICTIMS), "weapon": rng.choice(WEAPONS),
        "attack": rng.choice(ATTACK_VERBS), "kill": rng.choice(KILL_VERBS), "when": _when(rng), "time": rng.choice(TIMES),
        "n": _number(rng), "m": str(rng.randint(2, 90)), "pct": f"{rng.randint(1, 40)}.{rng.randint(0, 9)} percent",
        "agency": rng.choice(AGENCIES), "commodity": rng.choice(COMMODITIES), "currency": rng.choice(CURRENCIES),
        "indicator": rng.choice(INDICATORS), "adverb": rng.choice(ADVERBS), "team": f"{_place(rng)} {rng.choice(SPORTS_TEAMS)}",
        "team2": f"{_place(rng)} {rng.choice(SPORTS_TEAMS)}", "sport": rng.choice(SPORTS), "weather": rng.choice(WEATHER),
        "issue": rng.choice(ISSUES), "score": f"{rng.randint(0, 5)}-{rng.randint(0, 4)}", "year": str(rng.randint(1990, 2024)),
        "money": f"{rng.randint(2, 900)} million dollars", "quote": rng.choice(QUOTE_OPENINGS), "minute": str(rng.randint(2, 90)),
        "km": str(rng.randint(3, 180)), "temp": str(rng.randint(38, 51)), "mm": str(rng.randint(40, 300)),
    }


# Main clauses by kind of paragraph, then what may follow them; {slots} of _slots.
CLAUSES = {
    "conflict": [
        "{group} {attack} the {target} in {place} {when}, {kill} {n} {victims}",
        "at least {n} {victims} were killed when {weapon} hit the {target} of {place} {when}",
        "{weapon} struck a {target} on the outskirts of {place} {time}, {kill} {n} {victims}",
        "gunmen on motorcycles {attack} the {target} near {place} and abducted {n} {victims}",
        "{group} claimed responsibility for the attack on the {target} in {place}, which killed {n} {victims}",
        "fighting between {group} and {group2} for control of the {target} in {place} entered its {m}th day",
        "{group} threatened to attack {place} unless the army withdrew from the {region} within {m} days",
        "troops backed by helicopters retook the {target} in {place} from {group} {when}",
        "{n} {victims} were wounded in clashes with {group} around the {target} of {place}",
        "residents of {place} buried {n} {victims} killed by {weapon} in the {region} {when}",
        "an airstrike on the {target} in {place} killed {n} {victims}, among them several women",
        "{group} denied shelling the {target} at {place} and blamed {group2} for the deaths of {n} {victims}",
        "security forces killed {n} members of {group} in a raid on a hideout near {place}",
        "kidnappers released {n} {victims} seized from a {target} in the {region} after a ransom was paid",
        "{n} {victims} died in an explosion at the {target} of {place} {when}",
    ],
    "politics": [
        "parliament voted {m} to {n} to approve {issue} after a heated session in {place}",
        "{person}, the {role} of the {region}, resigned {when} over the handling of {issue}",
        "thousands marched through {place} to protest against {issue}",
        "the opposition boycotted the vote on {issue} and called for fresh elections before {year}",
        "{person} met delegates from {agency} in {place} to discuss {issue}",
        "the president dismissed {person} as {role} and named {person2} in his place",
        "talks on {issue} between the government and {group} resumed in {place} {when}",
        "the electoral commission said turnout in the {region} reached {pct}",
    ],
    "economy": [
        "{indicator} rose {adverb} to {pct} in {place}, {agency} said",
        "the price of {commodity} in {place} has risen by {pct} since {year}",
        "{currency} fell {adverb} against the dollar as {indicator} worsened",
        "the government agreed a loan of {money} with {agency} to cover {indicator}",
        "traders in {place} said a sack of {commodity} now costs more than a week's wages",
        "exports of {commodity} from the port of {place} dropped by {pct} in the first quarter",
        "the central bank raised its main rate to {pct} to slow {indicator}",
        "a new {commodity} plant near {place} will employ {n} workers, {person} said",
    ],
    "sport": [
        "{team} beat {team2} {score} in the {sport} {when}",
        "a goal in the {minute}th minute gave {team} a {score} win over {team2}",
        "{person} scored twice as {team} came from behind to draw with {team2}",
        "{team} sacked their coach after a {score} defeat to {team2} in the {sport}",
        "fans of {team} and {team2} clashed outside the stadium in {place} before the {sport}",
        "{person} won the {km} kilometre race in {place} in a new national record",
    ],
    "weather": [
        "{weather} cut roads between {place} and {place2} and left {n} villages without power",
        "forecasters warned that {weather} would reach the {region} by {when}",
        "temperatures in {place} reached {temp} degrees Celsius, the highest since {year}",
        "{mm} millimetres of rain fell on {place} in {m} hours, flooding the {target}",
        "{weather} destroyed crops across the {region}, farmers in {place} said",
        "{n} families were evacuated from {place} as {weather} swept the {region}",
    ],
    "society": [
        "schools in {place} reopened {when} after {m} weeks of closure",
        "a cholera outbreak in the {region} has infected {n} people, {agency} said",
        "{agency} said {n} thousand people had fled {place} for {place2} since {year}",
        "teachers in {place} went on strike to demand unpaid wages for {m} months",
        "the hospital in {place} has run out of {commodity}, its director {person} said",
        "a festival in {place} drew {n} thousand visitors despite {issue}",
        "{person}, a {role} in {place}, has registered {n} new cases of malaria this month",
        "the new bridge between {place} and {place2} cut the journey to {m} minutes",
    ],
}
KIND_WEIGHTS = {"conflict": 45, "politics": 15, "economy": 12, "sport": 8, "weather": 8, "society": 12}
ATTRIBUTIONS = [
    "{person}, the {role} of {place}, said", "according to {person}, {a_role}", "{person} told reporters {when}",
    "{a_role} who asked not to be named said", "the {role} {person} wrote on social media", "{agency} said in a statement",
    "figures from {agency} showed", "witnesses in {place2} said", "local radio in {place} reported", "{person} confirmed {time}",
    "{person} of {agency} told the Associated Press", "officials in {place2} said", "a statement from {agency} said",
]
#: Those that may be followed by "that" and a clause.
REPORTING = [a for a in ATTRIBUTIONS if a.endswith(("said", "reported", "showed"))]
FOLLOWERS = [
    "as {victims} fled towards {place2}", "after weeks of rising tension over {issue}", "while {agency} appealed for calm",
    "a day after {person} visited the {region}", "despite a curfew imposed by the {role} {when}", "in the worst such incident since {year}",
    "although the road to {place2} remained closed", "before reinforcements arrived from {place2}", "as talks on {issue} stalled",
    "while {weather} hampered rescue efforts", "and {n} others were taken to the {target} in {place2}",
]


def _cap(text: str) -> str:
    return text[0].upper() + text[1:]


def sentence(rng: random.Random, kind: str) -> str:
    """One sentence of a paragraph of ``kind``, of about 20 to 30 words."""
    for _ in range(20):
        slots = _slots(rng)
        main = rng.choice(CLAUSES[kind]).format(**slots)
        r = rng.random()
        if r < 0.15:
            s = f'"{slots["quote"]}," {rng.choice(ATTRIBUTIONS).format(**slots)}, adding that {main}.'
        elif r < 0.35:
            s = f"{_cap(rng.choice(REPORTING).format(**slots))} that {main}."
        elif r < 0.7:
            s = f"{_cap(main)}, {rng.choice(ATTRIBUTIONS).format(**slots)}."
        else:
            s = f"{_cap(main)}."
        while len(s.split()) < 20:
            s = f"{s[:-1]}, {rng.choice(FOLLOWERS).format(**_slots(rng))}."
        if len(s.split()) <= 34:
            return s
    return s


def article(rng: random.Random, index: int) -> dict[str, Any]:
    """A JSONL article of 10 to 40 sentences in paragraphs of 1 to 3, mostly of one kind
    (with its ``sentences``, which are not written)."""
    kinds, weights = zip(*KIND_WEIGHTS.items())
    kind = rng.choices(kinds, weights)[0]
    sentences: list[str] = []
    paragraphs = []
    wanted = rng.randint(10, 40)
    while len(sentences) < wanted:
        k = min(rng.randint(1, 3), wanted - len(sentences))
        pkind = kind if rng.random() < 0.75 else rng.choices(kinds, weights)[0]
        paragraph = [sentence(rng, pkind) for _ in range(k)]
        sentences += paragraph
        paragraphs.append(" ".join(paragraph))
    day = rng.randint(1, 28)
    slots = _slots(rng)
    title = _cap(rng.choice(CLAUSES[kind]).format(**slots).split(",")[0])
    return {
        "id": f"bench-{index:07d}", "text": "\n\n".join(paragraphs), "title": title, "outlet": rng.choice(["Sahel Courier", "Gulf Dispatch", "Horn Monitor", "Andes Report", "Delta Times"]),
        "published": f"2024-{rng.randint(1, 12):02d}-{day:02d}", "author": _person(rng), "sentences": sentences,
    }


def make_corpus(folder: Path, sentences: int, seed: int) -> tuple[Path, dict[str, Any]]:
    """The corpus of at least ``sentences`` sentences (cached in ``folder``) and its statistics."""
    path = folder / f"corpus-{sentences}-{seed}.jsonl"
    stats_path = path.with_suffix(".stats.json")
    if path.exists() and stats_path.exists():
        return path, json.loads(stats_path.read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    seen: set[int] = set()
    total = words = docs = chars = 0
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        while total < sentences:
            a = article(rng, docs)
            sents = a.pop("sentences")
            seen.update(hash(s) for s in sents)
            total += len(sents)
            words += len(a["text"].split())
            chars += len(a["text"])
            docs += 1
            fh.write(json.dumps(a, ensure_ascii=False) + "\n")
    tmp.replace(path)
    stats = {"documents": docs, "sentences": total, "distinct": len(seen), "words": words, "chars": chars, "seed": seed}
    stats_path.write_text(json.dumps(stats), encoding="utf-8")
    return path, stats


# ---------------------------------------------------------------------------------------
# The runs, each in its own process (this script with --run)


def run_blank(corpus: Path) -> dict[str, Any]:
    from builder.allocator import import_spacy_without_torch

    import_spacy_without_torch()  # as the build does: neither holds PyTorch
    import spacy

    texts = [json.loads(line)["text"] for line in corpus.open(encoding="utf-8")]
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    t0 = time.perf_counter()
    sentences = words = 0
    for doc in nlp.pipe(texts, batch_size=64):
        sentences += sum(1 for _ in doc.sents)
        words += len(doc.text.split())
    return {"seconds": time.perf_counter() - t0, "sentences": sentences, "words": words}


def run_build(corpus: Path, out: Path, workers: int) -> dict[str, Any]:
    from builder.allocator import import_spacy_without_torch, map_large_blocks, use_system_arrow_pool

    use_system_arrow_pool()  # as `eventds build` does, before Arrow allocates
    import_spacy_without_torch()  # and with the blank pipeline
    from builder.pipeline import build
    from builder.runners import make_runner

    map_large_blocks()
    stream: dict[str, float] = {}

    def progress(step: str) -> None:
        if step == "validate":  # the documents are all through: the gather steps follow, in this process
            stream["seconds"], stream["cpu"] = time.perf_counter() - t0, _cpu_seconds()

    t0, cpu0 = time.perf_counter(), _cpu_seconds()
    with make_runner(workers or None, spacy_without_torch=True) as runner:
        summary = build(corpus, out, annotations_dir=out.parent / "no-annotations", runner=runner, progress=progress)
    seconds = time.perf_counter() - t0
    duplicates = sum(1 for _ in (out / "duplicates.jsonl").open(encoding="utf-8"))
    return {
        "seconds": seconds, "sentences": summary.sentences, "timings": summary.timings, "duplicate_clusters": duplicates,
        "stream_seconds": stream["seconds"], "stream_cpu": stream["cpu"] - cpu0, "cpu": _cpu_seconds() - cpu0,
    }


def _cpu_seconds() -> float:
    """CPU seconds (user and system) of this process so far, its threads included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(args: argparse.Namespace) -> None:
    what, corpus = args.run, Path(args.corpus)
    result = run_blank(corpus) if what == "blank" else run_build(corpus, Path(args.out), int(what.split(":")[1]))
    result["ru_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(result), flush=True)


def _role(proc: Any, root: int) -> str:
    """What a process of the tree is: the run's own (``main``), a Dask worker, ..."""
    import psutil

    if proc.pid == root:
        return "main"
    try:
        cmd = " ".join(proc.cmdline())
    except psutil.Error:
        return "?"
    if "resource_tracker" in cmd:
        return "resource tracker"
    if "multiprocessing" in cmd or "spawn" in cmd:
        return "dask worker"
    return proc.name()


def measured(argv: list[str]) -> tuple[dict[str, Any], dict[int, tuple[str, float]], float]:
    """Run ``argv``; its result, each process's peak RSS in MiB (pid -> (role, MiB)), its wall
    seconds. The result gets ``process_cpu``: each process's CPU seconds, as last polled
    (role -> seconds, added up over the processes of a role but the main one)."""
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peaks: dict[int, tuple[str, float]] = {}
    cpu: dict[int, float] = {}
    done = threading.Event()

    def poll() -> None:
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                tree = [root, *root.children(recursive=True)]
            except psutil.Error:
                break
            for p in tree:
                try:
                    rss = p.memory_info().rss / 2**20
                    role = peaks[p.pid][0] if p.pid in peaks else _role(p, proc.pid)
                    times = p.cpu_times()
                    cpu[p.pid] = times.user + times.system
                except psutil.Error:
                    continue
                if rss > peaks.get(p.pid, ("", 0.0))[1]:
                    peaks[p.pid] = (role, rss)
            done.wait(POLL_SECONDS)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    poller.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited with {proc.returncode}:\n{stderr[-4000:]}")
    line = next(l for l in stdout.splitlines() if l.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    result["process_cpu"] = {}
    for pid, seconds in cpu.items():
        role = peaks[pid][0] if pid in peaks else "?"
        if pid != proc.pid:
            result["process_cpu"][role] = result["process_cpu"].get(role, 0.0) + seconds
    return result, peaks, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=100_000, help="at least this many sentences in the corpus")
    parser.add_argument("--workers", default="1,2", help="comma-separated numbers of Dask worker processes (default 1,2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "eventds-build-scale", help="where corpora are kept")
    parser.add_argument("--skip-blank", action="store_true", help="no spacy.blank run")
    parser.add_argument("--skip-local", action="store_true", help="no one-process build")
    parser.add_argument("--skip-dask", action="store_true", help="no Dask builds")
    parser.add_argument("--repeat", type=int, default=1, help="run each N times, the runs taken in turn, and report each run's median (default 1)")
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        return child(args)

    t0 = time.perf_counter()
    corpus, stats = make_corpus(args.cache, args.sentences, args.seed)
    print(f"corpus {corpus} ({time.perf_counter() - t0:.1f} s): {stats['documents']} articles, {stats['sentences']} sentences, "
          f"{stats['distinct']} distinct ({stats['distinct'] / stats['sentences']:.2%}), {stats['words']} words, {stats['chars'] / 2**20:.1f} MiB of text", flush=True)
    runs = ([] if args.skip_blank else ["blank"]) + ([] if args.skip_local else ["build:0"])
    runs += [] if args.skip_dask else [f"build:{int(n)}" for n in args.workers.split(",") if n.strip()]
    samples: dict[str, list[tuple[dict[str, Any], dict[int, tuple[str, float]], float]]] = {run: [] for run in runs}
    with tempfile.TemporaryDirectory(prefix="build-scale-") as tmp:
        for k in range(max(args.repeat, 1)):  # in turn, so that what else the machine does weighs on every run alike
            for run in runs:
                argv = [sys.executable, __file__, "--run", run, "--corpus", str(corpus), "--out", str(Path(tmp) / f"{run.replace(':', '-')}-{k}" / "out")]
                samples[run].append(measured(argv))
                r, peaks, _ = samples[run][-1]
                print(f"  {label(run)}: {r['seconds']:.1f} s, {stats['words'] / r['seconds']:,.0f} words/s, peak RSS {max(m for _, m in peaks.values()):.0f} MiB", flush=True)
                shutil.rmtree(Path(tmp) / f"{run.replace(':', '-')}-{k}", ignore_errors=True)
    if args.repeat > 1:
        each = "; ".join(label(run) + " " + ", ".join(f"{r['seconds']:.1f}" for r, _, _ in xs) for run, xs in samples.items())
        print(f"\nmedian of {args.repeat} runs each (seconds of each: {each})")
    results = {run: sorted(xs, key=lambda x: x[0]["seconds"])[(len(xs) - 1) // 2] for run, xs in samples.items()}
    report(stats, results, max((mib for xs in samples.values() for _, peaks, _ in xs for _, mib in peaks.values()), default=0.0))


def label(run: str) -> str:
    if run == "blank":
        return 'spacy.blank("en") + sentencizer'
    n = int(run.split(":")[1])
    return "build, 1 process" if n == 0 else f"build --workers {n}"


def report(stats: dict[str, Any], results: dict[str, tuple[dict[str, Any], dict[int, tuple[str, float]], float]], max_rss: float) -> None:
    """The table of ``results`` (one run of each), and the ratios the issue sets targets for;
    ``max_rss``: the peak RSS of any process of any run."""
    if not results:  # every run skipped: the corpus alone was made
        return
    words = stats["words"]
    print(f"\n{'run':34} {'seconds':>8} {'process s':>9} {'words/s':>10} {'sentences':>9} {'peak RSS MiB per process':>30}")
    for run, (r, peaks, wall) in results.items():
        per = ", ".join(f"{role} {mib:.0f}" for role, mib in sorted(peaks.values(), key=lambda x: (x[0] != "main", -x[1])) if role != "resource tracker")
        print(f"{label(run):34} {r['seconds']:8.1f} {wall:9.1f} {words / r['seconds']:10,.0f} {r['sentences']:9} {per:>30}")
    print(f"max peak RSS over every process: {max_rss:.0f} MiB (target < 1024 at 1M sentences)")
    speed = {run: words / r["seconds"] for run, (r, _, _) in results.items()}
    if "blank" in speed and "build:0" in speed:
        print(f"build, 1 process / blank: {speed['build:0'] / speed['blank']:.2f} (target >= 0.5)")
    if "build:1" in speed and "build:2" in speed:
        print(f"build --workers 2 / --workers 1: {speed['build:2'] / speed['build:1']:.2f} (target >= 1.7)")
    if "build:0" in speed and "build:2" in speed:
        print(f"build --workers 2 / 1 process: {speed['build:2'] / speed['build:0']:.2f}")
    for run, (r, _, _) in results.items():
        if run.startswith("build"):
            print(f"{label(run)}: near-duplicate clusters {r['duplicate_clusters']}")
    builds = [run for run in results if run.startswith("build")]
    if not builds:
        return
    print("\nwhere the time goes: the stream (every document through the stages) and the gather steps after it, in the main")
    print("process; CPU seconds of the main process (its threads, the Dask scheduler of a local cluster included) and of the workers")
    print(f"{'run':34} {'stream s':>9} {'after s':>8} {'main CPU s':>11} {'of it in the stream':>20} {'worker CPU s':>13}")
    for run in builds:
        r = results[run][0]
        workers = sum(s for role, s in r["process_cpu"].items() if role == "dask worker")
        print(f"{label(run):34} {r['stream_seconds']:9.1f} {r['seconds'] - r['stream_seconds']:8.1f} {r['cpu']:11.1f} {r['stream_cpu']:20.1f} {workers:13.1f}")
    if "build:1" in results and "build:2" in results:
        one, two = results["build:1"][0], results["build:2"][0]
        print(f"stream --workers 2 / --workers 1: {one['stream_seconds'] / two['stream_seconds']:.2f}; "
              f"after the stream: {one['seconds'] - one['stream_seconds']:.1f} s and {two['seconds'] - two['stream_seconds']:.1f} s, the same work in both")
    print("\ntime per step, seconds (share of the build() call): per-document stages added up over the processes that ran them")
    print(f"{'step':12}" + "".join(f"{label(run):>26}" for run in builds))
    steps = list(results[builds[0]][0]["timings"])
    for step in [*steps, "other"]:
        row = f"{step:12}"
        for run in builds:
            r = results[run][0]
            s = r["timings"].get(step, 0.0) if step != "other" else r["seconds"] - sum(r["timings"].values())
            row += f"{s:17.2f} ({s / r['seconds']:5.1%})"
        print(row)
    print("(other: reading the input, partitioning, waiting for the workers, the swap; negative when workers run stages at once)")

if __name__ == "__main__":
    main()
