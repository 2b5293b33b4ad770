"""The domain: what the ledger records and the rules it enforces. Standard library and
eventsourcing only: no database, no click, no read side.

- `unit`, `entity`, `business`, `journal`, `zoning`: the aggregates (`Unit`, `Entity`,
  `Business`, `RecordedTransaction`, `ZoningRegister`) and their nested, past-tense
  events, the legal record; each public command checks its rule and raises a named `RuleViolation`;
- `holding`: how a unit is held (a value of the `Unit`'s state);
- `values`: the value lists and small value types of the input format;
- `keys`: aggregate ids, uuid5 of natural keys.

Stored events name their classes by topic, `ledger.domain:Unit.Sold` (the module path of
release 0.1): each class pins its topic with `TOPIC` (the library's explicit topics), so
modules can move and every stored event still reads.

The aggregates are loaded when first asked for (`ledger.domain.Unit`, `AGGREGATES`, or
the library resolving a stored topic `ledger.domain:Unit.Sold`): importing the package,
or `values` and `keys` alone (the command line's choices and ids), does not import the
event-sourcing library, so `housing-ledger --help` starts fast (issue 15).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ledger.domain.keys import business_key, entity_key, transaction_key, unit_key, zoning_key

if TYPE_CHECKING:
    from ledger.domain.business import Business
    from ledger.domain.entity import Entity
    from ledger.domain.holding import NOBODY, Holding
    from ledger.domain.journal import RecordedTransaction
    from ledger.domain.unit import Unit
    from ledger.domain.zoning import ZoningRegister

    #: The aggregates, in the order the docs list them.
    AGGREGATES: tuple[type, ...]

#: Where each name the package gives lazily is defined.
_LAZY = {
    "Business": "ledger.domain.business",
    "Entity": "ledger.domain.entity",
    "Holding": "ledger.domain.holding",
    "NOBODY": "ledger.domain.holding",
    "RecordedTransaction": "ledger.domain.journal",
    "Unit": "ledger.domain.unit",
    "ZoningRegister": "ledger.domain.zoning",
}
_AGGREGATES = ("Unit", "Entity", "Business", "RecordedTransaction", "ZoningRegister")


def __getattr__(name: str) -> Any:
    if name == "AGGREGATES":
        value: Any = tuple(__getattr__(n) for n in _AGGREGATES)
    elif name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY, "AGGREGATES"})


__all__ = [
    "AGGREGATES",
    "NOBODY",
    "Business",
    "Entity",
    "Holding",
    "RecordedTransaction",
    "Unit",
    "ZoningRegister",
    "business_key",
    "entity_key",
    "transaction_key",
    "unit_key",
    "zoning_key",
]
