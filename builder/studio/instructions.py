"""The project's instructions: how to use the labelling page, then the annotation guidelines, as HTML.

Label Studio shows a project's ``expert_instruction`` in a window that opens by itself when
an annotator starts the label stream, and behind the task's "Instructions" button. It
keeps only the HTML that bleach lets through (headings, paragraphs, lists, tables, code, a
``<style>`` element and ``class`` attributes; no ``style`` attributes), and its page's CSS
reset hides bullets and table borders: the ``<style>`` element below, scoped to
``.eventds-guide``, brings them back.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Optional

from .interface import ARGTYPE_CAPTION, LabelSet

#: The keys Label Studio gives labels and choices, in config order, when the config sets none.
LS_HOTKEYS = "1234567890qwetasdfgzxcvbyiopjklnm"

STYLE = """<style>
.eventds-guide { font-size: 14px; line-height: 1.5; }
.eventds-guide h1 { font-size: 20px; font-weight: 600; margin: 16px 0 8px; }
.eventds-guide h2 { font-size: 17px; font-weight: 600; margin: 14px 0 6px; }
.eventds-guide h3 { font-size: 15px; font-weight: 600; margin: 10px 0 4px; }
.eventds-guide h4, .eventds-guide h5, .eventds-guide h6 { font-size: 14px; font-weight: 600; margin: 8px 0 4px; }
.eventds-guide p { margin: 4px 0 8px; }
.eventds-guide ul { list-style: disc; padding-left: 1.5em; margin: 4px 0 8px; }
.eventds-guide ol { list-style: decimal; padding-left: 1.5em; margin: 4px 0 8px; }
.eventds-guide li { margin: 2px 0; }
.eventds-guide table { border-collapse: collapse; margin: 6px 0 10px; }
.eventds-guide th, .eventds-guide td { border: 1px solid #999; padding: 2px 6px; text-align: left; vertical-align: top; }
.eventds-guide th { background: #f0f0f0; font-weight: 600; }
.eventds-guide code { font-family: monospace; background: #f3f3f3; padding: 0 3px; border-radius: 3px; }
.eventds-guide kbd { font-family: monospace; border: 1px solid #bbb; border-radius: 3px; padding: 0 4px; background: #fafafa; }
.eventds-guide blockquote { border-left: 3px solid #ccc; margin: 6px 0; padding: 2px 10px; color: #444; }
.eventds-guide .eventds-howto { border: 1px solid #c9d7f0; background: #f4f8ff; border-radius: 4px; padding: 6px 12px; margin-bottom: 16px; }
</style>"""


def _keys(labels: LabelSet) -> tuple[dict[str, str], dict[str, str]]:
    """The keys Label Studio assigns to the trigger labels and to the argument-type choices
    (they come first in the config, so they get the first keys)."""
    n = len(labels.event_types)
    keys = LS_HOTKEYS + " " * (2 * n)  # more types than keys: the rest get none
    return dict(zip(labels.event_types, keys[:n].strip())), dict(zip(labels.event_types, keys[n : 2 * n].strip()))


def _key_list(keys: dict[str, str]) -> str:
    return ", ".join(f"<kbd>{k}</kbd> {escape(t)}" for t, k in keys.items())


def howto_html(labels: Optional[LabelSet] = None) -> str:
    """The short "How to annotate on this page" block (keys from the label set's config)."""
    labels = labels or LabelSet.current()
    trigger_keys, argtype_keys = _keys(labels)
    first_type = escape(labels.event_types[0]) if labels.event_types else "ATTACK"
    return f"""<div class="eventds-howto">
<h2>How to annotate on this page</h2>
<ul>
<li><b>Accept the pre-annotation as it is:</b> press <kbd>Ctrl</kbd>+<kbd>Enter</kbd> (submit). Nothing needs to be clicked; close this window with <kbd>Escape</kbd> first.</li>
<li><b>Trigger:</b> press the event type's key ({_key_list(trigger_keys)}) or click the type, then select the trigger word(s) with the mouse. With a trigger region selected, choose its realis (ACTUAL, GENERIC, OTHER).</li>
<li><b>Argument:</b> press <kbd>Escape</kbd> so that no region is selected, choose the event type in the row "{ARGTYPE_CAPTION}" ({_key_list(argtype_keys)}): only that type's roles are shown. Click a role (or press the key shown beside it), then select the argument with the mouse. Example: {first_type}, then one of its roles, then drag over the words.</li>
<li><b>Link them:</b> click the trigger region, press <kbd>Alt</kbd>+<kbd>R</kbd>, click the argument region. The relation takes the argument's role; give it another label (Relations tab, "Show Relation Labels") only when the same span plays another role for another trigger.</li>
<li><kbd>Escape</kbd> deselects, <kbd>Backspace</kbd> deletes the selected region, <kbd>Ctrl</kbd>+<kbd>Z</kbd> undoes.</li>
<li>The grey lines above and below the sentence are the sentences before and after it in its article: read them for orientation only; annotate the sentence alone (§1.1).</li>
<li>This text stays available behind the <b>Instructions</b> button of each task.</li>
</ul>
</div>"""


def markdown_html(text: str) -> str:
    """Markdown (CommonMark with tables; raw HTML not passed through) -> HTML."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def guidelines_path() -> Optional[Path]:
    """``guidelines/GUIDELINES.md`` (or the copy shipped in the package), if there is one."""
    from ..labelset import project_file

    try:
        return project_file("guidelines", "GUIDELINES.md")
    except FileNotFoundError:
        return None


def instructions_html(guidelines: Optional[Path] = None, labels: Optional[LabelSet] = None) -> str:
    """The project's instructions: the page's how-to, then the guidelines rendered to HTML.

    Args:
        guidelines: the guidelines in Markdown (default: ``guidelines/GUIDELINES.md``; without
            one, the instructions are the how-to alone).
        labels: the label set whose keys the how-to names (default: the project's).
    """
    path = guidelines or guidelines_path()
    body = markdown_html(path.read_text(encoding="utf-8")) if path is not None else ""
    return f'{STYLE}\n<div class="eventds-guide">\n{howto_html(labels)}\n{body}</div>\n'
