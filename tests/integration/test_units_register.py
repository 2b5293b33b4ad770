"""The unit register (`projections/register.py`) on SQLite and PostgreSQL: its rows on the
example of the input format, its filters, the ledger known at an earlier position, its
agreement with `holdings`, and its paging.

The example (tests/fixtures/example.jsonl, summarised in tests/e2e/test_cli.py): ESH-IDF
registers U-0001..3 and sells U-0001 in 2017; AFL registers U-0101, U-0102 and gives their
bare ownership to AGIRC-ARRCO on 2017-07-01 (usufruct until 2042-06-30); LLI-IDF acquires
U-1001, U-1002 off plan (vefa); the 2018 sale of U-0002, U-0003 is reversed; the usufruct
of U-0102 is extinguished on 2018-09-30.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from ledger.demo import generate
from projections import queries, register
from projections.render.formats import Document, render, stream
from tests.support import LedgerHarness

EXAMPLE = [
    json.loads(line)
    for line in (Path(__file__).parents[1] / "fixtures" / "example.jsonl")
    .read_text("utf-8")
    .splitlines()
]

AFL_U0101 = ("AFL", "U-0101", "usufruct", "2017-07-01", "dismembered", None, "AGIRC-ARRCO", None)
AFL_U0102 = ("AFL", "U-0102", "usufruct", "2017-07-01", "dismembered", None, "AGIRC-ARRCO", None)
BARE_U0101 = ("AGIRC-ARRCO", "U-0101", "bare_ownership", "2017-07-01", "bare_ownership_received")
BARE_U0101 += (None, None, "AFL")
BARE_U0102 = ("AGIRC-ARRCO", "U-0102", "bare_ownership", "2017-07-01", "bare_ownership_received")
BARE_U0102 += (None, None, "AFL")
REUNITED = ("AGIRC-ARRCO", "U-0102", "full_ownership", "2018-09-30", "reunited", None, None, None)
U0002 = ("ESH-IDF", "U-0002", "full_ownership", "2017-01-01", "registered", None, None, None)
U0003 = ("ESH-IDF", "U-0003", "full_ownership", "2017-01-01", "registered", None, None, None)
U1001 = ("LLI-IDF", "U-1001", "full_ownership", "2017-03-15", "acquired", "vefa", None, None)
U1002 = ("LLI-IDF", "U-1002", "full_ownership", "2017-03-15", "acquired", "vefa", None, None)

END_2017 = [AFL_U0101, AFL_U0102, BARE_U0101, BARE_U0102, U0002, U0003, U1001, U1002]
NOW = [AFL_U0101, BARE_U0101, REUNITED, U0002, U0003, U1001, U1002]


def rows(
    ledger: LedgerHarness,
    as_of: str | None = None,
    known_at: int | None = None,
    page: int | None = None,
    **only: str,
) -> list[register.UnitRow]:
    conn = ledger.session.current()
    position = queries.position_at(conn, known_at)
    return list(register.units(conn, position, as_of, register.Filters(**only), page))


def short(found: list[register.UnitRow]) -> list[tuple[Any, ...]]:
    """Who holds what, since when, how, and the other side of a dismembered unit."""
    return [
        (
            r.entity,
            r.unit_id,
            r.right,
            r.entered_on,
            r.entry,
            r.acquisition_mode,
            r.bare_owner,
            r.usufructuary,
        )
        for r in found
    ]


@pytest.fixture
def example(any_ledger: LedgerHarness) -> LedgerHarness:
    any_ledger.ok(*EXAMPLE)
    return any_ledger


def position_of(ledger: LedgerHarness, transaction: str) -> int:
    return int(
        ledger.conn.scalar("SELECT position FROM hl_transactions WHERE id = ?", (transaction,))
    )


def test_the_example_register_at_the_end_of_2017_has_both_sides_of_each_dismembered_unit(
    example: LedgerHarness,
) -> None:
    found = rows(example, "2017-12-31")
    assert short(found) == END_2017
    assert {r.usufruct_end for r in found if r.right != "full_ownership"} == {"2042-06-30"}
    assert {r.usufruct_end for r in found if r.right == "full_ownership"} == {None}


def test_the_example_register_now_shows_the_usufruct_of_u0102_extinguished(
    example: LedgerHarness,
) -> None:
    found = rows(example)
    assert short(found) == NOW
    assert rows(example, "2030-01-01") == found


def test_every_attribute_the_ledger_records_is_in_a_row(example: LedgerHarness) -> None:
    by_unit = {(r.unit_id, r.right): r for r in rows(example, "2017-12-31")}
    u0002 = by_unit[("U-0002", "full_ownership")]
    assert (u0002.commune, u0002.zone, u0002.segment, u0002.financing) == (
        "93066",
        "A",
        "social",
        "PLAI",
    )
    assert (u0002.rooms, u0002.surface_m2, u0002.year_built, u0002.rpls_id) == (2, None, 1972, None)
    u1001 = by_unit[("U-1001", "full_ownership")]
    assert (u1001.financing, u1001.surface_m2, u1001.year_built) == ("PLI", "45.00", 2018)
    u0101 = by_unit[("U-0101", "usufruct")]
    assert (u0101.zone, u0101.segment, u0101.financing, u0101.rooms) == (
        "Abis",
        "other",
        "other",
        3,
    )


def test_the_register_of_an_opening_balance_date_holds_the_opening_units(
    example: LedgerHarness,
) -> None:
    found = rows(example, "2017-01-01")
    assert [(r.entity, r.unit_id, r.entry) for r in found] == [
        ("AFL", "U-0101", "registered"),
        ("AFL", "U-0102", "registered"),
        ("ESH-IDF", "U-0001", "registered"),
        ("ESH-IDF", "U-0002", "registered"),
        ("ESH-IDF", "U-0003", "registered"),
    ]
    assert found[2].rpls_id == "0930660000001" and found[2].surface_m2 == "64.50"
    assert rows(example, "2016-12-31") == []


def test_each_filter_keeps_only_its_rows(example: LedgerHarness) -> None:
    every = rows(example, "2017-12-31")
    for field, value in [
        ("entity", "AGIRC-ARRCO"),
        ("right", "usufruct"),
        ("right", "bare_ownership"),
        ("zone", "A"),
        ("segment", "intermediate"),
        ("commune", "93066"),
    ]:
        kept = rows(example, "2017-12-31", **{field: value})
        assert kept, (field, value)
        assert kept == [r for r in every if getattr(r, field) == value], (field, value)
    combined = rows(example, "2017-12-31", entity="AFL", zone="A")
    assert short(combined) == [AFL_U0102]


def test_an_unknown_entity_has_an_empty_register_as_in_holdings(example: LedgerHarness) -> None:
    assert rows(example, entity="NOBODY") == []
    assert example.holdings(entity="NOBODY") == []


def test_known_before_the_reversal_the_sale_of_u0002_and_u0003_is_effective(
    example: LedgerHarness,
) -> None:
    before_reversal = position_of(example, "REV-2018-0001") - 1
    at_sale = rows(example, "2018-06-30", known_at=before_reversal)
    assert not [r for r in at_sale if r.entity == "ESH-IDF"]
    assert [r.unit_id for r in rows(example, "2018-06-30") if r.entity == "ESH-IDF"] == [
        "U-0002",
        "U-0003",
    ]
    before_sale = rows(example, "2018-06-30", known_at=position_of(example, "SALE-2018-0007") - 1)
    assert [r.unit_id for r in before_sale if r.entity == "ESH-IDF"] == ["U-0002", "U-0003"]


def test_streamed_json_csv_and_table_are_what_the_shared_renderer_prints(
    example: LedgerHarness,
) -> None:
    for as_of in (None, "2017-12-31", "2016-12-31"):
        header = {"as_of": as_of, "position": example.position()}
        records = [r.record() for r in rows(example, as_of)]
        doc = Document(header, records, register.COLUMNS)
        for fmt in ("json", "csv", "table"):
            streamed = "".join(stream(header, iter(records), register.COLUMNS, fmt))
            assert streamed == render(doc, fmt), (as_of, fmt)
        assert list(json.loads(render(doc, "json"))) == ["as_of", "position", "rows"]


def test_a_table_longer_than_its_first_block_keeps_the_first_blocks_widths(
    example: LedgerHarness,
) -> None:
    records = [r.record() for r in rows(example, "2017-12-31")]
    lines = "".join(stream({"position": 1}, records, register.COLUMNS, "table", block=2))
    first_two = "".join(stream({"position": 1}, records[:2], register.COLUMNS, "table"))
    assert lines.startswith(first_two + "\n")
    assert len(lines.splitlines()) == 3 + len(records)


def test_pages_smaller_than_the_register_give_the_same_rows(example: LedgerHarness) -> None:
    for as_of in (None, "2017-12-31"):
        whole = rows(example, as_of)
        for page in (1, 2, 3):
            assert rows(example, as_of, page=page) == whole, (as_of, page)


class CountingConnection:
    """The connection, counting the statements the register sends and the batches of
    rows it fetches."""

    def __init__(self, conn: Any) -> None:
        self.conn, self.queries, self.batches = conn, 0, 0
        self.is_pg, self.dialect = conn.is_pg, conn.dialect

    def query(self, statement: str, params: Any = ()) -> list[tuple[Any, ...]]:
        self.queries += 1
        return list(self.conn.query(statement, params))

    def stream(self, statement: str, params: Any = (), size: int = 5000) -> Any:
        self.queries += 1
        for batch in self.conn.stream(statement, params, size):
            self.batches += 1
            yield batch


def test_the_register_yields_its_first_row_before_fetching_the_later_batches(
    example: LedgerHarness,
) -> None:
    conn = example.session.current()
    counting = CountingConnection(conn)
    found = register.units(counting, queries.position_at(conn, None), "2017-12-31", page=1)  # type: ignore[arg-type]
    first = next(found)
    assert (first.entity, first.unit_id) == ("AFL", "U-0101")
    # The holders, the zoning vintages in force, one batch of one row.
    assert (counting.queries, counting.batches) == (3, 1)
    rest = list(found)
    assert len(rest) == len(END_2017) - 1
    assert counting.batches == len(END_2017)  # one row a batch, fetched as they were used


def demo_ledger(url: str) -> LedgerHarness:
    ledger = LedgerHarness(url)
    ledger.ok(*generate(units=1500, seed=2017))
    return ledger


def test_the_demo_register_counted_by_holder_and_right_equals_holdings(
    sqlite_url: str,
) -> None:
    ledger = demo_ledger(sqlite_url)
    try:
        end = ledger.position()
        for known_at in (None, end // 3, 2 * end // 3):
            for as_of in (None, "2017-01-01", "2018-12-31", "2021-06-30"):
                counts: Counter[tuple[str, str]] = Counter(
                    (r.entity, r.right) for r in rows(ledger, as_of, known_at, page=700)
                )
                expected = {
                    (h["entity"], right): h[right]
                    for h in ledger.holdings(as_of=as_of, known_at=known_at)
                    for right in register.RIGHTS
                    if h[right]
                }
                assert dict(counts) == expected, (known_at, as_of)
                assert sum(counts.values()) > 0
    finally:
        ledger.close()
