"""housing-ledger: the command line, and the only composition root.

It wires the write side (`ledger`), the database adapters and the projections
(`projections`) from one database URL, lazily: `--help` never touches a database.
Expected failures are `click.ClickException`s with the exit codes of spec/cli.md:
1 input rejected, 2 usage, 3 integrity failure, 4 database unavailable or conflict.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import IO, Any

import click

from ledger.booking.service import Recorder
from ledger.domain.values import parse_date
from ledger.errors import ConcurrencyConflict, DatabaseUnavailable, IntegrityFailure, LedgerError
from ledger.storage.access import cannot_write, require_writable
from ledger.storage.application import HousingLedger, persistence_env
from ledger.storage.bootstrap import create_schema, ensure_schema
from ledger.storage.chain import append_links
from ledger.storage.database import Connection, Database
from ledger.storage.eventstore import SqlEventStore, database_error
from ledger.storage.transcoding import TOPIC
from projections import queries
from projections.engine import tally
from projections.engine.catchup import Projector
from projections.render.formats import FORMATS, Document, escape, render


class InputRejected(click.ClickException):
    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(escape(self.message), err=True)


class IntegrityProblem(click.ClickException):
    exit_code = 3

    def format_message(self) -> str:
        return escape(self.message)


class DatabaseProblem(click.ClickException):
    exit_code = 4

    def format_message(self) -> str:
        return escape(self.message)


@dataclass
class Session:
    """Everything a command needs, built from the database URL on first use."""

    url: str | None

    @cached_property
    def db(self) -> Database:
        return Database(self.url)

    @cached_property
    def conn(self) -> Connection:
        conn = self.db.connect()
        ensure_schema(self.db, conn)
        return conn

    @cached_property
    def store(self) -> SqlEventStore:
        return SqlEventStore(self.conn, after_append=[append_links])

    @cached_property
    def projector(self) -> Projector:
        return Projector(self.conn, self.store)

    @cached_property
    def recorder(self) -> Recorder:
        app = HousingLedger(env={**persistence_env(self.db.url), "TRANSCODER_TOPIC": TOPIC})
        return Recorder(app, self.store, queries.ProjectionIndex(self.conn))

    def current(self) -> Connection:
        """The connection, with the projections caught up with the journal (on a connection
        that may only read: as they are, with a note on stderr when they lag behind)."""
        conn = self.conn  # connecting tells whether the database was opened read-only
        if not self.db.read_only:
            try:
                self.projector.catch_up()
            except Exception as e:
                if not cannot_write(e):
                    raise
                self.conn.rollback()
                self.db.read_only = True
        if self.db.read_only:
            _note_lag(self)
        return conn


@contextmanager
def failures() -> Iterator[None]:
    """Map the ledger's expected failures to exit codes, without tracebacks."""
    try:
        yield
    except (ConcurrencyConflict, DatabaseUnavailable) as e:
        raise DatabaseProblem(str(e)) from None
    except IntegrityFailure as e:
        raise IntegrityProblem(str(e)) from None
    except LedgerError as e:
        raise InputRejected(str(e)) from None
    except click.ClickException:
        raise
    except Exception as e:
        problem = database_error(e)
        if problem is None:
            raise
        raise DatabaseProblem(str(problem)) from None


def session(ctx: click.Context) -> Session:
    obj: Session = ctx.ensure_object(Session)
    return obj


def valid_date(_: Any, __: Any, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return parse_date(value).isoformat()
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "db_url",
    envvar="HOUSING_LEDGER_DB",
    default=None,
    metavar="URL",
    help="Database URL (default sqlite:///housing-ledger.db; or "
    "postgresql+psycopg2://user:password@host:5432/dbname). "
    "Env: HOUSING_LEDGER_DB.",
)
@click.version_option(package_name="housing-ledger")
@click.pass_context
def main(ctx: click.Context, db_url: str | None) -> None:
    """An event-sourced ledger of housing stock transfers.

    Records acquisitions, sales, bare-ownership transfers (nue-propriété), usufruct
    extinctions, mergers and business divestments as immutable events, and answers
    holdings as of any date. Mistakes are corrected by reversals, never by edits.
    """
    ctx.obj = Session(db_url)


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create the schema (idempotent). Run once before starting several writers."""
    s = session(ctx)
    with failures():
        conn = s.db.connect()
        create_schema(s.db, conn)
        require_writable(conn)
    click.echo(f"schema ready in {s.db.display}")


def _progress_bar(total: int, label: str) -> Any:
    return click.progressbar(length=total, label=label, file=sys.stderr)


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="On a conflict with a concurrent writer, validate again and retry N times.",
)
@click.pass_context
def import_(ctx: click.Context, files: tuple[str, ...], retries: int) -> None:
    """Record transaction files (JSON Lines; `-` reads standard input).

    Every line is validated first; if any line is rejected, every error is printed as
    FILE:LINE: message and nothing is written (exit 1).
    """
    s = session(ctx)
    with failures():
        contents = [(name, _read(name)) for name in files]
        for attempt in range(retries + 1):
            s.current()
            try:
                result = _record(s, contents)
                break
            except ConcurrencyConflict:
                if attempt == retries:
                    raise
        if result.errors:
            for error in result.errors:
                click.echo(escape(str(error)), err=True)
            raise InputRejected(f"{len(result.errors)} error(s): nothing was recorded")
    summary = (
        f"recorded {result.recorded} transaction(s) ({result.events} events), "
        f"{result.already_recorded} already recorded; journal position {result.position}"
    )
    try:
        with failures():
            _catch_up_with_progress(s)
    except click.ClickException as e:
        # The journal is committed: say so, or the user would import again for nothing.
        failed = type(e)(
            f"{summary}; but updating the projections failed ({e.message}): "
            "they catch up at the next command"
        )
        raise failed from None
    click.echo(summary)


def _read(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        with open(name, "rb") as f:
            return f.read()
    except OSError as e:
        raise InputRejected(f"{name}: cannot read: {e.strerror}") from None


def _record(s: Session, contents: list[tuple[str, bytes]]) -> Any:
    import io

    lines = sum(1 for _, data in contents for line in data.splitlines() if line.strip())
    sources = [(name, io.BytesIO(data)) for name, data in contents]
    if sys.stderr.isatty() and lines > 2000:
        with _progress_bar(lines, "validating") as bar:
            last = [0]

            def step(done: int) -> None:
                bar.update(done - last[0])
                last[0] = done

            return s.recorder.record(sources, progress=step)
    return s.recorder.record(sources)


def _catch_up_with_progress(s: Session) -> None:
    """Bring the projections up to date, with a progress bar on a terminal."""
    start, head = s.projector.position(), s.store.head()
    if not sys.stderr.isatty() or head - start < 20_000:
        s.projector.catch_up()
        return
    with _progress_bar(head - start, "updating projections") as bar:
        last = [start]

        def step(position: int) -> None:
            bar.update(position - last[0])
            last[0] = position

        s.projector.catch_up(progress=step)


def _emit(doc: Document, fmt: str) -> None:
    # color=True: click would otherwise strip ANSI sequences from data (JSON, CSV) that is
    # not going to a terminal; table output escapes control characters itself.
    click.echo(render(doc, fmt), color=True)


@main.command()
@click.option(
    "--as-of",
    callback=valid_date,
    metavar="DATE",
    help="Legal date YYYY-MM-DD (default: every transaction).",
)
@click.option("--entity", metavar="ID", help="Only this entity.")
@click.option("--by", type=click.Choice(queries.DIMENSIONS), help="Also split by this dimension.")
@known_at_option
@format_option
@click.pass_context
def holdings(
    ctx: click.Context,
    as_of: str | None,
    entity: str | None,
    by: str | None,
    known_at: int | None,
    fmt: str,
) -> None:
    """Units held per entity and right (full ownership, usufruct, bare ownership)."""
    s = session(ctx)
    with failures():
        conn = s.current()
        rows = queries.holdings(conn, as_of, entity, by, known_at)
        position = queries.position_at(conn, known_at)
    keyed = [
        {
            "entity": r.entity,
            **({by: r.key} if by else {}),
            "full_ownership": r.full_ownership,
            "usufruct": r.usufruct,
            "bare_ownership": r.bare_ownership,
        }
        for r in rows
    ]
    columns = ["entity", *([by] if by else []), "full_ownership", "usufruct", "bare_ownership"]
    _emit(Document({"as_of": as_of, "position": position}, keyed, columns), fmt)


@main.command()
@click.argument("unit_id")
@known_at_option
@format_option
@click.pass_context
def history(ctx: click.Context, unit_id: str, known_at: int | None, fmt: str) -> None:
    """Every transaction that touched a unit, in journal order, reversals included."""
    s = session(ctx)
    with failures():
        conn = s.current()
        rows = queries.history(conn, unit_id, known_at)
        position = queries.position_at(conn, known_at)
    if rows is None:
        raise InputRejected(f"unknown unit {unit_id}: it never appears in the journal")
    doc = Document(
        {"unit_id": unit_id, "position": position},
        [
            {
                "position": r.position,
                "id": r.id,
                "type": r.type,
                "date": r.date,
                "recorded_at": r.recorded_at,
                "reversed": r.reversed,
            }
            for r in rows
        ],
        ["position", "id", "type", "date", "recorded_at", "reversed"],
    )
    _emit(doc, fmt)


@main.command()
@click.option(
    "--units",
    type=click.IntRange(min=100),
    default=3000,
    show_default=True,
    help="Approximate number of units in the demo ledger.",
)
@click.option("--seed", type=int, default=2017, show_default=True, help="Random seed.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Also write the demo transactions to this JSONL file.",
)
@click.option(
    "--profile",
    type=click.Choice(["default", "scale"]),
    default="default",
    show_default=True,
    help="default: the 2017 story, about 1.5 events per unit. scale: the same story "
    "plus the ELAN regroupings of the ESH (2021, 2024, 2026) and more sales "
    "through ONV, 3 to 4 events per unit, for benchmarks.",
)
@click.pass_context
def demo(ctx: click.Context, units: int, seed: int, output: str | None, profile: str) -> None:
    """Record a realistic demo ledger telling the 2017 programme's story, and print holdings.

    --profile scale gives a ledger with the churn of a real group (see ledger/demo/scale.py).
    """
    import io
    import json

    from ledger.demo.story import generate

    s = session(ctx)
    txs = generate(units=units, seed=seed, profile=profile)
    lines = [json.dumps(tx, ensure_ascii=False) for tx in txs]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if output:
        with open(output, "wb") as f:
            f.write(data)
        click.echo(f"wrote {len(lines)} transactions to {output}", err=True)
    with failures():
        s.current()
        result = s.recorder.record([("demo", io.BytesIO(data))])
        if result.errors:
            for error in result.errors[:20]:
                click.echo(error, err=True)
            raise InputRejected("the demo ledger was rejected (a bug: please report it)")
        s.projector.catch_up()
        conn = s.conn
        rows = queries.holdings(conn)
        position = queries.position_at(conn, None)
    click.echo(
        f"demo ledger: recorded {result.recorded} transactions "
        f"({result.already_recorded} already recorded) into {s.db.display}\n"
    )
    keyed = [
        {
            "entity": r.entity,
            "full_ownership": r.full_ownership,
            "usufruct": r.usufruct,
            "bare_ownership": r.bare_ownership,
        }
        for r in rows
    ]
    click.echo("Holdings (units held per entity and right):")
    _emit(Document({"as_of": None, "position": position}, keyed), "table")
    from projections.reports import movements

    click.echo(
        "\nA statement: the tableau de passage of 2018, the year the LLI companies merged "
        "(housing-ledger report movements --year 2018):"
    )
    _emit(movements.statement(s.conn, 2018), "table")
    click.echo(
        "\nMore: housing-ledger report --help, holdings --as-of 2019-12-31 --by zone, "
        "history UNIT_ID, audit digest."
    )


# --- reports ---
from projections.render.formats import REPORT_FORMATS  # noqa: E402

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
            doc = build(s.current())
        except InconsistentStatement as e:
            raise IntegrityProblem(str(e)) from None
    _emit(doc, fmt)


@main.group()
def report() -> None:
    """Regulatory statements: tableau de passage, ventes HLM, programme LLI, registre des
    démembrements (usufruit / nue-propriété), cessions d'activités.

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
    usufruct_ended) and stock on 31 December; plus units dismembered (nue-propriété
    transferred, stock unchanged)."""
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
@known_at_option
@report_format_option
@click.pass_context
def report_sales(
    ctx: click.Context, year: int, target_rate: str, known_at: int | None, fmt: str
) -> None:
    """Ventes HLM: units sold per seller against the target of selling 1% of the stock a
    year (suivi des engagements de vente de la CUS, délibération annuelle du conseil):
    buyer categories, share sold to sitting tenants (locataires occupants), blocks sold
    to institutional investors, proceeds, sales rate."""
    from projections.reports import sales

    _statement(ctx, fmt, lambda conn: sales.statement(conn, year, known_at, target_rate))


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
    help="Legal date YYYY-MM-DD (default: every transaction; overdue is then "
    "judged against today's date).",
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


# --- end reports ---


# --- audit ---
# Auditability: the journal's hash chain (`audit digest`, `audit verify`), `replay`,
# `journal`, and read-only access (`db grant-auditor`). See docs/audit.md.


def _note_lag(s: Session) -> None:
    """On a read-only connection, say when the projections lag behind the journal."""
    from ledger.storage.chain import head

    journal_end, projected = head(s.conn), s.projector.position()
    if journal_end > projected:
        click.echo(
            f"note: this connection may only read, so the projections were not caught "
            f"up: answers stand at position {projected}, the journal ends at "
            f"{journal_end}",
            err=True,
        )


@main.group()
def audit() -> None:
    """Prove the journal unchanged: digests to keep outside the system, and verification."""


@audit.command("digest")
@click.option(
    "--position",
    "--known-at",
    "position",
    type=click.IntRange(min=0),
    default=None,
    metavar="P",
    help="Digest of the journal up to position P (default: its end).",
)
@click.pass_context
def audit_digest(ctx: click.Context, position: int | None) -> None:
    """Print the hash chain's digest at position P, for the auditor to keep.

    Prints {"position": P, "digest": HEX}, where P is the last journal position <= the one
    asked for. The chain is recomputed and checked up to P first (exit 3 if broken).
    """
    import json

    from ledger.storage.chain import walk

    s = session(ctx)
    with failures():
        result = walk(s.conn, position)
    if result.broken is not None:
        raise IntegrityProblem(f"{result.broken}; no digest given (see `audit verify`)")
    click.echo(json.dumps({"position": result.position, "digest": result.digest}))


def _hex_digest(_: Any, __: Any, value: str | None) -> str | None:
    import re

    if value is not None and not re.fullmatch(r"[0-9A-Fa-f]{64}", value):
        raise click.BadParameter("a digest is 64 hexadecimal digits")
    return value.lower() if value is not None else None


@audit.command("verify")
@click.option(
    "--position",
    type=click.IntRange(min=1),
    default=None,
    metavar="P",
    help="With --digest: the position of a digest kept earlier.",
)
@click.option(
    "--digest",
    callback=_hex_digest,
    default=None,
    metavar="HEX",
    help="With --position: check the journal up to P still hashes to HEX.",
)
@click.pass_context
def audit_verify(ctx: click.Context, position: int | None, digest: str | None) -> None:
    """Recompute the hash chain from the stored journal and check every link.

    Any change, deletion, insertion or reordering of stored events is reported with the
    first position where the chain breaks (exit 3). With --position and --digest, also
    check that the journal up to P still hashes to the digest kept by the auditor: this
    catches a journal whose stored links were all recomputed after a change.
    """
    from ledger.storage.chain import check_digest, walk

    if (position is None) != (digest is None):
        raise click.UsageError("--position and --digest go together")
    s = session(ctx)
    with failures():
        result = walk(s.conn, mark=position)
    problem = result.broken
    if position is not None and digest is not None:
        problem = check_digest(result, position, digest) or problem
    if problem is not None:
        raise IntegrityProblem(str(problem))
    checked = f"; up to position {position} it matches the digest given" if position else ""
    click.echo(
        f"chain verified: {result.events} events, positions 1-{result.position}, "
        f"digest {result.digest}{checked}"
        if result.events
        else f"chain verified: the journal is empty{checked}"
    )


@main.command()
@known_at_option
@click.option(
    "--check",
    is_flag=True,
    help="Rebuild in memory and compare with the stored projections (exit 3 on any "
    "difference); the stored projections are not touched.",
)
@format_option
@click.pass_context
def replay(ctx: click.Context, known_at: int | None, check: bool, fmt: str) -> None:
    """Rebuild every projection from the journal alone, and digest the rebuilt state.

    Prints the transactions and events replayed, the rate, and a digest of the rebuilt
    state (the same for the same journal on SQLite and PostgreSQL). Without options the
    stored projections are rebuilt; with --known-at or --check, or on a connection that
    may only read, the state is rebuilt in memory and nothing is written.
    """
    from projections.engine import replay as rp

    s = session(ctx)
    with failures(), _unreplayable():
        conn = s.current()
        if check or known_at is not None or s.db.read_only:
            target = known_at
            if check:
                projected = s.projector.position()
                target = projected if known_at is None else min(known_at, projected)
            result = rp.rebuild_in_memory(s.store, target)
            difference: Any = rp.compare(conn, result.position, result.state) if check else None
            if check and difference is None and result.position == s.projector.position():
                difference = tally.difference(conn)  # the holdings tally, from the periods
            digest = rp.state_digest(result.state)
            written = False
        else:
            rebuilt = s.projector.rebuild()  # one transaction: if the journal does not fold,
            stored = rp.stored_state(conn, rebuilt.position, digest_only=True)  # nothing changed
            result = rp.Replayed(
                rebuilt.position,
                rebuilt.transactions,
                rebuilt.events,
                rebuilt.seconds,
                state=stored,
            )
            digest, written, difference = rp.state_digest(stored), True, None
        result.state.close()
    _emit_replay(result, digest, check, difference, written, fmt)
    if difference is not None:
        raise IntegrityProblem(f"replay check failed at position {result.position}: {difference}")


@contextmanager
def _unreplayable() -> Iterator[None]:
    """A journal the fold cannot read is an integrity failure (exit 3), not a crash."""
    from projections.engine.replay import Unreplayable

    try:
        yield
    except Unreplayable as e:
        raise IntegrityProblem(str(e)) from None
    except (KeyError, TypeError, ValueError) as e:  # from the catch-up or a stored rebuild
        raise IntegrityProblem(f"the journal cannot be replayed: {type(e).__name__}: {e}") from None


def _emit_replay(
    result: Any, digest: str, check: bool, difference: Any, written: bool, fmt: str
) -> None:
    import json

    status = None if not check else ("ok" if difference is None else "different")
    summary = {
        "position": result.position,
        "transactions": result.transactions,
        "events": result.events,
        "seconds": f"{result.seconds:.3f}",
        "rate": f"{result.rate:.0f}",
        "digest": digest,
        "check": status,
        "projections_rebuilt": written,
    }
    if fmt == "json":
        click.echo(json.dumps(summary, indent=2))
        return
    if fmt == "csv":
        _emit(Document({}, [summary]), "csv")
        return
    click.echo(
        f"replayed {result.transactions} transactions ({result.events} events) up to "
        f"position {result.position} in {result.seconds:.2f} s "
        f"({result.rate:,.0f} events/s); "
        + ("stored projections rebuilt" if written else "nothing written")
    )
    click.echo(f"state digest: {digest}")
    if status == "ok":
        click.echo(f"check: the stored projections match the journal at position {result.position}")


JOURNAL_FORMATS = ("table", "json", "csv", "jsonl")


@main.command()
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
        conn = s.current()
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
        listed = [
            {
                "position": r.position,
                "id": r.id,
                "type": r.type,
                "date": r.date,
                "recorded_at": r.recorded_at,
                "chain": r.chain,
                "transaction": json.loads(r.content) if fmt == "json" else r.content,
            }
            for r in rows
        ]
    if fmt == "table":
        for row in listed:
            del row["transaction"]
    _emit(Document({"position": position}, listed), fmt)


@main.group()
def db() -> None:
    """Database administration."""


@db.command("grant-auditor")
@click.argument("role")
@click.pass_context
def grant_auditor(ctx: click.Context, role: str) -> None:
    """Create or update a PostgreSQL ROLE that can read every table and write nothing.

    The role gets LOGIN, SELECT on every table of the ledger (and on tables created later)
    and no INSERT, UPDATE, DELETE or TRUNCATE; its sessions start read-only. Query
    commands run as that role answer from the projections as they are; write commands
    fail with exit 4. On SQLite, open the file read-only instead:
    --db 'sqlite:///PATH?mode=ro'.
    """
    from ledger.storage.access import AccessError
    from ledger.storage.access import grant_auditor as grant

    s = session(ctx)
    with failures():
        try:
            done = grant(s.conn, role)
        except AccessError as e:
            raise InputRejected(str(e)) from None
    for line in done:
        click.echo(line)


# --- end audit ---


Command = Callable[..., Any]

if __name__ == "__main__":  # pragma: no cover
    main()
