"""What an import says when it is done: its summary line, and the projections brought
up to date after it (with a progress bar on a terminal, on stderr)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from commands.session import Session, failures

if TYPE_CHECKING:
    from ledger.booking.service import ImportResult


def summary(result: ImportResult) -> str:
    """What an import says it recorded."""
    return (
        f"recorded {result.recorded} transaction(s) ({result.events} events), "
        f"{result.already_recorded} already recorded; journal position {result.position}"
    )


def finish(s: Session, summary: str) -> None:
    """Bring the projections up to date after a recorded import, then print `summary`."""
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


def progress_bar(total: int, label: str) -> Any:
    return click.progressbar(length=total, label=label, file=sys.stderr)


def _catch_up_with_progress(s: Session) -> None:
    """Bring the projections up to date, with a progress bar on a terminal."""
    start, head = s.projector.position(), s.store.head()
    if not sys.stderr.isatty() or head - start < 20_000:
        s.projector.catch_up()
        return
    with progress_bar(head - start, "updating projections") as bar:
        last = [start]

        def step(position: int) -> None:
            bar.update(position - last[0])
            last[0] = position

        s.projector.catch_up(progress=step)
