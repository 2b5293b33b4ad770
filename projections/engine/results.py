"""What a catch-up, a rebuild or a replay reports: what it folded and how long it took.

The rate (events per second) is derived in one place, `Timed.rate`, for every result
that counts events and seconds. Must not: measure anything itself (the caller times its
own work) or hold rows.
"""

from __future__ import annotations

from dataclasses import dataclass


class Timed:
    """A result that folded `events` in `seconds`: its rate, in events per second (0 when
    no time was measured)."""

    events: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass
class CatchUpResult(Timed):
    """What a catch-up (or the rebuild it ran) wrote: whole transactions, their events,
    and the projections' position after it."""

    transactions: int = 0
    events: int = 0
    position: int = 0
    seconds: float = 0.0
