"""The labelling page in headless Chromium: pre-annotations render, spans selected by mouse
come back with the offsets we expect (this is where Label Studio's offset unit is checked),
the instructions, the context sentences and the roles of the chosen event type show, an
argument made with the mouse and a pre-annotation accepted with the keyboard alone come back
through a pull."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Iterator

import pytest

from builder.labelset import project_file
from builder.pipeline import load_human_layer
from builder.records import Argument, Event
from builder.studio.interface import ARGTYPE_CAPTION, LabelSet, label_config
from builder.studio.project import ensure_project
from builder.studio.pull import pull
from builder.studio.push import push
from builder.studio.results import annotatable, sort_events
from builder.studio.tasks import task
from conftest import LiveServer, ev, sentence, tricky_sentences, write_records

pytestmark = [pytest.mark.browser, pytest.mark.server, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
# The documentation's pictures of the page, rewritten only with EVENTDS_UPDATE_SCREENSHOT=1 (so
# that test runs leave the work tree clean).
SCREENSHOT = ROOT / "docs" / "labelling.png"
SCREENSHOT_INSTRUCTIONS = ROOT / "docs" / "labelling-instructions.png"
CHROMIUM_PATHS = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def browser() -> Iterator[object]:
    chromium = next((p for p in CHROMIUM_PATHS if Path(p).exists()), None)
    if chromium is None:
        pytest.fail(f"Chromium not found at {' or '.join(CHROMIUM_PATHS)}: run `apt-get install chromium` (Debian's chromium; CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def showcase():
    t = ("Militants fired rockets at the army base near Kirkuk on Monday, killing three soldiers, "
         "and the group later vowed more attacks 🚀.")
    return sentence("doc0-show", t, [
        ev(t, "fired", "ATTACK", confidence=0.9, realis="ACTUAL",
           args=[("attacker", "Militants"), ("target", "the army base"), ("place", "Kirkuk")]),
        ev(t, "killing", "CASUALTY", confidence=0.85, realis="ACTUAL", args=[("victim", "soldiers")]),
        ev(t, "vowed", "THREAT", confidence=0.8, realis="ACTUAL", args=[("threatener", "the group")]),
        ev(t, "attacks", "ATTACK", confidence=0.55, realis="OTHER"),
    ])


def login(page, live: LiveServer) -> None:
    creds = live.credentials
    page.goto(f"{live.url}/user/login/")
    page.fill('input[name="email"]', creds.username)
    page.fill('input[name="password"]', creds.password)
    page.click('button[type="submit"]')
    page.wait_for_url(lambda url: "/user/login" not in url, timeout=30_000)


def open_task(page, live: LiveServer, project_id: int, task_id: int, wait: str = ".lsf-richtext__container .htx-highlight") -> None:
    """Open a task from the data manager and wait for its text (by default: for its regions)."""
    page.goto(f"{live.url}/projects/{project_id}/data?task={task_id}")
    page.wait_for_selector(wait, timeout=60_000)
    page.wait_for_timeout(500)


HIGHLIGHTS_JS = """() => {
  const groups = new Map();
  for (const el of document.querySelectorAll('.lsf-richtext__container .htx-highlight')) {
    const key = [...el.classList].find(c => c.startsWith('htx-highlight-') && c !== 'htx-highlight-last');
    groups.set(key, (groups.get(key) || '') + el.textContent);
  }
  return [...groups.values()];
}"""

DRAG_JS = """([word, occurrence]) => {
  const root = document.querySelector('.lsf-main-view__annotation .lsf-richtext__container');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let node, seen = 0;
  while ((node = walker.nextNode())) {
    let i = node.textContent.indexOf(word);
    while (i >= 0) {
      if (seen++ === occurrence) {
        const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + word.length);
        const b = r.getBoundingClientRect();
        return [b.left, b.top, b.right, b.bottom];
      }
      i = node.textContent.indexOf(word, i + 1);
    }
  }
  return null;
}"""


def drag_select(page, word: str, occurrence: int = 0) -> None:
    """Select ``word`` with the mouse, as an annotator would."""
    box = page.evaluate(DRAG_JS, [word, occurrence])
    assert box is not None, f"{word!r} not found on the page"
    left, top, right, bottom = box
    y = (top + bottom) / 2
    page.mouse.move(left + 1, y)
    page.mouse.down()
    page.mouse.move((left + right) / 2, y, steps=3)
    page.mouse.move(right - 1, y, steps=3)
    page.mouse.up()
    page.wait_for_timeout(300)


def test_prelabelled_regions_render_on_the_labelling_page(ls_server: LiveServer, browser, tmp_path: Path):
    sentences = [showcase(), *tricky_sentences()]
    client = ls_server.client()
    push(client, write_records(tmp_path / "records.jsonl", sentences))
    project = client.find_project("eventds")
    tasks = {t["data"]["sentence_id"]: t["id"] for t in client.tasks(project["id"])}

    page = browser.new_page(viewport={"width": 1440, "height": 760})
    login(page, ls_server)
    for s in sentences:
        if not s.weak_events:
            continue
        open_task(page, ls_server, project["id"], tasks[s.id])
        shown = sorted(page.evaluate(HIGHLIGHTS_JS))
        expected = sorted([e.text for e in s.weak_events] + [a.text for e in s.weak_events for a in e.arguments])
        # The page renders "\r\n" as line breaks, so compare without line-break characters.
        assert [x.replace("\r", "").replace("\n", "") for x in shown] == [x.replace("\r", "").replace("\n", "") for x in expected], s.id
        if s.id == "doc0-show":
            regions = page.locator(".lsf-outliner-item, [class*=outliner] [class*=item]")
            assert regions.count() >= len(expected)


def test_spans_selected_in_the_browser_come_back_with_code_point_offsets(ls_server: LiveServer, browser, tmp_path: Path):
    s = tricky_sentences()[3]  # "Gunmen attacked the convoy 👨‍👩‍👧.\r\nTwo guards were wounded and one was killed ..."
    client = ls_server.client()
    push(client, write_records(tmp_path / "records.jsonl", [s]))
    project = client.find_project("eventds")
    [task] = client.tasks(project["id"])

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    login(page, ls_server)
    open_task(page, ls_server, project["id"], task["id"])
    page.keyboard.press("3")  # CASUALTY (trigger labels get hotkeys 1-4 in schema order)
    drag_select(page, "killed")
    page.keyboard.press("Escape")
    page.keyboard.press("1")  # ATTACK, over a span holding astral characters
    drag_select(page, "convoy 👨‍👩‍👧")
    page.click("button:has-text('Submit')")
    deadline = time.monotonic() + 30
    while not (annotations := client.get(f"/api/tasks/{task['id']}/annotations/")) and time.monotonic() < deadline:
        time.sleep(0.2)
    [annotation] = annotations
    by_text = {r["value"]["text"]: r["value"] for r in annotation["result"] if r.get("from_name") == "trigger"}
    t = s.text
    killed, convoy = t.index("killed"), t.index("convoy")
    utf16_killed = len(t[:killed].encode("utf-16-le")) // 2
    assert utf16_killed != killed  # the text has astral characters before "killed"
    assert (by_text["killed"]["start"], by_text["killed"]["end"]) == (killed, killed + 6)  # code points, CRLF counted as 2
    assert (by_text["convoy 👨‍👩‍👧"]["start"], by_text["convoy 👨‍👩‍👧"]["end"]) == (convoy, convoy + len("convoy 👨‍👩‍👧"))

    out = tmp_path / "annotations"
    pull(client, out_dir=out)
    events = list(load_human_layer(out / "human.jsonl")[s.id].events)
    added = [Event("CASUALTY", killed, killed + 6, "killed"), Event("ATTACK", convoy, convoy + len("convoy 👨‍👩‍👧"), "convoy 👨‍👩‍👧")]
    assert events == sort_events([*(annotatable(e) for e in s.weak_events), *added])
    assert json.loads((out / "export.json").read_text(encoding="utf-8"))[0]["data"]["text"] == t


# ---------------------------------------------------------------------------------------
# What the annotator sees and does


LABELS = LabelSet.current()
PREV = "Fighting resumed overnight in the province after a week of calm."
NEXT = "The army said it would respond at a time of its choosing."
#: The labels shown in the annotation (not the data manager), with their keys.
VISIBLE_LABELS_JS = """() => [...document.querySelectorAll('.lsf-main-view__annotation .lsf-label')]
  .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height > 0)
  .map(e => [e.querySelector('.lsf-label__text').textContent.trim(), (e.querySelector('.lsf-label__hotkey') || {}).textContent || ''])"""
ARGTYPE_JS = """() => [...document.querySelectorAll('.lsf-main-view__annotation .lsf-choices input[type=radio]')]
  .map(i => [i.name, i.closest('label').querySelector('sup').textContent])"""
#: The box of the element whose own text is exactly ``text``, and of the task's text.
BOXES_JS = """(text) => {
  const main = document.querySelector('.lsf-main-view__annotation');
  const el = [...main.querySelectorAll('*')].find(e => e.children.length === 0 && e.textContent === text);
  const box = e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; };
  return el ? [box(el), box(main.querySelector('.lsf-richtext__container'))] : null;
}"""


def screenshot(page, docs_path: Path, tmp_path: Path) -> None:
    """A picture of the page: into ``docs/`` with EVENTDS_UPDATE_SCREENSHOT=1, else into ``tmp_path``."""
    shot = docs_path if os.environ.get("EVENTDS_UPDATE_SCREENSHOT") == "1" else tmp_path / docs_path.name
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def labelled_project(client, sentences):
    """The project as push makes it, its tasks imported with the same context around each text."""
    project = ensure_project(client, "eventds", label_config(LABELS))
    client.post(f"/api/projects/{project['id']}/import", [task(s, prev=PREV, next=NEXT) for s in sentences])
    return project, {t["data"]["sentence_id"]: t["id"] for t in client.tasks(project["id"])}


def choose_argtype(page, event_type: str) -> None:
    page.locator(f'.lsf-main-view__annotation .lsf-choices label:has(input[name="{event_type}"])').click()
    page.wait_for_timeout(300)


def click_role(page, role: str) -> None:
    """Click a role of the chosen event type (the other types' roles are there too, hidden)."""
    page.locator(".lsf-main-view__annotation .lsf-label:visible", has=page.locator(".lsf-label__text", has_text=role)).click()
    page.wait_for_timeout(200)


def click_region(page, text: str) -> None:
    page.locator(".lsf-main-view__annotation .lsf-richtext__container .htx-highlight", has_text=text).first.click()
    page.wait_for_timeout(300)


def wait_annotations(client, task_id: int) -> list:
    deadline = time.monotonic() + 30
    while not (annotations := client.get(f"/api/tasks/{task_id}/annotations/")) and time.monotonic() < deadline:
        time.sleep(0.2)
    return annotations


def test_the_page_shows_the_instructions_the_context_and_the_roles_of_the_chosen_type(ls_server: LiveServer, browser, tmp_path: Path):
    t = "Gunmen stormed a checkpoint north of the city, officials said."
    plain = sentence("doc8-a", t, [])  # nothing pre-annotated: no event type chosen yet
    client = ls_server.client()
    project, tasks = labelled_project(client, [plain, showcase()])
    page = browser.new_page(viewport={"width": 1440, "height": 760})
    login(page, ls_server)

    # The label stream opens with the instructions: the page's how-to, then the guidelines.
    page.goto(f"{ls_server.url}/projects/{project['id']}/data?labeling=1")
    page.wait_for_selector(".lsf-modal-ls__body", timeout=60_000)
    title = next(line[2:] for line in project_file("guidelines", "GUIDELINES.md").read_text(encoding="utf-8").splitlines() if line.startswith("# "))
    body = page.locator(".lsf-modal-ls__body")
    assert body.locator("h2").first.inner_text() == "How to annotate on this page"
    assert body.locator("h1").first.inner_text() == title
    assert body.locator("table").count() > 3 and body.locator("kbd", has_text="Enter").count() >= 1
    screenshot(page, SCREENSHOT_INSTRUCTIONS, tmp_path)
    page.keyboard.press("Escape")  # closes them
    page.wait_for_selector(".lsf-modal-ls__body", state="detached", timeout=10_000)
    page.wait_for_selector(".lsf-main-view__annotation .lsf-richtext__container", timeout=60_000)

    # The sentences before and after the text, above and below it, clear of the relation arrows.
    (_, prev_bottom), (text_top, text_bottom) = page.evaluate(BOXES_JS, PREV)
    (next_top, _), _ = page.evaluate(BOXES_JS, NEXT)
    assert prev_bottom + 25 <= text_top and text_bottom <= next_top

    # No role is offered until an event type is chosen, then exactly that type's roles; the
    # keys are those the instructions name (triggers 1-4, argument types 5-8).
    open_task(page, ls_server, project["id"], tasks[plain.id], wait=".lsf-richtext__container")
    types = [[t, str(i + 1)] for i, t in enumerate(LABELS.event_types)]
    assert page.evaluate(VISIBLE_LABELS_JS) == types
    assert page.evaluate(ARGTYPE_JS) == [[t, f"[{i + 5}]"] for i, t in enumerate(LABELS.event_types)]
    assert page.locator(".lsf-main-view__annotation", has_text=ARGTYPE_CAPTION).count() == 1
    for event_type in ("ATTACK", "THREAT", "CASUALTY"):
        choose_argtype(page, event_type)
        shown = page.evaluate(VISIBLE_LABELS_JS)
        assert shown[: len(types)] == types
        assert [name for name, _ in shown[len(types) :]] == list(LABELS.roles_of(event_type)), event_type
        assert all(key for _, key in shown)
    assert LABELS.roles_of("ATTACK") == ("attacker", "target", "instrument", "place", "time")

    # A pre-annotated task opens offering the roles of its first event with arguments.
    open_task(page, ls_server, project["id"], tasks["doc0-show"])
    assert [name for name, _ in page.evaluate(VISIBLE_LABELS_JS)[len(types) :]] == list(LABELS.roles_of("ATTACK"))
    click_region(page, "fired")  # its realis shows too
    screenshot(page, SCREENSHOT, tmp_path)


def test_an_argument_made_with_the_mouse_comes_back_with_its_event(ls_server: LiveServer, browser, tmp_path: Path):
    t = "Militants fired rockets at the army base near Kirkuk on Monday."
    s = sentence("doc7-a", t, [])  # nothing pre-annotated
    client = ls_server.client()
    project, tasks = labelled_project(client, [s])
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    login(page, ls_server)
    open_task(page, ls_server, project["id"], tasks[s.id], wait=".lsf-richtext__container")

    page.keyboard.press("1")  # ATTACK
    drag_select(page, "fired")
    page.keyboard.press("Escape")  # no region selected: a role click now labels new text
    page.keyboard.press("5")  # the roles of ATTACK
    click_role(page, "attacker")
    drag_select(page, "Militants")
    page.keyboard.press("Escape")
    click_role(page, "instrument")
    drag_select(page, "rockets")
    page.keyboard.press("Escape")
    for argument in ("Militants", "rockets"):  # relate: trigger, Alt+R, argument (relation labels left unset)
        click_region(page, "fired")
        page.keyboard.press("Alt+r")
        page.wait_for_timeout(300)
        click_region(page, argument)
        page.keyboard.press("Escape")
    page.click("button:has-text('Submit')")
    [annotation] = wait_annotations(client, tasks[s.id])
    controls = sorted((r.get("from_name"), r["value"].get("text")) for r in annotation["result"] if r.get("type") != "relation")
    assert controls == [("argtype", None), ("argument_ATTACK", "Militants"), ("argument_ATTACK", "rockets"), ("trigger", "fired")]

    out = tmp_path / "annotations"
    pull(client, out_dir=out)
    fired, rockets = t.index("fired"), t.index("rockets")
    expected = Event("ATTACK", fired, fired + 5, "fired", arguments=(Argument("attacker", 0, 9, "Militants"), Argument("instrument", rockets, rockets + 7, "rockets")))
    assert list(load_human_layer(out / "human.jsonl")[s.id].events) == [expected]


def test_a_pre_annotation_is_accepted_with_the_keyboard_alone(ls_server: LiveServer, browser, tmp_path: Path):
    s = showcase()
    client = ls_server.client()
    project, tasks = labelled_project(client, [s])
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    login(page, ls_server)
    open_task(page, ls_server, project["id"], tasks[s.id])  # opens with the prediction to edit
    page.keyboard.press("Control+Enter")
    [annotation] = wait_annotations(client, tasks[s.id])
    assert annotation["parent_prediction"] is not None

    out = tmp_path / "annotations"
    pull(client, out_dir=out)
    assert list(load_human_layer(out / "human.jsonl")[s.id].events) == sort_events(annotatable(e) for e in s.weak_events)
