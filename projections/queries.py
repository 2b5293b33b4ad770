"""Queries on the projections: holdings as of a date, the history of a unit, and the set
lookups the write side needs (`ProjectionIndex`, the `LedgerIndex` port).

Each query is one SQL statement on indexed columns, never a replay. `known_at=None`
means the current ledger (`known_to IS NULL`); a position P means the ledger as it stood
when the journal ended at P. Without a date, a query answers as of the latest date of
the effective transactions known then (`latest_date`): a usufruct whose term has passed
by that date is the bare owner's full ownership, one whose term is later is not yet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import projections.zones as zones
from ledger.domain import unit_key

if TYPE_CHECKING:  # `--help` and `--version` need the query names, not a database driver
    from ledger.storage.database import Connection

DIMENSIONS = ("zone", "segment", "financing", "commune", "region", "tense")


def known(alias: str, known_at: int | None) -> tuple[str, list[Any]]:
    """SQL (and parameters) keeping the row versions valid at journal position `known_at`."""
    if known_at is None:
        return f"{alias}.known_to IS NULL", []
    return f"{alias}.known_from <= ? AND ({alias}.known_to IS NULL OR {alias}.known_to > ?)", [
        known_at,
        known_at,
    ]


def position_at(conn: Connection, known_at: int | None) -> int:
    """The position of the last transaction taken into account."""
    if known_at is None:
        value = conn.scalar("SELECT MAX(position) FROM hl_transactions")
    else:
        value = conn.scalar(
            "SELECT MAX(position) FROM hl_transactions WHERE position <= ?", (known_at,)
        )
    return int(value or 0)


def latest_date(conn: Connection, known_at: int | None) -> str | None:
    """The latest date of the transactions (not reversals, nor zoning vintages: reference
    data, not a change of any holding) effective at `known_at` (None: the current
    ledger): what "as of" means when no date is given. None: no transaction."""
    if known_at is None:
        value = conn.scalar(
            "SELECT MAX(t.date) FROM hl_transactions t "
            "WHERE t.reversed_at IS NULL AND t.type NOT IN ('reversal', 'zoning_vintage')"
        )
    else:
        value = conn.scalar(
            "SELECT MAX(t.date) FROM hl_transactions t WHERE t.position <= ? "
            "AND (t.reversed_at IS NULL OR t.reversed_at > ?) "
            "AND t.type NOT IN ('reversal', 'zoning_vintage')",
            (known_at, known_at),
        )
    return None if value is None else str(value)


#: SQLite, without statistics, reads one entity's holdings through `hl_periods_asof` (every
#: current period of every holder on the date); the holder's own index reads only that
#: entity's rows. PostgreSQL plans it well itself.
_HOLDER_INDEX_HINT = " INDEXED BY hl_periods_holder"


@dataclass(frozen=True, slots=True)
class HoldingRow:
    entity: str
    key: Any
    full_ownership: int
    usufruct: int
    bare_ownership: int

    def record(self, by: str | None = None) -> dict[str, Any]:
        """The row as the JSON answer writes it: the entity, the `by` dimension's value
        (when split by one), then the units held by right."""
        return {
            "entity": self.entity,
            **({by: self.key} if by else {}),
            "full_ownership": self.full_ownership,
            "usufruct": self.usufruct,
            "bare_ownership": self.bare_ownership,
        }


def holdings(
    conn: Connection,
    as_of: str | None = None,
    entity: str | None = None,
    by: str | None = None,
    known_at: int | None = None,
) -> list[HoldingRow]:
    """Units held per entity (and per `by` key) and right, as of a date (None: the latest
    date, `latest_date`).

    The current ledger is answered from the tally of `hl_holding_days` (a few rows per
    day and holder); the ledger as it stood at an earlier position from the periods."""
    if as_of is None:
        as_of = latest_date(conn, known_at)
        if as_of is None:
            return []
    zone = _zone_sql(conn, as_of, by, known_at)
    if known_at is None:
        return _tally(conn, as_of, entity, by, zone)
    where, params = known("p", known_at)
    where += " AND p.from_date <= ? AND (p.to_date IS NULL OR p.to_date > ?)"
    params += [as_of, as_of]
    hint = ""
    if entity is not None:
        where += " AND p.holder = ?"
        params.append(entity)
        hint = _HOLDER_INDEX_HINT if conn.dialect == "sqlite" else ""
    key_sql, join, join_params = _dimension(by, known_at, zone)
    params = join_params + params
    rows = conn.query(
        f"SELECT p.holder, {key_sql} AS k, "
        "SUM(CASE WHEN p.held_as = 'full_ownership' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN p.held_as = 'usufruct' THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN p.held_as = 'bare_ownership' THEN 1 ELSE 0 END) "
        f"FROM hl_periods p{hint}{join} WHERE {where} GROUP BY p.holder, k",
        params,
    )
    return _holding_rows(rows, by)


def _zone_sql(
    conn: Connection, as_of: str, by: str | None, known_at: int | None
) -> zones.ZoneSql | None:
    """How holdings by zone (or tense) read the zone: the vintage in force on `as_of`."""
    if by not in ("zone", "tense"):
        return None
    return zones.zone_on("p", zones.in_force(zones.vintages(conn, known_at), as_of))


def zoning_in_force(conn: Connection, as_of: str | None, known_at: int | None) -> Any:
    """What an answer by zone says its zones came from: the vintage in force on `as_of`
    (its record), or None (the declared zones: no vintage is in force that day)."""
    if as_of is None:
        as_of = latest_date(conn, known_at)
    found = zones.in_force(zones.vintages(conn, known_at), as_of) if as_of else None
    return found.record() if found is not None else None


def _tally(
    conn: Connection,
    as_of: str,
    entity: str | None,
    by: str | None,
    zone: zones.ZoneSql | None = None,
) -> list[HoldingRow]:
    """Holdings of the current ledger from `hl_holding_days`, the net change of units held
    per day, holder, right and unit dimensions (+1 on a current period's first day, -1 on
    the day it ends): held on D = the sum over the days up to D, because a period never
    ends before it starts. At a million units this reads thousands of rows where the
    periods are a million."""
    where, params = "p.day <= ?", [as_of]
    if entity is not None:
        where += " AND p.holder = ?"
        params.append(entity)
    key_sql, join, join_params = _dimension(by, None, zone)
    rows = conn.query(
        f"SELECT p.holder, {key_sql} AS k, "
        "SUM(CASE WHEN p.held_as = 'full_ownership' THEN p.units ELSE 0 END), "
        "SUM(CASE WHEN p.held_as = 'usufruct' THEN p.units ELSE 0 END), "
        "SUM(CASE WHEN p.held_as = 'bare_ownership' THEN p.units ELSE 0 END) "
        f"FROM hl_holding_days p{join} WHERE {where} GROUP BY p.holder, k",
        join_params + params,
    )
    return _holding_rows(rows, by)


def _dimension(
    by: str | None, known_at: int | None, zone: zones.ZoneSql | None = None
) -> tuple[str, str, list[Any]]:
    """The SQL of the `--by` key of a period row `p`: (expression, join, join parameters);
    a zone (or tense) by `zone`, the zone in force on the date (`projections/zones.py`)."""
    if by is None:
        return "NULL", "", []
    if by in ("zone", "tense"):
        zone = zone or zones.zone_on("p", None)
        return (zone.tense if by == "tense" else zone.zone), zone.join, zone.params
    if by == "region":
        e_where, e_params = known("e", known_at)
        join = f" LEFT JOIN hl_entities e ON e.entity = p.holder AND {e_where}"
        return "e.region", join, e_params
    if by in DIMENSIONS:
        return f"p.{by}", "", []
    raise ValueError(f"unknown dimension {by!r}")


def _holding_rows(rows: Iterable[tuple[Any, ...]], by: str | None) -> list[HoldingRow]:
    result = [
        HoldingRow(holder, bool(k) if by == "tense" else k, int(f), int(u), int(b))
        for holder, k, f, u, b in rows
        if f or u or b
    ]
    return sorted(result, key=lambda r: (r.entity, r.key is not None, r.key))


#: The columns of a unit's history (`HistoryRow.record`), as `history UNIT_ID` gives them.
HISTORY_COLUMNS = ("position", "id", "type", "date", "recorded_at", "reversed")


@dataclass(frozen=True, slots=True)
class HistoryRow:
    position: int
    id: str
    type: str
    date: str
    recorded_at: str
    reversed: bool

    def record(self) -> dict[str, Any]:
        return {c: getattr(self, c) for c in HISTORY_COLUMNS}


def history(conn: Connection, unit_id: str, known_at: int | None = None) -> list[HistoryRow] | None:
    """Every transaction that touched the unit, in journal order; None if never seen."""
    limit = "" if known_at is None else " AND h.position <= ?"
    params: list[Any] = [unit_key(unit_id).hex] + ([] if known_at is None else [known_at])
    rows = conn.query(
        "SELECT DISTINCT t.position, t.id, t.type, t.date, t.recorded_at, t.reversed_at "
        "FROM hl_touches h JOIN hl_transactions t ON t.position = h.position "
        f"WHERE h.item_key = ?{limit} ORDER BY t.position",
        params,
    )
    if not rows:
        return None
    return [
        HistoryRow(
            int(pos),
            tid,
            ttype,
            tdate,
            recorded_at,
            rev is not None and (known_at is None or rev <= known_at),
        )
        for pos, tid, ttype, tdate, recorded_at, rev in rows
    ]


#: A unit's attributes as recorded (`unit`), in this order.
UNIT_ATTRIBUTES = (
    "unit_id",
    "commune",
    "zone",
    "segment",
    "financing",
    "rooms",
    "surface_m2",
    "year_built",
    "rpls_id",
    "mode",
    "entered_by",
    "entered_on",
    "rpls",
)


def unit(conn: Connection, unit_id: str, known_at: int | None = None) -> dict[str, Any]:
    """The unit's attributes as recorded (the version known at `known_at`); {} if the
    ledger does not know it."""
    k_sql, k_params = known("u", known_at)
    found = conn.query(
        f"SELECT {', '.join('u.' + c for c in UNIT_ATTRIBUTES)} FROM hl_units u "
        f"WHERE u.unit_key = ? AND {k_sql}",
        [unit_key(unit_id).hex, *k_params],
    )
    return dict(zip(UNIT_ATTRIBUTES, found[0], strict=True)) if found else {}


def naming(conn: Connection, entity_id: str, known_at: int | None = None) -> list[HistoryRow]:
    """Every transaction that named the entity, in journal order (its history)."""
    limit = "" if known_at is None else " AND t.position <= ?"
    rows = conn.query(
        "SELECT DISTINCT t.position, t.id, t.type, t.date, t.recorded_at, t.reversed_at "
        "FROM hl_names n JOIN hl_transactions t ON t.position = n.position "
        f"WHERE n.entity = ?{limit} ORDER BY t.position",
        [entity_id, *([] if known_at is None else [known_at])],
    )
    return [
        HistoryRow(int(p), i, ty, d, r, rev is not None and (known_at is None or rev <= known_at))
        for p, i, ty, d, r, rev in rows
    ]


def reversal(
    conn: Connection, position: int, known_at: int | None = None
) -> tuple[int, str] | None:
    """(position, id) of the reversal of the transaction at `position`, if it was reversed
    by `known_at` (None otherwise, or if no transaction starts there)."""
    found = conn.query(
        "SELECT reversed_at, reversed_by FROM hl_transactions WHERE position = ?", [position]
    )
    if not found or found[0][0] is None or (known_at is not None and found[0][0] > known_at):
        return None
    return int(found[0][0]), found[0][1]


def earliest_date(conn: Connection, known_at: int | None = None) -> str | None:
    """The date of the earliest transaction known at `known_at` (zoning vintages, which
    are reference data, left out), as `latest_date` gives the latest."""
    value = conn.scalar(
        "SELECT MIN(date) FROM hl_transactions WHERE type <> 'zoning_vintage'"
        + ("" if known_at is None else " AND position <= ?"),
        [] if known_at is None else [known_at],
    )
    return str(value) if value is not None else None


class ProjectionIndex:
    """The write side's set lookups, answered from the current projections."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _in(self, sql: str, values: Iterable[str], extra: list[Any] | None = None) -> list[Any]:
        values = list(values)
        result: list[Any] = []
        for start in range(0, len(values), 500):
            chunk = values[start : start + 500]
            result.extend(
                self.conn.query(sql.format(IN=self.conn.in_list(chunk)), [*(extra or []), *chunk])
            )
        return result

    def units_held_by(self, entities: Iterable[str], on: str | None = None) -> list[str]:
        """Units in which the entities hold a period still open, or (given `on`) open on
        `on` or later: a usufruct that ends at its term after `on` is still held then."""
        held = "p.to_date IS NULL" if on is None else "(p.to_date IS NULL OR p.to_date > ?)"
        rows = self._in(
            "SELECT DISTINCT u.unit_id FROM hl_periods p JOIN hl_units u "
            "ON u.unit_key = p.unit_key AND u.known_to IS NULL "
            f"WHERE p.known_to IS NULL AND {held} AND p.holder IN {{IN}}",
            entities,
            [] if on is None else [on],
        )
        return sorted({r[0] for r in rows})

    def businesses_held_by(self, entities: Iterable[str]) -> list[str]:
        rows = self._in(
            "SELECT business FROM hl_businesses WHERE known_to IS NULL AND status = 'held' "
            "AND owner IN {IN}",
            entities,
        )
        return sorted({r[0] for r in rows})

    def touched_by(self, transaction_id: str) -> tuple[list[str], list[str]]:
        units = self.conn.query(
            "SELECT DISTINCT u.unit_id FROM hl_touches h "
            "JOIN hl_units u ON u.unit_key = h.item_key "
            "WHERE h.txn = ? AND h.kind = 'unit' ORDER BY u.unit_id",
            (transaction_id,),
        )
        businesses = self.conn.query(
            "SELECT DISTINCT b.business FROM hl_touches h JOIN hl_businesses b "
            "ON b.business_key = h.item_key WHERE h.txn = ? AND h.kind = 'business' "
            "ORDER BY b.business",
            (transaction_id,),
        )
        return [r[0] for r in units], [r[0] for r in businesses]

    def rpls_in_use(self, rpls_ids: Iterable[str]) -> dict[str, str]:
        rows = self._in(
            "SELECT rpls_id, unit_id FROM hl_units WHERE known_to IS NULL AND rpls_id IN {IN}",
            rpls_ids,
        )
        return {rpls: unit for rpls, unit in rows}

    def released_after(self, entities: Iterable[str], day: str) -> list[tuple[str, str]]:
        """Periods of the entities that a transaction closed after `day` (a usufruct's
        term, with no `closed_by`, is not a transaction: the law ended it)."""
        rows = self._in(
            "SELECT u.unit_id, p.to_date FROM hl_periods p JOIN hl_units u "
            "ON u.unit_key = p.unit_key AND u.known_to IS NULL "
            "WHERE p.known_to IS NULL AND p.to_date > ? AND p.closed_by IS NOT NULL "
            "AND p.holder IN {IN}",
            entities,
            [day],
        )
        return [(unit, to_date) for unit, to_date in rows]

    def latest_namings(self, entity: str) -> list[tuple[str, str]]:
        rows = self.conn.query(
            "SELECT n.txn, t.date FROM hl_names n "
            "JOIN hl_transactions t ON t.position = n.position "
            "WHERE n.entity = ? AND t.reversed_at IS NULL ORDER BY t.date DESC, n.position DESC "
            "LIMIT 50",
            (entity,),
        )
        return [(txn, day) for txn, day in rows]

    def later_naming(self, entity: str, after_transaction: str) -> list[str]:
        rows = self.conn.query(
            "SELECT n.txn FROM hl_names n JOIN hl_transactions t ON t.position = n.position "
            "WHERE n.entity = ? AND t.reversed_at IS NULL AND n.position > "
            "(SELECT position FROM hl_transactions WHERE id = ?) ORDER BY n.position",
            (entity, after_transaction),
        )
        return [r[0] for r in rows]
