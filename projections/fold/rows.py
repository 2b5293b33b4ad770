"""What the fold works on: an event as stored, the working set of a batch, the context of
one transaction, and the rows it yields (plain dicts, keyed by column).

`WorkingSet` holds the current rows of what a batch touches (loaded by the catch-up) and
collects what to write: new rows, the stored versions it superseded, the transactions it
reversed. Must not: import the database or anything of the project outside this package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

#: A projection row: column name -> value.
Row = dict[str, Any]
#: The rights that count in an entity's stock (its units for the statements): the one
#: definition, read by the holdings tally and the statements.
STOCK_RIGHTS = ("full_ownership", "usufruct")
#: The stored topics' prefix (the module name events were first released under).
PREFIX = "ledger.domain:"
#: The event that ends every ledger transaction; its position is the transaction's.
RECORDED = PREFIX + "RecordedTransaction.Recorded"


class StoredRow(NamedTuple):
    """One event as read from the journal: position, aggregate key (hex), topic, state.
    A named tuple: made once per event read, it is cheaper to build than a dataclass."""

    position: int
    key: str
    topic: str
    state: dict[str, Any]


@dataclass
class WorkingSet:
    """What one batch (or one pass) of the fold knows and makes: the current rows of the
    units, entities and businesses it touches, and what it writes."""

    periods: dict[str, list[Row]] = field(default_factory=dict)
    units: dict[str, Row] = field(default_factory=dict)
    entities: dict[str, list[Row]] = field(default_factory=dict)
    businesses: dict[str, list[Row]] = field(default_factory=dict)
    #: Each entity's `hl_memberships` rows, every version (projections/fold/versions.py).
    memberships: dict[str, list[Row]] = field(default_factory=dict)
    new: dict[str, list[Row]] = field(default_factory=dict)
    superseded: dict[str, dict[int, int]] = field(default_factory=dict)
    #: The stored period rows this batch superseded (whole rows: the tally takes them off).
    ended_periods: list[Row] = field(default_factory=list)
    batch_transactions: dict[str, Row] = field(default_factory=dict)
    batch_movements: dict[str, list[Row]] = field(default_factory=dict)
    reversed_transactions: list[tuple[str, int, str]] = field(default_factory=list)
    #: The batch's movements of usufruct terms, by unit (projections/fold/units.py).
    term_movements: dict[str, list[Row]] = field(default_factory=dict)
    #: (unit key, day, position): the stored movements of the unit's term on that day,
    #: recorded before the position, voided at it (the term changed or went).
    voided_terms: list[tuple[str, str, int]] = field(default_factory=list)
    #: The tables whose new rows it keeps (None: all): a replay's pass keeps some.
    keep: frozenset[str] | None = None

    def keeps(self, table: str) -> bool:
        return self.keep is None or table in self.keep

    def insert(self, table: str, row: Row) -> Row:
        if "known_to" not in row:
            row["known_to"] = None
        if self.keep is None or table in self.keep:
            rows = self.new.get(table)  # (not setdefault: no empty list made per row)
            if rows is None:
                self.new[table] = [row]
            else:
                rows.append(row)
        return row

    def void_term(self, key: str, day: str, at: int) -> None:
        """Void the movements of the unit's term on `day` made before position `at`: this
        batch's here, the stored ones by the writer (`voided_terms`)."""
        for row in self.term_movements.get(key, ()):
            if row["date"] == day and row["voided_at"] is None and row["position"] < at:
                row["voided_at"] = at
        self.voided_terms.append((key, day, at))

    def supersede(self, table: str, row: Row, at: int) -> None:
        row["known_to"] = at
        if row.get("row_id") is not None:
            self.superseded.setdefault(table, {})[row["row_id"]] = at
            if table == "hl_periods":
                self.ended_periods.append(row)


@dataclass
class Context:
    """The transaction an event is folded in: its position, id, type and date."""

    ws: WorkingSet
    position: int
    txn: str
    txn_type: str
    date: str


def touch(ctx: Context, key: str, kind: str) -> None:
    """Record that the transaction touched a unit or a business (`hl_touches`)."""
    ctx.ws.insert(
        "hl_touches",
        {"item_key": key, "kind": kind, "position": ctx.position, "txn": ctx.txn, "known_to": None},
    )
