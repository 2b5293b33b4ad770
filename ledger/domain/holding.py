"""How a unit is held: by one full owner, or by a usufructuary and a bare owner.

A frozen value of the `Unit` aggregate's state (never stored in an event: events carry
the holders as plain strings). Kept apart so that the aggregate's module holds the
aggregates and their events only.

Must not: hold a rule. What a command may do with a holding is checked by `Unit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Holding:
    """How a unit is held now: by one full owner, or by a usufructuary and a bare owner."""

    full_owner: str | None = None
    usufructuary: str | None = None
    bare_owner: str | None = None
    usufruct_end: date | None = None

    @property
    def holders(self) -> tuple[str, ...]:
        return tuple(h for h in (self.full_owner, self.usufructuary, self.bare_owner) if h)

    def describe(self) -> str:
        if self.full_owner:
            return f"it is held in full ownership by {self.full_owner}"
        if self.usufructuary:
            return (
                f"its usufruct is held by {self.usufructuary}, "
                f"its bare ownership by {self.bare_owner}"
            )
        return "it is held by nobody"


NOBODY = Holding()
