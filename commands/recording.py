"""The commands that write the journal: `init`, `import` and `demo`.

Each records through the session's recorder, which validates everything before it writes
anything: a rejected file, or a demo that clashes with what the ledger holds, leaves the
journal as it was (exit 1). Progress bars go to stderr, and only on a terminal, so that
the output of a script stays the same.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from typing import IO, TYPE_CHECKING, Any, NoReturn

import click

from commands.options import emit
from commands.outcome import finish, progress_bar, summary
from commands.rpls_import import import_rpls
from commands.session import InputRejected, Session, failures, session
from ledger.errors import ConcurrencyConflict
from projections.render.formats import Document, escape

CHUNK_VARIABLE = "HOUSING_LEDGER_IMPORT_CHUNK"

if TYPE_CHECKING:
    from ledger.booking.service import ImportResult
    from projections.queries import HoldingRow


@click.command()
@click.option(
    "--zoning",
    is_flag=True,
    help="Also record the zoning vintages shipped with the ledger (as `reference zoning "
    "--shipped`): from their dates on, unit lines are checked against them.",
)
@click.pass_context
def init(ctx: click.Context, zoning: bool) -> None:
    """Create the schema (idempotent). Run once before starting several writers."""
    from ledger.storage.access import require_writable
    from ledger.storage.bootstrap import create_schema

    s = session(ctx)
    with failures():
        conn = s.db.connect()
        create_schema(s.db, conn)
        require_writable(conn)
    click.echo(f"schema ready in {s.db.display}")
    if zoning:
        record_shipped(s)
        return
    with failures():
        recorded = s.current().scalar(
            "SELECT COUNT(*) FROM hl_transactions WHERE type = 'zoning_vintage'"
        )
    if not recorded:
        click.echo(
            "no zoning vintage is recorded: unit lines keep the zone they declare. "
            "`housing-ledger reference zoning --shipped` (or `init --zoning`) records the "
            "A/B/C zoning of 2022 and of 5 July 2024 shipped with the ledger."
        )


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--format",
    "input_format",
    type=click.Choice(["jsonl", "rpls"]),
    default="jsonl",
    show_default=True,
    help="jsonl: transaction files. rpls: one RPLS-shaped CSV file of an entity's stock, "
    "recorded as register_units transactions (docs/rpls.md).",
)
@click.option(
    "--entity", metavar="ENTITY", help="rpls: the entity whose stock the file lists (required)."
)
@click.option("--as-of", "as_of", help="rpls: the date of the transactions, YYYY-MM-DD (required).")
@click.option(
    "--zoning",
    type=click.Path(dir_okay=False, exists=True),
    help="rpls: a zoning file giving the zone of lines without one "
    "(e.g. ledger/reference/zonage-abc-2024-07.csv).",
)
@click.option(
    "--id-prefix",
    metavar="PREFIX",
    help="rpls: transaction ids PREFIX-001, ... [default: RPLS-ENTITY-AS_OF]",
)
@click.option("--reference", help="rpls: the reference of the transactions.")
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="On a conflict with a concurrent writer, validate again and retry N times.",
)
@click.pass_context
def import_(
    ctx: click.Context,
    files: tuple[str, ...],
    input_format: str,
    entity: str | None,
    as_of: str | None,
    zoning: str | None,
    id_prefix: str | None,
    reference: str | None,
    retries: int,
) -> None:
    """Record transaction files (JSON Lines; `-` reads standard input), or with
    --format rpls one RPLS-shaped file of an entity's stock on a date.

    Every line is validated first; if any line is rejected, every error is printed as
    FILE:LINE: message and nothing is written (exit 1).
    """
    if input_format == "rpls":
        import_rpls(ctx, files, retries, entity, as_of, zoning, id_prefix, reference)
        return
    rpls_options = {"entity": entity, "as-of": as_of, "zoning": zoning}
    rpls_options.update({"id-prefix": id_prefix, "reference": reference})
    given = [f"--{name}" for name, value in rpls_options.items() if value is not None]
    if given:
        raise click.UsageError(f"{', '.join(given)}: only with --format rpls")
    s = session(ctx)
    with ExitStack() as opened:
        streams = [(name, _open(name, retries, opened)) for name in files]
        with failures():
            result = record_files(s, streams, retries)
    finish(s, summary(result))


def record_files(
    s: Session, contents: Sequence[tuple[str, bytes | IO[bytes]]], retries: int
) -> ImportResult:
    """Record files of transactions (a name and the bytes of each, or a stream of them
    read line by line as the import goes: a stream read again on a retry must be
    seekable), validated again up to `retries` times after a concurrent writer won;
    every error printed and exit 1 if any line is rejected (nothing is then recorded)."""
    for attempt in range(retries + 1):
        s.current()
        try:
            result = _record(s, contents, again=attempt > 0)
            break
        except ConcurrencyConflict:
            if attempt == retries:
                raise
    if result.errors:
        for error in result.errors:
            click.echo(escape(str(error)), err=True)
        raise InputRejected(f"{len(result.errors)} error(s): nothing was recorded")
    return result


def record_transactions(s: Session, txs: list[dict[str, Any]], retries: int) -> ImportResult:
    """Record transactions given as JSON objects (a command's own, e.g. a zoning vintage),
    as `record_files` records a file of them."""
    data = "".join(json.dumps(tx, ensure_ascii=False) + "\n" for tx in txs).encode("utf-8")
    return record_files(s, [("zoning", data)], retries)


def record_shipped(s: Session) -> None:
    """Record the zoning vintages shipped with the ledger (`init --zoning`)."""
    from ledger.booking.zoning import shipped_vintages

    with failures():
        result = record_transactions(s, shipped_vintages(), 0)
    finish(s, "zoning: " + summary(result))


def _open(name: str, retries: int, opened: ExitStack) -> IO[bytes]:
    """The stream of a file to import, read line by line; standard input (`-`) is
    copied to a temporary file as it is read when a retry may read it again."""
    if name == "-":
        stdin = sys.stdin.buffer
        if not retries:
            return stdin
        spool = opened.enter_context(tempfile.TemporaryFile())
        shutil.copyfileobj(stdin, spool)
        spool.seek(0)
        return spool
    try:
        return opened.enter_context(open(name, "rb"))
    except OSError as e:
        raise InputRejected(f"{name}: cannot read: {e.strerror}") from None


def _lines(stream: IO[bytes]) -> int:
    """How many non-blank lines a seekable stream holds (for the progress bar)."""
    start = stream.tell()
    count = sum(1 for line in stream if line.strip())
    stream.seek(start)
    return count


def _record(
    s: Session, contents: Sequence[tuple[str, bytes | IO[bytes]]], again: bool
) -> ImportResult:
    # Transactions written at a time (tests make it small to have many commit points).
    chunk = int(os.environ.get(CHUNK_VARIABLE) or 0) or None
    sources: list[tuple[str, IO[bytes]]] = []
    for name, data in contents:
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        if again:  # a retry reads every file from its start again
            stream.seek(0)
        sources.append((name, stream))
    if sys.stderr.isatty() and all(stream.seekable() for _, stream in sources):
        lines = sum(_lines(stream) for _, stream in sources)
        if lines > 2000:
            with progress_bar(lines, "importing") as bar:
                last = [0]

                def step(done: int) -> None:
                    bar.update(done - last[0])
                    last[0] = done

                return s.recorder.record(sources, progress=step, chunk=chunk)
    return s.recorder.record(sources, chunk=chunk)


@click.command()
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
    Running the same demo again records nothing new; a different one (other --units,
    --seed or --profile) needs a database of its own (--db).
    """

    from projections import queries

    s = session(ctx)
    data = _demo_file(units, seed, profile, output)
    with failures():
        s.current()
        held = s.store.head()
        result = s.recorder.record([("demo", io.BytesIO(data))])
        if result.errors:
            _demo_rejected(s, result, held, units, profile)
        s.projector.catch_up()
        rows = queries.holdings(s.conn)
        position = queries.position_at(s.conn, None)
    click.echo(
        f"demo ledger: recorded {result.recorded} transactions "
        f"({result.already_recorded} already recorded) into {s.db.display}\n"
    )
    _show_demo(s, rows, position)


def _demo_file(units: int, seed: int, profile: str, output: str | None) -> bytes:
    """The demo's transactions as a JSON Lines file, also written to `output` if given."""

    from ledger.booking.zoning import shipped_vintages
    from ledger.demo import generate

    # The zoning vintages shipped with the ledger first: the story's lines are checked
    # against them from their dates on (docs/decisions/0010-zoning-vintages.md).
    txs = [*shipped_vintages(), *generate(units=units, seed=seed, profile=profile)]
    lines = [json.dumps(tx, ensure_ascii=False) for tx in txs]
    data = ("\n".join(lines) + "\n").encode("utf-8")
    if output:
        with open(output, "wb") as f:
            f.write(data)
        click.echo(f"wrote {len(lines)} transactions to {output}", err=True)
    return data


def _show_demo(s: Session, rows: list[HoldingRow], position: int) -> None:
    """The tour printed after a demo: its holdings, one statement, and where to go next."""
    from projections.reports import movements

    keyed = [r.record() for r in rows]
    click.echo("Holdings (units held per entity and right):")
    emit(Document({"as_of": None, "position": position}, keyed), "table")
    click.echo(
        "\nA statement: the tableau de passage of 2017, from the stock on 1 January 2017 to "
        "the stock on 1 January 2018, the day the LLI companies merged into In'li "
        "(housing-ledger report movements --year 2017):"
    )
    emit(movements.statement(s.conn, 2017), "table")
    click.echo(
        "\nMore: housing-ledger report --help, holdings --as-of 2025-12-31 --by zone (the "
        "zones in force that day: reference vintages), history UNIT_ID, audit digest."
    )


def _demo_rejected(
    s: Session, result: ImportResult, held: int, units: int, profile: str
) -> NoReturn:
    """Say why the demo was not recorded (nothing was: the recorder writes all or nothing).

    The demo is valid on its own, so a ledger that already held transactions rejected it
    because they clash with it: most often another demo (other --units, --seed or
    --profile), whose transaction ids are the same with other content. Say so in one line
    and what to do. Into an empty ledger a rejection is a bug of the generator.
    """
    if held:
        name = f"demo-{units}.db" if profile == "default" else f"demo-{profile}-{units}.db"
        path = s.db.sqlite_path if s.db.dialect == "sqlite" else ""
        start_afresh = f"delete {path} first" if path else "use an empty database"
        raise InputRejected(
            f"the ledger {s.db.display} already holds a different demo (or other "
            f"transactions): record this one into another database (--db sqlite:///{name}) "
            f"or {start_afresh}"
        )
    for error in result.errors[:20]:
        click.echo(error, err=True)
    raise InputRejected("the demo ledger was rejected (a bug: please report it)")
