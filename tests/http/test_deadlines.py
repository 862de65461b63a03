"""The request timeout's one timer per loop (http/deadlines.py) against what asyncio.timeout gives a
block: TimeoutError at its own deadline, nothing for a block that finishes in time, and another's
cancellation passed on untouched."""

from __future__ import annotations

import asyncio
import time

import pytest

from stateset_gateway.http.deadlines import Deadlines


async def _block(deadlines: Deadlines, seconds: float) -> tuple[str, float]:
    started = time.monotonic()
    try:
        with deadlines.limit():
            await asyncio.sleep(seconds)
    except TimeoutError:
        return "timeout", time.monotonic() - started
    return "done", time.monotonic() - started


async def test_each_block_times_out_at_its_own_deadline_and_the_others_finish() -> None:
    deadlines = Deadlines(0.2)

    async def later(delay: float, seconds: float) -> tuple[str, float]:
        await asyncio.sleep(delay)
        return await _block(deadlines, seconds)

    # Started 0, 50 and 100 ms apart, overlapping; the second finishes in time between the others.
    results = await asyncio.gather(later(0, 1.0), later(0.05, 0.05), later(0.1, 1.0))
    assert [outcome for outcome, _ in results] == ["timeout", "done", "timeout"]
    for outcome, elapsed in (results[0], results[2]):
        assert 0.19 <= elapsed < 0.35, elapsed  # its own 0.2 s, not the first block's deadline
    # The timer is set again for blocks that start after it fired.
    assert (await _block(deadlines, 1.0))[0] == "timeout"
    assert (await _block(deadlines, 0.01))[0] == "done"


async def test_a_block_cancelled_by_someone_else_is_cancelled_not_timed_out() -> None:
    deadlines = Deadlines(5)
    task = asyncio.create_task(_block(deadlines, 1.0))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_task_goes_on_normally_after_its_block_timed_out() -> None:
    """As after asyncio.timeout: the cancellation was the timeout's, so the task is not left
    cancelling and its next await runs."""
    deadlines = Deadlines(0.05)
    assert (await _block(deadlines, 1.0))[0] == "timeout"
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0
    await asyncio.sleep(0.01)
