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
SCHEMA_VERSION = 8
#: The key of `hl_meta` holding the schema version.
SCHEMA_KEY = "schema_version"
