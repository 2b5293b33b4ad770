"""A ledger written by an older version still reads, replays and proves itself.

`tests/fixtures/ledger-0.1.sqlite` was written by release 0.1.0 before the package
layout changed (every event class of the domain is in it, under its stored topic
`ledger.domain:<class>`); `ledger-0.1.expected.json` holds what that version answered on
it. The current code must give the same answers, byte for byte, on a copy: the stored
topics resolve, the hash chain verifies with the same digest, a replay gives the same
state digest, and the projections agree with it.

`tests/fixtures/ledger-0.2.sqlite` was written before version 2 of `Unit.Sold` (issue 12,
part 4): its sales are of version 1, upcast on read, and every answer of that version
(`ledger-0.2.expected.json`) must be the same, `report sales` but for its new keys.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eventsourcing.utils import resolve_topic

import ledger.domain
from cli import main
from ledger.storage.application import HousingLedger, persistence_env

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXPECTED = json.loads((FIXTURES / "ledger-0.1.expected.json").read_text("utf-8"))


@pytest.fixture()
def old_ledger(tmp_path: Path) -> str:
    copy = tmp_path / "ledger-0.1.sqlite"
    shutil.copyfile(FIXTURES / "ledger-0.1.sqlite", copy)
    return f"sqlite:///{copy}"


def answer(url: str, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--db", url, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def stored_events(app: HousingLedger) -> list[Any]:
    events = app.recorder.select_notifications(start=1, limit=10_000)  # type: ignore[attr-defined]
    assert events
    return list(events)


def test_every_stored_topic_resolves_to_a_class_of_the_domain(old_ledger: str) -> None:
    app = HousingLedger(env=persistence_env(old_ledger))
    topics = {event.topic for event in stored_events(app)}
    assert len(topics) == 20
    for topic in topics:
        cls = resolve_topic(topic)
        assert cls.__module__.startswith("ledger.domain."), topic
        assert cls in vars(ledger.domain)[cls.__qualname__.split(".")[0]].__dict__.values(), topic


def test_the_library_rebuilds_every_aggregate_of_the_old_ledger(old_ledger: str) -> None:
    app = HousingLedger(env=persistence_env(old_ledger))
    ids = {event.originator_id for event in stored_events(app)}
    rebuilt = [app.repository.get(i) for i in ids]
    kinds = {type(a).__name__ for a in rebuilt}
    assert kinds == {"Unit", "Entity", "Business", "RecordedTransaction"}


def test_the_old_ledger_verifies_with_the_digest_it_had(old_ledger: str) -> None:
    assert answer(old_ledger, "audit", "digest") == EXPECTED["audit_digest"]
    result = CliRunner().invoke(main, ["--db", old_ledger, "audit", "verify"])
    assert result.exit_code == 0, result.output


def test_a_replay_of_the_old_ledger_gives_the_state_it_had_and_matches_its_projections(
    old_ledger: str,
) -> None:
    replayed = answer(old_ledger, "replay", "--check", "--format", "json")
    assert replayed["check"] == "ok"
    assert {"position": replayed["position"], "digest": replayed["digest"]} == EXPECTED[
        "state_digest"
    ]
    rebuilt = answer(old_ledger, "replay", "--format", "json")
    assert rebuilt["digest"] == EXPECTED["state_digest"]["digest"]


def without_zoning(document: Any) -> Any:
    """An answer less what issue 14 added, checked: a ledger with no zoning vintage says
    its zones are the declared ones (`zones_from`, `zoning` of holdings by zone, and each
    unit's `zone_source` in the register)."""
    if not isinstance(document, dict):
        return document
    document = dict(document)
    if "zones_from" in document:
        assert document.pop("zones_from") == "declared"
        assert document.pop("zoning") is None
    rows = document.get("rows")
    if isinstance(rows, list) and rows and isinstance(rows[0], dict) and "zone_source" in rows[0]:
        assert {r["zone_source"] for r in rows} == {"declared"}
        document["rows"] = [{k: v for k, v in r.items() if k != "zone_source"} for r in rows]
    return document


@pytest.mark.parametrize(
    ("key", "args"),
    [
        ("holdings", ["holdings", "--format", "json"]),
        (
            "holdings_2018_by_zone",
            ["holdings", "--as-of", "2018-12-31", "--by", "zone", "--format", "json"],
        ),
        ("journal", ["journal", "--format", "json"]),
        ("history_U-0002", ["history", "U-0002", "--format", "json"]),
        ("history_U-X1", ["history", "U-X1", "--format", "json"]),
        ("history_U-W1", ["history", "U-W1", "--format", "json"]),
    ],
)
def test_the_old_ledger_answers_as_it_did(old_ledger: str, key: str, args: list[str]) -> None:
    assert without_zoning(answer(old_ledger, *args)) == EXPECTED[key]


def test_new_transactions_append_to_the_old_ledger_and_it_still_proves_itself(
    old_ledger: str, tmp_path: Path
) -> None:
    more = tmp_path / "more.jsonl"
    more.write_text(
        '{"id": "SALE-2020-X1", "type": "sale", "date": "2020-03-02", "entity": "LLI-X", '
        '"units": ["U-X1"], "buyer": {"category": "sitting_tenant"}, "price_eur": "250000.00"}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["--db", old_ledger, "import", str(more)])
    assert result.exit_code == 0, result.output
    digest = answer(old_ledger, "audit", "digest")
    assert digest["position"] > EXPECTED["audit_digest"]["position"]
    assert answer(old_ledger, "replay", "--check", "--format", "json")["check"] == "ok"
    verify = CliRunner().invoke(main, ["--db", old_ledger, "audit", "verify"])
    assert verify.exit_code == 0, verify.output


# --- ledger-0.2: sales and acquisitions recorded before `Unit.Sold` version 2 -----------

EXPECTED_02 = json.loads((FIXTURES / "ledger-0.2.expected.json").read_text("utf-8"))
#: The keys `report sales` gained with `Unit.Sold` version 2 (issue 12): new buyer
#: categories under `by_category`, and the net proceeds; on a ledger written before, zero
#: or null, and every other key exactly as that version answered.
NEW_CATEGORIES = ("tenant_family", "caretaker", "sem", "local_authority", "approved_body")
NEW_SALES_KEYS = {"net_proceeds_eur": None, "units_with_net_proceeds": 0}
#: The keys `report sales` gained with the group perimeter and sales to households (issue
#: 13): their values depend on the ledger (they are checked by the statement's own tests).
PERIMETER_SALES_KEYS = (
    "kind",
    "sold_to_households",
    "sold_in_blocks",
    "sold_within_group",
    "household_sales_rate",
    "household_target_met",
)
#: The figures of ledger-0.2 that the year convention of issue 13 changed, each because it
#: was wrong: ESH-IDF registered 11 units by an RPLS import as of 2019-01-01. Read as
#: "stock on 31 December 2018" they were a 2019 flow, so its opening stock of 2019 was 2
#: and its sales rate 12 / 2 = 6.0000; as the RPLS reads it (stock on 1 January, that
#: day's transactions included) they are its stock on 1 January 2019: 13, rate 0.9231.
#: And a sitting-tenant share is now taken over the seller's sales to households, not over
#: every sale (blocks included): ESH-IDF's 2019 is 1 of 3 (was 1 of 12).
CORRECTED_02 = {
    ("movements_2019", "ESH-IDF"): {"opening": 13, "registered": 0},
    ("sales_2019", "ESH-IDF"): {
        "opening_stock": 13,
        "sales_rate": "0.9231",
        "sitting_tenant_share": "0.3333",
    },
    # LLI-IDF sold 1 unit to its sitting tenant and a block of 2 to an investor in 2020:
    # its sitting tenants' share of its sales to households is 1 of 1, no longer 1 of 3.
    ("sales_2020", "LLI-IDF"): {"sitting_tenant_share": "1.0000"},
}
#: The header keys the statements of a year gained (issue 13).
YEAR_KEYS = ("opening_on", "flows_from", "flows_to")


def corrected(key: str, document: dict[str, Any]) -> dict[str, Any]:
    """The answer ledger-0.2's version gave, with the corrections of `CORRECTED_02`."""
    rows = [{**r, **CORRECTED_02.get((key, r["entity"]), {})} for r in document["rows"]]
    return {**document, "rows": rows}


@pytest.fixture()
def ledger_02(tmp_path: Path) -> str:
    copy = tmp_path / "ledger-0.2.sqlite"
    shutil.copyfile(FIXTURES / "ledger-0.2.sqlite", copy)
    return f"sqlite:///{copy}"


def output(url: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_ledger_02_holds_sales_of_version_1_and_entries_of_version_2(ledger_02: str) -> None:
    """What the fixture is for: the states that release wrote, read as they were stored
    (from the copy, before any command of this version opened it)."""
    import sqlite3

    with sqlite3.connect(ledger_02.removeprefix("sqlite:///")) as db:
        rows = db.execute("SELECT topic, state FROM housingledger_events").fetchall()
        version = db.execute("SELECT value FROM hl_meta WHERE key = 'schema_version'").fetchone()
    sold = [json.loads(state) for topic, state in rows if topic == "ledger.domain:Unit.Sold"]
    entered = [json.loads(state) for topic, state in rows if topic == "ledger.domain:Unit.Entered"]
    assert version == ("5",)
    assert len(sold) == 24 and all("class_version" not in s and "price_eur" not in s for s in sold)
    assert {s["category"] for s in sold} == {
        "sitting_tenant", "tenant", "individual", "social_landlord", "institutional", "other"
    }  # fmt: skip
    assert all(s["class_version"] == 2 for s in entered)
    assert any(s["bare_owner"] and s["rpls"] for s in entered)  # the RPLS usufruct line


def test_the_library_upcasts_the_sales_of_ledger_02(ledger_02: str) -> None:
    app = HousingLedger(env=persistence_env(ledger_02))
    sold = [e for e in stored_events(app) if e.topic == "ledger.domain:Unit.Sold"]
    events: list[Any] = [app.mapper.to_domain_event(e) for e in sold]
    assert all(type(e).__qualname__ == "Unit.Sold" for e in events)
    assert {(e.price_eur, e.net_proceeds_eur) for e in events} == {(None, None)}
    ids = {event.originator_id for event in stored_events(app)}
    kinds = {type(app.repository.get(i)).__name__ for i in ids}
    assert kinds == {"Unit", "Entity", "Business", "RecordedTransaction"}


def test_ledger_02_verifies_replays_and_digests_as_it_did(ledger_02: str) -> None:
    assert answer(ledger_02, "audit", "digest") == EXPECTED_02["audit_digest"]
    assert CliRunner().invoke(main, ["--db", ledger_02, "audit", "verify"]).exit_code == 0
    replayed = answer(ledger_02, "replay", "--check", "--format", "json")
    assert replayed["check"] == "ok"
    assert {"position": replayed["position"], "digest": replayed["digest"]} == EXPECTED_02[
        "state_digest"
    ]
    assert (
        answer(ledger_02, "replay", "--format", "json")["digest"]
        == EXPECTED_02["state_digest"]["digest"]
    )


def test_ledger_02_is_upgraded_to_schema_6_with_no_shares_on_its_sales(ledger_02: str) -> None:
    import sqlite3

    from ledger.storage import schema

    output(ledger_02, "holdings")
    with sqlite3.connect(ledger_02.removeprefix("sqlite:///")) as db:
        version = db.execute("SELECT value FROM hl_meta WHERE key = 'schema_version'").fetchone()
        shares = db.execute(
            "SELECT COUNT(*), COUNT(price_eur), COUNT(net_proceeds_eur) FROM hl_movements "
            "WHERE type = 'sale'"
        ).fetchone()
        view = db.execute("SELECT * FROM hl_v_movements LIMIT 1").description
    assert version == (str(schema.SCHEMA_VERSION),)
    assert shares[0] > 0 and shares[1:] == (0, 0)
    assert [c[0] for c in view][-2:] == ["price_eur", "net_proceeds_eur"]


def test_ledger_02_gains_the_partial_index_of_the_usufruct_terms(ledger_02: str) -> None:
    """Schema 9: the catch-up voids a replaced term by unit, through its partial index."""
    import sqlite3

    output(ledger_02, "holdings")
    with sqlite3.connect(ledger_02.removeprefix("sqlite:///")) as db:
        index = db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'hl_movements_term'"
        ).fetchone()
        plan = db.execute(
            "EXPLAIN QUERY PLAN UPDATE hl_movements SET voided_at = 1 WHERE unit_key = 'k' "
            "AND type = 'usufruct_term' AND date = '2030-01-01' AND position < 1 "
            "AND voided_at IS NULL"
        ).fetchall()
    assert index is not None and "usufruct_term" in index[0], index
    assert "hl_movements_term" in plan[-1][-1], plan


#: The answers of that version, as `ledger-0.2.expected.json` holds them: key -> command.
ANSWERS_02 = {
    "holdings": ["holdings", "--format", "json"],
    "holdings_2019_by_zone": [
        "holdings", "--as-of", "2019-12-31", "--by", "zone", "--format", "json"
    ],
    "journal": ["journal", "--format", "json"],
    "history_U-2004": ["history", "U-2004", "--format", "json"],
    "history_U-0002": ["history", "U-0002", "--format", "json"],
    **{
        f"rpls_{entity}_{year}": [
            "report", "rpls", "--entity", entity, "--year", str(year), "--format", "json"
        ]
        for entity, year in (
            ("ESH-IDF", 2019), ("ESH-IDF", 2020), ("LLI-IDF", 2020), ("LLI-IDF", 2021)
        )
    },
    "rpls_ESH-IDF_2020_known_at_124": [
        "report", "rpls", "--entity", "ESH-IDF", "--year", "2020", "--known-at", "124",
        "--format", "json",
    ],
    "dismemberment_2020-12-31": [
        "report", "dismemberment", "--as-of", "2020-12-31", "--format", "json"
    ],
    "units": ["units", "--format", "json"],
    "units_2019-06-30": ["units", "--as-of", "2019-06-30", "--format", "json"],
}  # fmt: skip


def test_every_answer_of_ledger_02_expected_is_checked() -> None:
    others = {"written_by", "audit_digest", "state_digest", "rpls_ESH-IDF_2020_csv"}
    others |= {"sales_2019", "sales_2020", "sales_2019_csv", "movements_2019", "movements_2020"}
    assert set(ANSWERS_02) | others == set(EXPECTED_02)


@pytest.mark.parametrize("key", sorted(ANSWERS_02))
def test_ledger_02_answers_as_it_did(ledger_02: str, key: str) -> None:
    assert without_zoning(answer(ledger_02, *ANSWERS_02[key])) == EXPECTED_02[key]


def test_ledger_02_gives_the_rpls_extract_it_gave_byte_for_byte(ledger_02: str) -> None:
    args = ["report", "rpls", "--entity", "ESH-IDF", "--year", "2020", "--format", "csv"]
    extract = output(ledger_02, *args)
    assert extract == EXPECTED_02["rpls_ESH-IDF_2020_csv"]
    assert "33333.34" in extract and "111111.11" in extract  # lots split in cents


@pytest.mark.parametrize("year", [2019, 2020])
def test_ledger_02_movements_are_the_same_but_for_the_corrected_figures(
    ledger_02: str, year: int
) -> None:
    got = answer(ledger_02, "report", "movements", "--year", str(year), "--format", "json")
    expected = corrected(f"movements_{year}", EXPECTED_02[f"movements_{year}"])
    assert [got.pop(k) for k in YEAR_KEYS] == [
        f"{year}-01-01",
        f"{year}-01-02",
        f"{year + 1}-01-01",
    ]
    assert got.pop("group")["entity"] == "group"
    assert got == expected


def without_new_sales_keys(row: dict[str, Any]) -> dict[str, Any]:
    """A row of `report sales` less the keys added since: those of issue 12 must be zero or
    null on this ledger, those of issue 13 are dropped."""
    row = dict(row)
    for key, empty in NEW_SALES_KEYS.items():
        assert row.pop(key) == empty, (row["entity"], key)
    for key in PERIMETER_SALES_KEYS:
        row.pop(key)
    by_category = dict(row.pop("by_category"))
    for category in NEW_CATEGORIES:
        assert by_category.pop(category) == 0, (row["entity"], category)
    return {**row, "by_category": by_category}


@pytest.mark.parametrize("year", [2019, 2020])
def test_ledger_02_sales_statement_is_the_same_but_for_the_new_keys(
    ledger_02: str, year: int
) -> None:
    args = ["report", "sales", "--year", str(year), "--sellers", "all", "--format", "json"]
    got = answer(ledger_02, *args)
    expected = corrected(f"sales_{year}", EXPECTED_02[f"sales_{year}"])
    assert [without_new_sales_keys(r) for r in got.pop("rows")] == expected.pop("rows")
    assert [got.pop(k) for k in (*YEAR_KEYS, "sellers")][-1] == "all"
    assert got.pop("group")["entity"] == "group"
    assert got == expected  # the header: year, position
    assert any(r["units_sold"] for r in EXPECTED_02[f"sales_{year}"]["rows"])
    hlm = answer(ledger_02, "report", "sales", "--year", str(year), "--format", "json")
    assert [r["entity"] for r in hlm["rows"]] == ["ESH-IDF"]  # the one HLM body


def test_ledger_02_sales_csv_is_the_same_but_for_the_new_columns(ledger_02: str) -> None:
    import csv
    import io

    args = ["report", "sales", "--year", "2019", "--sellers", "all", "--format", "csv"]
    got = list(csv.DictReader(io.StringIO(output(ledger_02, *args))))
    expected = list(csv.DictReader(io.StringIO(EXPECTED_02["sales_2019_csv"])))
    new = {f"by_category.{c}" for c in NEW_CATEGORIES} | set(NEW_SALES_KEYS)
    assert set(got[0]) - set(expected[0]) == new | set(PERIMETER_SALES_KEYS)
    for row in got:
        assert [row.pop(c) for c in sorted(new)] == [
            "" if c == "net_proceeds_eur" else "0" for c in sorted(new)
        ]
        for key in PERIMETER_SALES_KEYS:
            row.pop(key)
    for row in expected:
        row.update(
            {k: str(v) for k, v in CORRECTED_02.get(("sales_2019", row["entity"]), {}).items()}
        )
    assert got == expected


def test_a_sale_of_version_2_appends_to_ledger_02_and_it_still_proves_itself(
    ledger_02: str, tmp_path: Path
) -> None:
    more = tmp_path / "more.jsonl"
    more.write_text(
        json.dumps(
            {
                "id": "SALE-2020-0300",
                "type": "sale",
                "date": "2020-06-01",
                "entity": "ESH-IDF",
                "units": ["U-2010", "U-3103"],
                "buyer": {"category": "sem", "name": "SEM 93"},
                "price_eur": "300000.01",
                "net_proceeds_eur": "-1000.01",
            }  # fmt: skip
        )
        + "\n",
        encoding="utf-8",
    )
    assert CliRunner().invoke(main, ["--db", ledger_02, "import", str(more)]).exit_code == 0
    assert answer(ledger_02, "replay", "--check", "--format", "json")["check"] == "ok"
    rows = answer(ledger_02, "report", "rpls", "--entity", "ESH-IDF", "--year", "2021",
                  "--format", "json")["rows"]  # fmt: skip
    sold = {r["si_id"]: r for r in rows if r["exit_reason"] != "9" and r["sale_type"] == "07"}
    assert [
        (r["exit_reason"], r["sale_price_eur"], r["net_proceeds_eur"]) for r in sold.values()
    ] == [
        ("2", "150000.01", "-500.00"),
        ("2", "150000.00", "-500.01"),
    ]
    # The sales of version 1 still give their split price and no net proceeds.
    old = {r["si_id"]: r for r in answer(ledger_02, "report", "rpls", "--entity", "ESH-IDF",
                                         "--year", "2020", "--format", "json")["rows"]}  # fmt: skip
    assert (old["U-2004"]["sale_price_eur"], old["U-2004"]["net_proceeds_eur"]) == (
        "33333.34",
        None,
    )
