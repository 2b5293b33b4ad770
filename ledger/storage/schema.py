"""The projection tables (read side), defined with SQLAlchemy Core, in the ledger's database.

Every row is *bitemporal*: `known_from` is the journal position of the transaction that
wrote this version, `known_to` the position of the one that superseded it (NULL while
current). So "as the ledger stood at position P" is a filter, not a replay:
`known_from <= P AND (known_to IS NULL OR known_to > P)`. Holding periods add the legal
time: `from_date <= D AND (to_date IS NULL OR to_date > D)` is "as of date D".

Dates are ISO strings (they sort as dates); money is a decimal string; unit, entity and
business keys are the aggregate ids as 32 lowercase hex digits.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

# The version, kept with the tables' names (plain data, read before anything else).
# What every command reads first (the version), and what the statements read of the
# holdings tally (its key and defining query): plain data, kept with the tables' names.
from ledger.storage.layout import DERIVE_HOLDING_DAYS as DERIVE_HOLDING_DAYS
from ledger.storage.layout import HOLDING_DAYS_QUERY as HOLDING_DAYS_QUERY
from ledger.storage.layout import HOLDING_DAYS_TABLE
from ledger.storage.layout import HOLDING_DIMENSIONS as HOLDING_DIMENSIONS
from ledger.storage.layout import HOLDING_KEY as HOLDING_KEY
from ledger.storage.layout import SCHEMA_VERSION as SCHEMA_VERSION

DISMEMBERED = ("usufruct", "bare_ownership")
metadata = MetaData()
POS = BigInteger().with_variant(Integer(), "sqlite")


def _row_id() -> Column:  # type: ignore[type-arg]
    return Column("row_id", POS, primary_key=True, autoincrement=True)


meta = Table(
    "hl_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

transactions = Table(
    "hl_transactions",
    metadata,
    Column("position", POS, primary_key=True, autoincrement=False),
    Column("id", String(80), nullable=False, unique=True),
    Column("type", String(32), nullable=False),
    Column("date", String(10), nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("content", Text, nullable=False),
    Column("reversed_at", POS),
    Column("reversed_by", String(80)),
    Index("hl_transactions_type_date", "type", "date"),
)

entities = Table(
    "hl_entities",
    metadata,
    _row_id(),
    Column("entity_key", String(32), nullable=False),
    Column("entity", String(80), nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("region", String(2)),
    Column("registered_on", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("absorbed_into", String(80)),
    Column("changed_by", String(80), nullable=False),
    Column("changed_at", POS, nullable=False),
    Column("known_from", POS, nullable=False),
    Column("known_to", POS),
    Index("hl_entities_key", "entity_key", "known_to"),
)

units = Table(
    "hl_units",
    metadata,
    _row_id(),
    Column("unit_key", String(32), nullable=False),
    Column("unit_id", String(80), nullable=False),
    Column("commune", String(5), nullable=False),
    Column("zone", String(4), nullable=False),
    Column("segment", String(16), nullable=False),
    Column("financing", String(8)),
    Column("rooms", Integer),
    Column("surface_m2", String(16)),
    Column("year_built", Integer),
    Column("rpls_id", String(80)),
    Column("mode", String(16), nullable=False),
    Column("entered_by", String(80), nullable=False),
    Column("entered_on", String(10), nullable=False),
    Column("known_from", POS, nullable=False),
    Column("known_to", POS),
    # Schema 5: the unit's RPLS values as registered (compact JSON; NULL without them).
    Column("rpls", Text),
    Index("hl_units_key", "unit_key", "known_to"),
    Index("hl_units_rpls", "rpls_id"),
)

periods = Table(
    "hl_periods",
    metadata,
    _row_id(),
    Column("unit_key", String(32), nullable=False),
    Column("holder", String(80), nullable=False),
    Column("held_as", String(16), nullable=False),
    Column("from_date", String(10), nullable=False),
    Column("to_date", String(10)),
    Column("usufruct_end", String(10)),
    Column("opened_by", String(80), nullable=False),
    Column("closed_by", String(80)),
    Column("known_from", POS, nullable=False),
    Column("known_to", POS),
    Column("zone", String(4), nullable=False),
    Column("segment", String(16), nullable=False),
    Column("financing", String(8), nullable=False),
    Column("commune", String(5), nullable=False),
    Index("hl_periods_unit", "unit_key", "known_to"),
    Index("hl_periods_holder", "holder", "known_to", "to_date"),
    Index("hl_periods_asof", "known_to", "from_date", "to_date"),
    # The dismemberment register's periods: a few percent of the rows (partial indexes).
    *(
        Index(
            f"hl_periods_{right}",
            "known_to",
            "from_date",
            sqlite_where=text(f"held_as = '{right}'"),
            postgresql_where=text(f"held_as = '{right}'"),
        )
        for right in DISMEMBERED
    ),
)

#: Added by schema version 3.
dismembered_indexes = [
    i for i in periods.indexes if i.name in {f"hl_periods_{right}" for right in DISMEMBERED}
]

movements = Table(
    "hl_movements",
    metadata,
    _row_id(),
    Column("position", POS, nullable=False),
    Column("txn", String(80), nullable=False),
    Column("type", String(32), nullable=False),
    Column("date", String(10), nullable=False),
    Column("entity", String(80), nullable=False),
    Column("unit_key", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("voided_at", POS),
    # Schema 6: on a seller's `sold` or `transferred` movement, the unit's shares of the
    # sale's price and net proceeds as its `Unit.Sold` event (version 2) recorded them
    # (money strings); NULL on every other movement and on a sale of version 1.
    Column("price_eur", Text),
    Column("net_proceeds_eur", Text),
    Index("hl_movements_date", "date", "entity"),
    Index("hl_movements_txn", "txn"),
    # Schema 9: a usufruct's term movements by unit, for the catch-up that voids the
    # terms a batch replaced (`catchup.void_terms`): without it SQLite searched every
    # movement of the term's date (20,000 at 1M units), 26 ms a term (docs/performance.md).
    Index(
        "hl_movements_term",
        "unit_key",
        "date",
        sqlite_where=text("type = 'usufruct_term'"),
        postgresql_where=text("type = 'usufruct_term'"),
    ),
)

#: Added by schema version 9.
term_indexes = [i for i in movements.indexes if i.name == "hl_movements_term"]

touches = Table(
    "hl_touches",
    metadata,
    _row_id(),
    Column("item_key", String(32), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("position", POS, nullable=False),
    Column("txn", String(80), nullable=False),
    Index("hl_touches_item", "item_key", "position"),
    Index("hl_touches_txn", "txn"),
)

names = Table(
    "hl_names",
    metadata,
    _row_id(),
    Column("entity", String(80), nullable=False),
    Column("position", POS, nullable=False),
    Column("txn", String(80), nullable=False),
    Index("hl_names_entity", "entity", "position"),
)

businesses = Table(
    "hl_businesses",
    metadata,
    _row_id(),
    Column("business_key", String(32), nullable=False),
    Column("business", String(80), nullable=False),
    Column("owner", String(80), nullable=False),
    Column("name", Text, nullable=False),
    Column("sector", String(32), nullable=False),
    Column("headcount", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("changed_by", String(80), nullable=False),
    Column("changed_at", POS, nullable=False),
    Column("known_from", POS, nullable=False),
    Column("known_to", POS),
    Index("hl_businesses_key", "business_key", "known_to"),
)

#: The group perimeter (issue 13): one row per period during which an entity is a member
#: of the group, with the member holding its shares (`parent`, NULL for the group's head
#: or when not stated), opened and closed by the transactions named; bitemporal like
#: `hl_periods`. `stated` is 1 unless the row follows from a registration of version 1
#: alone (the kind's default membership; a merger's close or a reversal's restore keeps
#: the flag): the state digest takes the stated rows only, so a ledger recorded before
#: the perimeter existed keeps its digest (projections/engine/digest.py).
memberships = Table(
    "hl_memberships",
    metadata,
    _row_id(),
    Column("entity_key", String(32), nullable=False),
    Column("entity", String(80), nullable=False),
    Column("parent", String(80)),
    Column("from_date", String(10), nullable=False),
    Column("to_date", String(10)),
    Column("opened_by", String(80), nullable=False),
    Column("closed_by", String(80)),
    Column("known_from", POS, nullable=False),
    Column("known_to", POS),
    Column("stated", Integer, nullable=False),
    Index("hl_memberships_key", "entity_key", "known_to"),
    Index("hl_memberships_asof", "known_to", "from_date", "to_date"),
)

#: The zoning vintages (issue 14, docs/decisions/0010-zoning-vintages.md): one row per
#: `zoning_vintage` transaction, at its journal position; insert-only. A reversed vintage
#: keeps its row: its `hl_transactions` row says when it was reversed, so the vintages
#: known at a position are those recorded by then and not reversed by then.
zonings = Table(
    "hl_zonings",
    metadata,
    Column("position", POS, primary_key=True, autoincrement=False),
    Column("id", String(80), nullable=False),
    Column("effective", String(10), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("source", Text, nullable=False),
    Column("file", Text),
    Column("communes", Integer, nullable=False),
)

#: The class of every commune in each vintage (`position`: the vintage's). The
#: arrondissements of Paris, Lyon and Marseille have the row of their city, so a unit's
#: commune code finds its class by equality.
zone_classes = Table(
    "hl_zone_classes",
    metadata,
    _row_id(),
    Column("position", POS, nullable=False),
    Column("commune", String(5), nullable=False),
    Column("zone", String(4), nullable=False),
    Index("hl_zone_classes_commune", "position", "commune", unique=True),
)

#: The tally behind holdings of the current ledger (projections/engine/tally.py): the net change
#: of units held per day, holder, right and unit dimensions. Derived from the current
#: `hl_periods` rows (`HOLDING_DAYS_QUERY`), so it is not in the state digest; a rebuild
#: derives it again.
holding_days = Table(
    HOLDING_DAYS_TABLE,
    metadata,
    Column("day", String(10), primary_key=True),
    Column("holder", String(80), primary_key=True),
    Column("held_as", String(16), primary_key=True),
    Column("zone", String(4), primary_key=True),
    Column("segment", String(16), primary_key=True),
    Column("financing", String(8), primary_key=True),
    Column("commune", String(5), primary_key=True),
    Column("units", BigInteger, nullable=False),
)

#: Projection tables emptied by a rebuild (hl_meta keeps the schema version).
PROJECTION_TABLES = (
    transactions,
    entities,
    units,
    periods,
    movements,
    touches,
    names,
    businesses,
    memberships,
    zonings,
    zone_classes,
)

#: The journal's hash chain (ledger/storage/chain.py): one link per event position, written
#: in the same database transaction as the events. Not a projection: a rebuild keeps it.
chain = Table(
    "hl_chain",
    metadata,
    Column("position", POS, primary_key=True, autoincrement=False),
    Column("link", String(64), nullable=False),
)
