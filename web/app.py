"""The web view's Flask application: GET routes over the ledger, one read snapshot each.

`create_app(url)` gives the WSGI application `serve` runs and the tests drive with
Flask's test client. Every route answers GET (and HEAD) only: any other method is 405,
and no route calls anything that writes (each request opens a `Session`, reads from
`Session.reading()`, and closes it). Parameters come from the query string; `known_at`,
once chosen, is carried in every link; `?format=json|csv` gives the page's document.
What must not happen here: SQL beyond the trivial lookups of `pages.py`, unescaped text
(everything goes through `layout`), or a script in a page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, redirect, request

from commands.session import Session
from ledger.errors import DatabaseUnavailable, IntegrityFailure, LedgerError
from projections import queries, register
from projections.render.formats import Document, to_csv, to_json
from web import layout, pages
from web.audit import audit_page
from web.pages import Problem
from web.statements import STATEMENTS, BadParameter, Param, defaults, parse

if TYPE_CHECKING:
    from ledger.storage.database import Connection

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
DIMENSIONS = queries.DIMENSIONS
#: Holdings split by these dimensions link to the register filtered the same way.
REGISTER_FILTERS = ("zone", "segment", "commune")


def create_app(url: str | None) -> Flask:
    """The application over the ledger at database `url` (None: the CLI's default)."""
    app = Flask("housing_ledger_web")
    app.config["LEDGER_URL"] = url

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.errorhandler(Problem)
    def _problem(e: Problem) -> tuple[str, int]:
        return layout.page("Error", f'<p class="error">{layout.esc(e)}</p>'), e.status

    @app.errorhandler(404)
    def _not_found(_: Any) -> tuple[str, int]:
        return layout.page("Not found", '<p class="error">No such page.</p>'), 404

    @app.errorhandler(405)
    def _not_allowed(_: Any) -> tuple[str, int, dict[str, str]]:
        body = '<p class="error">This view only reads: use GET.</p>'
        return layout.page("Method not allowed", body), 405, {"Allow": "GET, HEAD"}

    for rule, view in ROUTES:
        app.add_url_rule(rule, view.__name__, view, methods=["GET"])
    return app


@contextmanager
def reading() -> Iterator[Connection]:
    """A connection caught up as the CLI's (`Session.reading`), closed with the request;
    the ledger's failures become HTTP answers."""
    with opened() as s:
        yield s.reading()


@contextmanager
def opened() -> Iterator[Session]:
    """The request's session (closed with it); the ledger's failures as HTTP answers."""
    from flask import current_app

    s = Session(current_app.config["LEDGER_URL"])
    try:
        yield s
    except BadParameter as e:
        raise Problem(400, str(e)) from None
    except pages.NotFound as e:
        raise Problem(404, str(e)) from None
    except DatabaseUnavailable as e:
        raise Problem(503, str(e)) from None
    except IntegrityFailure as e:
        raise Problem(500, f"integrity failure: {e}") from None
    except LedgerError as e:
        raise Problem(400, str(e)) from None
    finally:
        s.close()


# --- the query string --------------------------------------------------------------


def arg(name: str, kind: str = "text", choices: tuple[str, ...] | None = None) -> Any:
    """A query-string parameter checked (None when absent or empty); 400 if invalid."""
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        return parse(Param(name, name, kind, choices), text)
    except BadParameter as e:
        raise Problem(400, str(e)) from None


def known_at() -> int | None:
    text = request.args.get("known_at", "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise Problem(400, "known_at: a journal position (a whole number >= 0)")
    return int(text)


def capped(limit: int, most: int) -> int:
    """A page's number of rows, refused past `most` (a page is not an export: the CLI's
    commands stream every row)."""
    if limit > most:
        raise Problem(400, f"limit: at most {most:,} rows a page (the CLI streams them all)")
    return limit


def answer(doc: Document, html: Callable[[], str]) -> Response | str:
    """The page, or its document as JSON or CSV (`?format=`)."""
    fmt = request.args.get("format", "html")
    if fmt == "json":
        return Response(to_json(doc) + "\n", mimetype="application/json")
    if fmt == "csv":
        name = request.path.strip("/").replace("/", "-") or "ledger"
        return Response(
            to_csv(doc) + "\n",
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if fmt != "html":
        raise Problem(400, "format: choose one of html, json, csv")
    return html()


def shown() -> dict[str, str]:
    """The page's parameters as asked (for the download links and the forms)."""
    return {k: v for k, v in request.args.items() if k != "format"}


# --- the pages ----------------------------------------------------------------------


def index() -> str:
    k = known_at()
    links = "".join(
        f"<li>{layout.a(layout.url(path, {'known_at': k}), name)}</li>" for name, path in layout.NAV
    )
    body = (
        "<p>A read-only view of the ledger for auditors: nothing here writes. Every page "
        "takes <code>known_at</code> (a journal position) to show the ledger as it stood "
        "then, and offers its figures as JSON and CSV.</p>"
        f"<ul>{links}</ul>"
    )
    return layout.page("housing-ledger", body, k)


def holdings() -> Response | str:
    k = known_at()
    as_of, entity = arg("as_of", "date"), arg("entity")
    by = arg("by", "choice", DIMENSIONS)
    consolidated = request.args.get("group") == "1"
    if consolidated and entity is not None:
        raise Problem(400, "group and entity cannot be used together")
    with reading() as conn:
        doc = pages.holdings(conn, as_of, entity, by, consolidated, k)
        day = as_of or queries.latest_date(conn, k)

    def figure_link(right: str) -> layout.CellLink:
        def target(row: dict[str, Any]) -> str | None:
            if row["entity"] == "group" and consolidated:
                return None
            params = {"as_of": day, "entity": row["entity"], "right": right, "known_at": k}
            if by in REGISTER_FILTERS:
                params[by] = row[by]
            return layout.url("/units", params)

        return target

    def html() -> str:
        links = {r: figure_link(r) for r in register.RIGHTS}
        links["entity"] = lambda row: (
            None
            if row["entity"] == "group"
            else layout.url(layout.item("/entity", row["entity"]), {"known_at": k})
        )
        note = (
            "<p class=note>Each figure links to the units behind it (the register)"
            + (
                f"; the register has no {layout.esc(by)} filter, so the link lists the "
                "entity's units held by that right"
                if by and by not in REGISTER_FILTERS
                else ""
            )
            + ".</p>"
        )
        form = layout.form(
            "/holdings",
            [
                ("as_of", "as of (YYYY-MM-DD)", as_of, None),
                ("by", "by", by, DIMENSIONS),
                ("entity", "entity", entity, None),
                ("group", "consolidated (1)", "1" if consolidated else None, None),
                ("known_at", "known at (position)", k, None),
            ],
        )
        body = (
            form
            + layout.header(doc)
            + note
            + layout.table(list(doc.columns), doc.rows, links)
            + layout.downloads("/holdings", shown())
        )
        return layout.page("Holdings", body, k)

    return answer(doc, html)


def units() -> Response | str:
    k = known_at()
    as_of = arg("as_of", "date")
    filters = register.Filters(
        arg("entity"),
        arg("right", "choice", register.RIGHTS),
        arg("zone"),
        arg("segment"),
        arg("commune"),
    )
    limit = capped(arg("limit", "int") or pages.UNITS_SHOWN, pages.MOST_ROWS)
    with reading() as conn:
        doc, more = pages.units(conn, as_of, filters, k, limit)

    def html() -> str:
        form = layout.form(
            "/units",
            [
                ("as_of", "as of", as_of, None),
                ("entity", "entity", filters.entity, None),
                ("right", "right", filters.right, register.RIGHTS),
                ("zone", "zone", filters.zone, None),
                ("segment", "segment", filters.segment, None),
                ("commune", "commune", filters.commune, None),
                ("limit", "rows shown", limit, None),
                ("known_at", "known at", k, None),
            ],
        )
        cut = (
            f"<p class=note>The first {limit} rows; raise <code>limit</code> to see more "
            "(the CLI's <code>units</code> streams them all).</p>"
            if more
            else ""
        )
        links = {
            "unit_id": lambda r: layout.url(layout.item("/unit", r["unit_id"]), {"known_at": k}),
            "entity": lambda r: layout.url(layout.item("/entity", r["entity"]), {"known_at": k}),
        }
        body = (
            form
            + layout.header(doc)
            + cut
            + layout.table(list(doc.columns), doc.rows, links)
            + layout.downloads("/units", shown())
        )
        return layout.page("Units (the register)", body, k)

    return answer(doc, html)


def unit(unit_id: str) -> Response | str:
    k = known_at()
    with reading() as conn:
        doc = pages.history(conn, unit_id, k)
        attributes = queries.unit(conn, unit_id, k)

    def html() -> str:
        facts = layout.facts(attributes)
        links = {
            "position": lambda r: layout.url(
                layout.item("/journal", r["position"]), {"known_at": k}
            )
        }
        body = (
            f'<h2>Attributes</h2><dl class="header">{facts or "(not registered)"}</dl>'
            "<h2>History, in journal order</h2>"
            "<p class=note>A reversed transaction is marked in red; its reversal is listed "
            "too.</p>"
            + layout.header(doc)
            + layout.table(
                list(doc.columns), doc.rows, links, lambda r: "reversed" if r["reversed"] else ""
            )
            + layout.downloads(request.path, shown())
        )
        return layout.page(f"Unit {unit_id}", body, k)

    return answer(doc, html)


def journal() -> Response | str:
    k = known_at()
    after = arg("after", "int") or 0
    limit = capped(arg("limit", "int") or 100, pages.MOST_ROWS)
    with reading() as conn:
        doc = pages.journal(conn, after, limit, k)

    def html() -> str:
        columns = ["position", "id", "type", "date", "recorded_at", "chain"]
        links = {
            "position": lambda r: layout.url(
                layout.item("/journal", r["position"]), {"known_at": k}
            )
        }
        rows = doc.rows
        following = (
            layout.a(
                layout.url(
                    "/journal", {"after": rows[-1]["position"], "limit": limit, "known_at": k}
                ),
                "next page",
            )
            if len(rows) == limit
            else ""
        )
        form = layout.form(
            "/journal",
            [
                ("after", "after position", after, None),
                ("limit", "rows", limit, None),
                ("known_at", "known at", k, None),
            ],
        )
        body = (
            form
            + layout.header(doc)
            + layout.table(columns, rows, links)
            + f"<p>{following}</p>"
            + layout.downloads("/journal", shown())
        )
        return layout.page("Journal", body, k)

    return answer(doc, html)


def journal_entry(position: int) -> Response | str:
    k = known_at()
    with reading() as conn:
        doc, content = pages.journal_entry(conn, position, k)
    row = doc.rows[0]
    indented = json.dumps(row["transaction"], ensure_ascii=False, indent=2)

    def html() -> str:
        listed = layout.facts({key: v for key, v in row.items() if key != "transaction"})
        reversed_note = (
            '<p class="reversed">Reversed by '
            + layout.a(
                layout.url(layout.item("/journal", row["reversed_at"]), {"known_at": k}),
                row["reversed_by"],
            )
            + f" at position {layout.esc(row['reversed_at'])}.</p>"
            if row["reversed_at"] is not None
            else ""
        )
        body = (
            f'<dl class="header">{listed}</dl>{reversed_note}'
            "<h2>The transaction as filed</h2>"
            f"<pre>{layout.esc(content)}</pre>"
            "<h2>The same, indented to read</h2>"
            f"<pre>{layout.esc(indented)}</pre>" + layout.downloads(request.path, shown())
        )
        return layout.page(f"Journal entry {position}: {row['type']}", body, k)

    return answer(doc, html)


def statements() -> str:
    k = known_at()
    items = "".join(
        f"<li>{layout.a(layout.url(f'/statements/{s.name}', {'known_at': k}), s.title)} "
        f"(<code>report {layout.esc(s.name)}</code>)</li>"
        for s in STATEMENTS.values()
    )
    return layout.page("Statements", f"<ul>{items}</ul>", k)


def statement(name: str) -> Any:
    spec = STATEMENTS.get(name)
    if spec is None:
        raise Problem(404, f"no statement {name}: choose one of {', '.join(STATEMENTS)}")
    k = known_at()
    from projections.reports.periods import InconsistentStatement

    with reading() as conn:
        missing = [p for p in spec.params if p.required and not request.args.get(p.name)]
        if missing:  # the defaults in the URL, so that the page can be bookmarked
            fill = defaults(conn, k)
            params = {**request.args, **{p.name: fill[p.name] for p in missing}}
            return redirect(layout.url(request.path, params), 302)
        values = {p.name: arg(p.name, p.kind, p.choices) for p in spec.params}
        try:
            doc = spec.build(conn, values, k)
        except InconsistentStatement as e:
            raise Problem(500, f"integrity failure: {e}") from None

    def html() -> str:
        form = layout.form(
            request.path,
            [(p.name, p.label, values[p.name], p.choices) for p in spec.params]
            + [("known_at", "known at", k, None)],
        )
        return layout.page(
            doc.title or spec.title,
            form + layout.downloads(request.path, shown()) + layout.statement(doc),
            k,
        )

    return answer(doc, html)


def entities() -> Response | str:
    k = known_at()
    as_of = arg("as_of", "date")
    with reading() as conn:
        doc = pages.entities(conn, as_of, k)

    def html() -> str:
        form = layout.form(
            "/entities", [("as_of", "as of", as_of, None), ("known_at", "known at", k, None)]
        )
        links = {
            "entity": lambda r: layout.url(layout.item("/entity", r["entity"]), {"known_at": k})
        }
        body = (
            form
            + layout.header(doc)
            + layout.table(list(doc.columns), doc.rows, links)
            + layout.downloads("/entities", shown())
        )
        return layout.page("Entities", body, k)

    return answer(doc, html)


def entity(entity_id: str) -> Response | str:
    k = known_at()
    with reading() as conn:
        found = pages.entity(conn, entity_id, k)

    def html() -> str:
        facts = layout.facts(found.facts, keep_empty=True)
        holdings_link = layout.a(
            layout.url("/units", {"entity": entity_id, "known_at": k}), "its units today"
        )
        merger_links = {
            "position": lambda r: layout.url(
                layout.item("/journal", r["position"]), {"known_at": k}
            )
        }
        body = (
            f'<dl class="header">{facts}</dl><p>{holdings_link}</p>'
            "<h2>Membership of the group</h2>"
            + layout.table(["from_date", "to_date", "parent"], found.memberships)
            + "<h2>Mergers</h2>"
            + layout.table(["position", "id", "date", "reversed"], found.mergers, merger_links)
            + "<h2>Stock over time</h2>"
            + f"<figure>{found.stock.figure}</figure>"
            + layout.table(list(found.stock.columns), found.stock.rows)
            + layout.downloads(request.path, shown())
        )
        return layout.page(f"Entity {entity_id}: {found.facts['name']}", body, k)

    return answer(found.stock, html)


def audit() -> Any:
    return audit_page(opened, arg)


ROUTES: list[tuple[str, Callable[..., Any]]] = [
    ("/", index),
    ("/holdings", holdings),
    ("/units", units),
    ("/unit/<path:unit_id>", unit),
    ("/journal", journal),
    ("/journal/<int:position>", journal_entry),
    ("/statements", statements),
    ("/statements/<name>", statement),
    ("/entities", entities),
    ("/entity/<path:entity_id>", entity),
    ("/audit", audit),
]
