"""Decoding one line of a transaction file, strictly.

The standard `json` module lets a duplicated key silently win, accepts NaN and Infinity,
and returns floats for numbers with a fraction; a ledger must refuse all of these (money
is a string), and must refuse a `\\u` escape of a lone surrogate, which no UTF-8 database
can store. Errors are `InvalidField("json", ...)` with a readable message.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ledger.errors import InvalidField


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _float_marker(text: str) -> float:
    return float(text)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def decode_line(line: str) -> Any:
    """Decode one line of JSON strictly: no duplicate keys, no NaN/Infinity."""
    try:
        value = json.loads(
            line,
            object_pairs_hook=_no_duplicates,
            parse_constant=_reject_constant,
            parse_float=_float_marker,
        )
        if _SURROGATE_ESCAPE.search(line):
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        return value
    except UnicodeEncodeError:
        raise InvalidField("json", "invalid JSON: a \\u escape encodes a lone surrogate") from None
    except _DuplicateKey as e:
        raise InvalidField("json", f"invalid JSON: key '{e.args[0]}' appears twice") from None
    except RecursionError:
        raise InvalidField("json", "invalid JSON: nested too deeply") from None
    except ValueError as e:
        raise InvalidField("json", f"invalid JSON: {e}") from None
