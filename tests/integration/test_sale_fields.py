"""What the RPLS asks of a sale (issue 12, part 4), on SQLite and PostgreSQL: the sale
types of the arrêté and the units' shares of a lot's price and net proceeds in
`report rpls`, the seller's SIRET of an acquisition in `previous_owner_siret`, the
sales statement's new keys, the reporting view, the journal exported and imported
again, and a ledger of schema version 5 upgraded to 6 with the digest it had."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from ledger.storage import schema
from ledger.storage.bootstrap import SCHEMA_KEY, SHARE_COLUMNS
from projections.engine import replay
from tests.integration.test_audit import raw
from tests.support import LedgerHarness


def entity(eid: str, kind: str) -> dict[str, Any]:
    return {"id": f"ENT-{eid}", "type": "register_entity", "date": "2017-01-01",
            "entity": eid, "name": f"Name of {eid}", "kind": kind}  # fmt: skip


def unit(uid: str) -> dict[str, Any]:
    return {"unit_id": uid, "commune": "93066", "zone": "A", "segment": "social"}


def sale(tid: str, units: list[str], category: str, price: str, **more: Any) -> dict[str, Any]:
    tx = {"id": tid, "type": "sale", "date": more.pop("date", "2018-06-01"), "entity": "ESH",
          "units": units, "buyer": {"category": category, **more.pop("buyer", {})},
          "price_eur": price}  # fmt: skip
    return {**tx, **more}


LEDGER = [
    entity("ESH", "hlm"),
    entity("SEM-93", "other"),
    entity("LLI", "lli"),
    {
        "id": "OPEN",
        "type": "register_units",
        "date": "2017-01-01",
        "entity": "ESH",
        "units": [unit(f"U-{i:02d}") for i in range(1, 13)],
    },  # fmt: skip
    sale("S-FAMILY", ["U-01"], "tenant_family", "98000.00", net_proceeds_eur="61000.50"),
    sale("S-CARETAKER", ["U-02"], "caretaker", "90000.00"),
    sale(
        "S-SEM",
        ["U-05", "U-03", "U-04"],
        "sem",
        "300000.01",
        net_proceeds_eur="-1000.01",
        buyer={"name": "SEM 93", "entity": "SEM-93"},
    ),  # fmt: skip
    sale(
        "S-COMMUNE",
        ["U-06", "U-07"],
        "local_authority",
        "0.03",
        net_proceeds_eur="0.03",
        buyer={"name": "Commune de Montreuil"},
    ),  # fmt: skip
    sale("S-L365", ["U-08"], "approved_body", "120000.00", net_proceeds_eur="-0.01"),
    sale("S-TENANT", ["U-09"], "sitting_tenant", "110000.00"),
    {
        "id": "ACQ",
        "type": "acquisition",
        "date": "2018-03-01",
        "entity": "LLI",
        "mode": "existing",
        "seller": "SCI Les Tilleuls",
        "seller_siret": "41234567800012",
        "price_eur": "400000.00",
        "units": [unit("U-20"), unit("U-21")],
    },  # fmt: skip
    {
        "id": "ACQ-VEFA",
        "type": "acquisition",
        "date": "2018-03-02",
        "entity": "LLI",
        "mode": "vefa",
        "seller": "Promoteur X",
        "seller_siret": "41234567800013",
        "price_eur": "200000.00",
        "units": [unit("U-22")],
    },  # fmt: skip
]


@pytest.fixture()
def ledger_url(db_url: str) -> str:
    harness = LedgerHarness(db_url)
    try:
        harness.ok(*LEDGER)
    finally:
        harness.close()
    return db_url


def answer(url: str, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--db", url, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def extract(url: str, entity: str, year: int) -> dict[str, dict[str, Any]]:
    rows = answer(url, "report", "rpls", "--entity", entity, "--year", str(year), "--format",
                  "json")["rows"]  # fmt: skip
    return {r["si_id"]: r for r in rows}


def test_each_sale_type_its_exit_and_the_units_shares_in_the_rpls_extract(ledger_url: str) -> None:
    rows = extract(ledger_url, "ESH", 2019)
    got = {
        si_id: (r["exit_reason"], r["sale_type"], r["sale_price_eur"], r["net_proceeds_eur"])
        for si_id, r in rows.items()
    }
    assert got == {
        "U-01": ("3", "02", "98000.00", "61000.50"),
        "U-02": ("3", "04", "90000.00", None),
        "U-05": ("2", "07", "100000.01", "-333.33"),  # the first unit of the lot
        "U-03": ("2", "07", "100000.00", "-333.34"),
        "U-04": ("2", "07", "100000.00", "-333.34"),
        "U-06": ("3", "08", "0.02", "0.02"),
        "U-07": ("3", "08", "0.01", "0.01"),
        "U-08": ("2", "09", "120000.00", "-0.01"),
        "U-09": ("1", "01", "110000.00", None),
        "U-10": ("9", None, None, None),
        "U-11": ("9", None, None, None),
        "U-12": ("9", None, None, None),
    }
    for tx in LEDGER:
        if tx["type"] != "sale":
            continue
        lot = [rows[u] for u in tx["units"]]
        assert sum(Decimal(r["sale_price_eur"]) for r in lot) == Decimal(tx["price_eur"])
        if "net_proceeds_eur" in tx:
            net = sum(Decimal(r["net_proceeds_eur"]) for r in lot)
            assert net == Decimal(tx["net_proceeds_eur"])


def test_the_extract_writes_the_sellers_siret_with_the_seller(ledger_url: str) -> None:
    rows = extract(ledger_url, "LLI", 2019)
    got = {
        k: (r["entry_mode"], r["previous_owner"], r["previous_owner_siret"])
        for k, r in rows.items()
    }
    assert got == {
        "U-20": ("3", "SCI Les Tilleuls", "41234567800012"),
        "U-21": ("3", "SCI Les Tilleuls", "41234567800012"),
        "U-22": ("4", None, None),  # off-plan: no previous owner (fields 30-31), so no SIRET
    }
    # Not an entry of N-1 in the extract of 2020: neither the name nor the SIRET.
    later = extract(ledger_url, "LLI", 2020)
    assert {r["previous_owner_siret"] for r in later.values()} == {None}


def test_the_sales_statement_counts_the_new_categories_and_sums_the_net_proceeds(
    ledger_url: str,
) -> None:
    (row,) = [
        r
        for r in answer(ledger_url, "report", "sales", "--year", "2018", "--format", "json")["rows"]
        if r["entity"] == "ESH"
    ]
    assert row["by_category"] == {
        "sitting_tenant": 1, "tenant_family": 1, "tenant": 0, "caretaker": 1, "individual": 0,
        "social_landlord": 0, "sem": 3, "local_authority": 2, "approved_body": 1,
        "institutional": 0, "other": 0,
    }  # fmt: skip
    assert row["units_sold"] == 9
    assert row["proceeds_eur"] == "718000.04"
    assert (row["net_proceeds_eur"], row["units_with_net_proceeds"]) == ("60000.51", 7)
    # over the sales to households: sitting_tenant, tenant_family, caretaker (3 units)
    assert (row["sold_to_households"], row["sitting_tenant_share"]) == (3, "0.3333")
    others = answer(
        ledger_url, "report", "sales", "--year", "2018", "--sellers", "all", "--format", "json"
    )["rows"]
    assert all(
        (r["net_proceeds_eur"], r["units_with_net_proceeds"]) == (None, 0)
        for r in others
        if r["entity"] != "ESH"
    )
    csv = CliRunner().invoke(main, ["--db", ledger_url, "report", "sales", "--year", "2018",
                                    "--format", "csv"]).output.splitlines()  # fmt: skip
    header = csv[0].split(",")
    esh = dict(
        zip(header, next(line for line in csv if line.startswith("ESH,")).split(","), strict=True)
    )
    assert (esh["by_category.sem"], esh["net_proceeds_eur"]) == ("3", "60000.51")


def test_the_movements_view_carries_the_shares_that_add_up_to_each_sale(ledger_url: str) -> None:
    with raw(ledger_url) as c:
        rows = c.query(
            "SELECT transaction_id, entity, kind, price_eur, net_proceeds_eur FROM hl_v_movements "
            "WHERE type = 'sale'"
        )
    sums: dict[str, list[Decimal | None]] = {}
    for txn, who, kind, price, net in rows:
        if kind == "received":
            assert (price, net) == (None, None)
            continue
        assert who == "ESH" and kind in ("sold", "transferred")
        total = sums.setdefault(txn, [Decimal(0), None])
        total[0] = (total[0] or Decimal(0)) + Decimal(price)
        if net is not None:
            total[1] = (total[1] or Decimal(0)) + Decimal(net)
    for tx in LEDGER:
        if tx["type"] == "sale":
            net = tx.get("net_proceeds_eur")
            assert sums[tx["id"]] == [Decimal(tx["price_eur"]), net and Decimal(net)], tx["id"]


def test_the_journal_exported_as_jsonl_imports_again_to_the_same_state(
    ledger_url: str, tmp_path: Path
) -> None:
    exported = CliRunner().invoke(main, ["--db", ledger_url, "journal", "--format", "jsonl"])
    assert exported.exit_code == 0
    lines = [json.loads(line) for line in exported.output.splitlines()]
    assert {"net_proceeds_eur", "seller_siret"} <= {k for line in lines for k in line}
    copy = f"sqlite:///{tmp_path}/copy.db"
    path = tmp_path / "journal.jsonl"
    path.write_text(exported.output, encoding="utf-8")
    assert CliRunner().invoke(main, ["--db", copy, "import", str(path)]).exit_code == 0
    digests = {
        answer(url, "replay", "--check", "--format", "json")["digest"] for url in (ledger_url, copy)
    }
    assert len(digests) == 1
    # And the same file again records nothing new.
    again = CliRunner().invoke(main, ["--db", copy, "import", str(path)])
    assert again.exit_code == 0 and "recorded 0 transaction(s)" in again.output


def test_a_schema_5_ledger_is_upgraded_to_6_with_the_digest_it_had(db_url: str) -> None:
    """The columns and the view's two last columns are added on first use, NULL in the
    rows already there, and the state digest does not move. (A ledger of schema 5 has no
    sale of version 2; `tests/fixtures/ledger-0.2.sqlite`, in
    tests/integration/test_stored_ledgers.py, is one with sales of version 1.)"""
    harness = LedgerHarness(db_url)
    try:
        harness.ok(*(tx for tx in LEDGER if tx["type"] != "sale"))
        before = state_digest(harness)
    finally:
        harness.close()
    with raw(db_url) as c:
        c.execute("DROP VIEW hl_v_movements")
        for column in SHARE_COLUMNS:
            c.execute(f"ALTER TABLE hl_movements DROP COLUMN {column}")
        c.execute(f"UPDATE hl_meta SET value = '5' WHERE key = '{SCHEMA_KEY}'")
    harness = LedgerHarness(db_url)  # opening it upgrades it, as any command does
    try:
        assert harness.holdings()
        after = state_digest(harness)
    finally:
        harness.close()
    with raw(db_url) as c:
        version = c.scalar(f"SELECT value FROM hl_meta WHERE key = '{SCHEMA_KEY}'")
        shares = c.query("SELECT price_eur, net_proceeds_eur FROM hl_v_movements")
    assert version == str(schema.SCHEMA_VERSION)
    assert len(shares) == 12 + 3 and set(shares) == {(None, None)}  # registered, acquired
    assert after == before
    checked = answer(db_url, "replay", "--check", "--format", "json")
    assert (checked["check"], checked["digest"]) == ("ok", before)


def state_digest(harness: LedgerHarness) -> str:
    """The digest of the stored projections (as `replay --check` compares them), read on
    the harness's own connection, which it closes."""
    position = harness.session.projector.position()
    stored = replay.stored_state(harness.conn, position, digest_only=True)
    try:
        return replay.state_digest(stored)
    finally:
        stored.close()
