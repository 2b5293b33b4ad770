"""The eventsourcing `Application` as this ledger configures it: name, table, transcodings.

`HousingLedger` is the library's application with an explicit name, which fixes the
events table (`housingledger_events`: never rename either), plus the date transcoding
that events need. It is the library's side of the journal: its mapper encodes and
decodes stored events (the import's `Recorder` is handed it), `init` builds it once to
have the library create the events table (`ledger.storage.bootstrap`), and its
repository can rebuild any aggregate by id (the tests check that the library reads what
the ledger stored).

Must not: record transactions. The import (`ledger.booking.service.Recorder`) appends
whole files through the journal writer (`ledger.storage.eventstore`), which keeps the
library's table and stored format (docs/decisions/0002-own-journal-writer.md). The
ledger never calls `save()` on it; only the benchmark's baseline does, to measure the
library's stock write path.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from ledger.storage.layout import APPLICATION_NAME
from ledger.storage.layout import EVENTS_TABLE as EVENTS_TABLE
from ledger.storage.transcoding import DateAsISO


class HousingLedger(Application[UUID]):
    name = APPLICATION_NAME
    log_section_size = 1000

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())


def persistence_env(url: str, create_table: bool = False) -> dict[str, str]:
    """Always explicit: left unset, eventsourcing silently keeps events in memory."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
        "SQLALCHEMY_URL": url,
        "CREATE_TABLE": "y" if create_table else "n",
    }
