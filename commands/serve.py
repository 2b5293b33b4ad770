"""The `serve` command: the read-only web view for auditors (issue 16, docs/web.md).

It runs the Flask application of `web/` on werkzeug's threaded server, bound to
127.0.0.1 unless told otherwise. Flask is an optional extra (`housing-ledger[web]`): it
is imported when `serve` runs, never at `--help`, and its absence is a clear error.
"""

from __future__ import annotations

import click

from commands.session import InputRejected, failures, session


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0: every interface; the view has no login).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve a read-only web view of the ledger for auditors: holdings, units, a unit's
    history, the journal, the statements with their charts, entities and the audit.

    Every page answers GET only and writes nothing: the database is opened read-only
    (SQLite `mode=ro`, PostgreSQL read-only transactions), so projections behind the
    journal are shown as they stand (run any other command first to catch them up). Works
    under PostgreSQL's auditor role. Needs the `web` extra:
    pip install 'housing-ledger[web]'."""
    try:
        from werkzeug.serving import run_simple

        from web.app import create_app
    except ImportError as e:
        raise InputRejected(
            f"serve needs the web extra ({e.name} is missing): pip install 'housing-ledger[web]'"
        ) from None
    from ledger.storage.database import Database
    from ledger.storage.urls import read_only

    # Opened read-only whatever the URL says: a page never writes, not even the derived
    # projections (a ledger received as evidence keeps its bytes); projections behind the
    # journal answer as they stand, with a note on stderr (as `?mode=ro` does).
    with failures():
        url = read_only(Database(session(ctx).url).url)  # the URL given, else the default
    app = create_app(url)
    click.echo(f"housing-ledger web view on http://{host}:{port}/ (read-only; Ctrl-C stops)")
    run_simple(host, port, app, threaded=True)
