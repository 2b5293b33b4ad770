"""The reporting views: stable SQL views over the projections, for the BI tools (Metabase,
Power BI, psql) that read the ledger's database directly (docs/views.md).

Their names (`hl_v_...`) and columns are a public contract, like the CLI's JSON: a
column may be added at the end in a new schema version, never renamed, retyped or
removed. Each view answers for the current ledger (row versions with `known_to IS NULL`,
movements not voided), never "known at" an earlier position: that needs a parameter, and
a view has none (the CLI's `--known-at` does it).

The SELECTs are plain SQL that SQLite and PostgreSQL both run; only the statement that
creates a view differs (`create_statements`). They read the projection tables only:
never the events table, and never the holdings tally `hl_holding_days` (derived data,
dropped and derived again by an upgrade), so that no table a rebuild or an upgrade
replaces has a view depending on it. A rebuild empties the tables (DELETE or TRUNCATE)
and drops their indexes, both of which leave views in place.

Must not: write anything, or hold a rule of its own: each view's tests
(tests/integration/test_views.py) pin its rows to the CLI's answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.storage.database import Connection


@dataclass(frozen=True, slots=True)
class View:
    """A reporting view: its name, its columns in order, the projection tables it reads
    (so that PostgreSQL readers of all of them may read it), and its SELECT."""

    name: str
    columns: tuple[str, ...]
    reads: tuple[str, ...]
    select: str


#: The latest date of the effective transactions (not reversals, nor zoning vintages):
#: "current" holdings are as of that date (schema 7, docs/decisions/0008: a usufruct past
#: its term by then is the bare owner's full ownership), as the CLI's answers without
#: `--as-of`.
_LATEST = (
    "(SELECT MAX(t.date) FROM hl_transactions t "
    "WHERE t.reversed_at IS NULL AND t.type NOT IN ('reversal', 'zoning_vintage'))"
)
#: The zoning vintage in force on the latest date (schema 8, docs/decisions/0010): the
#: latest effective on or before it, not reversed.
_VINTAGE = (
    "(SELECT z.position FROM hl_zonings z JOIN hl_transactions t ON t.position = z.position "
    f"WHERE t.reversed_at IS NULL AND z.effective <= {_LATEST} "
    "ORDER BY z.effective DESC LIMIT 1)"
)
#: A unit's zone on the latest date: its commune's class in that vintage, else the zone
#: recorded with it (as `housing-ledger units`).
_ZONE = (
    "COALESCE((SELECT zc.zone FROM hl_zone_classes zc WHERE zc.position = "
    f"{_VINTAGE} AND zc.commune = u.commune), u.zone)"
)
#: Current rows of a versioned table, and holding periods open on the latest date.
_CURRENT_OPEN = (
    "{a}.known_to IS NULL AND {a}.from_date <= " + _LATEST + " AND ({a}.to_date IS NULL OR "
    "{a}.to_date > " + _LATEST + ")"
)

HOLDINGS_CURRENT = View(
    "hl_v_holdings_current",
    ("entity", "full_ownership", "usufruct", "bare_ownership"),
    ("hl_periods", "hl_transactions"),
    "SELECT p.holder, "
    "SUM(CASE WHEN p.held_as = 'full_ownership' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN p.held_as = 'usufruct' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN p.held_as = 'bare_ownership' THEN 1 ELSE 0 END) "
    f"FROM hl_periods p WHERE {_CURRENT_OPEN.format(a='p')} GROUP BY p.holder",
)

UNITS_CURRENT = View(
    "hl_v_units_current",
    (
        "unit_id",
        "holder",
        "held_as",
        "commune",
        "zone",
        "segment",
        "financing",
        "rooms",
        "surface_m2",
        "year_built",
        "rpls_id",
        "from_date",
        "usufruct_end",
    ),
    ("hl_periods", "hl_units", "hl_transactions", "hl_zonings", "hl_zone_classes"),
    f"SELECT u.unit_id, p.holder, p.held_as, u.commune, {_ZONE}, u.segment, u.financing, "
    "u.rooms, u.surface_m2, u.year_built, u.rpls_id, p.from_date, p.usufruct_end "
    "FROM hl_periods p JOIN hl_units u ON u.unit_key = p.unit_key AND u.known_to IS NULL "
    f"WHERE {_CURRENT_OPEN.format(a='p')}",
)

#: A unit's id never changes (its key is derived from it), but a unit whose entry was
#: reversed has no current `hl_units` row: any version names it.
_UNIT_ID = "(SELECT MIN(u.unit_id) FROM hl_units u WHERE u.unit_key = {a}.unit_key)"

#: Schema 6 added `price_eur` and `net_proceeds_eur` at the end (the unit's shares of a
#: sale, on the seller's row).
MOVEMENTS = View(
    "hl_v_movements",
    (
        "position",
        "transaction_id",
        "type",
        "date",
        "entity",
        "unit_id",
        "kind",
        "price_eur",
        "net_proceeds_eur",
    ),
    ("hl_movements", "hl_units"),
    "SELECT m.position, m.txn, m.type, m.date, m.entity, "
    f"{_UNIT_ID.format(a='m')}, m.kind, m.price_eur, m.net_proceeds_eur "
    "FROM hl_movements m WHERE m.voided_at IS NULL",
)

TRANSACTIONS = View(
    "hl_v_transactions",
    (
        "position",
        "id",
        "type",
        "date",
        "recorded_at",
        "reversed_by",
        "reversed_by_position",
        "content",
    ),
    ("hl_transactions",),
    "SELECT t.position, t.id, t.type, t.date, t.recorded_at, t.reversed_by, t.reversed_at, "
    "t.content FROM hl_transactions t",
)

DISMEMBERED_CURRENT = View(
    "hl_v_dismembered_current",
    ("unit_id", "usufructuary", "bare_owner", "usufruct_end"),
    ("hl_periods", "hl_units", "hl_transactions"),
    "SELECT u.unit_id, us.holder, bo.holder, us.usufruct_end FROM hl_periods us "
    "JOIN hl_periods bo ON bo.unit_key = us.unit_key AND bo.held_as = 'bare_ownership' "
    f"AND {_CURRENT_OPEN.format(a='bo')} "
    "JOIN hl_units u ON u.unit_key = us.unit_key AND u.known_to IS NULL "
    f"WHERE us.held_as = 'usufruct' AND {_CURRENT_OPEN.format(a='us')}",
)

#: Every reporting view, in the order docs/views.md describes them.
VIEWS = (HOLDINGS_CURRENT, UNITS_CURRENT, MOVEMENTS, TRANSACTIONS, DISMEMBERED_CURRENT)


def create_statements(view: View, dialect: str) -> list[str]:
    """The statements that create `view` or replace an older definition of it.

    PostgreSQL: CREATE OR REPLACE, which keeps the privileges granted on the view (a
    DROP would take the auditor's SELECT with it). SQLite has no CREATE OR REPLACE VIEW,
    and no privileges to keep: DROP VIEW IF EXISTS, then CREATE VIEW. Both accept the
    column list, which names the columns whatever the SELECT's expressions are."""
    head = f"{view.name} ({', '.join(view.columns)}) AS {view.select}"
    if dialect == "postgresql":
        return [f"CREATE OR REPLACE VIEW {head}"]
    return [f"DROP VIEW IF EXISTS {view.name}", f"CREATE VIEW {head}"]


def create(conn: Connection) -> None:
    """Create (or replace) every reporting view, in the caller's database transaction."""
    for view in VIEWS:
        for statement in create_statements(view, conn.dialect):
            conn.execute(statement)
