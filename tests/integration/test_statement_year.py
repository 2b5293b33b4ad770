"""The statements' year (docs/statements.md, "The year: stock on 1 January") and their group
lines, on small hand-built ledgers: exact figures.

The stock on 1 January Y is the holdings as of Y-01-01, that day's transactions included;
the year's flows run from 2 January Y to 1 January Y+1 included.
"""

from __future__ import annotations

import json
from typing import Any

from projections.render.formats import render
from projections.reports import divestments, movements, programme, sales
from tests.integration.test_reports import acquisition, merger, mv, sale, unit
from tests.support import base_ledger


def doc_json(doc: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(render(doc, "json"))
    return result


def entity(eid: str, kind: str, date: str = "2017-01-01", **more: Any) -> dict[str, Any]:
    return {
        "id": f"ENT-{eid}",
        "type": "register_entity",
        "date": date,
        "entity": eid,
        "name": f"Entity {eid}",
        "kind": kind,
        **more,
    }


def test_opening_balances_registered_on_1_january_are_that_years_opening_stock(ledger):
    ledger.ok(*base_ledger(), sale("S1", "2017-05-02", "ESH-A", ["U1"], "sitting_tenant"))
    doc = doc_json(movements.statement(ledger.conn, 2017))
    assert doc["opening_on"] == "2017-01-01"
    assert (doc["flows_from"], doc["flows_to"]) == ("2017-01-02", "2018-01-01")
    assert doc["rows"] == [mv("ESH-A", 3, 2, sold=1), mv("ESH-B", 2, 2)]
    rows = {r["entity"]: r for r in sales.statement(ledger.conn, 2017).rows}
    assert rows["ESH-A"]["opening_stock"] == 3
    assert rows["ESH-A"]["sales_rate"] == "0.3333"
    assert rows["ESH-B"]["sales_rate"] == "0.0000"  # a rate for every HLM seller
    # The registrations dated 1 January 2017 close 2016: its closing is 2017's opening.
    assert movements.statement(ledger.conn, 2016).rows == [
        mv("ESH-A", 0, 3, registered=3),
        mv("ESH-B", 0, 2, registered=2),
    ]


def test_an_entity_absorbed_on_1_january_files_no_stock_for_that_year(ledger):
    ledger.ok(*base_ledger(), merger("M1", "2018-01-01", ["ESH-B"], "ESH-A"))
    rows_2017 = movements.statement(ledger.conn, 2017).rows
    assert rows_2017 == [mv("ESH-A", 3, 5, received=2), mv("ESH-B", 2, 0, transferred=2)]
    rows_2018 = movements.statement(ledger.conn, 2018).rows
    assert rows_2018 == [mv("ESH-A", 5, 5)]  # no ESH-B row: its stock on 1 January 2018 is 0
    assert "ESH-B" not in {r["entity"] for r in sales.statement(ledger.conn, 2018).rows}


def test_a_transaction_dated_1_january_counts_in_the_year_before(ledger):
    ledger.ok(
        *base_ledger(),
        acquisition("A1", "2019-01-01", "ESH-A", [{**unit("N1"), "segment": "intermediate"}]),
        sale("S1", "2019-01-01", "ESH-B", ["V1"], "sitting_tenant"),
    )
    assert movements.statement(ledger.conn, 2018).rows == [
        mv("ESH-A", 3, 4, acquired=1),
        mv("ESH-B", 2, 1, sold=1),
    ]
    assert movements.statement(ledger.conn, 2019).rows == [mv("ESH-A", 4, 4), mv("ESH-B", 1, 1)]
    assert {r["entity"]: r["units_sold"] for r in sales.statement(ledger.conn, 2018).rows} == {
        "ESH-A": 0,
        "ESH-B": 1,
    }
    rows = programme.statement(ledger.conn, 2018, 2, 2).rows
    assert [(r["year"], r["acquired"]) for r in rows] == [(2018, 1), (2019, 0)]


def test_sales_to_households_are_apart_from_block_sales(ledger):
    units = [unit(f"W{i}") for i in range(10)]
    ledger.ok(
        *base_ledger(),
        {"id": "OPEN-W", "type": "register_units", "date": "2017-01-01", "entity": "ESH-A",
         "units": units},
        sale("S1", "2018-02-01", "ESH-A", ["U1"], "sitting_tenant"),
        sale("S2", "2018-03-01", "ESH-A", ["U2"], "tenant"),
        sale("S3", "2018-04-01", "ESH-A", ["W0", "W1", "W2", "W3"], "institutional"),
    )  # fmt: skip
    row = next(r for r in sales.statement(ledger.conn, 2018).rows if r["entity"] == "ESH-A")
    assert row["opening_stock"] == 13
    assert (row["units_sold"], row["sold_to_households"], row["sold_in_blocks"]) == (6, 2, 4)
    assert row["sitting_tenant_share"] == "0.5000"  # 1 of the 2 sales to households
    assert (row["sales_rate"], row["household_sales_rate"]) == ("0.4615", "0.1538")
    assert row["block_sold_to_institutionals"] == 4


def test_only_hlm_bodies_by_default_and_every_seller_on_request(ledger):
    ledger.ok(
        *base_ledger(),
        entity("LLI", "lli"),
        acquisition("A1", "2017-03-01", "LLI", [{**unit("L1"), "segment": "intermediate"}]),
        sale("S1", "2018-02-01", "LLI", ["L1"], "sitting_tenant"),
    )
    hlm = sales.statement(ledger.conn, 2018)
    assert [r["entity"] for r in hlm.rows] == ["ESH-A", "ESH-B"]
    assert doc_json(hlm)["sellers"] == "hlm"
    every = sales.statement(ledger.conn, 2018, sellers="all")
    assert [(r["entity"], r["kind"], r["units_sold"]) for r in every.rows] == [
        ("ESH-A", "hlm", 0),
        ("ESH-B", "hlm", 0),
        ("LLI", "lli", 1),
    ]


def test_the_group_line_leaves_out_sales_between_group_entities(ledger):
    ledger.ok(
        *base_ledger(),
        sale("S1", "2018-02-01", "ESH-A", ["U1", "U2"], "social_landlord", entity="ESH-B"),
        sale("S2", "2018-03-01", "ESH-A", ["U3"], "individual"),
    )
    doc = doc_json(sales.statement(ledger.conn, 2018))
    esh_a = next(r for r in doc["rows"] if r["entity"] == "ESH-A")
    assert (esh_a["units_sold"], esh_a["sold_within_group"]) == (3, 2)
    group = doc["group"]
    assert group["entity"] == "group"
    assert (group["opening_stock"], group["units_sold"], group["sold_within_group"]) == (5, 1, 2)
    assert (group["sales_rate"], group["target_met"]) == ("0.2000", True)
    line = doc_json(movements.statement(ledger.conn, 2018))["group"]
    assert line == {
        "entity": "group", "opening": 5, "registered": 0, "acquired": 0, "received": 0,
        "reunited": 0, "joined": 0, "sold": 1, "transferred": 0, "usufruct_ended": 0,
        "left": 0, "closing": 4, "dismembered": 0,
    }  # fmt: skip


def test_the_group_line_counts_what_leaves_for_an_entity_outside_the_group(ledger):
    ledger.ok(
        *base_ledger(),
        entity("PENSION", "pension_fund"),
        {"id": "B1", "type": "bare_ownership_transfer", "date": "2018-02-01", "entity": "ESH-A",
         "bare_owner": "PENSION", "units": ["U1"], "usufruct_end": "2030-01-01",
         "consideration": "gratuitous"},
        {"id": "X1", "type": "usufruct_extinguished", "date": "2018-06-01", "units": ["U1"]},
    )  # fmt: skip
    line = doc_json(movements.statement(ledger.conn, 2018))["group"]
    assert (line["opening"], line["usufruct_ended"], line["dismembered"], line["closing"]) == (
        5, 1, 1, 4,
    )  # fmt: skip
    assert line["reunited"] == 0  # PENSION, a pension fund, is not of the group


def test_every_statement_of_a_year_states_its_convention(ledger):
    ledger.ok(*base_ledger())
    for doc in (
        movements.statement(ledger.conn, 2018),
        sales.statement(ledger.conn, 2018),
        divestments.statement(ledger.conn, 2018),
    ):
        header = doc_json(doc)
        assert (header["flows_from"], header["flows_to"]) == ("2018-01-02", "2019-01-01")
    table = render(movements.statement(ledger.conn, 2018), "table")
    assert "opening_on: 2018-01-01" in table.splitlines()[0]


def test_holdings_of_the_group_count_its_members_of_the_day_only(ledger):
    from click.testing import CliRunner

    from cli import main

    ledger.ok(
        *base_ledger(),
        entity("PENSION", "pension_fund"),
        {"id": "B1", "type": "bare_ownership_transfer", "date": "2018-02-01", "entity": "ESH-A",
         "bare_owner": "PENSION", "units": ["U1"], "usufruct_end": "2030-01-01",
         "consideration": "gratuitous"},
        {"id": "IN-1", "type": "group_entry", "date": "2019-01-01", "entity": "PENSION"},
    )  # fmt: skip

    def group(*args: str) -> list[dict[str, Any]]:
        result = CliRunner().invoke(
            main, ["--db", ledger.url, "holdings", "--group", *args, "--format", "json"]
        )
        assert result.exit_code == 0, result.output
        rows: list[dict[str, Any]] = json.loads(result.output)["rows"]
        return rows

    row = {"entity": "group", "full_ownership": 4, "usufruct": 1}
    assert group("--as-of", "2018-12-31") == [{**row, "bare_ownership": 0}]
    assert group("--as-of", "2019-01-01") == [{**row, "bare_ownership": 1}]  # PENSION joined
    assert [r["tense"] for r in group("--by", "tense")] == [False, True]
    refused = CliRunner().invoke(main, ["--db", ledger.url, "holdings", "--group", "--entity", "X"])
    assert refused.exit_code == 2 and "--group and --entity" in refused.output
