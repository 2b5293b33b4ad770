"""The unit register: every unit held on a date, one row per unit and right held, with
all the ledger records of it (`housing-ledger units`, docs/units.md).

It streams. Each holder's rows are one query (through the holder's own index), sorted
by the database and fetched in batches of `PAGE_ROWS` as they are printed (PostgreSQL: a
server-side cursor), so memory holds one batch whatever the size of the ledger, and the
whole register costs one sort per holder: at a million units of one holder, the first
row comes once the database has sorted them (docs/performance.md). Every query filters
the row versions known at ONE journal position, given by the caller and fixed before the
first: a writer recording meanwhile adds versions known after it (and closes versions
after it), so it cannot make two holders' rows disagree.

The order is the holder, then the unit id, then the right, compared as code points on
both databases (PostgreSQL: `COLLATE "C"`; SQLite compares UTF-8 bytes, the same order),
so SQLite and PostgreSQL print the same bytes.

Must not: read the clock, replay events, load aggregates, or hold more than a page.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import projections.zones as zones
from projections.queries import known, latest_date

if TYPE_CHECKING:  # `--help` needs the names, not a database driver
    from ledger.storage.database import Connection

#: Rows per batch (a few thousand: one round trip each, one batch in memory).
PAGE_ROWS = 5000
RIGHTS = ("full_ownership", "usufruct", "bare_ownership")
#: How the holder came to hold the unit by that right: the type of the transaction that
#: opened its holding period (and, for a bare-ownership transfer, the right).
ENTRIES = {
    "register_units": "registered",
    "acquisition": "acquired",
    "sale": "received",
    "merger": "received",
    "usufruct_extinguished": "reunited",
}
DISMEMBERED = {"usufruct": "dismembered", "bare_ownership": "bare_ownership_received"}


@dataclass(frozen=True, slots=True)
class UnitRow:
    """One unit held by one entity by one right; the fields in the JSON answer's order."""

    entity: str
    unit_id: str
    right: str
    entered_on: str
    entry: str
    acquisition_mode: str | None
    bare_owner: str | None
    usufructuary: str | None
    usufruct_end: str | None
    commune: str
    zone: str
    zone_source: str
    segment: str
    financing: str
    rooms: int | None
    surface_m2: str | None
    year_built: int | None
    rpls_id: str | None

    def record(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in COLUMNS}


COLUMNS = tuple(UnitRow.__dataclass_fields__)


@dataclass(frozen=True, slots=True)
class Filters:
    """What the register is restricted to (None: no restriction)."""

    entity: str | None = None
    right: str | None = None
    zone: str | None = None
    segment: str | None = None
    commune: str | None = None


def units(
    conn: Connection,
    position: int,
    as_of: str | None = None,
    filters: Filters | None = None,
    page: int | None = None,
) -> Iterator[UnitRow]:
    """The units held as of `as_of` (None: the latest date of the transactions known at
    the position, `latest_date`) in the ledger as it stood at journal `position`,
    sorted by holder, unit id and right, page by page."""
    as_of = as_of if as_of is not None else latest_date(conn, position)
    if as_of is None:
        return
    size = page or PAGE_ROWS
    filters = filters or Filters()
    holders = [filters.entity] if filters.entity is not None else _holders(conn)
    zone = zones.zone_on("p", zones.in_force(zones.vintages(conn, position), as_of))
    for holder in holders:
        for rows in _held(conn, position, as_of, filters, holder, size, zone):
            yield from map(_row, rows)


def _holders(conn: Connection) -> list[str]:
    """Every entity the ledger ever registered, in code-point order: a superset of the
    holders (a holder is always a registered entity), from a table of a few rows each."""
    return sorted({entity for (entity,) in conn.query("SELECT DISTINCT entity FROM hl_entities")})


def held_on(alias: str, as_of: str) -> tuple[str, list[Any]]:
    """Holding periods open on `as_of`."""
    return f"{alias}.from_date <= ? AND ({alias}.to_date IS NULL OR {alias}.to_date > ?)", [
        as_of,
        as_of,
    ]


def _held(
    conn: Connection,
    position: int,
    as_of: str,
    filters: Filters,
    holder: str,
    size: int,
    zone: zones.ZoneSql,
) -> Iterator[list[tuple[Any, ...]]]:
    """A holder's rows, sorted by unit id and right, in batches of `size`."""
    c = ' COLLATE "C"' if conn.is_pg else ""
    hint = " INDEXED BY hl_periods_holder" if conn.dialect == "sqlite" else ""
    q_known, q_known_params = known("q", position)
    q_held, q_held_params = held_on("q", as_of)
    o_known, o_known_params = known("o", position)
    u_known, u_known_params = known("u", position)
    p_known, p_known_params = known("p", position)
    p_held, p_held_params = held_on("p", as_of)
    where = f"p.holder = ? AND {p_known} AND {p_held}"
    params: list[Any] = [holder, *p_known_params, *p_held_params]
    for column, value in (
        ("p.held_as", filters.right),
        (zone.zone, filters.zone),  # the zone in force on the date
        ("p.segment", filters.segment),
        ("p.commune", filters.commune),
    ):
        if value is not None:
            where += f" AND {column} = ?"
            params.append(value)
    # The other side of a dismembered unit: the unit's period of the other right, open
    # on the same date and known at the same position (through the unit's index).
    other = (
        "CASE WHEN p.held_as = 'full_ownership' THEN NULL ELSE "
        "(SELECT MIN(q.holder) FROM hl_periods q WHERE q.unit_key = p.unit_key "
        "AND q.held_as <> p.held_as AND q.held_as <> 'full_ownership' "
        f"AND {q_known} AND {q_held}) END"
    )
    # An extension goes on with the same right: the period it opened is entered as the
    # one it continued (the latest of the holder's periods of that right not opened by one).
    origin = (
        "CASE WHEN t.type = 'usufruct_extension' AND p.held_as <> 'full_ownership' THEN "
        "(SELECT o.from_date || ' ' || ot.type "
        "FROM hl_periods o JOIN hl_transactions ot ON ot.id = o.opened_by "
        "WHERE o.unit_key = p.unit_key AND o.holder = p.holder AND o.held_as = p.held_as "
        f"AND {o_known} AND o.from_date <= p.from_date AND ot.type <> 'usufruct_extension' "
        "ORDER BY o.from_date DESC LIMIT 1) END"
    )
    return conn.stream(
        f"SELECT p.holder, u.unit_id, p.held_as, p.from_date, t.type, u.mode, {other}, "
        f"{OPENED_AT_TERM}, {origin}, "
        f"p.usufruct_end, p.commune, {zone.zone}, {zone.source}, p.segment, p.financing, "
        f"u.rooms, u.surface_m2, u.year_built, u.rpls_id FROM hl_periods p{hint} "
        f"JOIN hl_units u ON u.unit_key = p.unit_key AND {u_known} "
        f"JOIN hl_transactions t ON t.id = p.opened_by{zone.join} "
        f"WHERE {where} ORDER BY u.unit_id{c}, p.held_as{c}",
        [
            *q_known_params,
            *q_held_params,
            *o_known_params,
            *u_known_params,
            *zone.params,
            *params,
        ],
        size,
    )


#: SQL: 1 when the period `p`, opened by the transaction `t`, is the bare owner's full
#: ownership that a usufruct's term opened (projections/fold/units.py): the only periods
#: a reversal opens, and the only ones that start after the day of the transaction that
#: opened them.
OPENED_AT_TERM = (
    "CASE WHEN p.held_as = 'full_ownership' AND (t.type = 'reversal' OR t.date < p.from_date) "
    "THEN 1 ELSE 0 END"
)


def _row(r: Sequence[Any]) -> UnitRow:
    holder, unit_id, right, from_date, opened_by_type, mode, other, at_term, origin = r[:9]
    end, commune, zone, zone_source, segment, financing, rooms, surface, year_built, rpls_id = r[9:]
    if origin is not None:  # opened by an extension: the period it continued
        from_date, opened_by_type = str(origin).split(" ", 1)
    if at_term:  # the bare owner's full ownership since the usufruct's term
        entry = ENTRIES["usufruct_extinguished"]
    elif opened_by_type in ("bare_ownership_transfer", "usufruct_extension"):
        entry = DISMEMBERED[right]
    elif opened_by_type == "register_units" and right == "bare_ownership":
        entry = DISMEMBERED[right]  # a unit registered in usufruct: the bare owner's row
    elif opened_by_type in ENTRIES:
        entry = ENTRIES[opened_by_type]
    else:  # a period is only opened by the transactions above: the projections disagree
        raise ValueError(f"unit {unit_id}: a {opened_by_type} transaction opened a period")
    return UnitRow(
        entity=holder,
        unit_id=unit_id,
        right=right,
        entered_on=from_date,
        entry=entry,
        acquisition_mode=mode if entry == "acquired" else None,
        bare_owner=other if right == "usufruct" else None,
        usufructuary=other if right == "bare_ownership" else None,
        usufruct_end=end,
        commune=commune,
        zone=zone,
        zone_source=zone_source,
        segment=segment,
        financing=financing,
        rooms=None if rooms is None else int(rooms),
        surface_m2=surface,
        year_built=None if year_built is None else int(year_built),
        rpls_id=rpls_id,
    )
