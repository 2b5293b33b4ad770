"""HTML of the web view's pages: the frame (navigation, parameters form, downloads), a
document's header and its table with links, and a statement's own HTML and chart.

Every text that reaches a page goes through `esc` (HTML-escaped, control characters made
visible, as the statements' HTML does); links are built by the caller and escaped here as
attributes. No script: the pages work in any browser, and the Content-Security-Policy the
application sends forbids scripts anyway. Nothing here reads the database.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from projections.render.formats import PAGE_CSS, Document, escape, to_html

#: A column's link: the URL a cell of a row points to (None: no link for that row).
CellLink = Callable[[dict[str, Any]], str | None]

NAV = (
    ("Holdings", "/holdings"),
    ("Units", "/units"),
    ("Entities", "/entities"),
    ("Statements", "/statements"),
    ("Journal", "/journal"),
    ("Audit", "/audit"),
)
WEB_CSS = """
nav{display:flex;flex-wrap:wrap;gap:.3rem 1rem;padding:.5rem 0;margin-bottom:1rem;
border-bottom:2px solid #1565c0}nav a{font-weight:600;text-decoration:none;color:#1565c0}
nav span{margin-left:auto;color:#757575;font-size:.85rem}
form.params{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin:0 0 1rem;
padding:.6rem;background:#f5f5f5;border-radius:6px}form.params label{display:flex;
flex-direction:column;font-size:.8rem;color:#424242}form.params input,form.params select{
font-size:.9rem;padding:.15rem .3rem}p.downloads{font-size:.85rem}p.note{color:#616161}
td a{color:#1565c0}.reversed{color:#c62828;font-weight:600}pre{background:#f5f5f5;
padding:.6rem;overflow-x:auto;font-size:.8rem;white-space:pre-wrap;word-break:break-all}
.error{color:#c62828;font-weight:600}
"""


def esc(value: Any) -> str:
    """A value as page text: None empty, booleans as JSON writes them, escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return html.escape(escape(str(value)))


def url(path: str, params: Mapping[str, Any]) -> str:
    """`path` with the parameters that are set, in the query string."""
    kept = {k: v for k, v in params.items() if v is not None and v != "" and v is not False}
    return path + ("?" + urlencode(kept) if kept else "")


def a(href: str, text: Any, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return f'<a href="{html.escape(href)}"{cls}>{esc(text)}</a>'


def page(title: str, body: str, known_at: int | None = None) -> str:
    """One whole page: the navigation (carrying `known_at` once chosen), then `body`."""
    nav = "".join(a(url(path, {"known_at": known_at}), name) for name, path in NAV)
    pinned = (
        f"<span>as the journal stood at position {esc(known_at)}</span>"
        if known_at is not None
        else "<span>the ledger as it stands</span>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} - housing-ledger</title>"
        f"<style>{PAGE_CSS}{WEB_CSS}</style></head><body>"
        f"<nav>{nav}{pinned}</nav><h1>{esc(title)}</h1>{body}</body></html>"
    )


def form(action: str, fields: Sequence[tuple[str, str, Any, Sequence[str] | None]]) -> str:
    """A GET form of parameters: (name, label, current value, choices or None) each."""
    parts = []
    for name, label, value, choices in fields:
        if choices is not None:
            options = "".join(
                f'<option value="{esc(c)}"{" selected" if c == (value or "") else ""}>'
                f"{esc(c) or '(none)'}</option>"
                for c in ["", *choices]
            )
            control = f'<select name="{esc(name)}">{options}</select>'
        else:
            control = f'<input name="{esc(name)}" value="{esc(value)}" size="12">'
        parts.append(f"<label>{esc(label)}{control}</label>")
    return (
        f'<form class="params" method="get" action="{html.escape(action)}">'
        f'{"".join(parts)}<button type="submit">Show</button></form>'
    )


def downloads(path: str, params: Mapping[str, Any]) -> str:
    """Links to exactly what the page shows, as JSON and as CSV."""
    links = " ".join(
        a(url(path, {**params, "format": fmt}), fmt.upper()) for fmt in ("json", "csv")
    )
    return f'<p class="downloads">Download what this page shows: {links}</p>'


def facts(pairs: Mapping[str, Any], keep_empty: bool = False) -> str:
    """Name and value pairs as the items of a definition list (`<dl>`), escaped; a value
    of None left out unless `keep_empty`."""
    return "".join(
        f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>"
        for k, v in pairs.items()
        if keep_empty or v is not None
    )


def header(doc: Document) -> str:
    shown = {k: v for k, v in doc.header.items() if not isinstance(v, dict | list)}
    return f'<dl class="header">{facts(shown)}</dl>'


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def table(
    columns: Sequence[str],
    rows: Iterable[dict[str, Any]],
    links: Mapping[str, CellLink] | None = None,
    marks: Callable[[dict[str, Any]], str] | None = None,
) -> str:
    """A table of rows; a column in `links` makes each of its cells a link; `marks` gives
    a row its CSS class (a reversed transaction)."""
    links = links or {}
    head = "".join(f'<th scope="col">{esc(c).replace("_", "_<wbr>")}</th>' for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            value = row.get(c)
            target = links[c](row) if c in links else None
            text = a(target, value) if target else esc(value)
            cells.append(
                f'<td class="num">{text}</td>' if _is_number(value) else f"<td>{text}</td>"
            )
        css = marks(row) if marks else ""
        body.append(f'<tr class="{css}">' if css else "<tr>")
        body.append("".join(cells) + "</tr>")
    if not body:
        body = [f'<tr><td colspan="{len(columns) or 1}">(no rows)</td></tr>']
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def statement(doc: Document) -> str:
    """A statement as the CLI's `--format html` draws it (header, chart, table, totals,
    extras, footer): the body of that page, inside the web view's frame."""
    whole = to_html(doc)
    start = whole.index("<body>") + len("<body>")
    body = whole[start : whole.rindex("</body>")]
    # the statement's own title is the page's; keep the rest
    return body[body.index("</h1>") + len("</h1>") :]


def item(prefix: str, key: Any) -> str:
    """The path of one thing (a unit, an entity, a journal entry), its key URL-quoted."""
    return f"{prefix}/{quote(str(key), safe='')}"
