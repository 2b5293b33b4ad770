"""The `serve` command: the read-only web view for auditors (issue 16, docs/web.md).

It runs the Flask application of `web/` on werkzeug's threaded server, bound to
127.0.0.1 unless told otherwise. Flask is an optional extra (`housing-ledger[web]`): it
is imported when `serve` runs, never at `--help`, and its absence is a clear error.
"""

from __future__ import annotations

import click

from commands.session import InputRejected, session


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

    Every page answers GET only and writes nothing; works on a read-only connection
    (`sqlite:///PATH?mode=ro`, or PostgreSQL's auditor role). Needs the `web` extra:
    pip install 'housing-ledger[web]'."""
    try:
        from werkzeug.serving import run_simple

        from web.app import create_app
    except ImportError as e:
        raise InputRejected(
            f"serve needs the web extra ({e.name} is missing): pip install 'housing-ledger[web]'"
        ) from None
    app = create_app(session(ctx).url)
    click.echo(f"housing-ledger web view on http://{host}:{port}/ (read-only; Ctrl-C stops)")
    run_simple(host, port, app, threaded=True)
