"""HLM sales statement (ventes HLM) against the target of selling 1% of the stock a year.

It serves the annual follow-up of the sales commitments of the convention d'utilité
sociale (CUS) and the board's annual deliberation on sales: units sold by each seller,
to whom (buyer categories, the sitting-tenant share, blocks sold to institutional
investors, which the 2017 programme does not favour), for how much (gross, and net of
book value where the sales recorded it), and the sales rate against the stock on
1 January.

By default the sellers are the HLM bodies (ESH, OPH, coops: kinds `HLM_BODIES`), the
sellers subject to the HLM sale rules (CCH L443-7 ff.) and to the 1% target; `--sellers
all` lists every seller (LLI companies, Foncière Logement, the sales company...). Sales to
households (natural persons: sitting tenants first, then other tenants, then other
individuals) are told apart from block sales to legal persons; the sitting-tenant share
is taken over the sales to households; the rate is given both ways (every sale, sales to
households). The group line counts the group's sellers' sales to buyers outside the
group only (`projections/reports/group.py`): a sale to another group entity moves a unit
inside the group.

The year's sales are the effective `sale` transactions of the year's flows (`periods.Year`:
2 January to the next 1 January), read as recorded from the journal projection
(`hl_transactions.content`); the opening stock comes from the holding periods as of
1 January. Every sale counts in its seller's row, to a registered entity too.

Must not: compare a rate with its target after rounding (`money.meets` is exact).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ledger.domain.values import HLM_BODIES, HOUSEHOLDS, BuyerCategory
from ledger.storage.database import Connection
from projections.perimeter import kinds
from projections.render import charts
from projections.render.formats import Document
from projections.reports import group, periods
from projections.reports.money import meets, money, ratio

CATEGORIES = tuple(c.value for c in BuyerCategory)
DEFAULT_TARGET_RATE = "0.01"
#: `--sellers`: the HLM bodies (subject to the HLM sale rules, CCH L443-7 ff., and measured
#: against the 1% target), or every seller.
SELLERS = ("hlm", "all")


@dataclass
class _Sales:
    """What one seller sold in the year (accumulated while reading the journal)."""

    by_category: Counter[str] = field(default_factory=Counter)
    in_blocks: int = 0
    within_group: int = 0
    block_to_institutionals: int = 0
    proceeds: Decimal = Decimal(0)
    #: The sum of the net proceeds its sales recorded, and the units of those sales.
    net_proceeds: Decimal = Decimal(0)
    units_with_net_proceeds: int = 0

    def add(self, sale: dict[str, Any], within_group: bool) -> None:
        units, category = len(sale["units"]), sale["buyer"]["category"]
        self.by_category[category] += units
        if category not in HOUSEHOLDS and units > 1:
            self.in_blocks += units
        if category == BuyerCategory.INSTITUTIONAL and units > 1:
            self.block_to_institutionals += units
        self.within_group += units if within_group else 0
        self.proceeds += Decimal(sale["price_eur"])
        if sale.get("net_proceeds_eur") is not None:
            self.net_proceeds += Decimal(sale["net_proceeds_eur"])
            self.units_with_net_proceeds += units


@dataclass(frozen=True, slots=True)
class SalesRow:
    entity: str
    kind: str | None
    opening_stock: int
    sales: _Sales
    target_rate: Decimal
    target_rate_text: str

    @property
    def units_sold(self) -> int:
        return sum(self.sales.by_category.values())

    @property
    def to_households(self) -> int:
        return sum(n for c, n in self.sales.by_category.items() if c in HOUSEHOLDS)

    def as_dict(self) -> dict[str, Any]:
        s, sold, households = self.sales, self.units_sold, self.to_households
        return {
            "entity": self.entity,
            "kind": self.kind,
            "opening_stock": self.opening_stock,
            "units_sold": sold,
            "by_category": {c: s.by_category[c] for c in CATEGORIES},
            "sold_to_households": households,
            "sold_in_blocks": s.in_blocks,
            "sold_within_group": s.within_group,
            "sitting_tenant_share": ratio(s.by_category[BuyerCategory.SITTING_TENANT], households),
            "block_sold_to_institutionals": s.block_to_institutionals,
            "proceeds_eur": money(s.proceeds),
            "net_proceeds_eur": money(s.net_proceeds) if s.units_with_net_proceeds else None,
            "units_with_net_proceeds": s.units_with_net_proceeds,
            "sales_rate": ratio(sold, self.opening_stock),
            "household_sales_rate": ratio(households, self.opening_stock),
            "target_rate": self.target_rate_text,
            "target_met": meets(sold, self.opening_stock, self.target_rate),
            "household_target_met": meets(households, self.opening_stock, self.target_rate),
        }


#: CSV / table / HTML columns (a header line even when no entity has a row)
COLUMNS = (
    "entity",
    "kind",
    "opening_stock",
    "units_sold",
    *(f"by_category.{c}" for c in CATEGORIES),
    "sold_to_households",
    "sold_in_blocks",
    "sold_within_group",
    "sitting_tenant_share",
    "block_sold_to_institutionals",
    "proceeds_eur",
    "net_proceeds_eur",
    "units_with_net_proceeds",
    "sales_rate",
    "household_sales_rate",
    "target_rate",
    "target_met",
    "household_target_met",
)


@dataclass(frozen=True, slots=True)
class Year:
    """The year's sales: by seller, and the group's sales to buyers outside the group."""

    by_seller: dict[str, _Sales]
    out_of_group: dict[str, _Sales]


def year_sales(conn: Connection, y: periods.Year, position: int, members: group.Group) -> Year:
    """What each seller sold over the effective sales of the year's flows; a sale by a group
    entity to another is `within_group` (and not out of the group)."""
    sellers: dict[str, _Sales] = {}
    outside: dict[str, _Sales] = {}
    for _, sale in periods.transactions(conn, "sale", position, y.first_day, y.last_day):
        seller, buyer, day = sale["entity"], sale["buyer"].get("entity"), sale["date"]
        in_group = members.member(seller, day)
        within = in_group and buyer is not None and members.member(buyer, day)
        sellers.setdefault(seller, _Sales()).add(sale, within)
        if in_group and not within:
            outside.setdefault(seller, _Sales()).add(sale, False)
    return Year(sellers, outside)


@dataclass(frozen=True, slots=True)
class Statement:
    rows: list[SalesRow]
    group: SalesRow


def sales_rows(
    conn: Connection,
    year: int,
    position: int,
    target_rate: str = DEFAULT_TARGET_RATE,
    sellers: str = "hlm",
) -> Statement:
    """One row per seller (an HLM body, unless `sellers` is `all`) with opening stock > 0
    or a sale in the year, sorted by entity; and the group's line."""
    y = periods.Year(year)
    members = group.Group(conn, position)
    opening = periods.stock(conn, y.opening_day, position)
    sold = year_sales(conn, y, position, members)
    kind = kinds(conn, position)
    rate = Decimal(target_rate)
    chosen = {
        e
        for e in set(opening) | set(sold.by_seller)
        if sellers == "all" or kind.get(e) in HLM_BODIES
    }
    rows = [
        SalesRow(
            e, kind.get(e), opening.get(e, 0), sold.by_seller.get(e, _Sales()), rate, target_rate
        )
        for e in sorted(chosen)
    ]
    in_group = members.members(y.opening_day)
    total = _Sales()
    for e in sorted(chosen):
        s = sold.out_of_group.get(e)
        if s is not None:
            _merge(total, s)
        total.within_group += sold.by_seller.get(e, _Sales()).within_group
    line = SalesRow(
        "group",
        None,
        sum(opening.get(e, 0) for e in chosen if e in in_group),
        total,
        rate,
        target_rate,
    )
    return Statement(rows, line)


def _merge(total: _Sales, s: _Sales) -> None:
    total.by_category.update(s.by_category)
    total.in_blocks += s.in_blocks
    total.block_to_institutionals += s.block_to_institutionals
    total.proceeds += s.proceeds
    total.net_proceeds += s.net_proceeds
    total.units_with_net_proceeds += s.units_with_net_proceeds


def statement(
    conn: Connection,
    year: int,
    known_at: int | None = None,
    target_rate: str = DEFAULT_TARGET_RATE,
    sellers: str = "hlm",
) -> Document:
    position = periods.pin(conn, known_at)
    found = sales_rows(conn, year, position, target_rate, sellers)
    rows = found.rows
    chart = charts.bar_chart(
        f"Sales rate {year} by seller (units sold / stock on 1 January) against the "
        f"{charts.percent(Decimal(target_rate))} target",
        [
            charts.Bar(
                r.entity,
                r.units_sold / r.opening_stock * 100,
                "good" if r.as_dict()["target_met"] else "bad",
                f"{r.units_sold} / {r.opening_stock}",
            )
            for r in [*rows, found.group]
            if r.opening_stock
        ],
        {"good": "target met", "bad": "below target"},
        unit="%",
        target=float(target_rate) * 100,
        target_label=f"target: {charts.percent(Decimal(target_rate))} of the opening stock",
    )
    line = found.group.as_dict()
    return Document(
        {"year": year, **periods.Year(year).header(), "sellers": sellers, "position": position},
        [r.as_dict() for r in rows],
        COLUMNS,
        extra={"group": line},
        title=f"HLM sales (ventes HLM) {year}",
        figure=chart,
        totals=line if rows else None,
    )
