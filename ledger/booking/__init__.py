"""The import pipeline of the write side: parse -> book -> record.

- parse: `lines` (strict JSON), `transactions` (the input format), `unitlines` (its
  fast path for unit objects);
- book: `book` (the unit of work), `handlers` (one per transaction type), `merger`,
  `reversal`; new units and journal entries in stored form (`created`, `entries`);
- record: `service.Recorder`, through the `ports` it is handed.

Must not: import a database driver, SQLAlchemy or the read side. The journal and the
projections' lookups reach it only through `ports`, handed over by cli.py.
"""
