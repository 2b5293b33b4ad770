"""`register_units` with a right and RPLS values (docs/transactions.md), on SQLite and
PostgreSQL: a unit registered in usufruct is held as after a bare-ownership transfer
(holdings, the dismemberment register, the tableau de passage, the unit register,
extinction, merger, reversal); the `rpls` object reaches `report rpls`; the journal
re-imports; a schema-4 database is upgraded to schema 5."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cli import main
from ledger.storage import schema
from ledger.storage.bootstrap import SCHEMA_KEY

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "example.jsonl"
ENTITIES = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()[:6]]
#: The example's entities with the bare owner an association, as AFL: a merger of the two
#: (below) joins entities of one family (docs/transactions.md).
SAME_FAMILY = [
    {**e, "kind": "association"} if e["entity"] == "AGIRC-ARRCO" else e for e in ENTITIES
]
#: Another pension fund, which may absorb AGIRC-ARRCO.
OTHER_FUND = [
    {"id": "ENT-IRCANTEC", "type": "register_entity", "date": "2017-01-01", "entity": "IRCANTEC",
     "name": "IRCANTEC", "kind": "pension_fund"},
]  # fmt: skip
USUFRUCT = {
    "id": "OPEN-U",
    "type": "register_units",
    "date": "2017-01-01",
    "entity": "AFL",
    "units": [
        {
            "unit_id": "U-0201",
            "commune": "75118",
            "zone": "Abis",
            "segment": "other",
            "rooms": 3,
            "right": "usufruct",
            "bare_owner": "AGIRC-ARRCO",
            "usufruct_end": "2042-06-30",
        }
    ],
}
#: The register_units of the RPLS import example (docs/rpls.md): the units of
#: `OPEN-ESH-IDF` with their `rpls` objects.
RPLS_OPEN = {
    "id": "RPLS-ESH-IDF-2017-01-01-001",
    "type": "register_units",
    "date": "2017-01-01",
    "entity": "ESH-IDF",
    "note": "imported from an RPLS-shaped file",
    "units": [
        {"unit_id": "U-0001", "commune": "93066", "zone": "A", "segment": "social",
         "financing": "PLUS", "rooms": 3, "surface_m2": "64.50", "year_built": 1972,
         "rpls": {"first_let_year": 1973, "entry_year": 1999, "entry_mode": "2",
                  "financing_code": "13", "apl_agreement": True}},
        {"unit_id": "U-0002", "commune": "93066", "zone": "A", "segment": "social",
         "financing": "PLAI", "rooms": 2, "year_built": 1972,
         "rpls": {"first_let_year": 1973, "entry_year": 1999, "entry_mode": "2",
                  "financing_code": "10", "apl_agreement": True, "construction_type": "C",
                  "cus_segment": "SEG-1"}},
        {"unit_id": "U-0003", "commune": "77288", "zone": "B1", "segment": "social",
         "financing": "PLS", "rooms": 4, "year_built": 1985,
         "rpls": {"first_let_year": 1985, "entry_year": 1985, "entry_mode": "1",
                  "financing_code": "14", "apl_agreement": False}},
    ],
}  # fmt: skip


def run(url: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["--db", url, *args])


def answer(url: str, *args: str) -> Any:
    result = run(url, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def record(url: str, tmp: Path, *transactions: dict[str, Any], ok: bool = True) -> str:
    path = tmp / f"in-{len(list(tmp.iterdir()))}.jsonl"
    path.write_text("".join(json.dumps(t) + "\n" for t in transactions), encoding="utf-8")
    result = run(url, "import", str(path))
    assert (result.exit_code == 0) == ok, result.output
    return str(result.output)


def holdings(url: str, *args: str) -> dict[str, tuple[int, int, int]]:
    rows = answer(url, "holdings", *args)["rows"]
    return {
        r["entity"]: (r["full_ownership"], r["usufruct"], r["bare_ownership"])
        for r in rows
        if any((r["full_ownership"], r["usufruct"], r["bare_ownership"]))
    }


def movements(url: str, year: int) -> dict[str, dict[str, int]]:
    rows = answer(url, "report", "movements", "--year", str(year))["rows"]
    return {r["entity"]: {k: v for k, v in r.items() if v and k != "entity"} for r in rows}


def test_a_unit_registered_in_usufruct(db_url: str, tmp_path: Path) -> None:
    record(db_url, tmp_path, *SAME_FAMILY, USUFRUCT)
    assert holdings(db_url) == {"AFL": (0, 1, 0), "AGIRC-ARRCO": (0, 0, 1)}
    (row,) = answer(db_url, "report", "dismemberment")["rows"]
    assert (row["usufructuary"], row["bare_owner"], row["maturities"]) == (
        "AFL",
        "AGIRC-ARRCO",
        {"2042": 1},
    )
    # registered as of 2017-01-01: 2016's flows, 2017's stock on 1 January
    assert movements(db_url, 2016) == {"AFL": {"registered": 1, "closing": 1}}
    assert movements(db_url, 2017) == {"AFL": {"opening": 1, "closing": 1}}
    register = answer(db_url, "units")["rows"]
    assert [(r["entity"], r["right"], r["entry"], r["usufruct_end"]) for r in register] == [
        ("AFL", "usufruct", "registered", "2042-06-30"),
        ("AGIRC-ARRCO", "bare_ownership", "bare_ownership_received", "2042-06-30"),
    ]
    (extract,) = answer(db_url, "report", "rpls", "--entity", "AFL", "--year", "2018")["rows"]
    assert (extract["right"], extract["bare_owner"], extract["usufruct_end"]) == (
        "4",
        "AGIRC-ARRCO",
        "2042-06-30",
    )
    assert (
        answer(db_url, "report", "rpls", "--entity", "AGIRC-ARRCO", "--year", "2018")["rows"] == []
    )
    # The usufruct ends: the bare owner becomes full owner, as after a transfer.
    extinction = {
        "id": "EXT-U", "type": "usufruct_extinguished", "date": "2018-09-30", "units": ["U-0201"]
    }  # fmt: skip
    record(db_url, tmp_path, extinction)
    assert holdings(db_url) == {"AGIRC-ARRCO": (1, 0, 0)}
    assert movements(db_url, 2018) == {
        "AFL": {"opening": 1, "usufruct_ended": 1},
        "AGIRC-ARRCO": {"reunited": 1, "closing": 1},
    }
    reversal = {"id": "REV-U", "type": "reversal", "date": "2018-10-01", "reverses": "EXT-U",
                "reason": "error"}  # fmt: skip
    record(db_url, tmp_path, reversal)
    assert holdings(db_url) == {"AFL": (0, 1, 0), "AGIRC-ARRCO": (0, 0, 1)}
    # A merger of the bare owner into the usufructuary consolidates (Civil Code art. 617).
    merger = {"id": "MRG-U", "type": "merger", "date": "2019-01-01", "absorbed": ["AGIRC-ARRCO"],
              "into": "AFL"}  # fmt: skip
    record(db_url, tmp_path, merger)
    assert holdings(db_url) == {"AFL": (1, 0, 0)}
    assert holdings(db_url, "--as-of", "2018-12-31") == {"AFL": (0, 1, 0), "AGIRC-ARRCO": (0, 0, 1)}


def test_the_registration_names_the_bare_owner_for_the_reversal_rules(
    db_url: str, tmp_path: Path
) -> None:
    record(db_url, tmp_path, *ENTITIES, USUFRUCT)
    record(db_url, tmp_path, OTHER_FUND[0])
    merger = {"id": "MRG-A", "type": "merger", "date": "2018-01-01", "absorbed": ["AGIRC-ARRCO"],
              "into": "IRCANTEC"}  # fmt: skip
    record(db_url, tmp_path, merger)
    assert holdings(db_url) == {"AFL": (0, 1, 0), "IRCANTEC": (0, 0, 1)}
    reversal = {"id": "REV-O", "type": "reversal", "date": "2018-02-01", "reverses": "OPEN-U",
                "reason": "error"}  # fmt: skip
    output = record(db_url, tmp_path, reversal, ok=False)
    assert "U-0201" in output or "AGIRC-ARRCO" in output
    record(db_url, tmp_path, {**reversal, "id": "REV-M", "reverses": "MRG-A"})
    record(db_url, tmp_path, reversal)
    assert holdings(db_url) == {}


def test_rpls_values_reach_the_extract_and_the_journal_reimports(
    db_url: str, tmp_path: Path
) -> None:
    lines = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    lines = [RPLS_OPEN if t["id"] == "OPEN-ESH-IDF" else t for t in lines]
    record(db_url, tmp_path, *lines)
    rows = {r["si_id"]: r for r in answer(db_url, "report", "rpls", "--entity", "ESH-IDF",
                                           "--year", "2018")["rows"]}  # fmt: skip
    u1 = rows["U-0001"]
    assert (u1["first_let_year"], u1["entry_year"], u1["entry_mode"]) == (1973, 1999, "2")
    assert (u1["financing"], u1["apl_agreement"], u1["exit_reason"]) == ("13", "1", "1")
    assert u1["previous_owner"] is None and u1["cus_segment"] is None
    u2, u3 = rows["U-0002"], rows["U-0003"]
    assert (u2["financing"], u2["construction_type"], u2["cus_segment"]) == ("10", "C", "SEG-1")
    assert (u3["financing"], u3["apl_agreement"], u3["entry_mode"]) == ("14", "2", "1")
    # The projections rebuilt from the journal alone are the stored ones, `rpls` included.
    assert answer(db_url, "replay", "--check")["check"] == "ok"
    # The journal gives back the transaction as recorded, and re-imports as it is.
    journal = run(db_url, "journal", "--format", "jsonl").output
    copy = tmp_path / "copy.jsonl"
    copy.write_text(journal, encoding="utf-8")
    fresh = f"sqlite:///{tmp_path}/copy.db"
    assert run(fresh, "import", str(copy)).exit_code == 0
    again = answer(fresh, "report", "rpls", "--entity", "ESH-IDF", "--year", "2018")["rows"]
    assert again == list(rows.values())
    assert "already recorded" in run(db_url, "import", str(copy)).output


def test_a_right_that_does_not_come_from_the_registration_has_no_cus_segment(
    db_url: str, tmp_path: Path
) -> None:
    lines = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    lines = [RPLS_OPEN if t["id"] == "OPEN-ESH-IDF" else t for t in lines]
    record(db_url, tmp_path, *lines)
    sale = {"id": "SALE-X", "type": "sale", "date": "2018-06-01", "entity": "ESH-IDF",
            "units": ["U-0002"], "buyer": {"category": "institutional", "entity": "LLI-IDF"},
            "price_eur": "100000.00"}  # fmt: skip
    record(db_url, tmp_path, sale)
    (row,) = answer(db_url, "report", "rpls", "--entity", "LLI-IDF", "--year", "2019")["rows"][:1]
    assert row["si_id"] == "U-0002"
    assert (row["entry_year"], row["entry_mode"], row["cus_segment"]) == (2018, "3", None)
    assert row["construction_type"] == "C"  # a value of the unit, whoever holds it


def digest_line(output: str) -> str:
    (line,) = [x for x in output.splitlines() if x.strip().startswith("state digest:")]
    return line


def test_a_schema_4_database_is_upgraded_to_schema_5(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    lines = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    record(url, tmp_path, *lines)
    before = digest_line(run(url, "replay").output)
    import sqlite3

    with sqlite3.connect(tmp_path / "old.db") as db:
        db.execute("ALTER TABLE hl_units DROP COLUMN rpls")
        db.execute("UPDATE hl_meta SET value = '4' WHERE key = ?", (SCHEMA_KEY,))
    assert digest_line(run(url, "replay").output) == before  # upgraded, the same digest
    with sqlite3.connect(tmp_path / "old.db") as db:
        version = db.execute("SELECT value FROM hl_meta WHERE key = ?", (SCHEMA_KEY,)).fetchone()
        columns = [r[1] for r in db.execute("PRAGMA table_info(hl_units)")]
    assert version == (str(schema.SCHEMA_VERSION),) and columns[-1] == "rpls"
    record(url, tmp_path, {**RPLS_OPEN, "id": "RPLS-2", "units": [
        {**RPLS_OPEN["units"][0], "unit_id": "U-0901"}]})  # fmt: skip
    assert run(url, "replay").exit_code == 0
