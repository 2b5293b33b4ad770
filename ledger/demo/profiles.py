"""The demo story's profiles: the default story, or the "scale" one with a real group's churn.

Why: benchmarks need 3 to 4 events per unit where the default story has about 1.5; a
profile changes only who is registered later, who merges and how much sells, so both
stories share the cast and the generator (`ledger.demo.story`).

What it must not do: change the default story (its bytes are pinned by a test), or
import anything but the standard library and the demo's own tables (`ledger.demo.cast`,
`ledger.demo.scale`).
"""

from __future__ import annotations

from typing import NamedTuple

from ledger.demo import scale
from ledger.demo.cast import ALI, LATER, LOT_RATE_BY_KIND, MERGERS, Cast, Merger


class Profile(NamedTuple):
    """What a profile changes in the story: who is registered later, who merges, how much sells.

    `onv_block_rate` is the ESH stock sold to ONV a year (0: ONV blocks as in BLOCKS). A
    profile adds no LLI company: the LLI buyers are drawn from the static cast
    (`ledger.demo.plan.active`).
    """

    later: tuple[Cast, ...]
    mergers: tuple[Merger, ...]
    lot_rates: dict[str, float]
    onv_block_rate: float


PROFILES = ("default", "scale")


def load_profile(name: str) -> Profile:
    """The default story, or the "scale" one: the ELAN mergers and more ONV sales on top."""
    if name == "default":
        return Profile(LATER, MERGERS, LOT_RATE_BY_KIND, 0.0)
    if name != "scale":
        raise ValueError(f"unknown profile {name!r}: choose one of {', '.join(PROFILES)}")
    later = tuple(Cast(i, n, k, r, day, parent=ALI) for i, n, k, r, day in scale.ENTITIES)
    mergers = tuple(Merger(*m) for m in scale.MERGERS)
    merged = tuple(sorted((*MERGERS, *mergers), key=lambda m: m.day))
    return Profile((*LATER, *later), merged, scale.LOT_RATES, scale.ONV_BLOCK_RATE)
