"""An RPLS-shaped file (docs/rpls.md, "Import"): its lines checked and turned into
`register_units` transactions, for the recorder to book and record.

`RplsFile.transactions()` reads the file line by line (the CSV dialect: UTF-8, `;`,
quotes, CRLF or LF, blank lines ignored, columns by name) and yields the transactions,
`CHUNK_UNITS` units at most each, as it goes; every error of the file is then in
`errors` (`FILE:LINE: message`, line 1 being the header). What it keeps grows with the
file only where the checks need it: the line of each `si_id` and `rpls_id` (unique in
the file), which also maps an error of the booking back to its line (`line_of`).

Must not: read the ledger or open a database (the ledger's own rules, `unit_exists`,
`rpls_duplicate`..., are the booking's), or leave out a bad line: a file with any error
records nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any

from ledger.booking.rpls_cells import (
    COLUMNS,
    IGNORED,
    REQUIRED,
    Context,
    LineCheck,
    skip_reason,
    unit_object,
)
from ledger.booking.zoning import Zoning
from ledger.domain.entity import Entity
from ledger.domain.values import ID_MAX_LENGTH, ID_PATTERN

#: At most this many units in one `register_units` transaction.
CHUNK_UNITS = 10_000
NOTE = "imported from an RPLS-shaped file"
_BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class FileError:
    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """The command's options: `prefix` None is `RPLS-<ENTITY>-<AS-OF>`."""

    entity: str
    as_of: date
    zoning: Zoning | None = None
    prefix: str | None = None
    reference: str | None = None

    @property
    def id_prefix(self) -> str:
        return self.prefix if self.prefix is not None else f"RPLS-{self.entity}-{self.as_of}"


def entity_problem(entity: Entity | None, entity_id: str, as_of: date) -> str | None:
    """Why `--entity` cannot register units on `as_of` (None if it can)."""
    if (
        entity is None
        or entity.status == Entity.VOID
        or (entity.registered_on is not None and entity.registered_on > as_of)
    ):
        return f"entity {entity_id} is not registered on {as_of}"
    if entity.status == Entity.ABSORBED:
        return f"entity {entity_id} was absorbed by {entity.into} and is no longer active"
    return None


class RplsFile:
    """One RPLS-shaped file, read once by `transactions()`."""

    def __init__(self, source: str, stream: IO[bytes], options: ImportOptions) -> None:
        self.source = source
        self.stream = stream
        self.options = options
        self.context = Context(options.entity, options.as_of, options.zoning)
        self.errors: list[FileError] = []
        self.registered = 0
        self.skipped = 0
        self.si_lines: dict[str, int] = {}
        self.rpls_lines: dict[str, int] = {}
        #: The first CSV line of each transaction's units, in order.
        self.first_lines: list[int] = []

    def fail(self, line: int, message: str) -> None:
        self.errors.append(FileError(self.source, line, message))

    def transaction_id(self, number: int) -> str:
        return f"{self.options.id_prefix}-{number:03d}"

    def transactions(self) -> Iterator[dict[str, Any]]:
        """The file's `register_units` transactions, in file order; check `errors` after."""
        first_id = self.transaction_id(1)
        if len(first_id) > ID_MAX_LENGTH or not ID_PATTERN.fullmatch(first_id):
            self.fail(1, f'transaction id "{first_id}" is not a valid id of at most '
                      f"{ID_MAX_LENGTH} characters: choose another --id-prefix")  # fmt: skip
            return
        rows = self.rows()
        header = self.header(next(rows, None))
        if header is None:
            return
        units: list[dict[str, Any]] = []
        for number, cells in rows:
            unit = self.unit(number, header, cells)
            if unit is None:
                continue
            if not units:
                self.first_lines.append(number)
            units.append(unit)
            if len(units) == CHUNK_UNITS:
                yield self.transaction(units)
                units = []
        if units:
            yield self.transaction(units)
        if not self.registered and not self.errors:
            self.fail(1, "no unit to register")

    def transaction(self, units: list[dict[str, Any]]) -> dict[str, Any]:
        tx: dict[str, Any] = {
            "id": self.transaction_id(len(self.first_lines)),
            "type": "register_units",
            "date": self.options.as_of.isoformat(),
            "entity": self.options.entity,
            "note": NOTE,
        }
        if self.options.reference is not None:
            tx["reference"] = self.options.reference
        tx["units"] = units
        return tx

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, trimmed cells) of every non-blank line; a line that cannot be
        read is an error and yields nothing."""
        pending: list[str] = []
        start = 0
        for number, raw in enumerate(self.stream, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                self.fail(number, f"invalid UTF-8 at byte {e.start}")
                continue
            if number == 1 and text.startswith(_BOM):
                text = text[1:]
            text = text.rstrip("\r\n")
            if pending or text.count('"') % 2:
                # An open quote: the cell runs over the line break, which is an error.
                if not pending:
                    start = number
                pending.append(text)
                if len(pending) > 1 and text.count('"') % 2:
                    self.fail(start, "a line break inside a quoted cell")
                    pending = []
                continue
            if not text.strip(" \t"):
                continue
            try:
                cells = next(csv.reader([text], delimiter=";", strict=True))
            except csv.Error as e:
                self.fail(number, f"cannot read the line: {e}")
                continue
            yield number, [cell.strip(" \t") for cell in cells]
        if pending:
            self.fail(start, "a quote is never closed")

    def header(self, row: tuple[int, list[str]] | None) -> list[str] | None:
        """The column names, if the header is valid (else None and its errors)."""
        if row is None:
            self.fail(1, "no unit to register")
            return None
        number, names = row
        seen: set[str] = set()
        errors = len(self.errors)
        for name in names:
            if name not in COLUMNS and name not in IGNORED:
                self.fail(number, f'unknown column "{name}"')
            elif name in seen:
                self.fail(number, f'column "{name}" appears twice')
            seen.add(name)
        for name in REQUIRED:
            if name not in seen:
                self.fail(number, f'missing column "{name}"')
        return names if len(self.errors) == errors else None

    def unit(self, number: int, header: list[str], cells: list[str]) -> dict[str, Any] | None:
        """The unit object of a line to register, or None (skipped, or errors)."""
        if len(cells) != len(header):
            self.fail(number, f"{len(cells)} cells, the header has {len(header)}")
            return None
        values = {name: cell for name, cell in zip(header, cells, strict=True) if cell}
        check = LineCheck(values, self.context)
        if skip_reason(check):
            self.skipped += not check.errors
        else:
            unit = unit_object(check)
            self.unique(check, number)
            if unit is not None and not check.errors:
                self.registered += 1
                return unit
        for message in check.errors:
            self.fail(number, message)
        return None

    def unique(self, check: LineCheck, number: int) -> None:
        """`si_id` and `rpls_id` not already on an earlier line of the file."""
        si_id, rpls_id = check.cells.get("si_id"), check.cells.get("rpls_id")
        if si_id is not None:
            if si_id in self.si_lines:
                check.error(f"si_id already on line {self.si_lines[si_id]}")
            else:
                self.si_lines[si_id] = number
        if rpls_id is not None:
            if rpls_id in self.rpls_lines:
                check.error(
                    f'rpls_id "{rpls_id}" already on line {self.rpls_lines[rpls_id]} (field 1)'
                )
            else:
                self.rpls_lines[rpls_id] = number

    def line_of(self, transaction: int, message: str) -> int:
        """The CSV line of an error of the booking on the `transaction`-th transaction
        (1-based): the line of the unit the message names, else its first unit's line."""
        first = self.first_lines[transaction - 1]
        end = self.first_lines[transaction] if transaction < len(self.first_lines) else None
        for word in message.replace(":", " ").replace(",", " ").split():
            line = self.si_lines.get(word.strip("'\""))
            if line is not None and first <= line and (end is None or line < end):
                return line
        return first
