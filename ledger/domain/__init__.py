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
modules can move and every stored event still reads. Importing this package registers
them all.
"""

from ledger.domain.business import Business
from ledger.domain.entity import Entity
from ledger.domain.holding import NOBODY, Holding
from ledger.domain.journal import RecordedTransaction
from ledger.domain.keys import business_key, entity_key, transaction_key, unit_key, zoning_key
from ledger.domain.unit import Unit
from ledger.domain.zoning import ZoningRegister

#: The aggregates, in the order the docs list them.
AGGREGATES = (Unit, Entity, Business, RecordedTransaction, ZoningRegister)

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
