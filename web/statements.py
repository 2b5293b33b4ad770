"""The statements the web view serves, one `Statement` each: its parameters (as the CLI's
`report ...` options, by the same names with `_` for `-`) and how its document is built.

A statement's parameters are all in its URL: a page asked for without some of them is
redirected to the URL with their defaults filled in, so every statement shown can be
bookmarked and reproduced. The documents are the CLI's (`projections/reports/`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from projections.render.formats import Document

if TYPE_CHECKING:
    from ledger.storage.database import Connection


class BadParameter(Exception):
    """A parameter of the query string is not valid (HTTP 400); the message names it."""


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    kind: str  # "year", "int", "date", "rate", "text", or "choice"
    choices: tuple[str, ...] | None = None
    required: bool = True


@dataclass(frozen=True)
class Statement:
    name: str
    title: str
    params: tuple[Param, ...]
    build: Callable[[Connection, Mapping[str, Any], int | None], Document]


def _movements(conn: Connection, p: Mapping[str, Any], known_at: int | None) -> Document:
    from projections.reports import movements

    return movements.statement(conn, p["year"], known_at)


def _sales(conn: Connection, p: Mapping[str, Any], known_at: int | None) -> Document:
    from projections.reports import sales

    return sales.statement(conn, p["year"], known_at, p["target_rate"], p["sellers"])


def _programme(conn: Connection, p: Mapping[str, Any], known_at: int | None) -> Document:
    from projections.reports import programme

    return programme.statement(conn, p["start"], p["years"], p["target"], p["segment"], known_at)


def _dismemberment(conn: Connection, p: Mapping[str, Any], known_at: int | None) -> Document:
    import datetime

    from projections.reports import dismemberment

    judged_on = p["as_of"] or datetime.date.today().isoformat()
    return dismemberment.statement(conn, p["as_of"], judged_on, known_at)


def _divestments(conn: Connection, p: Mapping[str, Any], known_at: int | None) -> Document:
    from projections.reports import divestments

    return divestments.statement(conn, p["year"], known_at)


def _rpls(conn: Connection, p: Mapping[str, Any], known_at: int | None) -> Document:
    from projections.reports import periods, rpls

    position = periods.pin(conn, known_at)
    if not rpls.entity_known(conn, p["entity"], position):
        raise BadParameter(f"unknown entity {p['entity']}")
    header = rpls.header(p["entity"], p["year"], position)
    return Document(
        header,
        list(rpls.rows(conn, p["entity"], p["year"], position)),
        rpls.COLUMNS,
        title=f"Extrait RPLS {p['year']} of {p['entity']}",
    )


YEAR = Param("year", "year", "year")
STATEMENTS: dict[str, Statement] = {
    s.name: s
    for s in (
        Statement("movements", "Tableau de passage", (YEAR,), _movements),
        Statement(
            "sales",
            "Ventes HLM",
            (
                YEAR,
                Param("target_rate", "target rate", "rate"),
                Param("sellers", "sellers", "choice", ("hlm", "all")),
            ),
            _sales,
        ),
        Statement(
            "programme",
            "Programme d'acquisition",
            (
                Param("start", "first year", "year"),
                Param("years", "years", "int"),
                Param("target", "target (units)", "int"),
                Param("segment", "segment", "choice", ("social", "intermediate", "other")),
            ),
            _programme,
        ),
        Statement(
            "dismemberment",
            "Registre des démembrements",
            (Param("as_of", "as of", "date", required=False),),
            _dismemberment,
        ),
        Statement(
            "divestments",
            "Cessions d'activités",
            (Param("year", "year", "year", required=False),),
            _divestments,
        ),
        Statement(
            "rpls",
            "Extrait RPLS",
            (Param("entity", "entity", "text"), YEAR),
            _rpls,
        ),
    )
}


def defaults(conn: Connection, known_at: int | None) -> dict[str, Any]:
    """What a parameter left out stands for: the latest year of the transactions, the
    2017 programme's five years and 100,000 units, the CLI's defaults."""
    from projections.queries import latest_date

    latest = latest_date(conn, known_at)
    year = int(latest[:4]) if latest else 2017
    first = conn.scalar(
        "SELECT MIN(date) FROM hl_transactions WHERE type <> 'zoning_vintage'"
        + ("" if known_at is None else " AND position <= ?"),
        [] if known_at is None else [known_at],
    )
    entity = conn.scalar("SELECT MIN(entity) FROM hl_entities")
    return {
        "year": year,
        "target_rate": "0.01",
        "sellers": "hlm",
        "start": int(str(first)[:4]) if first else year,
        "years": 5,
        "target": 100000,
        "segment": "intermediate",
        "entity": entity or "",
    }


def parse(param: Param, text: str) -> Any:
    """One parameter's text checked and turned into its value."""
    from ledger.domain.values import parse_date

    try:
        if param.kind in ("year", "int"):
            value = int(text)
            low = 1800 if param.kind == "year" else 1
            if not low <= value <= (9999 if param.kind == "year" else 10**9):
                raise ValueError(f"{value} is out of range")
            return value
        if param.kind == "date":
            return parse_date(text).isoformat()
        if param.kind == "rate":
            from projections.reports.money import parse_rate

            parse_rate(text)
            return text
        if param.kind == "choice" and param.choices and text not in param.choices:
            raise ValueError(f"choose one of {', '.join(param.choices)}")
    except ValueError as e:
        raise BadParameter(f"{param.name}: {e}") from None
    return text
