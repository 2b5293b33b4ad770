"""One renderer for every query and statement: table, JSON, CSV or HTML.

A `Document` is the JSON answer of the spec (header fields, `position`, `rows`); the
table and CSV forms render its `rows`. The HTML form (statements only) is one
self-contained page: inline CSS, the document's header, its chart (inline SVG built by
`projections/render/charts.py`), its rows with a totals line, and its extra objects;
no script, no network (a Content-Security-Policy forbids both), no clock.

JSON is printed with a fixed key order and `ensure_ascii=False`, so the same ledger gives
byte-identical output on SQLite and PostgreSQL. Table output escapes control characters,
so a hostile name cannot drive the terminal; JSON and CSV keep values verbatim (they are
data, not screen text); HTML escapes every text.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

FORMATS = ("table", "json", "csv")
#: Statements (`report ...`) also render as a self-contained HTML page.
REPORT_FORMATS = (*FORMATS, "html")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass
class Document:
    header: dict[str, Any]
    rows: list[dict[str, Any]]
    columns: Sequence[str] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    #: The page title and an inline SVG chart (HTML only), and a totals line (the last line
    #: of a table and of the HTML page; not in CSV: JSON has it when `extra` does).
    title: str = ""
    figure: str = ""
    totals: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {**self.header, "rows": self.rows, **self.extra}


def to_json(doc: Document) -> str:
    return json.dumps(doc.as_json(), ensure_ascii=False, indent=2)


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """Nested objects (e.g. `by_category`) become `key.subkey` columns."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            for sub, inner in value.items():
                flat[f"{key}.{sub}"] = inner
        else:
            flat[key] = value
    return flat


def _columns(doc: Document, rows: list[dict[str, Any]]) -> list[str]:
    if doc.columns:
        return list(doc.columns)
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    return columns


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def to_csv(doc: Document) -> str:
    rows = [_flat(r) for r in doc.rows]
    return "".join(_csv_pieces(_columns(doc, rows), rows))


def _html(text: str) -> str:
    """HTML-escaped, with control characters as visible escapes (never raw in a page)."""
    return html.escape(escape(text))


def escape(text: str) -> str:
    """Control characters as visible escapes (\\x1b...), for terminal output."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def to_table(doc: Document) -> str:
    """Every row in one block, then the totals (or group) line when the statement has one:
    the columns as wide as their widest value."""
    rows = [_flat(r) for r in doc.rows]
    if rows and doc.totals is not None:
        rows.append(_flat(doc.totals))
    return "".join(_table_pieces(doc.header, rows, _columns(doc, rows), block=len(rows)))


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d+(\.\d+)?", text)) or text == ""


# --- HTML ---------------------------------------------------------------------------

PAGE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;color:#212121;margin:2rem auto;
max-width:1280px;padding:0 1rem;line-height:1.4}
h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
dl.header{display:flex;flex-wrap:wrap;gap:.25rem 1.5rem;margin:0 0 1rem;color:#424242}
dl.header div{display:flex;gap:.4rem}dt{font-weight:600}dd{margin:0}
figure{margin:1rem 0;border:1px solid #e0e0e0;border-radius:6px;padding:.5rem}
figure svg{width:100%;height:auto;display:block}
.scroll{overflow-x:auto}
table{border-collapse:collapse;font-size:.8rem;font-variant-numeric:tabular-nums}
th,td{padding:.3rem .38rem;border-bottom:1px solid #e0e0e0}td{white-space:nowrap}
thead th{background:#f5f5f5;text-align:left;vertical-align:bottom;font-weight:600}
thead tr:last-child th,thead th[rowspan]{border-bottom:2px solid #9e9e9e}
thead th[colspan]{text-align:center;border-bottom:1px solid #bdbdbd}
td.num,th.num{text-align:right}td.null{color:#9e9e9e;text-align:center}
td.true{color:#2e7d32;font-weight:600}td.false{color:#c62828;font-weight:600}
tbody tr:nth-child(even){background:#fafafa}
tfoot td{font-weight:700;border-top:2px solid #9e9e9e;border-bottom:none}
footer{margin-top:1.5rem;color:#757575;font-size:.8rem}
@page{size:A4 landscape;margin:1cm}
@media print{body{margin:0;max-width:none;padding:0}.scroll{overflow:visible}
table{font-size:.7rem}figure{break-inside:avoid}}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _heading(name: str) -> str:
    """A column name that may wrap after its underscores (narrow columns, whole words)."""
    return _html(name).replace("_", "_<wbr>")


def _html_cell(value: Any, numeric: bool) -> str:
    if value is None:
        return '<td class="null">&ndash;</td>' if numeric else "<td></td>"
    if isinstance(value, bool):
        css = ' class="true"' if value else ' class="false"'
    else:
        css = ' class="num"' if numeric else ""
    return f"<td{css}>{_html(_cell(value))}</td>"


def _html_head(columns: list[str], numeric: dict[str, bool]) -> str:
    """One header row; two when some columns are a nested object's keys (`by_category.x`):
    the object's name spans its keys."""

    def th(label: str, column: str, extra: str = "") -> str:
        css = " class=num" if numeric[column] else ""
        return f'<th{css} scope="col"{extra}>{_heading(label)}</th>'

    if not any("." in c for c in columns):
        return "<tr>" + "".join(th(c, c) for c in columns) + "</tr>"
    top: list[str] = []
    sub: list[str] = []
    i = 0
    while i < len(columns):
        group = columns[i].split(".", 1)[0]
        if "." not in columns[i]:
            top.append(th(group, columns[i], ' rowspan="2"'))
            i += 1
            continue
        end = i
        while end < len(columns) and columns[end].startswith(group + "."):
            end += 1
        keys = columns[i:end]
        top.append(f'<th scope="colgroup" colspan="{len(keys)}">{_heading(group)}</th>')
        sub.extend(th(c.split(".", 1)[1], c) for c in keys)
        i += len(keys)
    return f"<tr>{''.join(top)}</tr><tr>{''.join(sub)}</tr>"


def _numeric(values: list[Any]) -> bool:
    """A column of numbers (nulls allowed), right-aligned; booleans are not numbers."""
    present = [v for v in values if v is not None]
    return bool(present) and all(not isinstance(v, bool) and _is_number(_cell(v)) for v in present)


def _html_table(
    columns: list[str], rows: list[dict[str, Any]], totals: dict[str, Any] | None
) -> str:
    numeric = {c: _numeric([r.get(c) for r in rows]) for c in columns}
    body = "".join(
        "<tr>" + "".join(_html_cell(r.get(c), numeric[c]) for c in columns) + "</tr>" for r in rows
    )
    if not rows:
        body = f'<tr><td colspan="{len(columns) or 1}">(no rows)</td></tr>'
    foot = ""
    if totals is not None:
        foot = (
            "<tfoot><tr>"
            + "".join(
                _html_cell(totals[c], numeric[c]) if c in totals else "<td></td>" for c in columns
            )
            + "</tr></tfoot>"
        )
    return (
        f'<div class="scroll"><table><thead>{_html_head(columns, numeric)}</thead>'
        f"<tbody>{body}</tbody>{foot}</table></div>"
    )


def _html_extra(name: str, value: Any) -> str:
    """An extra object of the document (e.g. `by_entity`) as a two-column table; a list of
    objects (e.g. a programme's `zoning`) as a table of their keys."""
    title = f"<h2>{_html(name)}</h2>"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return title + _html_table(list(value[0]), value, None)
    if not isinstance(value, dict):
        return f"{title}<p>{_html(_cell(value))}</p>"
    counts = bool(value) and all(isinstance(v, int) for v in value.values())
    key, label = name.removeprefix("by_") or "key", "units" if counts else "value"
    rows = [{key: k, label: v} for k, v in value.items()]
    totals = {key: "total", label: sum(value.values())} if counts else None
    return title + _html_table([key, label], rows, totals)


def _extras_beside(
    doc: Document, columns: list[str], totals: dict[str, Any] | None
) -> dict[str, Any]:
    """The extra objects an HTML page shows after its table: an extra that is the totals
    line (a statement's `group`) is already the table's last line, so only its values
    the table has no column for are left (the group's `joined` and `left`)."""
    shown = {}
    for key, value in doc.extra.items():
        if value is doc.totals and totals is not None:
            value = {k: v for k, v in totals.items() if k not in columns}
        shown[key] = value
    return shown


def to_html(doc: Document) -> str:
    """One self-contained page (a statement to read, print or archive with a filing)."""
    rows = [_flat(r) for r in doc.rows]
    columns = _columns(doc, rows)
    totals = _flat(doc.totals) if doc.totals is not None else None
    title = _html(doc.title or "housing-ledger")
    header = "".join(
        f"<div><dt>{_html(k)}</dt><dd>{_html(_cell(v))}</dd></div>"
        for k, v in doc.header.items()
        if v is not None
    )
    figure = f"<figure>{doc.figure}</figure>" if doc.figure else ""
    extras = "".join(
        _html_extra(k, v) for k, v in _extras_beside(doc, columns, totals).items() if v
    )
    position = _html(_cell(doc.header.get("position")))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{PAGE_CSS}</style></head><body>"
        f'<h1>{title}</h1><dl class="header">{header}</dl>{figure}'
        f"{_html_table(columns, rows, totals)}{extras}"
        f"<footer>housing-ledger statement as the journal stood at position {position}. "
        f"Reproduce it with --known-at {position}.</footer></body></html>"
    )


# --- Streaming ----------------------------------------------------------------------


def stream(
    header: dict[str, Any],
    rows: Iterable[dict[str, Any]],
    columns: Sequence[str],
    fmt: str,
    block: int = 1000,
) -> Iterator[str]:
    """`render(Document(header, rows, columns), fmt)` in pieces, reading `rows` as they
    come (a register of a million rows). JSON and CSV are the same bytes as `render`'s.
    A table cannot know its widths before its last row: its columns are as wide as the
    first `block` rows need (so it equals `render`'s when the rows fit in one block), and
    a longer value further down overflows its column."""
    if fmt == "json":
        return _json_pieces(header, rows)
    if fmt == "csv":
        return _csv_pieces(columns, rows)
    if fmt == "table":
        return _table_pieces(header, rows, columns, block)
    raise ValueError(f"cannot stream the {fmt!r} format")


def _json_value(value: Any, indent: int) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + " " * indent)


def _json_pieces(header: dict[str, Any], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """`to_json`'s layout (`indent=2`), written a row at a time."""
    yield "{"
    for key, value in header.items():
        yield f"\n  {_json_value(key, 2)}: {_json_value(value, 2)},"
    yield '\n  "rows": ['
    empty = True
    for row in rows:
        yield ("\n    " if empty else ",\n    ") + _json_value(row, 4)
        empty = False
    yield "]\n}" if empty else "\n  ]\n}"


def _csv_pieces(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """`to_csv`'s lines: the header, then a row at a time (no newline after the last)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    yield out.getvalue()[:-1]
    for row in rows:
        out.seek(0)
        out.truncate()
        flat = _flat(row)
        writer.writerow([_cell(flat.get(c)) for c in columns])
        yield "\n" + out.getvalue()[:-1]


def _table_pieces(
    header: dict[str, Any], rows: Iterable[dict[str, Any]], columns: Sequence[str], block: int
) -> Iterator[str]:
    """`to_table`'s lines, with the widths and alignments of the first `block` rows."""
    title = "  ".join(f"{k}: {escape(_cell(v))}" for k, v in header.items() if v is not None)
    yield title
    stream = iter(rows)
    first = [[escape(_cell(_flat(r).get(c))) for c in columns] for r in islice(stream, block)]
    if not first:
        yield "\n(no rows)"
        return
    widths = [max(len(c), *(len(r[i]) for r in first)) for i, c in enumerate(columns)]
    numeric = [all(_is_number(r[i]) for r in first) for i in range(len(columns))]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "\n" + "  ".join(parts).rstrip()

    yield line(columns)
    yield line(["-" * w for w in widths])
    for cells in first:
        yield line(cells)
    for row in stream:
        flat = _flat(row)
        yield line([escape(_cell(flat.get(c))) for c in columns])


def render(doc: Document, fmt: str) -> str:
    if fmt == "html":
        return to_html(doc)
    if fmt == "json":
        return to_json(doc)
    if fmt == "csv":
        return to_csv(doc)
    return to_table(doc)


# --- The `;` CSV of RPLS-shaped files -----------------------------------------------


def semicolon_cell(value: Any) -> str:
    """One cell of the `;` dialect: quoted with `"` (doubled inside) when it holds `;` or
    `"`; a line break becomes a space (a cell never spans lines)."""
    text = re.sub(r"\r\n|\r|\n", " ", _cell(value))
    if ";" in text or '"' in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def semicolon_csv_pieces(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The `;`-separated CSV of an RPLS-shaped file (UTF-8, LF, no byte-order mark): the
    header, then a row at a time (no newline after the last, like `_csv_pieces`)."""
    yield ";".join(semicolon_cell(c) for c in columns)
    for row in rows:
        yield "\n" + ";".join(semicolon_cell(row.get(c)) for c in columns)
