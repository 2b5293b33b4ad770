"""Auditability: the `audit` group (digest, verify), `replay`, and `db grant-auditor`.

An auditor keeps digests of the journal's hash chain outside the system and checks them
later; `replay` proves that the projections follow from the journal alone; a read-only
role lets the auditor look without being able to change anything. A broken chain, a
journal that does not fold, or projections that differ from the rebuilt state are
integrity failures (exit 3). See docs/audit.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from commands.options import emit, format_option, known_at_option
from commands.session import InputRejected, IntegrityProblem, failures, session
from projections.render.formats import Document


@click.group()
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


@click.command()
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
    from projections.engine import tally

    s = session(ctx)
    with failures(), _unreplayable():
        conn = s.current()
        if check or known_at is not None or not s.writable():
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
        emit(Document({}, [summary]), "csv")
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


@click.group()
def db() -> None:
    """Database administration."""


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@click.pass_context
def db_backup(ctx: click.Context, path: str) -> None:
    """Copy a SQLite ledger to the new file PATH while it is in use, then verify the copy.

    The copy holds every transaction committed before the backup began and nothing
    half-written (SQLite's online backup API; never copy the file itself during writes).
    Prints {"backup": PATH, "position": P, "digest": HEX}: the copy's journal head and its
    hash chain's digest, verified on the copy (keep the digest outside, as with `audit
    digest`). On PostgreSQL use pg_dump (docs/operations.md).
    """
    import json

    from ledger.storage.backup import BackupError, backup_sqlite
    from ledger.storage.chain import walk
    from ledger.storage.database import Database

    s = session(ctx)
    with failures():
        try:
            copy = backup_sqlite(s.db, path)
        except BackupError as e:
            raise InputRejected(str(e)) from None
        conn = Database(f"sqlite:///{copy}").connect()
        try:
            result = walk(conn)
        finally:
            conn.raw.close()
    if result.broken is not None:
        raise IntegrityProblem(f"the copy {path} does not verify: {result.broken}")
    click.echo(
        json.dumps({"backup": str(copy), "position": result.position, "digest": result.digest})
    )


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
