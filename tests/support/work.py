"""Work counted in Python calls, for tests that must show a request does a bounded amount of it.

The processor's clock is no measure here: other processes on the machine stretch it, and a document
whose examination grew with its expanded size (2^30 spreads) would not finish at all. Counting the
calls made is the same on every machine, and stopping at the bound turns such a document into a
failed request instead of a hang."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class WorkExceeded(Exception):
    """Raised inside whatever was running when the count passed its bound."""


class CallCount:
    def __init__(self, bound: int) -> None:
        self.bound = bound
        self.calls = 0

    def _profile(self, _frame: FrameType, event: str, _arg: object) -> None:
        if event == "call" or event == "c_call":
            self.calls += 1
            if self.calls > self.bound:
                # an exception from a profile function unsets it and propagates where the call was made
                raise WorkExceeded(f"more than {self.bound} calls")


@contextmanager
def calls_at_most(bound: int) -> Iterator[CallCount]:
    """Counts the Python and C function calls made on this thread (the event loop's, so every task
    it runs) inside the block; the block fails once they pass `bound`."""
    count = CallCount(bound)
    sys.setprofile(count._profile)
    try:
        yield count
    finally:
        sys.setprofile(None)
    assert count.calls <= bound, (count.calls, bound)
