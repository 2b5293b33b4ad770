"""One renderer for every query and statement: table, JSON or CSV.

A `Document` is the JSON answer of the spec (header fields, `position`, `rows`); the
table and CSV forms render its `rows`. JSON is printed with a fixed key order and
`ensure_ascii=False`, so the same ledger gives byte-identical output on SQLite and
PostgreSQL. Table output escapes control characters, so a hostile name cannot drive the
terminal; JSON and CSV keep values verbatim (they are data, not screen text).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

FORMATS = ("table", "json", "csv")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass
class Document:
    header: dict[str, Any]
    rows: list[dict[str, Any]]
    columns: Sequence[str] = ()
    extra: dict[str, Any] = field(default_factory=dict)

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
    columns = _columns(doc, rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return out.getvalue().rstrip("\n")


def escape(text: str) -> str:
    """Control characters as visible escapes (\\x1b...), for terminal output."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def to_table(doc: Document) -> str:
    rows = [_flat(r) for r in doc.rows]
    columns = _columns(doc, rows)
    title = "  ".join(f"{k}: {escape(_cell(v))}" for k, v in doc.header.items() if v is not None)
    if not rows:
        return f"{title}\n(no rows)"
    cells = [[escape(_cell(row.get(c))) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    numeric = [all(_is_number(r[i]) for r in cells) for i in range(len(columns))]

    def line(values: Sequence[str]) -> str:
        parts = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(parts).rstrip()

    lines = [title, line(columns), line(["-" * w for w in widths])]
    lines.extend(line(r) for r in cells)
    return "\n".join(lines)


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d+(\.\d+)?", text)) or text == ""


def render(doc: Document, fmt: str) -> str:
    if fmt == "json":
        return to_json(doc)
    if fmt == "csv":
        return to_csv(doc)
    return to_table(doc)
