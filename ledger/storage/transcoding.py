"""An orjson encoder that writes exactly the bytes of eventsourcing's JSONTranscoder.

Encoding event states is a hot loop of every import. This transcoder keeps the library's
format byte for byte (compact separators, UTF-8 not escaped, custom types as
`{"_type_": name, "_data_": value}` through the same registered transcodings), so the
library reads what it writes; `tests/unit/test_transcoding.py` checks the bytes are
identical for every event class. Decoding stays the library's. Selected with the
application's `TRANSCODER_TOPIC` by the composition root.

Must not: encode any value otherwise than the library would (a stored state that the
library reads differently is a corrupted record), or decode (that stays the library's).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, Transcoding


class DateAsISO(Transcoding):
    """`datetime.date` has no transcoding in eventsourcing by default; events carry dates."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


# Dates and datetimes must go through the registered transcodings, like the stdlib
# encoder's `default`; str subclasses (StrEnum values) are written as plain strings by
# both encoders, so no passthrough for them.
OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


# The library's own transcodings whose `encode` is a plain method of the value: called
# directly (a bulk import encodes a timestamp and a date or two per event).
_DIRECT: dict[type, Callable[[Any], str]] = {
    DatetimeAsISO: datetime.isoformat,
    DecimalAsStr: Decimal.__str__,
    DateAsISO: date.isoformat,
}


class OrjsonTranscoder(JSONTranscoder):
    def __init__(self) -> None:
        super().__init__()
        self._encoders: dict[type, tuple[str, Callable[[Any], str]]] = {}

    def register(self, transcoding: Transcoding) -> None:
        super().register(transcoding)
        direct = _DIRECT.get(type(transcoding))
        self._encoders[transcoding.type] = (transcoding.name, direct or transcoding.encode)

    def _default(self, o: Any) -> dict[str, Any]:
        """`JSONTranscoder._encode_obj`, without its two method calls per value."""
        found = self._encoders.get(type(o))
        if found is None:
            return self._encode_obj(o)  # raises the library's error
        return {"_type_": found[0], "_data_": found[1](o)}

    def encode(self, obj: Any) -> bytes:
        # The copy matters: the bytes orjson returns keep its whole output buffer, far
        # larger than a state, and an import holds every encoded state until it appends.
        return memoryview(orjson.dumps(obj, default=self._default, option=OPTIONS)).tobytes()


TOPIC = f"{__name__}:OrjsonTranscoder"
