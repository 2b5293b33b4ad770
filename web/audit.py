"""The audit page: the journal's head and the chain's stored link at a position, and, on
request (`?run=verify`, `?run=replay`), the chain's verification (`audit verify`, with a
digest kept by the auditor if given) and the replay check (`replay --check`).

Both checks only read: the chain is recomputed from the stored events, the replay folds
the journal in memory and compares with the stored projections; nothing is written. They
run when asked for, as the CLI's do, since they read the whole journal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from flask import Response, request

from projections.render.formats import Document, to_csv, to_json
from web import layout
from web.pages import Problem

if TYPE_CHECKING:
    from commands.session import Session

RUNS = ("verify", "replay")


def audit_page(
    opened: Callable[[], AbstractContextManager[Session]], arg: Callable[..., Any]
) -> Response | str:
    from ledger.storage.chain import check_digest, head, stored_link, walk

    position = arg("position", "int")
    digest = request.args.get("digest", "").strip().lower() or None
    run = arg("run", "choice", RUNS)
    if digest is not None and not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise Problem(400, "digest: a digest is 64 hexadecimal digits")
    if digest is not None and position is None:
        raise Problem(400, "digest: give the position it was kept at too")
    summary: dict[str, Any] = {}
    with opened() as s:
        conn = s.reading()
        end = head(conn)
        at = min(position, end) if position is not None else end
        link = stored_link(conn, at) if at else None
        summary.update(
            journal_end=end,
            projections_at=s.projector.position(),
            position=at,
            stored_link=link.hex() if link is not None else None,
        )
        if run == "verify":
            walked = walk(conn, mark=position)
            problem = walked.broken
            if position is not None and digest is not None:
                problem = check_digest(walked, position, digest) or problem
            summary.update(
                verified=problem is None,
                events_checked=walked.events,
                digest_at_end=walked.digest,
                digest_at_position=walked.marked,
                digest_given_matches=(None if digest is None else walked.marked == digest),
                problem=str(problem) if problem is not None else None,
            )
        elif run == "replay":
            summary.update(_replay_check(s))
    doc = Document({"position": at}, [summary])
    fmt = request.args.get("format", "html")
    if fmt == "json":
        return Response(to_json(doc) + "\n", mimetype="application/json")
    if fmt == "csv":
        return Response(to_csv(doc) + "\n", mimetype="text/csv")
    return layout.page("Audit", _body(summary, position, digest), arg("known_at", "int"))


def _replay_check(s: Session) -> dict[str, Any]:
    """`replay --check`: the journal folded in memory, compared with the projections."""
    from projections.engine import replay as rp
    from projections.engine import tally

    conn = s.conn
    projected = s.projector.position()
    result = rp.rebuild_in_memory(s.store, projected)
    try:
        difference: Any = rp.compare(conn, result.position, result.state)
        if difference is None and result.position == projected:
            difference = tally.difference(conn)
        digest = rp.state_digest(result.state)
    finally:
        result.state.close()
    return {
        "replayed_to": result.position,
        "events_replayed": result.events,
        "state_digest": digest,
        "replay_check": "ok" if difference is None else "different",
        "problem": None if difference is None else str(difference),
    }


def _body(summary: dict[str, Any], position: int | None, digest: str | None) -> str:
    facts = layout.facts(summary)
    verdict = ""
    if "verified" in summary:
        ok = summary["verified"]
        verdict = (
            f'<p class="{"note" if ok else "error"}">'
            + (
                f"Chain verified: {summary['events_checked']} events, every link recomputed "
                "from the stored events."
                if ok
                else f"The chain is broken: {layout.esc(summary['problem'])}"
            )
            + "</p>"
        )
    if "replay_check" in summary:
        ok = summary["replay_check"] == "ok"
        verdict += (
            f'<p class="{"note" if ok else "error"}">'
            + (
                "Replay check: the stored projections are what the journal folds to."
                if ok
                else f"Replay check failed: {layout.esc(summary['problem'])}"
            )
            + "</p>"
        )
    params = {"position": position, "digest": digest}
    form = layout.form(
        "/audit",
        [
            ("position", "position", position, None),
            ("digest", "digest kept (optional)", digest, None),
            ("run", "run", request.args.get("run"), RUNS),
        ],
    )
    actions = " ".join(
        layout.a(layout.url("/audit", {**params, "run": r}), label)
        for r, label in (("verify", "verify the chain"), ("replay", "run the replay check"))
    )
    return (
        "<p class=note>The stored link at a position is the journal's digest there as "
        "stored; verifying recomputes every link from the events (as <code>audit verify"
        "</code>), and the replay check folds the journal in memory and compares "
        "(as <code>replay --check</code>). Both only read, and may take a while on a large "
        "ledger.</p>"
        + form
        + f"<p>{actions}</p>{verdict}"
        + f'<dl class="header">{facts}</dl>'
        + layout.downloads("/audit", {k: v for k, v in request.args.items() if k != "format"})
    )
