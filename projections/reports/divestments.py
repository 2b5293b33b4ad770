"""Register of divestments: the competitive-sector businesses sold (cessions d'activités).

It serves the follow-up of the 2017 commitment to refocus on housing by selling the
property-management (administration de biens) and private-development (promotion
privée) businesses "with no redundancy": one row per effective divestment, in journal
order, with the buyer, the price and the staff transferred. The sector is the sector of
the business as registered (known at the statement's position).

Must not: list a reversed divestment, or one recorded after the position.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from ledger.storage.database import Connection
from projections.render.formats import Document
from projections.reports import periods
from projections.reports.money import money


@dataclass(frozen=True, slots=True)
class DivestmentRow:
    id: str
    date: str
    entity: str
    business: str
    sector: str
    buyer: str
    price_eur: Decimal
    employees_transferred: int
    no_redundancy: bool

    def as_dict(self) -> dict[str, Any]:
        row = {f.name: getattr(self, f.name) for f in fields(self)}
        row["price_eur"] = money(self.price_eur)
        return row


COLUMNS = tuple(f.name for f in fields(DivestmentRow))


def sectors(conn: Connection, position: int) -> dict[str, str]:
    """{business: sector} of the businesses registered as known at the position."""
    k_sql, params = periods.known("b", position)
    return dict(
        conn.query(f"SELECT b.business, b.sector FROM hl_businesses b WHERE {k_sql}", params)
    )


def divestment_rows(conn: Connection, year: int | None, position: int) -> list[DivestmentRow]:
    span: tuple[str | None, str | None] = (None, None)
    if year is not None:
        span = (periods.Year(year).first_day, periods.Year(year).last_day)
    sector = sectors(conn, position)
    return [
        DivestmentRow(
            d["id"],
            d["date"],
            d["entity"],
            d["business"],
            sector[d["business"]],
            d["buyer"],
            Decimal(d["price_eur"]),
            int(d["employees_transferred"]),
            bool(d["no_redundancy"]),
        )
        for _, d in periods.transactions(conn, "divestment", position, *span)
    ]


def statement(conn: Connection, year: int | None = None, known_at: int | None = None) -> Document:
    position = periods.pin(conn, known_at)
    rows = divestment_rows(conn, year, position)
    title = "Divestments (cessions d'activités)" + (f" {year}" if year else "")
    header: dict[str, Any] = {"year": year}
    if year is not None:
        header.update(flows_from=periods.Year(year).first_day, flows_to=periods.Year(year).last_day)
    return Document(
        {**header, "position": position},
        [r.as_dict() for r in rows],
        COLUMNS,
        title=title,
        totals={
            "id": "total",
            "price_eur": money(sum((r.price_eur for r in rows), Decimal(0))),
            "employees_transferred": sum(r.employees_transferred for r in rows),
            "no_redundancy": all(r.no_redundancy for r in rows),
        }
        if rows
        else None,
    )
