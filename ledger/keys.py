"""Aggregate ids: uuid5 of the natural key, so the same unit, entity, business or
transaction can never be created twice (and eventsourcing-sqlalchemy needs UUIDs).

Never change the namespace or the prefixes: they are the stored ids.
"""

from __future__ import annotations

from functools import lru_cache
from uuid import NAMESPACE_URL, UUID, uuid5

NAMESPACE = uuid5(NAMESPACE_URL, "https://housing-ledger.org/ids")


@lru_cache(maxsize=1 << 20)
def unit_key(unit_id: str) -> UUID:
    return uuid5(NAMESPACE, "unit:" + unit_id)


@lru_cache(maxsize=1 << 14)
def entity_key(entity_id: str) -> UUID:
    return uuid5(NAMESPACE, "entity:" + entity_id)


@lru_cache(maxsize=1 << 14)
def business_key(business_id: str) -> UUID:
    return uuid5(NAMESPACE, "business:" + business_id)


def transaction_key(transaction_id: str) -> UUID:
    return uuid5(NAMESPACE, "transaction:" + transaction_id)
