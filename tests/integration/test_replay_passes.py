"""A replay in several passes (a journal larger than `PASS_EVENTS`) and the spilled sorted
runs behind its digest and check give exactly what one pass in memory gives."""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli import Session
from ledger.demo import generate
from projections.engine import position, replay
from projections.engine.runs import Runs, differences
from tests.integration.test_audit import ok, raw
from tests.support import jsonl


@pytest.fixture(scope="module")
def demo_lines() -> bytes:
    """The scale story at 400 units: mergers, reversals, dismemberments, resales."""
    return jsonl(list(generate(units=400, seed=5, profile="scale")))


@pytest.fixture
def demo(db_url: str, demo_lines: bytes) -> Iterator[Session]:
    ok(db_url, "import", "-", stdin=demo_lines)
    session = Session(db_url)
    session.current()  # the stored projections caught up
    yield session
    session.conn.close()


def everything(result: replay.Replayed) -> dict[str, Any]:
    return {
        "position": result.position,
        "transactions": result.transactions,
        "events": result.events,
        "digest": replay.state_digest(result.state),
        "rows": {t: sorted(map(repr, result.state.rows(t))) for t in replay.TABLES},
    }


@pytest.mark.parametrize("pass_events", [97, 700])
def test_several_passes_give_the_one_pass_state_digest_and_counts(
    demo: Session, pass_events: int
) -> None:
    one = replay.rebuild_in_memory(demo.store)
    several = replay.rebuild_in_memory(demo.store, pass_events=pass_events)
    assert one.passes == 1 and several.passes == -(-demo.store.head() // pass_events) + 1
    assert one.events == demo.store.head() and one.state.lines["hl_periods"].lines > 400
    assert everything(several) == everything(one)
    assert replay.compare(demo.conn, several.position, several.state) is None


def test_several_passes_up_to_a_position_match_the_stored_state_then(demo: Session) -> None:
    position = demo.conn.scalar(
        "SELECT position FROM hl_transactions ORDER BY position LIMIT 1 OFFSET 40"
    )
    several = replay.rebuild_in_memory(demo.store, position, pass_events=150)
    assert several.position == position and several.passes > 2
    assert everything(several) == everything(replay.rebuild_in_memory(demo.store, position))
    assert replay.compare(demo.conn, position, several.state) is None


def test_the_check_names_the_same_row_from_spilled_runs_on_both_sides(
    demo: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with raw(demo.url) as c:
        c.execute(
            "UPDATE hl_movements SET kind = 'sold' WHERE row_id = "
            "(SELECT MAX(row_id) FROM hl_movements WHERE kind <> 'sold')"
        )
    in_memory = replay.compare(
        demo.conn, demo.store.head(), replay.rebuild_in_memory(demo.store).state
    )
    monkeypatch.setattr(replay, "RUN_ROWS", 50)  # stored rows in many spilled runs
    monkeypatch.setattr(replay, "PAGE", 17)
    spilled = replay.compare(
        demo.conn, demo.store.head(), replay.rebuild_in_memory(demo.store, pass_events=300).state
    )
    assert in_memory is not None and spilled == in_memory
    assert spilled.table == "hl_movements" and spilled.count == 2  # one extra, one missing
    assert spilled.where == "stored" and spilled.row["kind"] == "sold"


def test_a_plain_replay_rebuilds_and_agrees_with_its_fold_in_several_passes(
    demo: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = ok(demo.url, "replay", "--check", "--format", "json").stdout
    monkeypatch.setattr(replay, "PASS_EVENTS", 250)
    rebuilt = ok(demo.url, "replay", "--format", "json").stdout
    assert '"projections_rebuilt": true' in rebuilt
    assert checked.split('"digest": ')[1][:66] == rebuilt.split('"digest": ')[1][:66]


lines = st.lists(st.binary(max_size=6).map(lambda b: b.replace(b"\n", b"") + b"\n"), max_size=40)


@given(st.lists(lines, max_size=6), st.booleans())
def test_runs_read_back_every_line_sorted(runs: list[list[bytes]], spill: bool) -> None:
    kept = Runs(spill)
    for run in runs:
        kept.add(list(run))
    expected = sorted(line for run in runs for line in run)
    assert list(kept) == expected and list(kept) == expected  # readable twice
    assert kept.lines == len(expected)
    kept.close()


@given(lines, lines)
def test_differences_of_two_sorted_streams_are_the_multiset_differences(
    stored: list[bytes], rebuilt: list[bytes]
) -> None:
    count, extra, missing = differences(iter(sorted(stored)), iter(sorted(rebuilt)))
    more, fewer = Counter(stored) - Counter(rebuilt), Counter(rebuilt) - Counter(stored)
    assert count == sum(more.values()) + sum(fewer.values())
    assert extra == (min(more) if more else None)
    assert missing == (min(fewer) if fewer else None)


def test_a_rebuild_in_several_passes_writes_what_the_catch_ups_wrote_and_goes_on(
    demo: Session, demo_lines: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from projections.engine import tally
    from tests.integration.test_properties import dump

    class Conn:  # what `dump` reads through
        conn = demo.conn

    incremental, kept = dump(Conn), tally.rows(demo.conn)  # type: ignore[arg-type]
    monkeypatch.setattr(replay, "PASS_EVENTS", 150)
    rebuilt = demo.projector.rebuild()
    assert rebuilt.position == demo.store.head() and rebuilt.events == demo.store.head()
    assert dump(Conn) == incremental and tally.rows(demo.conn) == kept  # type: ignore[arg-type]
    # the next catch-up goes on from the rebuilt rows (row ids, current versions)
    unit, holder = demo.conn.query(
        "SELECT u.unit_id, p.holder FROM hl_periods p JOIN hl_units u ON u.unit_key = "
        "p.unit_key AND u.known_to IS NULL WHERE p.known_to IS NULL AND p.to_date IS NULL "
        "AND p.held_as = 'full_ownership' ORDER BY p.row_id DESC LIMIT 1"
    )[0]
    sold = {
        "id": "S-AFTER",
        "type": "sale",
        "date": "2027-01-05",
        "entity": holder,
        "units": [unit],
        "buyer": {"category": "individual"},
        "price_eur": "100.00",
    }
    ok(demo.url, "import", "-", stdin=jsonl([sold]))
    ok(demo.url, "replay", "--check")


def test_a_first_catch_up_far_behind_is_a_rebuild_and_gives_the_same_rows(
    db_url: str, demo_lines: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    from projections.engine import catchup, rebuild, tally
    from tests.integration.test_properties import dump

    session = Session(db_url)
    session.conn  # noqa: B018 (the schema, created on connecting)
    result = session.recorder.record([("demo", io.BytesIO(demo_lines))])
    assert not result.errors and session.projector.position() == 0
    calls: list[bool] = []
    real = rebuild.rebuild
    monkeypatch.setattr(rebuild, "rebuild", lambda *a, **k: calls.append(True) or real(*a, **k))
    monkeypatch.setattr(catchup, "REBUILD_BEHIND", 100)
    monkeypatch.setattr(replay, "PASS_EVENTS", 400)
    caught = session.projector.catch_up()
    assert calls and caught.position == session.store.head() == caught.events

    class Conn:
        conn = session.conn

    rebuilt, kept = dump(Conn), tally.rows(session.conn)  # type: ignore[arg-type]
    monkeypatch.setattr(catchup, "REBUILD_BEHIND", 10**9)  # batches, from empty again
    session.conn.execute("DELETE FROM hl_holding_days")
    for table in replay.TABLES:
        session.conn.execute(f"DELETE FROM {table}")
    session.conn.execute("UPDATE hl_meta SET value = '0' WHERE key = ?", (position.POSITION_KEY,))
    if session.conn.is_pg:
        session.conn.commit()
    calls.clear()
    session.projector.catch_up()
    assert not calls and dump(Conn) == rebuilt and tally.rows(session.conn) == kept  # type: ignore[arg-type]
    # projections no longer empty (another catch-up got there first): nothing done
    assert real(session.projector, only_if_empty=True) is None and dump(Conn) == rebuilt  # type: ignore[arg-type]
    session.conn.close()


@pytest.mark.parametrize("page", [1, 7, 1000, 100_000])
def test_the_journal_is_read_in_ranges_of_positions_whatever_the_page_or_filter(
    demo: Session, page: int
) -> None:
    """`passes.journal` pages by ranges of positions (a plan the database cannot turn
    into a scan of the rest of the journal per page): every event once, in order, with
    or without a filter, up to any position."""
    from projections.engine import passes

    store = demo.store
    head = store.head()
    every = [tuple(r) for r in store.read_page(0, head + 1)]
    assert [tuple(r) for r in passes.journal(store, None, page)] == every
    units = f" AND {passes._prefix(passes.UNIT_TOPICS)} <> ?"
    others = [r for r in every if not r[2].startswith(passes.UNIT_TOPICS)]
    assert 0 < len(others) < len(every)
    read = [tuple(r) for r in passes.journal(store, head, page, units, (passes.UNIT_TOPICS,))]
    assert read == others
    half = head // 2
    assert [tuple(r) for r in passes.journal(store, half, page)] == every[:half]
