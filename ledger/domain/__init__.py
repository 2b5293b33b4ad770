"""The domain: what the ledger records and the rules it enforces. Standard library and
eventsourcing only: no database, no click, no read side.

- `aggregates`: `Unit`, `Entity`, `Business`, `RecordedTransaction` and their nested,
  past-tense events (the legal record), each command checking its rule;
- `holding`: how a unit is held (full ownership, or usufruct + bare ownership);
- `values`: the value lists, bounds and small value parsers of the input format;
- `keys`: aggregate ids, uuid5 of natural keys;
- `errors` lives one level up (`ledger.errors`): the failures every layer raises.

Stored events name their classes by topic, `ledger.domain:Unit.Sold`: each class pins
its topic with `TOPIC` (the library's explicit topics), so a module can move and every
stored event still reads. Importing this package registers them.
"""

from ledger.domain.aggregates import Business, Entity, RecordedTransaction, Unit
from ledger.domain.holding import Holding

__all__ = ["Business", "Entity", "Holding", "RecordedTransaction", "Unit"]
