"""The journal's hash chain: how links are built, stored, and checked.

Every stored event gets a link: link_0 is 32 zero bytes and

    link_i = SHA-256(link_{i-1} || record(event at position i))

where `record` length-prefixes five fields (see `record` and docs/audit.md, which has an
independent verifier). The link of position P is the journal's *digest* at P: an auditor
who keeps it outside the system can later prove that nothing up to P was changed,
deleted, inserted or reordered.

Links are written by `append_links`, an `after_append` hook of `SqlEventStore.append`, in
the same database transaction as the events (so a crash never leaves events without
links), into `hl_chain`. That table is not a projection: a rebuild never touches it.
`verify` recomputes every link from the stored events alone and compares.

This module must not trust what it checks: links are recomputed from the exact stored
bytes (PostgreSQL `bytea`, SQLite `BLOB`), never from decoded or re-encoded states.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.storage.application import EVENTS_TABLE
from ledger.storage.database import Connection

GENESIS = bytes(32)
CHAIN_TABLE = "hl_chain"
PAGE = 10_000


def _field(data: bytes) -> bytes:
    return struct.pack(">Q", len(data)) + data


def record(position: int, key_hex: str, version: int, topic: str, state: bytes) -> bytes:
    """The canonical encoding of one event: five fields, each an 8-byte big-endian length
    then the bytes (integers as decimal ASCII, the aggregate id as 32 lowercase hex
    digits, the topic as UTF-8, the state as stored)."""
    return (
        _field(str(position).encode("ascii"))
        + _field(key_hex.encode("ascii"))
        + _field(str(version).encode("ascii"))
        + _field(topic.encode("utf-8"))
        + _field(state)
    )


def next_link(
    previous: bytes, position: int, key_hex: str, version: int, topic: str, state: bytes
) -> bytes:
    return hashlib.sha256(previous + record(position, key_hex, version, topic, state)).digest()


def _bytes(state: Any) -> bytes:
    if isinstance(state, str):  # a state stored as SQLite TEXT: hash its UTF-8 bytes
        return state.encode("utf-8")
    return bytes(state)


# --- writing ----------------------------------------------------------------------------


def stored_link(conn: Connection, position: int) -> bytes | None:
    if position == 0:
        return GENESIS
    value = conn.scalar(f"SELECT link FROM {CHAIN_TABLE} WHERE position = ?", (position,))
    return bytes.fromhex(value) if value is not None else None


def append_links(conn: Connection, first_id: int, events: Sequence[StoredEvent]) -> None:
    """`after_append` hook: store the links of the events just inserted from `first_id`.

    Runs inside the append's transaction, under the journal lock. If the links stop
    before `first_id` (events recorded before the chain existed, or by a writer without
    this hook), they are computed from the stored events first, so the chain has no gap.
    """
    previous = _links_up_to(conn, first_id - 1)
    _insert_links(conn, chain_links(previous, first_id, events))


_KEY_FIELD = struct.pack(">Q", 32)  # the aggregate id: always 32 hex digits


def chain_links(
    previous: bytes, first_id: int, events: Sequence[StoredEvent]
) -> list[tuple[int, str]]:
    """(position, link hex) of `events` stored from `first_id`, after the link `previous`:
    `next_link` for each, in one expression per event (a bulk import hashes every event;
    the topics' fields are built once). `tests/unit/test_chain.py` checks it against
    `next_link`."""
    sha256, pack, join = hashlib.sha256, struct.Struct(">Q").pack, b"".join
    topics: dict[str, bytes] = {}
    rows: list[tuple[int, str]] = []
    append = rows.append
    for position, event in enumerate(events, start=first_id):
        key = event.originator_id
        key_hex = b"%032x" % (key.int if type(key) is UUID else UUID(str(key)).int)
        topic = topics.get(event.topic)
        if topic is None:
            topic = topics[event.topic] = _field(event.topic.encode("utf-8"))
        at = b"%d" % position
        version = b"%d" % event.originator_version
        state = event.state if type(event.state) is bytes else _bytes(event.state)
        previous = sha256(
            join(
                (
                    previous,
                    pack(len(at)),
                    at,
                    _KEY_FIELD,
                    key_hex,
                    pack(len(version)),
                    version,
                    topic,
                    pack(len(state)),
                    state,
                )
            )
        ).digest()
        append((position, previous.hex()))
    return rows


def _insert_links(conn: Connection, rows: list[tuple[int, str]]) -> None:
    if not rows:
        return
    if conn.is_pg:  # one statement, not batches of INSERTs
        conn.execute(
            f"INSERT INTO {CHAIN_TABLE} (position, link) "
            "SELECT * FROM unnest(?::bigint[], ?::text[])",
            ([p for p, _ in rows], [link for _, link in rows]),
        )
    else:
        conn.executemany(f"INSERT INTO {CHAIN_TABLE} (position, link) VALUES (?, ?)", rows)


def _links_up_to(conn: Connection, position: int) -> bytes:
    """The link at `position`, storing any missing links before it."""
    link = stored_link(conn, position)
    if link is not None:
        return link
    last = int(
        conn.scalar(
            f"SELECT COALESCE(MAX(position), 0) FROM {CHAIN_TABLE} WHERE position < ?", (position,)
        )
        or 0
    )
    previous = stored_link(conn, last) or GENESIS
    rows: list[tuple[int, str]] = []
    for pos, key, version, topic, state in read_events(conn, last, position):
        previous = next_link(previous, pos, key, version, topic, _bytes(state))
        rows.append((pos, previous.hex()))
    _insert_links(conn, rows)
    return previous


# --- reading ----------------------------------------------------------------------------


def _key_hex(conn: Connection) -> str:
    return "replace(originator_id::text, '-', '')" if conn.is_pg else "lower(hex(originator_id))"


def read_events(
    conn: Connection, after: int, upto: int | None = None, page: int = PAGE
) -> Iterator[tuple[Any, ...]]:
    """(position, key hex, version, topic, state bytes) of the stored events, in keyset
    pages. States are fetched as the exact stored bytes on both databases."""
    stop = "" if upto is None else " AND id <= ?"
    while True:
        params: list[Any] = [after] + ([] if upto is None else [upto]) + [page]
        rows = conn.query(
            f"SELECT id, {_key_hex(conn)}, originator_version, topic, state FROM {EVENTS_TABLE} "
            f"WHERE id > ?{stop} ORDER BY id LIMIT ?",
            params,
        )
        yield from rows
        if len(rows) < page:
            return
        after = rows[-1][0]


def read_links(
    conn: Connection, after: int, upto: int | None = None, page: int = PAGE
) -> Iterator[tuple[int, str]]:
    stop = "" if upto is None else " AND position <= ?"
    while True:
        params: list[Any] = [after] + ([] if upto is None else [upto]) + [page]
        rows = conn.query(
            f"SELECT position, link FROM {CHAIN_TABLE} WHERE position > ?{stop} "
            "ORDER BY position LIMIT ?",
            params,
        )
        yield from ((int(p), str(link)) for p, link in rows)
        if len(rows) < page:
            return
        after = rows[-1][0]


def head(conn: Connection) -> int:
    return int(conn.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {EVENTS_TABLE}") or 0)


# --- checking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """Where and why the chain breaks."""

    position: int
    reason: str

    def __str__(self) -> str:
        return f"chain broken at position {self.position}: {self.reason}"


@dataclass
class ChainResult:
    """What a walk over the journal found: the last position and its recomputed link."""

    position: int = 0
    digest: str = GENESIS.hex()
    events: int = 0
    broken: Break | None = None
    marked: str | None = None  # the recomputed link at the position asked for, if reached


def walk(conn: Connection, upto: int | None = None, mark: int | None = None) -> ChainResult:
    """Recompute the chain from the stored events (up to `upto`), comparing every stored
    link, and stop at the first break: a missing position, a missing link, or a stored
    link that the stored events no longer hash to."""
    result = ChainResult()
    link = GENESIS
    end = head(conn) if upto is None else upto
    links = read_links(conn, 0, end)
    pending = next(links, None)
    for position, key, version, topic, state in read_events(conn, 0, end):
        expected = result.position + 1
        if position != expected:
            result.broken = Break(expected, "the event is missing (deleted?)")
            return result
        link = next_link(link, position, key, int(version), topic, _bytes(state))
        while pending is not None and pending[0] < position:
            pending = next(links, None)
        if pending is None or pending[0] != position:
            result.broken = Break(
                position, "no link is stored for this event (inserted outside the ledger?)"
            )
            return result
        if pending[1] != link.hex():
            result.broken = Break(
                position, "the stored event no longer matches its link (changed, replaced or moved)"
            )
            return result
        result.position, result.digest, result.events = position, link.hex(), result.events + 1
        if position == mark:
            result.marked = result.digest
    stop = "" if upto is None else " AND c.position <= ?"
    orphan = conn.scalar(
        f"SELECT MIN(c.position) FROM {CHAIN_TABLE} c WHERE c.position > ?{stop} AND NOT "
        f"EXISTS (SELECT 1 FROM {EVENTS_TABLE} e WHERE e.id = c.position)",
        [result.position] + ([] if upto is None else [upto]),
    )
    if orphan is not None:
        result.broken = Break(int(orphan), "a link is stored but the event is missing (deleted?)")
    return result


def check_digest(walked: ChainResult, position: int, digest: str) -> Break | None:
    """Does the journal up to `position` still hash to `digest` (kept by an auditor)?
    `walked` must be a walk with `mark=position`: its links are recomputed from the
    events alone, so this holds even if every stored link was recomputed after a change."""
    if walked.broken is not None and walked.broken.position <= position:
        return walked.broken
    if walked.marked is None:
        return Break(
            walked.position + 1,
            f"the journal ends at position {walked.position}, "
            f"before position {position} of the digest given "
            "(events were deleted)",
        )
    if walked.marked != digest.lower():
        return Break(
            position,
            f"the journal up to position {position} no longer hashes to the "
            f"digest given (it hashes to {walked.marked}): something at or "
            f"before position {position} was changed",
        )
    return None


# --- the journal as an auditor reads it -------------------------------------------------


@dataclass(frozen=True)
class JournalRow:
    position: int
    id: str
    type: str
    date: str
    recorded_at: str
    chain: str | None
    content: str  # the transaction exactly as recorded (JSON text, key order as filed)

    def record(self, parsed: bool = True) -> dict[str, Any]:
        """The row as `journal --format json` lists it (the transaction parsed, or as the
        text filed for csv); the web view's journal gives the same."""
        return {
            "position": self.position,
            "id": self.id,
            "type": self.type,
            "date": self.date,
            "recorded_at": self.recorded_at,
            "chain": self.chain,
            "transaction": json.loads(self.content) if parsed else self.content,
        }


def journal(
    conn: Connection,
    after: int = 0,
    limit: int | None = None,
    upto: int | None = None,
    page: int = 1000,
) -> Iterator[JournalRow]:
    """The recorded transactions after position `after`, in order, with the chain link at
    each transaction's position, in keyset pages (from the `hl_transactions` projection)."""
    remaining = limit
    while remaining is None or remaining > 0:
        size = page if remaining is None else min(page, remaining)
        stop = "" if upto is None else " AND t.position <= ?"
        rows = conn.query(
            "SELECT t.position, t.id, t.type, t.date, t.recorded_at, c.link, t.content "
            f"FROM hl_transactions t LEFT JOIN {CHAIN_TABLE} c ON c.position = t.position "
            f"WHERE t.position > ?{stop} ORDER BY t.position LIMIT ?",
            [after] + ([] if upto is None else [upto]) + [size],
        )
        for position, tid, ttype, tdate, recorded_at, link, content in rows:
            yield JournalRow(int(position), tid, ttype, tdate, recorded_at, link, content)
        if len(rows) < size:
            return
        after = int(rows[-1][0])
        if remaining is not None:
            remaining -= len(rows)
