"""Statements on small hand-built ledgers: exact rows, per the definitions of docs/statements.md."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from projections.render.formats import render
from projections.reports import dismemberment, divestments, money, movements, programme, sales
from tests.support import base_ledger

ZERO_FLOWS = dict.fromkeys(
    ("registered", "acquired", "received", "reunited", "sold", "transferred", "usufruct_ended"), 0
)
NO_SALES = dict.fromkeys(
    (
        "sitting_tenant", "tenant_family", "tenant", "caretaker", "individual",
        "social_landlord", "sem", "local_authority", "approved_body", "institutional", "other",
    ),
    0,
)  # fmt: skip


def unit(uid: str, zone: str = "A", segment: str = "social") -> dict[str, Any]:
    return {"unit_id": uid, "commune": "75056", "zone": zone, "segment": segment}


def sale(
    tid: str,
    date: str,
    seller: str,
    units: list[str],
    category: str = "individual",
    price: str = "100000.00",
    **buyer: str,
) -> dict[str, Any]:
    return {
        "id": tid,
        "type": "sale",
        "date": date,
        "entity": seller,
        "units": units,
        "buyer": {"category": category, **buyer},
        "price_eur": price,
    }


def bot(
    tid: str, date: str, entity: str, bare_owner: str, units: list[str], end: str = "2040-06-30"
) -> dict[str, Any]:
    return {
        "id": tid,
        "type": "bare_ownership_transfer",
        "date": date,
        "entity": entity,
        "bare_owner": bare_owner,
        "units": units,
        "usufruct_end": end,
        "consideration": "gratuitous",
    }


def merger(tid: str, date: str, absorbed: list[str], into: str) -> dict[str, Any]:
    return {"id": tid, "type": "merger", "date": date, "absorbed": absorbed, "into": into}


def reversal(tid: str, date: str, reverses: str) -> dict[str, Any]:
    return {"id": tid, "type": "reversal", "date": date, "reverses": reverses, "reason": "error"}


def acquisition(tid: str, date: str, entity: str, units: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": tid,
        "type": "acquisition",
        "date": date,
        "entity": entity,
        "units": units,
        "mode": "vefa",
        "price_eur": "1000000.00",
    }


def doc_json(doc: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(render(doc, "json"))
    return result


def flows(**changes: int) -> dict[str, int]:
    return {**ZERO_FLOWS, **changes}


def mv(
    entity: str, opening: int, closing: int, dismembered: int = 0, **changes: int
) -> dict[str, Any]:
    return {
        "entity": entity,
        "opening": opening,
        **flows(**changes),
        "closing": closing,
        "dismembered": dismembered,
    }


# --------------------------------------------------------------------------- movements


def test_movements_count_sales_out_transfers_between_entities_and_dismemberments(ledger):
    ledger.ok(
        *base_ledger(),
        sale("S1", "2018-03-01", "ESH-A", ["U1"], "sitting_tenant"),
        sale("S2", "2018-04-01", "ESH-A", ["U2"], "social_landlord", entity="ESH-B"),
        bot("B1", "2018-07-01", "ESH-A", "FUND", ["U3"]),
        {"id": "X1", "type": "usufruct_extinguished", "date": "2019-06-30", "units": ["U3"]},
    )
    doc = doc_json(movements.statement(ledger.conn, 2018))
    assert doc == {
        "year": 2018,
        "opening_on": "2018-01-01",
        "flows_from": "2018-01-02",
        "flows_to": "2019-01-01",
        "position": ledger.position(),
        "rows": [
            mv("ESH-A", 3, 1, dismembered=1, sold=1, transferred=1),
            mv("ESH-B", 2, 3, received=1),
        ],
        # ESH-A to ESH-B stays in the group; FUND (an HLM body here) is of the group too
        "group": {
            **mv("group", 5, 4, dismembered=1, sold=1),
            "joined": 0,
            "left": 0,
        },
    }
    assert doc_json(movements.statement(ledger.conn, 2019))["rows"] == [
        mv("ESH-A", 1, 0, usufruct_ended=1),
        mv("ESH-B", 3, 3),
        mv("FUND", 0, 1, reunited=1),
    ]


def test_opening_balances_of_1_january_open_the_year_and_an_empty_year_has_no_rows(ledger):
    ledger.ok(*base_ledger())  # registered as of 2017-01-01: 2017's stock on 1 January
    assert doc_json(movements.statement(ledger.conn, 2017))["rows"] == [
        mv("ESH-A", 3, 3),
        mv("ESH-B", 2, 2),
    ]
    assert doc_json(movements.statement(ledger.conn, 2016))["rows"] == [
        mv("ESH-A", 0, 3, registered=3),
        mv("ESH-B", 0, 2, registered=2),
    ]
    assert doc_json(movements.statement(ledger.conn, 2015))["rows"] == []


def test_a_merger_consolidating_usufruct_and_bare_ownership_counts_each_unit_once(ledger):
    ledger.ok(
        *base_ledger(),
        bot("B1", "2018-01-10", "ESH-A", "ESH-B", ["U1", "U2"]),
        merger("M1", "2018-06-01", ["ESH-A"], "ESH-B"),
    )
    assert doc_json(movements.statement(ledger.conn, 2018))["rows"] == [
        mv("ESH-A", 3, 0, dismembered=2, transferred=3),
        mv("ESH-B", 2, 5, received=3),
    ]


def test_absorbing_the_bare_owner_into_the_usufructuary_moves_no_stock(ledger):
    ledger.ok(
        *base_ledger(),
        bot("B1", "2018-01-10", "ESH-A", "ESH-B", ["U1"]),
        merger("M1", "2018-06-01", ["ESH-B"], "ESH-A"),
    )
    assert doc_json(movements.statement(ledger.conn, 2018))["rows"] == [
        mv("ESH-A", 3, 5, dismembered=1, received=2),
        mv("ESH-B", 2, 0, transferred=2),
    ]


def test_a_reversed_sale_no_longer_counts_but_known_at_shows_it_as_filed(ledger):
    ledger.ok(*base_ledger(), sale("S1", "2018-03-01", "ESH-A", ["U1"]))
    filed_at = ledger.position()
    filed = render(movements.statement(ledger.conn, 2018), "json")
    ledger.ok(reversal("R1", "2018-05-01", "S1"))
    assert doc_json(movements.statement(ledger.conn, 2018))["rows"] == [
        mv("ESH-A", 3, 3),
        mv("ESH-B", 2, 2),
    ]
    assert render(movements.statement(ledger.conn, 2018, known_at=filed_at), "json") == filed
    assert json.loads(filed)["rows"][0] == mv("ESH-A", 3, 2, sold=1)


def test_a_bare_owner_alone_has_no_row(ledger):
    ledger.ok(*base_ledger(), bot("B1", "2017-06-01", "ESH-A", "FUND", ["U1"]))
    rows = doc_json(movements.statement(ledger.conn, 2018))["rows"]
    assert [r["entity"] for r in rows] == ["ESH-A", "ESH-B"]


# --------------------------------------------------------------------------- sales


def test_sales_split_by_buyer_category_with_blocks_proceeds_and_rates(ledger):
    ledger.ok(
        *base_ledger(),
        {
            "id": "MORE",
            "type": "register_units",
            "date": "2017-02-01",
            "entity": "ESH-A",
            "units": [unit(f"W{i}") for i in range(7)],
        },
        sale("S1", "2018-02-01", "ESH-A", ["U1"], "sitting_tenant", "95000.50"),
        sale("S2", "2018-03-01", "ESH-A", ["W0", "W1", "W2"], "institutional", "300000"),
        sale("S3", "2018-04-01", "ESH-A", ["W3"], "institutional", "99999.99"),
        sale("S4", "2018-05-01", "ESH-A", ["W4", "W5"], "social_landlord", "1.01", entity="ESH-B"),
        sale("S5", "2017-05-01", "ESH-B", ["V1"], "tenant"),
    )
    rows = doc_json(sales.statement(ledger.conn, 2018))["rows"]
    assert rows == [
        {
            "entity": "ESH-A",
            "kind": "hlm",
            "opening_stock": 10,
            "units_sold": 7,
            "by_category": {
                **NO_SALES,
                "sitting_tenant": 1,
                "institutional": 4,
                "social_landlord": 2,
            },
            "sold_to_households": 1,
            "sold_in_blocks": 5,  # S2 and S4: more than one unit to a legal person
            "sold_within_group": 2,  # S4, to ESH-B
            "sitting_tenant_share": "1.0000",  # over the sales to households
            "block_sold_to_institutionals": 3,
            "proceeds_eur": "495001.50",
            "net_proceeds_eur": None,
            "units_with_net_proceeds": 0,
            "sales_rate": "0.7000",
            "household_sales_rate": "0.1000",
            "target_rate": "0.01",
            "target_met": True,
            "household_target_met": True,
        },
        {
            "entity": "ESH-B",
            "kind": "hlm",
            "opening_stock": 1,
            "units_sold": 0,
            "by_category": NO_SALES,
            "sold_to_households": 0,
            "sold_in_blocks": 0,
            "sold_within_group": 0,
            "sitting_tenant_share": None,
            "block_sold_to_institutionals": 0,
            "proceeds_eur": "0.00",
            "net_proceeds_eur": None,
            "units_with_net_proceeds": 0,
            "sales_rate": "0.0000",
            "household_sales_rate": "0.0000",
            "target_rate": "0.01",
            "target_met": False,
            "household_target_met": False,
        },
    ]


def test_a_seller_with_no_opening_stock_is_listed_with_null_rates(ledger):
    ledger.ok(
        *base_ledger(),
        acquisition("A1", "2018-01-15", "FUND", [unit("N1")]),
        sale("S1", "2018-06-01", "FUND", ["N1"], "individual", "200000.00"),
    )
    rows = {r["entity"]: r for r in doc_json(sales.statement(ledger.conn, 2018))["rows"]}
    assert rows["FUND"]["opening_stock"] == 0
    assert rows["FUND"]["units_sold"] == 1
    assert rows["FUND"]["sales_rate"] is None and rows["FUND"]["target_met"] is None
    assert rows["FUND"]["sitting_tenant_share"] == "0.0000"


def test_target_met_is_exact_not_judged_on_the_rounded_rate(ledger):
    # 2 / 201 = 0.00995... prints as 0.0100 but is below 1%; 2 / 200 is exactly 1%.
    ledger.ok(
        *base_ledger(),
        {
            "id": "BIG",
            "type": "register_units",
            "date": "2017-02-01",
            "entity": "ESH-A",
            "units": [unit(f"W{i}") for i in range(198)],
        },
        {
            "id": "BIG-B",
            "type": "register_units",
            "date": "2017-02-01",
            "entity": "ESH-B",
            "units": [unit(f"X{i}") for i in range(198)],
        },
        sale("S1", "2018-02-01", "ESH-A", ["W0", "W1"]),
        sale("S2", "2018-02-01", "ESH-B", ["X0", "X1"]),
    )
    rows = doc_json(sales.statement(ledger.conn, 2018))["rows"]
    assert [(r["opening_stock"], r["sales_rate"], r["target_met"]) for r in rows] == [
        (201, "0.0100", False),
        (200, "0.0100", True),
    ]
    custom = doc_json(sales.statement(ledger.conn, 2018, target_rate="0.00995"))["rows"]
    assert [r["target_met"] for r in custom] == [True, True]
    assert custom[0]["target_rate"] == "0.00995"


def test_a_reversed_sale_is_not_in_the_sales_statement(ledger):
    ledger.ok(
        *base_ledger(),
        sale("S1", "2018-03-01", "ESH-A", ["U1"], price="5.00"),
        reversal("R1", "2018-03-02", "S1"),
    )
    row = doc_json(sales.statement(ledger.conn, 2018))["rows"][0]
    assert (row["units_sold"], row["proceeds_eur"]) == (0, "0.00")


# --------------------------------------------------------------------------- programme


def split(abis: int = 0, a: int = 0, b1: int = 0, other: int = 0) -> dict[str, int]:
    """A programme row's acquisitions by zone."""
    return {"zone_abis": abis, "zone_a": a, "zone_b1": b1, "zone_other": other}


def test_programme_counts_the_segment_acquired_each_year_against_a_linear_target(ledger):
    ledger.ok(
        *base_ledger(),
        {
            "id": "OPEN-LLI",
            "type": "register_units",
            "date": "2017-01-01",
            "entity": "ESH-B",
            "units": [unit("L0", segment="intermediate")],
        },
        acquisition(
            "A1",
            "2017-03-01",
            "ESH-A",
            [
                unit("N1", "A", "intermediate"),
                unit("N2", "C", "intermediate"),
                unit("N3", "Abis", "social"),
            ],
        ),
        acquisition("A2", "2019-03-01", "ESH-B", [unit("N4", "B2", "intermediate")]),
        acquisition("A3", "2019-04-01", "ESH-B", [unit("N5", "B1", "intermediate")]),
        reversal("R3", "2019-04-02", "A3"),
        acquisition("A4", "2019-04-03", "ESH-B", [unit("N5", "B2", "intermediate")]),
        acquisition("A5", "2020-01-01", "ESH-A", [unit("N6", "B1", "intermediate")]),
    )
    doc = doc_json(programme.statement(ledger.conn, 2017, 3, 10))
    assert doc == {
        "start": 2017,
        "years": 3,
        "target": 10,
        "segment": "intermediate",
        "flows_from": "2017-01-02",
        "flows_to": "2020-01-01",
        "position": ledger.position(),
        "rows": [
            {
                "year": 2017,
                "acquired": 2,
                "in_tense_zones": 1,
                **split(a=1, other=1),
                "cumulative": 2,
                "target_to_date": 3,
                "on_track": False,
            },
            {
                "year": 2018,
                "acquired": 0,
                "in_tense_zones": 0,
                **split(),
                "cumulative": 2,
                "target_to_date": 6,
                "on_track": False,
            },
            {  # A5, dated 1 January 2020, is of 2019's flows
                "year": 2019,
                "acquired": 3,
                "in_tense_zones": 1,
                **split(b1=1, other=2),
                "cumulative": 5,
                "target_to_date": 10,
                "on_track": False,
            },
        ],
        "by_entity": {"ESH-A": 3, "ESH-B": 2},
        "zoning": [],
    }
    social = doc_json(programme.statement(ledger.conn, 2017, 1, 1, segment="social"))
    assert social["rows"] == [
        {
            "year": 2017,
            "acquired": 1,
            "in_tense_zones": 1,
            **split(abis=1),
            "cumulative": 1,
            "target_to_date": 1,
            "on_track": True,
        }
    ]


def test_programme_known_at_sees_the_wrong_zone_before_its_correction(ledger):
    ledger.ok(
        *base_ledger(), acquisition("A3", "2019-04-01", "ESH-B", [unit("N5", "B1", "intermediate")])
    )
    before = ledger.position()
    ledger.ok(
        reversal("R3", "2019-04-02", "A3"),
        acquisition("A4", "2019-04-03", "ESH-B", [unit("N5", "B2", "intermediate")]),
    )
    old = doc_json(programme.statement(ledger.conn, 2019, 1, 1, known_at=before))["rows"][0]
    new = doc_json(programme.statement(ledger.conn, 2019, 1, 1))["rows"][0]
    assert (old["acquired"], old["in_tense_zones"]) == (1, 1)
    assert (new["acquired"], new["in_tense_zones"]) == (1, 0)


# --------------------------------------------------------------------------- dismemberment


def test_dismemberment_register_with_maturities_and_overdue_usufructs(ledger):
    ledger.ok(
        *base_ledger(),
        bot("B1", "2017-07-01", "ESH-A", "FUND", ["U1", "U2"], "2019-06-30"),
        bot("B2", "2017-07-01", "ESH-A", "FUND", ["U3"], "2030-12-31"),
        bot("B3", "2017-08-01", "ESH-B", "ESH-A", ["V1"], "2019-01-01"),
        {"id": "X1", "type": "usufruct_extinguished", "date": "2019-06-30", "units": ["U2"]},
    )
    doc = doc_json(dismemberment.statement(ledger.conn, "2020-01-01", "2020-01-01"))
    assert doc == {
        "as_of": "2020-01-01",
        "overdue_before": "2020-01-01",
        "position": ledger.position(),
        "rows": [
            # U1 and V1 ended at their term (the bare owner holds them in full
            # ownership), no extinction recorded: overdue, out of `units`; U2 ended early.
            {
                "usufructuary": "ESH-A",
                "bare_owner": "FUND",
                "units": 1,
                "maturities": {"2030": 1},
                "overdue": 1,
            },
            {
                "usufructuary": "ESH-B",
                "bare_owner": "ESH-A",
                "units": 0,
                "maturities": {},
                "overdue": 1,
            },
        ],
    }
    early = doc_json(dismemberment.statement(ledger.conn, "2018-12-31", "2018-12-31"))
    assert [(r["units"], r["overdue"]) for r in early["rows"]] == [(3, 0), (1, 0)]
    # as of the latest transaction's date (2019-06-30), judged against a given day
    now = doc_json(dismemberment.statement(ledger.conn, None, "2019-06-30"))
    assert now["as_of"] is None
    assert [(r["units"], r["overdue"]) for r in now["rows"]] == [(2, 0), (0, 1)]
    assert doc_json(dismemberment.statement(ledger.conn, "2017-06-30", "2017-06-30"))["rows"] == []


def test_a_merger_moves_the_usufruct_with_its_end_date(ledger):
    ledger.ok(
        *base_ledger(),
        bot("B1", "2017-07-01", "ESH-A", "FUND", ["U1"], "2031-01-01"),
        merger("M1", "2018-01-01", ["ESH-A"], "ESH-B"),
    )
    assert doc_json(dismemberment.statement(ledger.conn, None, "2020-01-01"))["rows"] == [
        {
            "usufructuary": "ESH-B",
            "bare_owner": "FUND",
            "units": 1,
            "maturities": {"2031": 1},
            "overdue": 0,
        }
    ]


# --------------------------------------------------------------------------- divestments


def business(bid: str, entity: str, sector: str) -> dict[str, Any]:
    return {
        "id": f"BIZ-{bid}",
        "type": "register_business",
        "date": "2017-01-01",
        "entity": entity,
        "business": bid,
        "name": f"Business {bid}",
        "sector": sector,
        "headcount": 50,
    }


def divestment(
    tid: str, date: str, entity: str, bid: str, price: str = "1000000"
) -> dict[str, Any]:
    return {
        "id": tid,
        "type": "divestment",
        "date": date,
        "entity": entity,
        "business": bid,
        "buyer": "Buyer <&> SA",
        "price_eur": price,
        "employees_transferred": 40,
        "no_redundancy": False,
    }


def test_divestments_in_journal_order_with_their_sector_and_year_filter(ledger):
    ledger.ok(
        *base_ledger(),
        business("ADB", "ESH-A", "property_management"),
        business("PP", "ESH-B", "private_development"),
        business("OT", "ESH-B", "other"),
        divestment("D2", "2018-06-01", "ESH-B", "PP", "12.5"),
        divestment("D1", "2017-12-01", "ESH-A", "ADB"),
        divestment("D3", "2018-07-01", "ESH-B", "OT"),
        reversal("R3", "2018-07-02", "D3"),
    )
    doc = doc_json(divestments.statement(ledger.conn))
    assert doc["year"] is None
    assert doc["rows"] == [
        {
            "id": "D2",
            "date": "2018-06-01",
            "entity": "ESH-B",
            "business": "PP",
            "sector": "private_development",
            "buyer": "Buyer <&> SA",
            "price_eur": "12.50",
            "employees_transferred": 40,
            "no_redundancy": False,
        },
        {
            "id": "D1",
            "date": "2017-12-01",
            "entity": "ESH-A",
            "business": "ADB",
            "sector": "property_management",
            "buyer": "Buyer <&> SA",
            "price_eur": "1000000.00",
            "employees_transferred": 40,
            "no_redundancy": False,
        },
    ]
    assert [r["id"] for r in doc_json(divestments.statement(ledger.conn, 2017))["rows"]] == ["D1"]
    assert doc_json(divestments.statement(ledger.conn, 2019))["rows"] == []


# --------------------------------------------------------------------------- HTML, CLI


def test_the_html_page_is_self_contained_escaped_and_has_a_chart_and_totals(ledger):
    ledger.ok(
        *base_ledger(),
        business("ADB", "ESH-A", "property_management"),
        divestment("D1", "2017-12-01", "ESH-A", "ADB"),
        sale("S1", "2018-02-01", "ESH-A", ["U1"], "sitting_tenant"),
    )
    page = render(sales.statement(ledger.conn, 2018), "html")
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>")
    assert "<svg" in page and "<tfoot>" in page and "<script" not in page.lower()
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    page = render(divestments.statement(ledger.conn), "html")
    assert "Buyer &lt;&amp;&gt; SA" in page and "Buyer <&>" not in page


def run(ledger, *args: str) -> Any:
    return CliRunner().invoke(main, ["--db", ledger.url, "report", *args])


def test_every_report_command_prints_json_csv_table_and_html(ledger):
    ledger.ok(*base_ledger(), sale("S1", "2018-02-01", "ESH-A", ["U1"], "sitting_tenant"))
    commands = [
        ["movements", "--year", "2018"],
        ["sales", "--year", "2018"],
        ["programme", "--start", "2017", "--years", "5", "--target", "100"],
        ["dismemberment", "--as-of", "2018-12-31"],
        ["divestments"],
    ]
    for command in commands:
        for fmt in ("json", "csv", "table", "html"):
            result = run(ledger, *command, "--format", fmt)
            assert result.exit_code == 0, (command, fmt, result.output)
        data = json.loads(run(ledger, *command, "--format", "json").output)
        assert data["position"] == ledger.position()
    header = run(ledger, "movements", "--year", "2018", "--format", "csv").output.splitlines()[0]
    assert header == (
        "entity,opening,registered,acquired,received,reunited,sold,transferred,"
        "usufruct_ended,closing,dismembered"
    )


@pytest.mark.parametrize(
    "args",
    [
        ["sales", "--year", "2018", "--target-rate", "1%"],
        ["sales", "--year", "2018", "--target-rate", "2"],
        ["sales"],
        ["programme", "--start", "2017", "--years", "0", "--target", "5"],
        ["dismemberment", "--as-of", "2018-02-30"],
        ["movements", "--year", "2018", "--format", "xml"],
    ],
)
def test_bad_report_arguments_are_usage_errors(ledger, args):
    assert run(ledger, *args).exit_code == 2


def test_dismemberment_without_as_of_judges_overdue_against_today(ledger):
    import datetime

    ledger.ok(*base_ledger(), bot("B1", "2017-07-01", "ESH-A", "FUND", ["U1"], "2018-01-01"))
    data = json.loads(run(ledger, "dismemberment", "--format", "json").output)
    assert data["as_of"] is None
    assert data["overdue_before"] == datetime.date.today().isoformat()
    assert data["rows"][0]["overdue"] == 1


def test_an_empty_statement_in_csv_still_has_its_header_line(ledger):
    ledger.ok(*base_ledger())
    for command in (
        ["movements", "--year", "2000"],
        ["sales", "--year", "2000"],
        ["dismemberment"],
        ["divestments"],
    ):
        lines = run(ledger, *command, "--format", "csv").output.splitlines()
        assert len(lines) == 1 and lines[0].count(",") >= 3, command


def test_charts_are_well_formed_svg_with_a_bar_per_item_and_a_target(ledger):
    from xml.etree import ElementTree

    from projections.render import charts

    ledger.ok(
        *base_ledger(),
        sale("S1", "2018-02-01", "ESH-A", ["U1"], "sitting_tenant"),
        bot("B1", "2018-03-01", "ESH-B", "FUND", ["V1"], "2019-01-01"),
    )
    svg = "{http://www.w3.org/2000/svg}"
    figures = {
        "sales": sales.statement(ledger.conn, 2018).figure,
        "programme": programme.statement(ledger.conn, 2017, 3, 100).figure,
        "dismemberment": dismemberment.statement(ledger.conn, None, "2020-01-01").figure,
    }
    bars = {
        name: ElementTree.fromstring(figure).findall(f"{svg}rect")
        for name, figure in figures.items()
    }
    # legend squares + bars: 2 sellers and the group, 3 years, 1 maturity year
    counts = [len([r for r in rects if r.get("width") != "12"]) for rects in bars.values()]
    assert counts == [3, 3, 1]
    assert 'stroke-dasharray="6 4"' in figures["sales"]
    assert "<polyline" in figures["programme"]
    assert "overdue" in figures["dismemberment"]
    empty = charts.bar_chart("nothing", [], {})
    assert ElementTree.fromstring(empty).find(f"{svg}text").text == "nothing to chart"
    assert charts.percent(money.parse_rate("0.015")) == "1.5%"
    assert [charts.nice_step(v) for v in (1.2, 9, 115, 0.05)] == [0.25, 2.0, 25.0, 0.01]


def test_a_tableau_de_passage_that_does_not_balance_is_refused_with_exit_3(ledger):
    ledger.ok(*base_ledger(), sale("S1", "2018-03-01", "ESH-A", ["U1"]))
    # simulate corrupted projections: the sale's movement is lost
    ledger.conn.execute("DELETE FROM hl_movements WHERE txn = 'S1'")
    result = run(ledger, "movements", "--year", "2018")
    assert result.exit_code == 3
    assert "ESH-A does not balance" in result.output
