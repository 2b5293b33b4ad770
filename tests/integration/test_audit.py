"""Auditability on both databases: the hash chain catches every kind of tampering,
replay --check catches a corrupted projection, the journal round-trips, and an auditor
can read everything and write nothing."""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli import Session, main
from ledger.booking.zoning import shipped_vintages
from ledger.demo import generate
from ledger.storage.chain import next_link
from ledger.storage.database import Connection, Database
from tests.support import ADMIN_PG_URL, base_ledger, jsonl

ROOT = Path(__file__).resolve().parents[2]
EVENTS = "housingledger_events"
NEW_ENTITY = {
    "id": "ENT-NEW",
    "type": "register_entity",
    "date": "2019-01-01",
    "entity": "NEW",
    "name": "New",
    "kind": "other",
}


def run(url: str, *args: str, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(main, ["--db", url, *args], input=stdin)


def ok(url: str, *args: str, stdin: bytes | None = None) -> Result:
    result = run(url, *args, stdin=stdin)
    assert result.exit_code == 0, (result.exit_code, result.output)
    return result


def as_json(url: str, *args: str) -> Any:
    return json.loads(ok(url, *args, "--format", "json").stdout)


def story() -> list[dict[str, Any]]:
    """Several transactions of several events each, a dismemberment and a reversal."""
    return [
        *base_ledger(),
        {
            "id": "S1",
            "type": "sale",
            "date": "2018-01-10",
            "entity": "ESH-A",
            "units": ["U1"],
            "buyer": {"category": "sitting_tenant"},
            "price_eur": "90000.00",
        },
        {
            "id": "BOT1",
            "type": "bare_ownership_transfer",
            "date": "2018-02-01",
            "entity": "ESH-B",
            "bare_owner": "FUND",
            "units": ["V1", "V2"],
            "usufruct_end": "2033-02-01",
            "consideration": "onerous",
            "price_eur": "1000.00",
        },
        {
            "id": "S2",
            "type": "sale",
            "date": "2018-03-01",
            "entity": "ESH-A",
            "units": ["U2"],
            "buyer": {"category": "individual"},
            "price_eur": "80000.00",
        },
        {
            "id": "REV1",
            "type": "reversal",
            "date": "2018-03-05",
            "reverses": "S2",
            "reason": "wrong unit",
        },
    ]


@pytest.fixture
def audited(db_url: str) -> str:
    ok(db_url, "import", "-", stdin=jsonl(story()))
    return db_url


@contextmanager
def raw(url: str) -> Iterator[Connection]:
    """A plain connection that commits what the test does to the database behind the
    ledger's back."""
    conn = Database(url).connect()
    try:
        yield conn
        if conn.is_pg:
            conn.raw.commit()
    finally:
        conn.close()


def head(url: str) -> int:
    with raw(url) as c:
        return int(c.scalar(f"SELECT MAX(id) FROM {EVENTS}"))


def state(c: Connection, position: int) -> bytes:
    return bytes(c.scalar(f"SELECT state FROM {EVENTS} WHERE id = ?", (position,)))


def broken_at(url: str, *args: str) -> int:
    result = run(url, "audit", "verify", *args)
    assert result.exit_code == 3, result.output
    found = re.search(r"chain broken at position (\d+): ", result.stderr)
    assert found, result.stderr
    return int(found.group(1))


def digest(url: str, position: int | None = None) -> dict[str, Any]:
    extra = [] if position is None else ["--position", str(position)]
    return json.loads(ok(url, "audit", "digest", *extra).stdout)


# --- the chain --------------------------------------------------------------------------


def test_an_untouched_ledger_verifies(audited: str) -> None:
    end = head(audited)
    at_end, at_8 = digest(audited), digest(audited, 8)
    assert at_end["position"] == end and re.fullmatch(r"[0-9a-f]{64}", at_end["digest"])
    assert at_8["position"] == 8 and at_8["digest"] != at_end["digest"]
    out = ok(audited, "audit", "verify").stdout
    assert out.startswith(
        f"chain verified: {end} events, positions 1-{end}, digest {at_end['digest']}"
    )
    out = ok(audited, "audit", "verify", "--position", "8", "--digest", at_8["digest"]).stdout
    assert "up to position 8 it matches the digest given" in out


def test_the_digest_is_the_link_stored_at_the_last_position_before_the_one_asked(
    audited: str,
) -> None:
    with raw(audited) as c:
        link = c.scalar("SELECT link FROM hl_chain WHERE position = ?", (head(audited),))
    assert digest(audited, 10**6) == {"position": head(audited), "digest": link}
    assert digest(audited, 0) == {"position": 0, "digest": "0" * 64}


def test_an_empty_ledger_verifies(db_url: str) -> None:
    ok(db_url, "init")
    assert ok(db_url, "audit", "verify").stdout.startswith("chain verified: the journal is empty")
    assert digest(db_url) == {"position": 0, "digest": "0" * 64}


def test_every_event_gets_its_link_in_the_same_transaction_and_a_rejected_file_none(
    audited: str,
) -> None:
    bad = {**NEW_ENTITY, "kind": "unknown-kind"}
    assert run(audited, "import", "-", stdin=jsonl([NEW_ENTITY, bad])).exit_code == 1
    with raw(audited) as c:
        assert c.query("SELECT COUNT(*), MAX(position) FROM hl_chain")[0] == (
            c.scalar(f"SELECT COUNT(*) FROM {EVENTS}"),
            head(audited),
        )


def test_changing_one_byte_of_a_state_breaks_the_chain_there(audited: str) -> None:
    with raw(audited) as c:
        changed = bytearray(state(c, 8))
        changed[len(changed) // 2] ^= 0x01
        c.execute(f"UPDATE {EVENTS} SET state = ? WHERE id = ?", (bytes(changed), 8))
    assert broken_at(audited) == 8
    assert "no longer matches its link" in run(audited, "audit", "verify").stderr
    assert run(audited, "audit", "digest").exit_code == 3


def test_deleting_an_event_breaks_the_chain_at_its_position(audited: str) -> None:
    with raw(audited) as c:
        c.execute(f"DELETE FROM {EVENTS} WHERE id = ?", (8,))
    assert broken_at(audited) == 8
    assert "the event is missing" in run(audited, "audit", "verify").stderr


def test_deleting_the_last_event_leaves_its_link_without_event(audited: str) -> None:
    end = head(audited)
    with raw(audited) as c:
        c.execute(f"DELETE FROM {EVENTS} WHERE id = ?", (end,))
    assert broken_at(audited) == end


def test_deleting_the_last_transaction_and_its_links_is_caught_by_a_kept_digest(
    audited: str,
) -> None:
    end = head(audited)
    kept = digest(audited)
    with raw(audited) as c:
        c.execute(f"DELETE FROM {EVENTS} WHERE id > ?", (end - 3,))
        c.execute("DELETE FROM hl_chain WHERE position > ?", (end - 3,))
    assert run(audited, "audit", "verify").exit_code == 0  # a shorter chain verifies...
    at = broken_at(audited, "--position", str(end), "--digest", kept["digest"])
    assert at == end - 2  # ...but not against the digest kept at the old end


def test_inserting_a_forged_event_breaks_the_chain_at_its_position(audited: str) -> None:
    end = head(audited)
    with raw(audited) as c:
        for position in range(end, 7, -1):  # make room at position 8
            c.execute(f"UPDATE {EVENTS} SET id = id + 1 WHERE id = ?", (position,))
        forged = uuid.uuid4()
        c.execute(
            f"INSERT INTO {EVENTS} (id, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                8,
                str(forged) if c.is_pg else forged.bytes,
                1,
                "ledger.domain:Unit.Sold",
                b'{"forged":true}',
            ),
        )
    assert broken_at(audited) == 8


def test_a_forged_event_appended_without_a_link_is_reported(audited: str) -> None:
    end = head(audited)
    with raw(audited) as c:
        forged = uuid.uuid4()
        c.execute(
            f"INSERT INTO {EVENTS} (id, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                end + 1,
                str(forged) if c.is_pg else forged.bytes,
                1,
                "ledger.domain:Unit.Sold",
                b'{"forged":true}',
            ),
        )
    assert broken_at(audited) == end + 1
    assert "no link is stored" in run(audited, "audit", "verify").stderr


def test_swapping_two_events_breaks_the_chain_at_the_first(audited: str) -> None:
    with raw(audited) as c:
        (t1, s1), (t2, s2) = (
            c.query(f"SELECT topic, state FROM {EVENTS} WHERE id = ?", (p,))[0] for p in (9, 15)
        )
        c.execute(f"UPDATE {EVENTS} SET topic = ?, state = ? WHERE id = ?", (t2, bytes(s2), 9))
        c.execute(f"UPDATE {EVENTS} SET topic = ?, state = ? WHERE id = ?", (t1, bytes(s1), 15))
    assert broken_at(audited) == 9


def test_recomputed_links_pass_a_plain_verify_but_not_a_kept_digest(audited: str) -> None:
    end = head(audited)
    before, after = digest(audited, 6), digest(audited, 16)
    with raw(audited) as c:
        changed = state(c, 8).replace(b'"OPEN-A"', b'"OPEN-Z"', 1)
        assert changed != state(c, 8)
        c.execute(f"UPDATE {EVENTS} SET state = ? WHERE id = ?", (changed, 8))
        link = bytes.fromhex(c.scalar("SELECT link FROM hl_chain WHERE position = 7"))
        rows = c.query(
            f"SELECT id, originator_id, originator_version, topic, state FROM {EVENTS}"
            " WHERE id >= 8 ORDER BY id"
        )
        for position, oid, version, topic, stored in rows:
            key = uuid.UUID(str(oid)).hex if c.is_pg else bytes(oid).hex()
            link = next_link(link, position, key, version, topic, bytes(stored))
            c.execute("UPDATE hl_chain SET link = ? WHERE position = ?", (link.hex(), position))
    assert ok(audited, "audit", "verify").exit_code == 0
    assert broken_at(audited, "--position", "16", "--digest", after["digest"]) == 16
    result = run(audited, "audit", "verify", "--position", "16", "--digest", after["digest"])
    assert "no longer hashes to the digest given" in result.stderr
    ok(audited, "audit", "verify", "--position", "6", "--digest", before["digest"])
    assert end == head(audited)


def test_digest_and_position_go_together(audited: str) -> None:
    assert run(audited, "audit", "verify", "--digest", "0" * 64).exit_code == 2
    assert run(audited, "audit", "verify", "--position", "3", "--digest", "xyz").exit_code == 2


def test_missing_links_are_filled_under_the_journal_lock_by_the_next_import(audited: str) -> None:
    """A journal recorded before the chain existed (or by a writer without the hook)."""
    with raw(audited) as c:
        c.execute("DELETE FROM hl_chain WHERE position > 4")
    assert broken_at(audited) == 5
    ok(audited, "import", "-", stdin=jsonl([NEW_ENTITY]))
    ok(audited, "audit", "verify")


def test_the_same_stored_journal_has_the_same_digest_on_sqlite_and_postgresql(
    sqlite_url: str, pg_url: str
) -> None:
    ok(sqlite_url, "import", "-", stdin=jsonl(story()))
    ok(pg_url, "init")
    with raw(sqlite_url) as src, raw(pg_url) as dst:
        events = src.query(
            f"SELECT id, originator_id, originator_version, topic, state FROM {EVENTS} ORDER BY id"
        )
        dst.executemany(
            f"INSERT INTO {EVENTS} (id, originator_id, originator_version, topic, "
            "state) VALUES (?, ?, ?, ?, ?)",
            [(i, str(uuid.UUID(bytes=bytes(o))), v, t, bytes(s)) for i, o, v, t, s in events],
        )
        dst.executemany(
            "INSERT INTO hl_chain (position, link) VALUES (?, ?)",
            src.query("SELECT position, link FROM hl_chain"),
        )
    assert digest(pg_url) == digest(sqlite_url)
    ok(pg_url, "audit", "verify")
    assert as_json(pg_url, "replay")["digest"] == as_json(sqlite_url, "replay")["digest"]


# --- the independent verifier of docs/audit.md ------------------------------------------


def test_the_independent_verifier_in_the_docs_gives_the_same_digest(
    sqlite_url: str, tmp_path: Path
) -> None:
    doc = (ROOT / "docs" / "audit.md").read_text(encoding="utf-8")
    section = doc.split("## An independent verifier", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert code is not None
    assert len(code.group(1).splitlines()) <= 40
    script = tmp_path / "chain.py"
    script.write_text(code.group(1), encoding="utf-8")
    ok(sqlite_url, "import", "-", stdin=jsonl(story()))
    path = sqlite_url.removeprefix("sqlite:///")
    for position in (None, 9):
        args = [] if position is None else [str(position)]
        out = subprocess.run(
            [sys.executable, str(script), path, *args], check=True, capture_output=True, text=True
        ).stdout
        extra = [] if position is None else ["--position", str(position)]
        assert out == ok(sqlite_url, "audit", "digest", *extra).stdout


# --- replay -----------------------------------------------------------------------------


def test_replay_rebuilds_and_its_digest_matches_the_check(audited: str) -> None:
    checked = as_json(audited, "replay", "--check")
    assert checked["check"] == "ok" and checked["projections_rebuilt"] is False
    rebuilt = as_json(audited, "replay")
    assert rebuilt["projections_rebuilt"] is True
    assert rebuilt["digest"] == checked["digest"]
    assert rebuilt["transactions"] == len(story()) and rebuilt["events"] == head(audited)
    assert float(rebuilt["rate"]) > 0
    ok(audited, "audit", "verify")  # a rebuild keeps the chain


def test_replay_check_names_a_corrupted_projection_row_and_leaves_it(audited: str) -> None:
    with raw(audited) as c:
        c.execute(
            "UPDATE hl_periods SET holder = 'X' WHERE row_id = (SELECT MIN(row_id) FROM hl_periods)"
        )
    result = run(audited, "replay", "--check")
    assert result.exit_code == 3, result.output
    assert "table hl_periods" in result.stderr and '"holder": "X"' in result.stderr
    with raw(audited) as c:
        assert c.scalar("SELECT COUNT(*) FROM hl_periods WHERE holder = 'X'") == 1


def test_replay_known_at_gives_the_state_of_that_position(audited: str) -> None:
    before_reversal = [r["position"] for r in as_json(audited, "journal")["rows"]][-2]
    past = as_json(audited, "replay", "--known-at", str(before_reversal))
    assert past["position"] == before_reversal
    assert past["transactions"] == len(story()) - 1
    assert past["digest"] != as_json(audited, "replay", "--check")["digest"]
    checked = as_json(audited, "replay", "--check", "--known-at", str(before_reversal))
    assert checked["check"] == "ok"
    assert {k: checked[k] for k in ("position", "transactions", "events", "digest")} == {
        k: past[k] for k in ("position", "transactions", "events", "digest")
    }


def test_the_same_journal_gives_the_same_state_digest_on_sqlite_and_postgresql(
    sqlite_url: str, pg_url: str, tmp_path: Path
) -> None:
    ok(sqlite_url, "import", "-", stdin=jsonl(story()))
    exported = ok(sqlite_url, "journal", "--format", "jsonl").stdout.encode()
    copy = f"sqlite:///{tmp_path}/copy.db"
    for url in (pg_url, copy):
        ok(url, "import", "-", stdin=exported)
    digests = {
        url: as_json(url, "replay", "--check")["digest"] for url in (sqlite_url, pg_url, copy)
    }
    assert len(set(digests.values())) == 1, digests


# --- the journal ------------------------------------------------------------------------


def test_journal_rows_carry_the_transaction_as_recorded_and_the_chain(audited: str) -> None:
    doc = as_json(audited, "journal")
    assert doc["position"] == head(audited)
    assert [r["id"] for r in doc["rows"]] == [t["id"] for t in story()]
    last = doc["rows"][-1]
    assert last["transaction"] == story()[-1]
    assert list(last["transaction"]) == list(story()[-1])  # key order as filed
    assert last["chain"] == digest(audited)["digest"]
    assert set(last) == {"position", "id", "type", "date", "recorded_at", "chain", "transaction"}
    page = as_json(audited, "journal", "--after", str(doc["rows"][2]["position"]), "--limit", "2")
    assert [r["id"] for r in page["rows"]] == [t["id"] for t in story()[3:5]]
    known = as_json(audited, "journal", "--known-at", str(doc["rows"][3]["position"]))
    assert len(known["rows"]) == 4 and known["position"] == doc["rows"][3]["position"]
    csv = ok(audited, "journal", "--format", "csv").stdout.splitlines()
    assert csv[0] == "position,id,type,date,recorded_at,chain,transaction"
    assert len(csv) == len(story()) + 1


def test_journal_jsonl_round_trips_on_both_databases(audited: str, tmp_path: Path) -> None:
    lines = ok(audited, "journal", "--format", "jsonl").stdout.splitlines()
    filed = [json.loads(line) for line in lines]
    assert [{k: v for k, v in t.items() if k != "journal"} for t in filed] == story()
    assert set(filed[0]["journal"]) == {"position", "recorded_at", "chain"}
    copy = f"sqlite:///{tmp_path}/copy.db"
    ok(copy, "import", "-", stdin=("\n".join(lines) + "\n").encode())
    assert as_json(copy, "holdings") == as_json(audited, "holdings")
    assert (
        as_json(copy, "replay", "--check")["digest"]
        == as_json(audited, "replay", "--check")["digest"]
    )


def test_the_demo_ledger_round_trips_through_its_journal(sqlite_url: str, tmp_path: Path) -> None:
    ok(sqlite_url, "demo", "--units", "1500")
    exported = ok(sqlite_url, "journal", "--format", "jsonl").stdout
    demo = [*shipped_vintages(), *generate(units=1500)]  # as `demo` records it
    as_filed = [json.dumps(t, ensure_ascii=False, separators=(",", ":")) for t in demo]
    assert [
        re.sub(r',"journal":\{[^{}]*\}\}$', "}", line) for line in exported.splitlines()
    ] == as_filed
    copy = f"sqlite:///{tmp_path}/copy.db"
    ok(copy, "import", "-", stdin=exported.encode())
    for args in (
        ["holdings"],
        ["holdings", "--by", "zone"],
        ["holdings", "--as-of", "2019-06-30"],
        ["report", "movements", "--year", "2018"],
        ["report", "sales", "--year", "2019"],
        ["report", "dismemberment", "--as-of", "2020-12-31"],
        ["report", "divestments"],
    ):
        assert as_json(copy, *args) == as_json(sqlite_url, *args), args
    assert (
        as_json(copy, "replay", "--check")["digest"]
        == as_json(sqlite_url, "replay", "--check")["digest"]
    )
    again = ok(copy, "journal", "--format", "jsonl").stdout
    assert [json.loads(x)["id"] for x in again.splitlines()] == [
        json.loads(x)["id"] for x in exported.splitlines()
    ]


# --- read-only access -------------------------------------------------------------------


def record_without_catch_up(url: str) -> None:
    """Another writer records a transaction; the projections are not caught up yet."""
    import io

    s = Session(url)
    result = s.recorder.record([("late.jsonl", io.BytesIO(jsonl([NEW_ENTITY])))])
    assert not result.errors
    s.conn.close()


READ_COMMANDS = (
    ["holdings"],
    ["history", "U1"],
    ["journal"],
    ["report", "movements", "--year", "2018"],
)


def test_sqlite_read_only_urls_answer_queries_and_refuse_writes(sqlite_url: str) -> None:
    ok(sqlite_url, "import", "-", stdin=jsonl(story()))
    path = sqlite_url.removeprefix("sqlite:///")
    for url in (f"sqlite:///{path}?mode=ro", f"sqlite:///file:{path}?mode=ro&uri=true"):
        for args in READ_COMMANDS:
            assert as_json(url, *args) == as_json(sqlite_url, *args), (url, args)
        assert as_json(url, "replay", "--check")["check"] == "ok"
        ok(url, "audit", "verify")
        assert digest(url) == digest(sqlite_url)
        assert "nothing written" in ok(url, "replay").stdout
        for args in (["import", "-"], ["init"], ["demo", "--units", "100"]):
            result = run(url, *args, stdin=jsonl([NEW_ENTITY]))
            assert result.exit_code == 4, (url, args, result.output)
            assert "readonly" in result.stderr
    assert head(sqlite_url) == as_json(sqlite_url, "journal")["position"]
    result = run(sqlite_url, "db", "grant-auditor", "auditor")
    assert result.exit_code == 1 and "mode=ro" in result.stderr


def test_a_read_only_connection_says_when_the_projections_lag(sqlite_url: str) -> None:
    ok(sqlite_url, "import", "-", stdin=jsonl(story()))
    position = as_json(sqlite_url, "holdings")["position"]
    record_without_catch_up(sqlite_url)
    url = f"{sqlite_url}?mode=ro"
    result = ok(url, "holdings", "--format", "json")
    assert json.loads(result.stdout)["position"] == position
    assert (
        f"answers stand at position {position}, the journal ends at {head(sqlite_url)}"
        in result.stderr
    )
    assert "note:" not in ok(sqlite_url, "holdings").stderr  # a writer catches up


@contextmanager
def auditor_role(url: str) -> Iterator[str]:
    from sqlalchemy.engine import make_url

    role = "auditor_" + uuid.uuid4().hex[:8]
    try:
        yield role
    finally:
        gc.collect()  # close the auditor's connections
        with raw(url) as c:
            c.execute(f"DROP OWNED BY {role}") if c.scalar(
                "SELECT 1 FROM pg_roles WHERE rolname = ?", (role,)
            ) else None
        with raw(make_url(ADMIN_PG_URL).render_as_string(hide_password=False)) as c:
            c.execute(f"DROP ROLE IF EXISTS {role}")


def test_the_auditor_role_reads_everything_and_writes_nothing(pg_url: str) -> None:
    ok(pg_url, "import", "-", stdin=jsonl(story()))
    with auditor_role(pg_url) as role:
        assert "created" in ok(pg_url, "db", "grant-auditor", role).stdout
        assert "updated" in ok(pg_url, "db", "grant-auditor", role).stdout
        auditor = pg_url.replace("postgres@", f"{role}@", 1)
        assert auditor != pg_url
        for args in READ_COMMANDS:
            assert as_json(auditor, *args) == as_json(pg_url, *args), args
        assert as_json(auditor, "replay", "--check")["check"] == "ok"
        assert "nothing written" in ok(auditor, "replay").stdout
        ok(auditor, "audit", "verify")
        assert digest(auditor) == digest(pg_url)
        end = head(pg_url)
        for args in (["import", "-"], ["init"], ["demo", "--units", "100"]):
            result = run(auditor, *args, stdin=jsonl([NEW_ENTITY]))
            assert result.exit_code == 4, (args, result.output)
            assert re.search(r"permission denied|read-only transaction", result.stderr), args
        assert head(pg_url) == end
        with raw(auditor) as c:
            for sql in (
                "DELETE FROM hl_chain",
                "UPDATE hl_meta SET value = 'x'",
                "SET default_transaction_read_only = off; DELETE FROM hl_periods",
                "SET default_transaction_read_only = off; TRUNCATE hl_periods",
                "SET default_transaction_read_only = off; CREATE TABLE evil (x int)",
            ):
                with pytest.raises(Exception, match="permission denied|read-only"):
                    c.execute(sql)
                c.raw.rollback()
        position = as_json(pg_url, "holdings")["position"]
        record_without_catch_up(pg_url)
        result = ok(auditor, "holdings", "--format", "json")
        assert json.loads(result.stdout)["position"] == position
        assert f"answers stand at position {position}" in result.stderr


def test_grant_auditor_refuses_roles_that_could_write(pg_url: str) -> None:
    ok(pg_url, "init")
    result = run(pg_url, "db", "grant-auditor", "postgres")
    assert result.exit_code == 1 and "running this command" in result.stderr
    assert run(pg_url, "db", "grant-auditor", "Bad-Name").exit_code == 1


def test_an_event_the_fold_cannot_read_makes_replay_exit_3_not_crash(audited: str) -> None:
    with raw(audited) as c:
        c.execute(f"UPDATE {EVENTS} SET state = ? WHERE id = ?", (b'{"forged":true}', 8))
    for args in (["replay", "--check"], ["replay", "--known-at", "10"], ["replay"]):
        result = run(audited, *args)
        assert result.exit_code == 3, (args, result.output)
        assert "the journal cannot be replayed" in result.stderr
    with raw(audited) as c:
        assert c.scalar("SELECT COUNT(*) FROM hl_periods") > 0  # the replay left them


def test_replay_prints_one_csv_row(audited: str) -> None:
    lines = ok(audited, "replay", "--check", "--format", "csv").stdout.splitlines()
    assert lines[0] == "position,transactions,events,seconds,rate,digest,check,projections_rebuilt"
    assert lines[1].startswith(f"{head(audited)},{len(story())},{head(audited)},")
    assert lines[1].endswith(",ok,false")


def test_grant_auditor_refuses_a_role_that_could_write_through_public(pg_url: str) -> None:
    ok(pg_url, "init")
    with auditor_role(pg_url) as role, raw(pg_url) as c:
        c.execute("GRANT INSERT ON hl_meta TO PUBLIC")
        c.raw.commit()
        result = run(pg_url, "db", "grant-auditor", role)
        assert result.exit_code == 1 and "could still write hl_meta" in result.stderr
        assert c.scalar("SELECT 1 FROM pg_roles WHERE rolname = ?", (role,)) is None


def test_audit_digest_takes_known_at_as_well(audited: str) -> None:
    assert digest(audited, 8) == json.loads(
        ok(audited, "audit", "digest", "--known-at", "8").stdout
    )
