"""housing-ledger: the command line's entry point, over the commands of `commands/`.

It declares the click group (the `--db` option, the version) and adds every command to
it, explicitly: importing a module of `commands/` registers nothing, and none imports
this one. The concrete adapters (`SqlEventStore`, `Projector`, `HousingLedger`,
`Recorder`) are wired from the one database URL in one place, `commands/session.py`,
lazily: `--help` never touches a database. Expected failures are `click.ClickException`s
with the exit codes README.md lists: 1 input rejected, 2 usage, 3 integrity failure,
4 database unavailable or conflict.
"""

from __future__ import annotations

import click

from commands import audit, entities, queries, recording, reference, reports, serve
from commands.session import Session
from ledger import __version__

__all__ = ["Session", "main"]


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
@click.version_option(version=__version__, package_name="housing-ledger")
@click.pass_context
def main(ctx: click.Context, db_url: str | None) -> None:
    """An event-sourced ledger of housing stock transfers.

    Records acquisitions, sales, bare-ownership transfers (nue-propriété), usufruct
    extinctions, mergers and business divestments as immutable events, and answers
    holdings as of any date. Mistakes are corrected by reversals, never by edits.
    """
    ctx.obj = Session(db_url)
    ctx.call_on_close(ctx.obj.close)


# Writing the journal.
main.add_command(recording.init)
main.add_command(recording.import_)
main.add_command(recording.demo)
# Reading the ledger.
main.add_command(queries.holdings)
main.add_command(queries.units)
main.add_command(queries.history)
main.add_command(queries.journal)
main.add_command(entities.entities)
main.add_command(reports.report)
main.add_command(reference.reference)
# Auditing it.
main.add_command(audit.audit)
main.add_command(audit.replay)
main.add_command(audit.db)
# Browsing it (the web view; Flask is imported only when `serve` runs).
main.add_command(serve.serve)

if __name__ == "__main__":  # pragma: no cover
    main()
