"""The commands that read the ledger: `holdings`, `units`, `history` and `journal`.

They answer from the projections, caught up with the journal first (`Session.current`),
and never write the journal. With `--known-at` they answer as the ledger stood at an
earlier journal position. Shaping rows into a document is here; reading them is in
`projections/queries.py`, `projections/register.py` and `ledger/storage/chain.py`.
"""

from __future__ import annotations

import click

from commands.options import as_of_option, emit, format_option, known_at_option
from commands.session import InputRejected, failures, session
from ledger.domain.values import Segment, Zone
from projections import queries, register
from projections.render.formats import Document, stream

JOURNAL_FORMATS = ("table", "json", "csv", "jsonl")


@click.command()
@as_of_option
@click.option("--entity", metavar="ID", help="Only this entity.")
@click.option("--by", type=click.Choice(queries.DIMENSIONS), help="Also split by this dimension.")
@click.option(
    "--group",
    "consolidated",
    is_flag=True,
    help="Consolidated: one row, entity `group`, for the entities of the group on the date "
    "(the perimeter as of that day; `entities` lists it).",
)
@known_at_option
@format_option
@click.pass_context
def holdings(
    ctx: click.Context,
    as_of: str | None,
    entity: str | None,
    by: str | None,
    consolidated: bool,
    known_at: int | None,
    fmt: str,
) -> None:
    """Units held per entity and right (full ownership, usufruct, bare ownership).

    By zone (or tense), a unit's zone is its commune's class in the zoning vintage in
    force on the date (`reference vintages`), else the zone it was recorded with: the
    answer's `zones_from` names that vintage (or says `declared`), and its JSON's
    `zoning` describes it."""
    if consolidated and entity is not None:
        raise click.UsageError("--group and --entity cannot be used together")
    s = session(ctx)
    with failures():
        conn = s.reading()
        rows = queries.holdings(conn, as_of, entity, by, known_at)
        position = queries.position_at(conn, known_at)
        if consolidated:
            from projections.perimeter import group_holdings

            rows = group_holdings(conn, rows, as_of, position)
        header = {"as_of": as_of, "position": position}
        extra = {}
        if by in ("zone", "tense"):  # where the zones came from
            zoning = queries.zoning_in_force(conn, as_of, known_at)
            header["zones_from"] = zoning["vintage"] if zoning else "declared"
            extra["zoning"] = zoning
    keyed = [r.record(by) for r in rows]
    columns = ["entity", *([by] if by else []), "full_ownership", "usufruct", "bare_ownership"]
    emit(Document(header, keyed, columns, extra=extra), fmt)


@click.command()
@as_of_option
@click.option("--entity", metavar="ID", help="Only the units this entity holds.")
@click.option("--right", type=click.Choice(register.RIGHTS), help="Only this right.")
@click.option("--zone", type=click.Choice([z.value for z in Zone]), help="Only this zone.")
@click.option("--segment", type=click.Choice([s.value for s in Segment]), help="Only this segment.")
@click.option("--commune", metavar="INSEE", help="Only this commune (INSEE code).")
@known_at_option
@format_option
@click.pass_context
def units(
    ctx: click.Context,
    as_of: str | None,
    entity: str | None,
    right: str | None,
    zone: str | None,
    segment: str | None,
    commune: str | None,
    known_at: int | None,
    fmt: str,
) -> None:
    """The unit register: each unit held, one row per unit and right held, with its
    attributes, how and when the holder got it (entry, entered_on) and, for a
    dismembered unit, the other side and the usufruct's end. Sorted by entity, unit and
    right.

    Rows are printed as they are read, a few thousand at a time, so a large ledger
    starts printing at once. JSON and CSV are the same whatever the size; a table takes
    its column widths from its first 1,000 rows, and a longer value further down
    overflows its column. docs/units.md defines every column.
    """
    s = session(ctx)
    with failures():
        conn = s.reading()
        position = queries.position_at(conn, known_at)  # pinned before the first page
        rows = register.units(
            conn, position, as_of, register.Filters(entity, right, zone, segment, commune)
        )
        header = {"as_of": as_of, "position": position}
        for piece in stream(header, (r.record() for r in rows), register.COLUMNS, fmt):
            click.echo(piece, nl=False, color=True)
    click.echo(color=True)


@click.command()
@click.argument("unit_id")
@known_at_option
@format_option
@click.pass_context
def history(ctx: click.Context, unit_id: str, known_at: int | None, fmt: str) -> None:
    """Every transaction that touched a unit, in journal order, reversals included."""
    s = session(ctx)
    with failures():
        conn = s.reading()
        rows = queries.history(conn, unit_id, known_at)
        position = queries.position_at(conn, known_at)
    if rows is None:
        raise InputRejected(f"unknown unit {unit_id}: it never appears in the journal")
    header = {"unit_id": unit_id, "position": position}
    doc = Document(header, [r.record() for r in rows], queries.HISTORY_COLUMNS)
    emit(doc, fmt)


@click.command()
@click.option(
    "--after",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="P",
    help="Only transactions after position P.",
)
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, metavar="N", help="At most N transactions."
)
@known_at_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(JOURNAL_FORMATS),
    default="table",
    show_default=True,
    help="Output format; jsonl prints each transaction as recorded (importable).",
)
@click.pass_context
def journal(
    ctx: click.Context, after: int, limit: int | None, known_at: int | None, fmt: str
) -> None:
    """The journal in order: one row per recorded transaction, reversals included.

    Each row has the transaction's position, recording time, the hash chain's link at its
    position, and (json, csv) the transaction as recorded. --format jsonl prints each
    transaction exactly as filed plus a "journal" key; `import` ignores that key, so the
    output re-imported into an empty ledger reproduces the ledger.
    """
    import json

    from ledger.storage.chain import journal as read_journal

    s = session(ctx)
    with failures():
        conn = s.reading()
        rows = read_journal(conn, after, limit, known_at)
        if fmt == "jsonl":
            for r in rows:
                tail = json.dumps(
                    {"position": r.position, "recorded_at": r.recorded_at, "chain": r.chain},
                    ensure_ascii=False,
                    separators=(",", ":"),
                )
                click.echo(f'{r.content.rstrip()[:-1]},"journal":{tail}}}', color=True)
            return
        position = queries.position_at(conn, known_at)
        listed = [r.record(parsed=fmt == "json") for r in rows]
    if fmt == "table":
        for row in listed:
            del row["transaction"]
    emit(Document({"position": position}, listed), fmt)
