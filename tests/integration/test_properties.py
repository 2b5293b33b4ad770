"""Properties over random valid ledgers (hypothesis), checked against an independent model.

(a) holdings and the unit register as of D equal the fold of the transactions dated on or before D
    (`tests/reference_model.py`), for every `--by`, and known-at every prefix; a unit's
    zone (`--by zone|tense`, the register's `zone`, `zone_source` and `--zone`) is the
    one in force on D: the ledgers record zoning vintages, and D runs over their dates
    and the eve of each;
(b) conservation: every unit that entered is held by one full owner, or by one
    usufructuary and a different bare owner, or has left by a sale;
(c) the incrementally caught-up projections equal a full rebuild.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.storage import schema
from projections import queries
from projections.engine import tally
from tests import reference_model
from tests.strategies import ledgers
from tests.support import LedgerHarness, jsonl

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fresh() -> LedgerHarness:
    folder = tempfile.mkdtemp(prefix="hl-prop-")
    return LedgerHarness(f"sqlite:///{folder}/ledger.db")


def interesting_dates(txs: list[dict[str, Any]]) -> list[str]:
    """Every date of the ledger, a day before it all and one after, the eve of the first
    years, and the eve of each zoning vintage (the day before it takes effect)."""
    dates = sorted({t["date"] for t in txs})
    extra = ["1999-12-31", "2100-01-01"]
    before = [f"{int(d[:4]) - 1}-12-31" for d in dates[:3]]
    eves = [eve(t["date"]) for t in txs if t["type"] == "zoning_vintage"]
    return sorted(set(dates + extra + before + eves))


def eve(day: str) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()


def vintage_in_force(txs: list[dict[str, Any]], day: str) -> str | None:
    """The id of the model's vintage in force on `day` (None: the declared zones)."""
    found = reference_model.vintage_on(reference_model.vintages(txs), day)
    return None if found is None else str(found["id"])


@SETTINGS
@given(ledgers(max_transactions=30))
def test_holdings_as_of_every_date_equal_the_reference_fold(txs: list[dict[str, Any]]) -> None:
    ledger = fresh()
    try:
        ledger.ok(*txs)
        conn = ledger.session.current()
        for day in interesting_dates(txs):
            zoning = queries.zoning_in_force(conn, day, None)
            assert (zoning and zoning["vintage"]) == vintage_in_force(txs, day), day
            for by in (None, "zone", "tense", "region", "financing"):
                expected = reference_model.holdings(txs, as_of=day, by=by)
                assert ledger.holdings(as_of=day, by=by) == expected, (day, by)
                for entity in sorted({r["entity"] for r in expected}):  # its own index
                    assert ledger.holdings(as_of=day, entity=entity, by=by) == [
                        r for r in expected if r["entity"] == entity
                    ], (day, by, entity)
        assert ledger.holdings() == reference_model.holdings(txs)
    finally:
        ledger.close()


@SETTINGS
@given(ledgers(max_transactions=25))
def test_holdings_known_at_each_position_equal_the_fold_of_that_prefix(
    txs: list[dict[str, Any]],
) -> None:
    ledger = fresh()
    try:
        ledger.ok(*txs)
        positions = [
            p
            for (p,) in ledger.conn.query("SELECT position FROM hl_transactions ORDER BY position")
        ]
        assert len(positions) == len(txs)
        for count, position in enumerate(positions, start=1):
            prefix = txs[:count]
            assert ledger.holdings(known_at=position) == reference_model.holdings(prefix)
            day = prefix[-1]["date"]
            assert ledger.holdings(known_at=position, as_of=day) == reference_model.holdings(
                prefix, as_of=day
            )
            # the zones of the vintages known then, on that day and at the latest date
            for as_of in (day, None):
                assert ledger.holdings(
                    known_at=position, as_of=as_of, by="zone"
                ) == reference_model.holdings(prefix, as_of=as_of, by="zone"), (position, as_of)
            assert ledger.holdings(known_at=position, by="tense") == reference_model.holdings(
                prefix, by="tense"
            ), position
    finally:
        ledger.close()


def held_units(ledger: LedgerHarness, day: str | None) -> dict[str, list[tuple[str, str]]]:
    where = "p.known_to IS NULL AND " + (
        "p.to_date IS NULL"
        if day is None
        else "p.from_date <= ? AND (p.to_date IS NULL OR p.to_date > ?)"
    )
    params = [] if day is None else [day, day]
    units: dict[str, list[tuple[str, str]]] = {}
    for unit, holder, right in ledger.conn.query(
        f"SELECT u.unit_id, p.holder, p.held_as FROM hl_periods p JOIN hl_units u "
        f"ON u.unit_key = p.unit_key AND u.known_to IS NULL WHERE {where}",
        params,
    ):
        units.setdefault(unit, []).append((holder, right))
    return units


@SETTINGS
@given(ledgers(max_transactions=30))
def test_every_unit_is_held_whole_or_has_left(txs: list[dict[str, Any]]) -> None:
    ledger = fresh()
    try:
        ledger.ok(*txs)
        present = {
            u for (u,) in ledger.conn.query("SELECT unit_id FROM hl_units WHERE known_to IS NULL")
        }
        for day in [None, *interesting_dates(txs)]:
            reference_model.conservation_check(txs, as_of=day)
            for unit, rights in held_units(ledger, day).items():
                assert unit in present
                kinds = sorted(r for _, r in rights)
                if kinds == ["full_ownership"]:
                    continue
                assert kinds == ["bare_ownership", "usufruct"], (unit, rights)
                assert len({h for h, _ in rights}) == 2, (unit, rights)
    finally:
        ledger.close()


def dump(ledger: LedgerHarness) -> dict[str, list[tuple[Any, ...]]]:
    tables = {}
    for table in schema.PROJECTION_TABLES:
        columns = [c.name for c in table.columns if c.name != "row_id"]
        rows = ledger.conn.query(f"SELECT {', '.join(columns)} FROM {table.name}")
        tables[table.name] = sorted(
            rows, key=lambda r: tuple("" if v is None else str(v) for v in r)
        )
    return tables


@SETTINGS
@given(
    ledgers(max_transactions=30),
    st.lists(st.integers(1, 6), min_size=1, max_size=6),
    st.sampled_from([1, 3, 50, 5000]),
)
def test_incremental_catch_up_equals_a_full_rebuild(
    txs: list[dict[str, Any]], chunks: list[int], page: int
) -> None:
    ledger = fresh()
    try:
        start = 0
        for size in chunks * (len(txs) // max(sum(chunks), 1) + 1):
            if start >= len(txs):
                break
            ledger.session.current()
            result = ledger.session.recorder.record(
                [("chunk", io.BytesIO(jsonl(txs[start : start + size])))]
            )
            assert not result.errors, [str(e) for e in result.errors]
            ledger.session.projector.catch_up(page=page)
            start += size
        incremental = dump(ledger)
        kept = tally.rows(ledger.conn)
        assert tally.difference(ledger.conn) is None
        ledger.session.projector.rebuild()
        assert dump(ledger) == incremental
        assert tally.rows(ledger.conn) == kept
    finally:
        ledger.close()


@SETTINGS
@given(ledgers(max_transactions=25), st.sampled_from([1, 2, 5000]))
def test_the_unit_register_equals_the_reference_fold_on_every_date_and_known_at_each_position(
    txs: list[dict[str, Any]], page: int
) -> None:
    from projections import register

    ledger = fresh()
    try:
        ledger.ok(*txs)
        conn = ledger.session.current()

        def listed(as_of: str | None, position: int, **only: str) -> list[dict[str, Any]]:
            found = register.units(conn, position, as_of, register.Filters(**only), page)
            return [r.record() for r in found]

        end = queries.position_at(conn, None)
        for day in [None, *interesting_dates(txs)]:
            expected = reference_model.units(txs, as_of=day)
            assert listed(day, end) == expected, day
            for entity in sorted({r["entity"] for r in expected})[:2]:
                assert listed(day, end, entity=entity) == reference_model.units(
                    txs, as_of=day, entity=entity
                ), (day, entity)
            for zone in sorted({r["zone"] for r in expected})[:2]:  # the zone in force on day
                assert listed(day, end, zone=zone) == reference_model.units(
                    txs, as_of=day, zone=zone
                ), (day, zone)
        positions = [
            p for (p,) in conn.query("SELECT position FROM hl_transactions ORDER BY position")
        ]
        for count, position in enumerate(positions, start=1):
            prefix = txs[:count]
            assert listed(None, position) == reference_model.units(prefix), position
            day = prefix[-1]["date"]
            assert listed(day, position, right="usufruct") == reference_model.units(
                prefix, as_of=day, right="usufruct"
            ), (position, day)
            if prefix[-1]["type"] == "zoning_vintage":  # the vintage known from here on
                assert listed(day, position) == reference_model.units(prefix, as_of=day), (
                    position,
                    day,
                )
    finally:
        ledger.close()
