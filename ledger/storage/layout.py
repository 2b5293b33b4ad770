"""The names and the version of what the ledger stores, as plain data.

Every command reads these before it reads anything else (is there a ledger, of which
schema version, where is the journal), so they live apart from the SQLAlchemy schema
(`schema.py`) and the library's application (`application.py`), which only creating or
upgrading a schema, and writing the journal, need to import.

Must not: import SQLAlchemy or the library.
"""

from __future__ import annotations

#: The library's application name, which names its events table.
APPLICATION_NAME = "HousingLedger"
EVENTS_TABLE = APPLICATION_NAME.lower() + "_events"

#: 2: hl_holding_days; 3: hl_periods_usufruct, hl_periods_bare_ownership; 4: the reporting
#: views of ledger/storage/views.py; 5: hl_units.rpls; 6: hl_movements.price_eur and
#: hl_movements.net_proceeds_eur (and the view hl_v_movements with them); 7: the usufruct
#: at term written in the periods and movements (docs/decisions/0008: an older database's
#: projections are folded again), and the current views as of the latest date; 8: the
#: zoning vintages, hl_zonings and hl_zone_classes (empty in an older ledger: no vintage).
SCHEMA_VERSION = 9
#: The key of `hl_meta` holding the schema version.
SCHEMA_KEY = "schema_version"

#: The tally behind holdings of the current ledger (projections/engine/tally.py; the table
#: is defined in schema.py).
HOLDING_DAYS_TABLE = "hl_holding_days"
#: What the tally counts by: the holder, the right and the unit's dimensions.
HOLDING_DIMENSIONS = ("holder", "held_as", "zone", "segment", "financing", "commune")
#: The tally's key: the day, then its dimensions.
HOLDING_KEY = ("day", *HOLDING_DIMENSIONS)
#: Each current period's changes: +1 on its `from_date`, -1 on its `to_date`.
_HOLDING_CHANGES = (
    f"SELECT from_date AS day, {', '.join(HOLDING_DIMENSIONS)}, 1 AS d FROM hl_periods "
    "WHERE known_to IS NULL "
    f"UNION ALL SELECT to_date, {', '.join(HOLDING_DIMENSIONS)}, -1 FROM hl_periods "
    "WHERE known_to IS NULL AND to_date IS NOT NULL"
)
#: The tally's defining query (as a view's): its rows that count (`HOLDING_KEY`, then the
#: net change in units), derived from the current `hl_periods`.
HOLDING_DAYS_QUERY = (
    f"SELECT {', '.join(HOLDING_KEY)}, SUM(d) FROM ({_HOLDING_CHANGES}) c "
    f"GROUP BY {', '.join(HOLDING_KEY)} HAVING SUM(d) <> 0"
)
#: The statements that write the whole tally again from the current periods (in the
#: caller's database transaction): a rebuild, or a schema upgrade that adds the table.
DERIVE_HOLDING_DAYS = (
    f"DELETE FROM {HOLDING_DAYS_TABLE}",
    f"INSERT INTO {HOLDING_DAYS_TABLE} ({', '.join(HOLDING_KEY)}, units) {HOLDING_DAYS_QUERY}",
)
