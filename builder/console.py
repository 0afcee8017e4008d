"""Terminal output shared by the command-line modules: errors and summary tables."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from .errors import EventdsError

out = Console()
err = Console(stderr=True)


def fail(e: EventdsError) -> None:
    """Print the error (verbatim: messages hold ``[record 1 -> ...]`` paths) and exit with its code."""
    err.print(f"error: {e}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(e.exit_code)


def summary_table(title: str, rows: list[tuple[str, str]]) -> None:
    """A two-column summary table on stderr, as every stage prints at its end."""
    table = Table(title=title, show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for k, v in rows:
        table.add_row(k, v)
    err.print(table)
