"""How a unit is held: by one full owner, or by a usufructuary and a bare owner.

A frozen value of the `Unit` aggregate's state (never stored in an event: events carry
the holders as plain strings; the start of a usufruct is the date of the event that
made it, derived when the aggregate applies its events). Kept apart so that the
aggregate's module holds the aggregates and their events only.

The law on a date is `Holding.on`: a temporary usufruct ends at its term (Civil Code
arts. 617 and 619), so from the day after `usufruct_end` the bare owner holds in full
ownership, whether or not an extinction was recorded.

Must not: hold a rule. What a command may do with a holding is checked by `Unit`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Holding:
    """How a unit is held: by one full owner, or by a usufructuary and a bare owner until
    `usufruct_end` (inclusive), a usufruct that began on `usufruct_start`.

    A full ownership that came from the end of a usufruct says how it ended:
    `ended_term` (the usufruct's last day, when it ended at term), `former_usufructuary`,
    and `extinguished_by` / `extinguished_on` when an extinction was recorded. Two
    holdings are equal when the same entities hold the same rights until the same term:
    where a right came from is not compared."""

    full_owner: str | None = None
    usufructuary: str | None = None
    bare_owner: str | None = None
    usufruct_end: date | None = None
    usufruct_start: date | None = field(default=None, compare=False)
    ended_term: date | None = field(default=None, compare=False)
    former_usufructuary: str | None = field(default=None, compare=False)
    extinguished_by: str | None = field(default=None, compare=False)
    extinguished_on: date | None = field(default=None, compare=False)

    @property
    def holders(self) -> tuple[str, ...]:
        return tuple(h for h in (self.full_owner, self.usufructuary, self.bare_owner) if h)

    @property
    def dismembered(self) -> bool:
        return self.usufructuary is not None

    def ended_by_term(self, day: date) -> bool:
        """Whether this dismemberment's usufruct has ended at its term on `day`."""
        return (
            self.usufructuary is not None
            and self.usufruct_end is not None
            and day > self.usufruct_end
        )

    def on(self, day: date) -> Holding:
        """The holding in law on `day`: after the term, full ownership of the bare owner."""
        if not self.ended_by_term(day):
            return self
        return Holding(
            full_owner=self.bare_owner,
            ended_term=self.usufruct_end,
            former_usufructuary=self.usufructuary,
        )

    def describe(self) -> str:
        if self.full_owner:
            said = f"it is held in full ownership by {self.full_owner}"
            if self.ended_term is not None and self.extinguished_by is None:
                said += (
                    f" (the usufruct of {self.former_usufructuary} ended at term on "
                    f"{self.ended_term})"
                )
            return said
        if self.usufructuary:
            return (
                f"its usufruct is held by {self.usufructuary}, "
                f"its bare ownership by {self.bare_owner}"
            )
        return "it is held by nobody"


NOBODY = Holding()
