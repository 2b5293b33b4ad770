"""An orjson encoder that writes exactly the bytes of eventsourcing's JSONTranscoder.

Encoding event states is a hot loop of every import. This transcoder keeps the library's
format byte for byte (compact separators, UTF-8 not escaped, custom types as
`{"_type_": name, "_data_": value}` through the same registered transcodings), so the
library reads what it writes; `tests/unit/test_transcoding.py` checks the bytes are
identical for every event class. Decoding stays the library's. Selected with the
application's `TRANSCODER_TOPIC` by the composition root.
"""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import JSONTranscoder

# Dates and datetimes must go through the registered transcodings, like the stdlib
# encoder's `default`; str subclasses (StrEnum values) are written as plain strings by
# both encoders, so no passthrough for them.
OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        # The copy matters: the bytes orjson returns keep its whole output buffer (4 KiB
        # at least), so an import that holds its encoded states held 10x their size.
        return memoryview(orjson.dumps(obj, default=self._encode_obj, option=OPTIONS)).tobytes()


TOPIC = f"{__name__}:OrjsonTranscoder"
