"""The cyclic garbage collector paused while a bulk job runs (import, catch-up, replay).

These jobs allocate many dicts and strings that live until the end and form no
reference cycles: the collector's passes over that growing heap cost time and free
nothing. Shared by the write side and the read side's engine, so it depends on nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused for the block, then restored as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
