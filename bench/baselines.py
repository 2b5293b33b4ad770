"""The baselines each measure of the ledger is compared with, built as
the library's own documentation recommends (docs/performance.md has the tables).

Import:
  (a) the stock eventsourcing-sqlalchemy path: one `app.save(*events)` per ledger
      transaction, with the very events our import stored (decoded by the library's
      mapper from our journal, so the rows written are byte for byte the same size);
  (b) the physical limit: one raw `executemany` (PostgreSQL: psycopg2 `execute_values`,
      the driver's batched form) of the same rows into a plain table, one transaction.
Replay:
  (a) eventsourcing's own read path: `app.recorder.select_notifications(...)` in pages
      plus `app.mapper.to_domain_event` for each notification (no fold);
  (b) the limit: a keyset `SELECT id, originator_id, topic, state ... WHERE id > ? ORDER
      BY id LIMIT ?` on a plain DBAPI connection with `orjson.loads` of each state
      (PostgreSQL: `convert_from(state, 'UTF8')`, text instead of bytea); no fold.
Holdings as of a date:
  the same aggregate written by hand in SQL on a plain table holding the current rows of
  `hl_periods` (no bitemporal columns), indexed on the holder.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent

from ledger.storage.application import EVENTS_TABLE, HousingLedger, persistence_env

RECORDED_SUFFIX = "RecordedTransaction.Recorded"

#: (originator_id as the driver gives it, originator_version, topic, state bytes)
JournalRow = tuple[Any, int, str, bytes]


# --------------------------------------------------------------------------- import


def read_journal(conn: Any, is_pg: bool) -> list[JournalRow]:
    """Every stored event of the journal, in order (a plain DBAPI connection)."""
    cur = conn.cursor()
    cur.execute(
        f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE} ORDER BY id"
    )
    rows = [(oid, v, topic, bytes(s)) for oid, v, topic, s in cur.fetchall()]
    cur.close()
    if is_pg:
        conn.rollback()
    return rows


def transactions(rows: Sequence[JournalRow]) -> list[list[JournalRow]]:
    """The journal cut into ledger transactions (each ends with its `Recorded` event)."""
    out: list[list[JournalRow]] = []
    current: list[JournalRow] = []
    for row in rows:
        current.append(row)
        if row[2].endswith(RECORDED_SUFFIX):
            out.append(current)
            current = []
    if current:
        out.append(current)
    return out


def stock_sample(
    rows: Sequence[JournalRow], target_events: int
) -> tuple[list[list[JournalRow]], int, int]:
    """Every k-th ledger transaction, k chosen for about `target_events` events: the same
    mix of transaction sizes as the whole import. Returns (sample, k, events)."""
    txs = transactions(rows)
    k = max(1, -(-len(rows) // target_events)) if target_events else 1
    sample = txs[::k]
    return sample, k, sum(len(t) for t in sample)


def domain_events(app: HousingLedger, sample: list[list[JournalRow]]) -> list[list[Any]]:
    """The sample's rows as the library's domain events (built before the clock starts)."""

    def uuid(value: Any) -> UUID:
        return (
            value
            if isinstance(value, UUID)
            else (UUID(value) if isinstance(value, str) else UUID(bytes=bytes(value)))
        )

    return [
        [
            app.mapper.to_domain_event(
                StoredEvent(originator_id=uuid(oid), originator_version=v, topic=t, state=s)
            )
            for oid, v, t, s in tx
        ]
        for tx in sample
    ]


def stock_app(url: str) -> HousingLedger:
    """A fresh stock application on an empty database (the library creates its table)."""
    return HousingLedger(env=persistence_env(url, create_table=True))


def stock_save(app: HousingLedger, events: list[list[Any]]) -> int:
    """The stock write path: one `app.save(...)` (one database transaction) per ledger
    transaction. `save` collects the given events exactly as it collects an aggregate's
    pending events, then runs the library's mapper and recorder."""
    count = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for tx in events:
            app.save(*tx)
            count += len(tx)
    return count


RAW_TABLE = "bench_raw_events"


def raw_table(conn: Any, is_pg: bool) -> None:
    cur = conn.cursor()
    cur.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
    if is_pg:
        cur.execute(
            f"CREATE TABLE {RAW_TABLE} (id bigint PRIMARY KEY, originator_id uuid NOT NULL, "
            "originator_version bigint NOT NULL, topic text NOT NULL, state bytea NOT NULL)"
        )
        conn.commit()
    else:
        cur.execute(
            f"CREATE TABLE {RAW_TABLE} (id INTEGER PRIMARY KEY, originator_id BLOB NOT NULL, "
            "originator_version INTEGER NOT NULL, topic TEXT NOT NULL, state BLOB NOT NULL)"
        )
    cur.close()


def raw_insert(conn: Any, is_pg: bool, rows: Sequence[JournalRow]) -> int:
    """One transaction, one batched insert of every row (ids given, as the ledger does)."""
    cur = conn.cursor()
    if is_pg:
        from psycopg2.extras import execute_values

        execute_values(
            cur,
            f"INSERT INTO {RAW_TABLE} (id, originator_id, originator_version, topic, state) "
            "VALUES %s",
            [(i, oid, v, t, s) for i, (oid, v, t, s) in enumerate(rows, start=1)],
            page_size=1000,
        )
        conn.commit()
    else:
        cur.execute("BEGIN")
        cur.executemany(
            f"INSERT INTO {RAW_TABLE} (id, originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?, ?)",
            [(i, oid, v, t, s) for i, (oid, v, t, s) in enumerate(rows, start=1)],
        )
        cur.execute("COMMIT")
    cur.close()
    return len(rows)


# --------------------------------------------------------------------------- replay


def library_read(app: HousingLedger, page: int = 1000) -> int:
    """eventsourcing's read path: notifications in pages, each decoded into a domain event
    by the application's mapper. Page 1000 (the faster of 1k / 10k in PERFORMANCE-NOTES)."""
    last = 0
    count = 0
    to_domain_event = app.mapper.to_domain_event
    while True:
        notifications = app.recorder.select_notifications(
            start=last, limit=page, inclusive_of_start=False
        )
        if not notifications:
            return count
        for n in notifications:
            to_domain_event(n)
        count += len(notifications)
        last = notifications[-1].id


def raw_read(conn: Any, is_pg: bool, page: int = 10_000) -> int:
    """The limit: keyset pages on a plain DBAPI connection, `orjson.loads` of each state."""
    state = "convert_from(state, 'UTF8')" if is_pg else "state"
    sql = f"SELECT id, originator_id, topic, {state} FROM {EVENTS_TABLE} " + (
        "WHERE id > %s ORDER BY id LIMIT %s" if is_pg else "WHERE id > ? ORDER BY id LIMIT ?"
    )
    loads = orjson.loads
    last = 0
    count = 0
    cur = conn.cursor()
    while True:
        cur.execute(sql, (last, page))
        rows = cur.fetchall()
        if not rows:
            break
        for _, _, _, s in rows:
            loads(s)
        count += len(rows)
        last = rows[-1][0]
    cur.close()
    if is_pg:
        conn.rollback()
    return count


# --------------------------------------------------------------------------- holdings

PLAIN_PERIODS = "bench_plain_periods"
_SUMS = (
    "SUM(CASE WHEN held_as = 'full_ownership' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN held_as = 'usufruct' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN held_as = 'bare_ownership' THEN 1 ELSE 0 END)"
)


def plain_periods(conn: Any, is_pg: bool) -> int:
    """The current holding periods in a plain table: what a hand-written query would read."""
    cur = conn.cursor()
    cur.execute(f"DROP TABLE IF EXISTS {PLAIN_PERIODS}")
    cur.execute(
        f"CREATE TABLE {PLAIN_PERIODS} AS SELECT unit_key, holder, held_as, from_date, "
        "to_date, zone FROM hl_periods WHERE known_to IS NULL"
    )
    cur.execute(f"CREATE INDEX {PLAIN_PERIODS}_holder ON {PLAIN_PERIODS} (holder)")
    if is_pg:
        cur.execute(f"ANALYZE {PLAIN_PERIODS}")
    cur.execute(f"SELECT COUNT(*) FROM {PLAIN_PERIODS}")
    count = int(cur.fetchone()[0])
    cur.close()
    if is_pg:
        conn.commit()
    return count


def drop_plain_periods(conn: Any, is_pg: bool) -> None:
    cur = conn.cursor()
    cur.execute(f"DROP TABLE IF EXISTS {PLAIN_PERIODS}")
    cur.close()
    if is_pg:
        conn.commit()


def hand_holdings(
    conn: Any, is_pg: bool, as_of: str, entity: str | None, by: str | None
) -> list[tuple[Any, ...]]:
    """Units held per holder (and `by` key) and right on `as_of`, written by hand."""
    p = "%s" if is_pg else "?"
    where = f"from_date <= {p} AND (to_date IS NULL OR to_date > {p})"
    params: list[Any] = [as_of, as_of]
    if entity is not None:
        where += f" AND holder = {p}"
        params.append(entity)
    key = f", {by}" if by else ""
    cur = conn.cursor()
    cur.execute(
        f"SELECT holder{key}, {_SUMS} FROM {PLAIN_PERIODS} WHERE {where} GROUP BY holder{key}",
        params,
    )
    rows = cur.fetchall()
    cur.close()
    if is_pg:
        conn.rollback()
    return list(rows)
