"""`import --format rpls`: one RPLS-shaped file of an entity's stock on a date, checked
line by line (`ledger.booking.rpls_file`) and recorded as it is read
(`Recorder.record_stream`): every error on its CSV line, or the whole file recorded."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING

import click

from commands.outcome import finish, summary
from commands.session import InputRejected, Session, failures, session
from ledger.errors import ConcurrencyConflict
from projections.render.formats import escape

if TYPE_CHECKING:
    from ledger.booking.rpls_file import FileError, ImportOptions, RplsFile
    from ledger.booking.service import ImportResult
    from ledger.booking.zoning import Zoning


def import_rpls(
    ctx: click.Context,
    files: tuple[str, ...],
    retries: int,
    entity: str | None,
    as_of: str | None,
    zoning: str | None,
    id_prefix: str | None,
    reference: str | None,
) -> None:
    """`import --format rpls`: the file's units as `register_units` transactions, checked
    line by line (`ledger.booking.rpls_file`), then booked and recorded by the recorder."""
    from ledger.booking.rpls_file import ImportOptions
    from ledger.domain.values import parse_date

    if len(files) != 1:
        raise click.UsageError("--format rpls reads exactly one FILE")
    if entity is None or as_of is None:
        raise click.UsageError("--format rpls needs --entity and --as-of")
    try:
        day = parse_date(as_of)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--as-of") from None
    name = files[0]
    options = ImportOptions(entity, day, _zoning(zoning), id_prefix, reference)
    s = session(ctx)
    with failures(), _spooled(name) as data:
        for attempt in range(retries + 1):
            s.current()
            try:
                result, rpls = _record_rpls(s, name, data, options)
                break
            except ConcurrencyConflict:
                if attempt == retries:
                    raise
    registered = rpls.registered if result.recorded else 0
    finish(
        s,
        f"{summary(result)}; {registered} unit(s) registered, {rpls.skipped} line(s) skipped",
    )


def _zoning(path: str | None) -> Zoning | None:
    from ledger.booking.zoning import ZoningError, load_zoning

    if path is None:
        return None
    try:
        return load_zoning(path, path)
    except ZoningError as e:
        for message in e.messages:
            click.echo(escape(message), err=True)
        raise InputRejected(f"{len(e.messages)} error(s) in the zoning file {path}") from None
    except OSError as e:
        raise InputRejected(f"{path}: cannot read: {e.strerror}") from None


@contextmanager
def _spooled(name: str) -> Iterator[IO[bytes]]:
    """The file, or standard input copied to a temporary file (read again on a retry)."""
    import shutil
    import tempfile

    if name != "-":
        try:
            f = open(name, "rb")  # noqa: SIM115 - closed below
        except OSError as e:
            raise InputRejected(f"{name}: cannot read: {e.strerror}") from None
        with f:
            yield f
        return
    with tempfile.TemporaryFile() as spool:
        shutil.copyfileobj(sys.stdin.buffer, spool)
        yield spool


def _record_rpls(
    s: Session, name: str, data: IO[bytes], options: ImportOptions
) -> tuple[ImportResult, RplsFile]:
    """Record the file's transactions, or print every error (exit 1).

    The recorder books the transactions as the file is read; a file with errors of its
    own is withheld (nothing recorded) once booked, so the ledger's errors are still
    found. Those are reported on the CSV line of the unit they name (`RplsFile.line_of`).
    """
    from ledger.booking.rpls_file import FileError, RplsFile, entity_problem
    from ledger.domain.keys import entity_key

    data.seek(0)
    rpls = RplsFile(name, data, options)
    from ledger.domain.entity import Entity

    key = entity_key(options.entity)
    loaded = s.recorder.load([key]).get(key)
    entity = loaded if isinstance(loaded, Entity) else None
    problem = entity_problem(entity, options.entity, options.as_of)
    if problem is not None:
        errors = [FileError(name, 1, problem)]
        for _ in rpls.transactions():
            pass
    else:
        result = s.recorder.record_stream(
            name, enumerate(rpls.transactions(), start=1), withhold=lambda: bool(rpls.errors)
        )
        errors = [*rpls.errors, *_booking_errors(rpls, result)]
        if not errors:
            return result, rpls
    errors.sort(key=lambda e: e.line)
    for error in errors:
        click.echo(escape(str(error)), err=True)
    raise InputRejected(f"{len(errors)} error(s): nothing was recorded")


def _booking_errors(rpls: RplsFile, result: ImportResult) -> list[FileError]:
    from ledger.booking.rpls_file import FileError

    found: list[FileError] = []
    for error in result.errors:
        message = error.message
        tx_id = rpls.transaction_id(error.line)
        if not message.startswith(f"register_units {tx_id}:"):
            message = f"register_units {tx_id}: {message}"
        found.append(FileError(rpls.source, rpls.line_of(error.line, message), message))
    return found
