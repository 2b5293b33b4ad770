"""HLM sales statement (ventes HLM) against the target of selling 1% of the stock a year.

It serves the annual follow-up of the sales commitments of the convention d'utilité
sociale (CUS) and the board's annual deliberation on sales: units sold by each seller,
to whom (buyer categories, the sitting-tenant share, blocks sold to institutional
investors, which the 2017 programme does not favour), for how much (gross, and net of
book value where the sales recorded it), and the sales rate against the stock on
1 January.

The year's sales are the effective `sale` transactions dated in the year, read as
recorded from the journal projection (`hl_transactions.content`); the opening stock comes
from the holding periods as of YEAR-1-12-31. Every sale counts, to a registered entity
too (a sale to another entity of the ledger is still a sale by the seller).

Must not: compare a rate with its target after rounding (`money.meets` is exact).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger.domain.values import BuyerCategory
from ledger.storage.database import Connection
from projections.render import charts
from projections.render.formats import Document
from projections.reports import periods
from projections.reports.money import meets, money, ratio

CATEGORIES = tuple(c.value for c in BuyerCategory)
DEFAULT_TARGET_RATE = "0.01"


@dataclass
class _Sales:
    """What one seller sold in the year (accumulated while reading the journal)."""

    by_category: Counter[str] = field(default_factory=Counter)
    block_to_institutionals: int = 0
    proceeds: Decimal = Decimal(0)
    #: The sum of the net proceeds its sales recorded, and the units of those sales.
    net_proceeds: Decimal = Decimal(0)
    units_with_net_proceeds: int = 0


@dataclass(frozen=True, slots=True)
class SalesRow:
    entity: str
    opening_stock: int
    units_sold: int
    by_category: tuple[tuple[str, int], ...]
    block_sold_to_institutionals: int
    proceeds_eur: Decimal
    net_proceeds_eur: Decimal | None
    units_with_net_proceeds: int
    target_rate: Decimal
    target_rate_text: str

    @property
    def sitting_tenant_share(self) -> str | None:
        return ratio(dict(self.by_category)["sitting_tenant"], self.units_sold)

    @property
    def sales_rate(self) -> str | None:
        return ratio(self.units_sold, self.opening_stock)

    @property
    def target_met(self) -> bool | None:
        return meets(self.units_sold, self.opening_stock, self.target_rate)

    def as_dict(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "opening_stock": self.opening_stock,
            "units_sold": self.units_sold,
            "by_category": dict(self.by_category),
            "sitting_tenant_share": self.sitting_tenant_share,
            "block_sold_to_institutionals": self.block_sold_to_institutionals,
            "proceeds_eur": money(self.proceeds_eur),
            "net_proceeds_eur": None
            if self.net_proceeds_eur is None
            else money(self.net_proceeds_eur),
            "units_with_net_proceeds": self.units_with_net_proceeds,
            "sales_rate": self.sales_rate,
            "target_rate": self.target_rate_text,
            "target_met": self.target_met,
        }


#: CSV / table / HTML columns (a header line even when no entity has a row)
COLUMNS = (
    "entity",
    "opening_stock",
    "units_sold",
    *(f"by_category.{c}" for c in CATEGORIES),
    "sitting_tenant_share",
    "block_sold_to_institutionals",
    "proceeds_eur",
    "net_proceeds_eur",
    "units_with_net_proceeds",
    "sales_rate",
    "target_rate",
    "target_met",
)


def year_sales(conn: Connection, year: periods.Year, position: int) -> dict[str, _Sales]:
    """{seller: what it sold} over the effective sales dated in the year."""
    sellers: dict[str, _Sales] = {}
    for _, sale in periods.transactions(conn, "sale", position, year.first_day, year.last_day):
        seller = sellers.setdefault(sale["entity"], _Sales())
        units, category = len(sale["units"]), sale["buyer"]["category"]
        seller.by_category[category] += units
        if category == BuyerCategory.INSTITUTIONAL and units > 1:
            seller.block_to_institutionals += units
        seller.proceeds += Decimal(sale["price_eur"])
        if sale.get("net_proceeds_eur") is not None:
            seller.net_proceeds += Decimal(sale["net_proceeds_eur"])
            seller.units_with_net_proceeds += units
    return sellers


def sales_rows(
    conn: Connection, year: int, position: int, target_rate: str = DEFAULT_TARGET_RATE
) -> list[SalesRow]:
    """One row per entity with opening stock > 0 or a sale in the year, sorted by entity."""
    y = periods.Year(year)
    opening = periods.stock(conn, y.eve, position)
    sold = year_sales(conn, y, position)
    rate = Decimal(target_rate)
    rows = []
    for entity in sorted(set(opening) | set(sold)):
        s = sold.get(entity, _Sales())
        rows.append(
            SalesRow(
                entity,
                opening.get(entity, 0),
                sum(s.by_category.values()),
                tuple((c, s.by_category[c]) for c in CATEGORIES),
                s.block_to_institutionals,
                s.proceeds,
                s.net_proceeds if s.units_with_net_proceeds else None,
                s.units_with_net_proceeds,
                rate,
                target_rate,
            )
        )
    return rows


def totals(rows: list[SalesRow], target_rate: str) -> dict[str, Any]:
    """The group's line: sums, and the group's own rates (not an average of rates)."""
    by_category = {c: sum(dict(r.by_category)[c] for r in rows) for c in CATEGORIES}
    total = SalesRow(
        "total",
        sum(r.opening_stock for r in rows),
        sum(r.units_sold for r in rows),
        tuple(by_category.items()),
        sum(r.block_sold_to_institutionals for r in rows),
        sum((r.proceeds_eur for r in rows), Decimal(0)),
        sum((r.net_proceeds_eur for r in rows if r.net_proceeds_eur is not None), Decimal(0))
        if any(r.net_proceeds_eur is not None for r in rows)
        else None,
        sum(r.units_with_net_proceeds for r in rows),
        Decimal(target_rate),
        target_rate,
    )
    return total.as_dict()


def statement(
    conn: Connection, year: int, known_at: int | None = None, target_rate: str = DEFAULT_TARGET_RATE
) -> Document:
    position = periods.pin(conn, known_at)
    rows = sales_rows(conn, year, position, target_rate)
    chart = charts.bar_chart(
        f"Sales rate {year} by seller (units sold / stock on 1 January) against the "
        f"{charts.percent(Decimal(target_rate))} target",
        [
            charts.Bar(
                r.entity,
                r.units_sold / r.opening_stock * 100,
                "good" if r.target_met else "bad",
                f"{r.units_sold} / {r.opening_stock}",
            )
            for r in rows
            if r.opening_stock
        ],
        {"good": "target met", "bad": "below target"},
        unit="%",
        target=float(target_rate) * 100,
        target_label=f"target: {charts.percent(Decimal(target_rate))} of the opening stock",
    )
    return Document(
        {"year": year, "position": position},
        [r.as_dict() for r in rows],
        COLUMNS,
        title=f"HLM sales (ventes HLM) {year}",
        figure=chart,
        totals=totals(rows, target_rate) if rows else None,
    )
