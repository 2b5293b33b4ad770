"""Properties of the statements over random valid ledgers (hypothesis), each recorded
into a fresh SQLite ledger and checked against the independent reference model.

- tableau de passage: closing = opening + entries - exits for every entity and year;
  opening(Y) = closing(Y-1); rows equal `reference_model.movements`;
- sales: rows equal `reference_model.sales`; `units_sold` equals the seller's `sold` +
  `transferred` movements of type sale (a merger's transfers are not sales), so it equals
  `sold + transferred` whenever the seller was not absorbed in the year; the shares of
  price and net proceeds on those movements add up to each sale's amounts;
- dismemberment: per entity, the register's units equal the usufruct and bare-ownership
  counts of `holdings`, and rows equal `reference_model.dismemberment`;
- programme and divestments equal a direct reading of the effective transactions (the
  programme's zone of a unit: the class in the zoning vintage in force on the
  acquisition's date, else the zone recorded with it);
- every statement known at a past position equals the statement of that prefix.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings

from projections.reports import dismemberment, divestments, movements, programme, sales
from tests import reference_model
from tests.strategies import ledgers
from tests.support import LedgerHarness

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
Tx = dict[str, Any]


def fresh() -> LedgerHarness:
    folder = tempfile.mkdtemp(prefix="hl-report-prop-")
    return LedgerHarness(f"sqlite:///{folder}/ledger.db")


def years(txs: list[Tx]) -> range:
    dated = [int(t["date"][:4]) for t in txs]
    return range(min(dated) - 1, max(dated) + 2)


def movement_rows(ledger: LedgerHarness, year: int, known_at: int | None = None) -> list[Tx]:
    return movements.statement(ledger.conn, year, known_at).rows


def sale_movements(ledger: LedgerHarness, year: int) -> Counter[str]:
    """Units each entity lost by `sale` transactions of the year's flows (hl_movements)."""
    rows = ledger.conn.query(
        "SELECT entity, COUNT(*) FROM hl_movements WHERE type = 'sale' AND voided_at IS NULL "
        "AND kind IN ('sold', 'transferred') AND date > ? AND date <= ? GROUP BY entity",
        reference_model.year_bounds(year),
    )
    return Counter({entity: int(n) for entity, n in rows})


def absorbed_in(txs: list[Tx], year: int) -> set[str]:
    return {
        e
        for t in reference_model.effective(txs)
        if t["type"] == "merger" and reference_model.in_year(t, year)
        for e in t["absorbed"]
    }


@SETTINGS
@given(ledgers(max_transactions=30))
def test_the_movement_statement_balances_chains_and_equals_the_reference(txs: list[Tx]) -> None:
    ledger = fresh()
    try:
        ledger.ok(*txs)
        previous: dict[str, int] = {}
        for year in years(txs):
            doc = movements.statement(ledger.conn, year)
            rows = doc.rows
            assert rows == reference_model.movements(txs, year), year
            assert doc.extra["group"] == reference_model.movements_group(txs, year), year
            for row in rows:
                assert reference_model.movement_identity_holds(row), (year, row)
                assert row["opening"] == previous.get(row["entity"], 0), (year, row)
            closing = {r["entity"]: r["closing"] for r in rows}
            assert {e: n for e, n in previous.items() if n} == {
                e: r["opening"] for e, r in ((r["entity"], r) for r in rows) if r["opening"]
            }
            previous = closing
    finally:
        ledger.close()


@SETTINGS
@given(ledgers(max_transactions=30))
def test_units_sold_are_the_sale_movements_and_the_sales_equal_the_reference(txs: list[Tx]) -> None:
    ledger = fresh()
    try:
        ledger.ok(*txs)
        for year in years(txs):
            doc = sales.statement(ledger.conn, year, sellers="all")
            rows = doc.rows
            assert rows == reference_model.sales(txs, year, sellers="all"), year
            assert doc.extra["group"] == reference_model.sales_group(txs, year, sellers="all")
            hlm = sales.statement(ledger.conn, year)
            assert hlm.rows == reference_model.sales(txs, year), year
            assert hlm.extra["group"] == reference_model.sales_group(txs, year), year
            moved = {r["entity"]: r for r in movement_rows(ledger, year)}
            by_sale = sale_movements(ledger, year)
            absorbed = absorbed_in(txs, year)
            for row in rows:
                entity = row["entity"]
                assert row["units_sold"] == by_sale[entity], (year, entity)
                out = moved[entity]["sold"] + moved[entity]["transferred"] if entity in moved else 0
                if entity in absorbed:
                    assert row["units_sold"] <= out
                else:
                    assert row["units_sold"] == out, (year, entity)
            rate = sales.statement(ledger.conn, year, target_rate="0.5", sellers="all").rows
            assert rate == reference_model.sales(txs, year, "0.5", "all")
    finally:
        ledger.close()


@SETTINGS
@given(ledgers(max_transactions=30))
def test_each_sales_unit_shares_add_up_to_its_price_and_net_proceeds(txs: list[Tx]) -> None:
    """The seller's movement of each unit of a sale carries the unit's shares (`Unit.Sold`
    version 2): in cents, one cent apart at most, the first units the larger, adding up to
    the lot's `price_eur` and `net_proceeds_eur` (none when the sale recorded none)."""
    ledger = fresh()
    try:
        ledger.ok(*txs)
        keys = {
            key: unit_id
            for key, unit_id in ledger.conn.query("SELECT DISTINCT unit_key, unit_id FROM hl_units")
        }
        found = {}
        for txn, key, price, net in ledger.conn.query(
            "SELECT txn, unit_key, price_eur, net_proceeds_eur FROM hl_movements "
            "WHERE type = 'sale' AND kind IN ('sold', 'transferred')"
        ):
            found.setdefault(txn, {})[keys[key]] = (price, net)
        sold = [t for t in txs if t["type"] == "sale"]
        assert set(found) == {t["id"] for t in sold}
        for tx in sold:
            shares = [found[tx["id"]][u] for u in tx["units"]]
            for column, total in ((0, tx["price_eur"]), (1, tx.get("net_proceeds_eur"))):
                amounts = [share[column] for share in shares]
                if total is None:
                    assert amounts == [None] * len(amounts)
                    continue
                cents = [int(Decimal(a) * 100) for a in amounts]
                assert all(Decimal(a) == Decimal(a).quantize(Decimal("0.01")) for a in amounts)
                assert sum(cents) == int(Decimal(total) * 100), (tx["id"], amounts)
                assert cents == sorted(cents, reverse=True) and cents[0] - cents[-1] <= 1
    finally:
        ledger.close()


def interesting_dates(txs: list[Tx]) -> list[str | None]:
    dates = sorted({t["date"] for t in txs} | {t.get("usufruct_end", t["date"]) for t in txs})
    return [None, "1999-12-31", *dates[::2], dates[-1]]


@SETTINGS
@given(ledgers(max_transactions=30))
def test_the_dismemberment_register_matches_holdings_and_the_reference(txs: list[Tx]) -> None:
    ledger = fresh()
    try:
        ledger.ok(*txs)
        for day in interesting_dates(txs):
            judged = day or "2030-06-15"
            rows = dismemberment.statement(ledger.conn, day, judged).rows
            assert rows == reference_model.dismemberment(txs, day, today=judged), day
            usufruct: Counter[str] = Counter()
            bare: Counter[str] = Counter()
            for row in rows:
                usufruct[row["usufructuary"]] += row["units"]
                bare[row["bare_owner"]] += row["units"]
                assert sum(row["maturities"].values()) == row["units"]
                assert list(row["maturities"]) == sorted(row["maturities"])
            held = ledger.holdings(as_of=day)
            assert usufruct == Counter({h["entity"]: h["usufruct"] for h in held if h["usufruct"]})
            assert bare == Counter(
                {h["entity"]: h["bare_ownership"] for h in held if h["bare_ownership"]}
            )
    finally:
        ledger.close()


def expected_programme(txs: list[Tx], start: int, span: int, segment: str) -> list[Tx]:
    """The programme's rows read off the effective acquisitions; each unit's zone is its
    zone on the acquisition's date (the vintage in force that day, else as recorded)."""
    acquired: Counter[int] = Counter()
    tense: Counter[int] = Counter()
    split: dict[int, Counter[str]] = {}
    names = {"Abis": "zone_abis", "A": "zone_a", "B1": "zone_b1"}
    found = reference_model.vintages(txs)
    for tx in reference_model.effective(txs):
        year = int(tx["date"][:4])
        year -= tx["date"][5:] == "01-01"  # the year convention: 1 January closes a year
        if tx["type"] != "acquisition" or not start <= year < start + span:
            continue
        for unit in tx["units"]:
            if unit["segment"] == segment:
                zone = reference_model.zone_as_of(found, unit, tx["date"])[0]
                acquired[year] += 1
                tense[year] += zone in reference_model.TENSE_ZONES
                split.setdefault(year, Counter())[names.get(zone, "zone_other")] += 1
    rows, cumulative = [], 0
    for elapsed, year in enumerate(range(start, start + span), start=1):
        cumulative += acquired[year]
        target = 7 * elapsed // span
        rows.append(
            {
                "year": year,
                "acquired": acquired[year],
                "in_tense_zones": tense[year],
                **{n: split.get(year, Counter())[n] for n in (*names.values(), "zone_other")},
                "cumulative": cumulative,
                "target_to_date": target,
                "on_track": cumulative >= target,
            }
        )
    return rows


def expected_divestments(txs: list[Tx]) -> list[Tx]:
    sector = {
        t["business"]: t["sector"]
        for t in reference_model.effective(txs)
        if t["type"] == "register_business"
    }
    return [
        {
            "id": t["id"],
            "date": t["date"],
            "entity": t["entity"],
            "business": t["business"],
            "sector": sector[t["business"]],
            "buyer": t["buyer"],
            "price_eur": str(Decimal(t["price_eur"]).quantize(Decimal("0.01"))),
            "employees_transferred": t["employees_transferred"],
            "no_redundancy": t["no_redundancy"],
        }
        for t in reference_model.effective(txs)
        if t["type"] == "divestment"
    ]


@SETTINGS
@given(ledgers(max_transactions=30))
def test_programme_and_divestments_read_the_effective_transactions(txs: list[Tx]) -> None:
    ledger = fresh()
    try:
        ledger.ok(*txs)
        first = int(min(t["date"] for t in txs)[:4])
        for segment in ("intermediate", "social"):
            doc = programme.statement(ledger.conn, first, 4, 7, segment)
            assert doc.rows == expected_programme(txs, first, 4, segment)
            assert sum(doc.extra["by_entity"].values()) == doc.rows[-1]["cumulative"]
        assert divestments.statement(ledger.conn).rows == expected_divestments(txs)
    finally:
        ledger.close()


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ledgers(max_transactions=20))
def test_statements_known_at_a_position_equal_the_statements_of_that_prefix(txs: list[Tx]) -> None:
    ledger = fresh()
    try:
        ledger.ok(*txs)
        positions = [
            p
            for (p,) in ledger.conn.query("SELECT position FROM hl_transactions ORDER BY position")
        ]
        span = years(txs)
        for count, position in enumerate(positions, start=1):
            prefix = txs[:count]
            for year in (span[1], span[-2]):
                assert movement_rows(ledger, year, position) == reference_model.movements(
                    prefix, year
                ), (count, year)
                doc = sales.statement(ledger.conn, year, position, sellers="all")
                assert doc.rows == reference_model.sales(prefix, year, sellers="all"), (count, year)
                assert doc.extra["group"] == reference_model.sales_group(
                    prefix, year, sellers="all"
                ), (count, year)
            assert dismemberment.statement(
                ledger.conn, None, "2030-01-01", position
            ).rows == reference_model.dismemberment(prefix, None, today="2030-01-01")
            assert divestments.statement(ledger.conn, None, position).rows == expected_divestments(
                prefix
            )
            # the class of each acquisition on its date, by the vintages known then
            first = int(min(t["date"] for t in txs)[:4])
            assert programme.statement(
                ledger.conn, first, 4, 7, "intermediate", position
            ).rows == expected_programme(prefix, first, 4, "intermediate"), count
    finally:
        ledger.close()
