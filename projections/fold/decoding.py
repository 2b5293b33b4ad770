"""Decoding stored event states fast, without building the library's event objects.

States are the library's JSON (eventsourcing's JSONTranscoder): custom types are
`{"_type_": name, "_data_": value}`. The fold keeps dates as ISO strings (they sort as
dates) and money as decimal strings, so `plain` just unwraps the known transcodings and
refuses any other (a new transcoding must be taught here, not silently passed through).
"""

from __future__ import annotations

from typing import Any

import orjson

KNOWN_TRANSCODINGS = frozenset({"date_iso", "decimal_str", "datetime_iso", "uuid_hex"})


def plain(value: Any) -> Any:
    """A transcoded value as its plain JSON form (e.g. a date as "2017-01-01")."""
    if isinstance(value, dict) and "_type_" in value:
        if value["_type_"] not in KNOWN_TRANSCODINGS:
            raise ValueError(f"unknown transcoding {value['_type_']!r}")
        return value["_data_"]
    return value


def decode_state(state: bytes | str | memoryview) -> dict[str, Any]:
    if isinstance(state, memoryview):
        state = state.tobytes()
    result: dict[str, Any] = orjson.loads(state)
    return result


def named_entities(content: dict[str, Any]) -> list[str]:
    """Every entity id named in any field of a transaction's content (the hl_names rows)."""
    names = [content.get("entity"), content.get("bare_owner"), content.get("into")]
    names.append(content.get("parent"))  # register_entity and the group perimeter's types
    names.extend(content.get("absorbed") or ())
    buyer = content.get("buyer")
    if isinstance(buyer, dict):
        names.append(buyer.get("entity"))
    if content.get("type") == "register_units":  # a unit registered in usufruct
        names.extend(u.get("bare_owner") for u in content.get("units") or () if isinstance(u, dict))
    seen: list[str] = []
    for name in names:
        if isinstance(name, str) and name not in seen:
            seen.append(name)
    return seen
