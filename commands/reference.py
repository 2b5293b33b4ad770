"""The `reference` group: reference data recorded in the journal (the zoning vintages).

`reference zoning FILE --effective DATE` records one vintage of the A/B/C zoning as a
`zoning_vintage` transaction (every commune's class, the file's SHA-256, its source),
through the recorder like any import: all or nothing, and the same file for the same
date recorded again records nothing. `--shipped` records the vintages shipped with the
ledger. `reference vintages` lists those in force (docs/cli.md, "reference").
"""

from __future__ import annotations

from datetime import date

import click

from commands.options import emit, format_option, known_at_option, valid_date
from commands.outcome import finish, summary
from commands.recording import record_transactions
from commands.session import InputRejected, failures, session
from projections.render.formats import Document, escape


@click.group()
def reference() -> None:
    """Reference data in the journal: the zoning vintages."""


@reference.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--effective",
    callback=valid_date,
    metavar="DATE",
    help="The day the vintage took effect, YYYY-MM-DD (required with FILE).",
)
@click.option(
    "--source",
    metavar="TEXT",
    help="Where the file comes from (the order, the publisher, the licence); "
    "default: the file's name.",
)
@click.option(
    "--id",
    "transaction_id",
    metavar="ID",
    help="The transaction's id "
    "(default: zoning-abc-DATE-<first 12 hex digits of the file's SHA-256>).",
)
@click.option(
    "--shipped",
    is_flag=True,
    help="Record the vintages shipped with the ledger (the 2022 list and the order of "
    "5 July 2024, ledger/reference/README.md) instead of FILE.",
)
@click.option("--retries", type=click.IntRange(min=0), default=0, help="Retry after a conflict.")
@click.pass_context
def zoning(
    ctx: click.Context,
    file: str | None,
    effective: str | None,
    source: str | None,
    transaction_id: str | None,
    shipped: bool,
    retries: int,
) -> None:
    """Record a vintage of the A/B/C zoning: the zone of every commune from DATE on.

    FILE is `;`-separated UTF-8 with a header row, the INSEE commune code in the first
    column and the zone (Abis, A, B1, B2, C) in the column named `zone` or starting with
    `Zone` (the shapes of the shipped files). From DATE until the next vintage, every
    unit line must declare its commune's zone in this vintage, or may leave it out.
    """
    from ledger.booking.zoning import ZoningError, file_vintage, shipped_vintages

    if shipped == (file is not None):
        raise click.UsageError("give FILE (with --effective) or --shipped")
    if shipped and (effective or source or transaction_id):
        raise click.UsageError("--effective, --source and --id go with FILE, not --shipped")
    try:
        if shipped:
            txs = shipped_vintages()
        else:
            assert file is not None
            if effective is None:
                raise click.UsageError("--effective DATE is required with FILE")
            day = date.fromisoformat(effective)  # valid_date checked it
            txs = [file_vintage(file, day, source or file, transaction_id)]
    except ZoningError as e:
        for message in e.messages[:50]:
            click.echo(escape(message), err=True)
        raise InputRejected(
            f"{len(e.messages)} error(s) in the zoning file: nothing was recorded"
        ) from None
    except OSError as e:
        raise InputRejected(f"{e.filename}: cannot read: {e.strerror}") from None
    s = session(ctx)
    with failures():
        result = record_transactions(s, txs, retries)
    finish(s, summary(result))


@reference.command()
@known_at_option
@format_option
@click.pass_context
def vintages(ctx: click.Context, known_at: int | None, fmt: str) -> None:
    """The zoning vintages in force, by effective date (each until the next one's)."""
    from projections import queries, zones

    s = session(ctx)
    with failures():
        conn = s.reading()
        found = zones.vintages(conn, known_at)
        position = queries.position_at(conn, known_at)
    rows = [{"position": v.position, **v.record()} for v in found]
    columns = ["position", "vintage", "effective", "communes", "file", "sha256", "source"]
    emit(Document({"position": position}, rows, columns), fmt)
