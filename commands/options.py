"""Options and output shared by several commands, so they read and behave the same.

`--known-at` and `--format` mean the same thing on every query; a date is checked (and
normalised) before any database is opened; `emit` is the one way a command prints a
document. Options used by one command only stay with it.
"""

from __future__ import annotations

from typing import Any

import click

from projections.render.formats import FORMATS, Document, render


def valid_date(_: Any, __: Any, value: str | None) -> str | None:
    """A legal date YYYY-MM-DD, normalised; a usage error (exit 2) otherwise."""
    from ledger.domain.values import parse_date

    if value is None:
        return None
    try:
        return parse_date(value).isoformat()
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


#: The legal date of a query (`holdings`, `units`): as of the end of that day.
as_of_option = click.option(
    "--as-of",
    callback=valid_date,
    metavar="DATE",
    help="Legal date YYYY-MM-DD (default: the latest date of the transactions, every one "
    "taken into account; zoning vintages are reference data and do not count).",
)
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format.",
)
known_at_option = click.option(
    "--known-at",
    type=click.IntRange(min=0),
    default=None,
    metavar="POSITION",
    help="Answer as the ledger stood when its journal ended at POSITION "
    "(ignores later transactions, including later reversals).",
)


def emit(doc: Document, fmt: str) -> None:
    """Print a document in the format asked for."""
    # color=True: click would otherwise strip ANSI sequences from data (JSON, CSV) that is
    # not going to a terminal; table output escapes control characters itself.
    click.echo(render(doc, fmt), color=True)
