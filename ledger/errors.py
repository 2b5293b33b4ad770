"""Errors of the write side, each a rule a user can read and act on.

Every rejection names the rule it enforces with a stable `code` (documented in
docs/transactions.md) and a message in plain words. Nothing here knows about files,
lines or exit codes: the importer adds `FILE:LINE:` and the CLI maps to exit codes.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every expected failure of the ledger."""


class RuleViolation(LedgerError):
    """A transaction breaks a rule of the format or of the domain; nothing is written."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class InvalidField(RuleViolation):
    """A field is missing, unknown, of the wrong type or out of its value list."""


class ConcurrencyConflict(LedgerError):
    """Another writer changed what this import read; re-validate and retry."""


class DatabaseUnavailable(LedgerError):
    """The database cannot be reached or refuses the operation."""


class IntegrityFailure(LedgerError):
    """A check of the stored journal or projections found a difference."""
