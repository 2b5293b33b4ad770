"""Aggregate ids: uuid5 of the natural key, so the same unit, entity, business,
transaction or zoning register can never be created twice (and eventsourcing-sqlalchemy
needs UUIDs).

Never change the namespace or the prefixes: they are the stored ids.
"""

from __future__ import annotations

from functools import lru_cache
from hashlib import sha1
from uuid import NAMESPACE_URL, UUID, uuid5

NAMESPACE = uuid5(NAMESPACE_URL, "https://housing-ledger.org/ids")
_PREFIX = NAMESPACE.bytes
_VERSION_MASK = ~(0xF000 << 64) & ~(0xC000 << 48)
_VERSION_5 = (5 << 76) | (0x8000 << 48)  # version 5, RFC 4122 variant


def _uuid5(name: str) -> UUID:
    """`uuid5(NAMESPACE, name)` without the `uuid` module's steps (one key per unit of an
    import; docs/performance.md): the same SHA-1, its first 16 bytes with the version and
    variant bits set. `tests/unit/test_created.py` checks it against `uuid5`."""
    digest = int.from_bytes(sha1(_PREFIX + name.encode("utf-8")).digest()[:16], "big")
    return UUID(int=(digest & _VERSION_MASK) | _VERSION_5)


#: Bounded, so that a streamed import does not keep a key for every unit of a file: a
#: unit's key is asked for several times within one transaction, rarely across them.
@lru_cache(maxsize=1 << 16)
def unit_key(unit_id: str) -> UUID:
    return _uuid5("unit:" + unit_id)


@lru_cache(maxsize=1 << 14)
def entity_key(entity_id: str) -> UUID:
    return _uuid5("entity:" + entity_id)


@lru_cache(maxsize=1 << 14)
def business_key(business_id: str) -> UUID:
    return _uuid5("business:" + business_id)


def transaction_key(transaction_id: str) -> UUID:
    return _uuid5("transaction:" + transaction_id)


def zoning_key(scheme: str = "abc") -> UUID:
    """The register of the vintages of a zoning scheme (the A/B/C zoning: `abc`)."""
    return _uuid5("zoning:" + scheme)
