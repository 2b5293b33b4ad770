"""The `report` group: one command per regulatory statement.

Each command checks its options, builds its statement from the caught-up projections
(`projections/reports/`, one module per statement) and prints it in the format asked
for; a statement whose figures do not add up is an integrity failure (exit 3), never a
statement printed anyway. Each takes `--known-at` to reproduce it exactly as filed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from commands.options import emit, known_at_option, valid_date
from commands.session import InputRejected, IntegrityProblem, failures, session
from projections.render.formats import (
    FORMATS,
    REPORT_FORMATS,
    Document,
    semicolon_csv_pieces,
    stream,
)

if TYPE_CHECKING:
    from ledger.storage.database import Connection

report_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(REPORT_FORMATS),
    default="table",
    show_default=True,
    help="Output format (html: one self-contained page with a chart, to print or archive).",
)
year_option = click.option(
    "--year", type=click.IntRange(1800, 9999), required=True, help="Calendar year of the statement."
)


def _target_rate(_: Any, __: Any, value: str) -> str:
    from projections.reports.money import parse_rate

    try:
        parse_rate(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    return value


def _statement(ctx: click.Context, fmt: str, build: Callable[[Connection], Document]) -> None:
    from projections.reports.periods import InconsistentStatement

    s = session(ctx)
    with failures():
        try:
            doc = build(s.reading())
        except InconsistentStatement as e:
            raise IntegrityProblem(str(e)) from None
    emit(doc, fmt)


@click.group()
def report() -> None:
    """Regulatory statements: tableau de passage, ventes HLM, programme LLI, registre des
    démembrements (usufruit / nue-propriété), cessions d'activités, extrait RPLS.

    Each statement takes --known-at to reproduce it exactly as it was filed.
    """


@report.command("movements")
@year_option
@known_at_option
@report_format_option
@click.pass_context
def report_movements(ctx: click.Context, year: int, known_at: int | None, fmt: str) -> None:
    """Tableau de passage: each entity's stock (pleine propriété + usufruit) on 1 January,
    entries (registered, acquired, received, reunited), exits (sold, transferred,
    usufruct_ended) and stock on the next 1 January; plus units dismembered (nue-propriété
    transferred, stock unchanged), and the group's consolidated line. Stock on 1 January:
    as of that day, its transactions included; the year's flows: 2 January to the next
    1 January included (the RPLS reading)."""
    from projections.reports import movements

    _statement(ctx, fmt, lambda conn: movements.statement(conn, year, known_at))


@report.command("sales")
@year_option
@click.option(
    "--target-rate",
    default="0.01",
    show_default=True,
    callback=_target_rate,
    metavar="RATE",
    help="Target share of the stock on 1 January sold in the year.",
)
@click.option(
    "--sellers",
    type=click.Choice(["hlm", "all"]),
    default="hlm",
    show_default=True,
    help="hlm: the HLM bodies (ESH, OPH, coops), subject to the HLM sale rules and the 1% "
    "target; all: every seller (LLI companies, Foncière Logement, the sales company...).",
)
@known_at_option
@report_format_option
@click.pass_context
def report_sales(
    ctx: click.Context, year: int, target_rate: str, sellers: str, known_at: int | None, fmt: str
) -> None:
    """Ventes HLM: units sold per seller against the target of selling 1% of the stock a
    year (suivi des engagements de vente de la CUS, délibération annuelle du conseil):
    buyer categories, sales to households (sitting tenants first) apart from block sales,
    the sitting tenants' share of the sales to households, proceeds (gross, and net of
    book value where the sales recorded it), the sales rate both ways (every sale, sales to
    households), and the group's line, net of sales between group entities. Stock on
    1 January: as of that day; the year's sales: 2 January to the next 1 January."""
    from projections.reports import sales

    _statement(ctx, fmt, lambda conn: sales.statement(conn, year, known_at, target_rate, sellers))


@report.command("programme")
@click.option(
    "--start", type=click.IntRange(1800, 9999), required=True, help="First year of the programme."
)
@click.option("--years", type=click.IntRange(1, 100), required=True, help="Its length in years.")
@click.option(
    "--target",
    type=click.IntRange(min=1),
    required=True,
    help="Units to acquire over the whole programme.",
)
@click.option(
    "--segment",
    type=click.Choice(["social", "intermediate", "other"]),
    default="intermediate",
    show_default=True,
    help="Segment of the units counted.",
)
@known_at_option
@report_format_option
@click.pass_context
def report_programme(
    ctx: click.Context,
    start: int,
    years: int,
    target: int,
    segment: str,
    known_at: int | None,
    fmt: str,
) -> None:
    """Programme d'acquisition: units of the segment acquired each year (logement locatif
    intermédiaire by default), in zones tendues (A bis, A, B1), cumulative against a linear
    target, and per acquiring entity (e.g. --start 2017 --years 5 --target 100000)."""
    from projections.reports import programme

    _statement(
        ctx, fmt, lambda conn: programme.statement(conn, start, years, target, segment, known_at)
    )


@report.command("dismemberment")
@click.option(
    "--as-of",
    callback=valid_date,
    metavar="DATE",
    help="Legal date YYYY-MM-DD (default: the latest date of the transactions; overdue "
    "is then judged against today's date).",
)
@known_at_option
@report_format_option
@click.pass_context
def report_dismemberment(
    ctx: click.Context, as_of: str | None, known_at: int | None, fmt: str
) -> None:
    """Registre des démembrements: units per usufruitier and nu-propriétaire, usufruct
    maturities by year, and usufructs past their end date not yet recorded as
    extinguished (overdue)."""
    import datetime

    from projections.reports import dismemberment

    judged_on = as_of or datetime.date.today().isoformat()
    _statement(ctx, fmt, lambda conn: dismemberment.statement(conn, as_of, judged_on, known_at))


@report.command("divestments")
@click.option(
    "--year",
    type=click.IntRange(1800, 9999),
    default=None,
    help="Only the divestments dated in this year.",
)
@known_at_option
@report_format_option
@click.pass_context
def report_divestments(
    ctx: click.Context, year: int | None, known_at: int | None, fmt: str
) -> None:
    """Cessions d'activités: one row per business sold (administration de biens, promotion
    privée...), in journal order, with buyer, price and staff transferred."""
    from projections.reports import divestments

    _statement(ctx, fmt, lambda conn: divestments.statement(conn, year, known_at))


@report.command("rpls")
@click.option("--entity", required=True, metavar="ID", help="The entity that files the extract.")
@click.option(
    "--year",
    type=click.IntRange(1801, 9999),
    required=True,
    help="Survey year N: units held on 1 January N-1 or N.",
)
@known_at_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format (csv: `;`-separated, as RPLS-shaped files).",
)
@click.pass_context
def report_rpls(ctx: click.Context, entity: str, year: int, known_at: int | None, fmt: str) -> None:
    """Extrait RPLS (CCH art. R411-3): one row per unit the entity holds in pleine
    propriété or usufruit on 1 January N-1 or N, with the codes of the arrêté du 5
    janvier 2010 (right, entry, exit reason, sale type and price, financing). An
    absorbed entity can still be reported. docs/rpls.md defines every column."""
    from projections.reports import periods, rpls

    s = session(ctx)
    with failures():
        conn = s.reading()
        position = periods.pin(conn, known_at)
        if not rpls.entity_known(conn, entity, position):
            raise InputRejected(f"unknown entity {entity}")
        header = rpls.header(entity, year, position)
        rows = rpls.rows(conn, entity, year, position)
        if fmt == "csv":
            pieces = semicolon_csv_pieces(rpls.COLUMNS, rows)
        else:
            pieces = stream(header, rows, rpls.COLUMNS, fmt)
        try:  # printed as read: a failure half-way exits 3 after the rows printed so far
            for piece in pieces:
                click.echo(piece, nl=False, color=True)
        except periods.InconsistentStatement as e:
            raise IntegrityProblem(str(e)) from None
    click.echo(color=True)
