"""The request timeout: every request's deadline kept on one timer per event loop.

`asyncio.timeout` around each request schedules a timer of its own and cancels it when the request
ends. Served under uvloop, that was 13 us of a trivial request's 135 (bench: the floor). Every request
of a process has the same limit, so deadlines come in the order requests start, and one timer at the
earliest is enough: when it fires it cancels the requests past their deadline and is set again for
the next one. A request then pays for an entry in a dict.

What a request past its deadline sees is what `asyncio.timeout` gives it: its task is cancelled and
the block raises TimeoutError, unless something else cancelled the task too (a client gone, a server
shutting down), whose CancelledError goes on as it is.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class Deadlines:
    """Blocks that must finish within `seconds`: `with deadlines.limit(): await ...`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._loops: dict[asyncio.AbstractEventLoop, _Running] = {}

    def limit(self) -> Limit:
        """The current task's block: its loop is the task's (asyncio.get_running_loop() and
        current_task() each make a getpid system call on Python 3.11; current_task alone is one)."""
        task = asyncio.current_task()
        assert task is not None, "a deadline is for a block run by a task"
        loop = task.get_loop()
        running = self._loops.get(loop)
        if running is None:
            for closed in [other for other in self._loops if other.is_closed()]:
                del self._loops[closed]
            running = self._loops[loop] = _Running(loop)
        return Limit(running, task, loop.time() + self.seconds)


class _Running:
    """One loop's blocks in progress, oldest first (so earliest deadline first), and its one timer."""

    __slots__ = ("loop", "blocks", "timer")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.blocks: dict[int, Limit] = {}
        self.timer: asyncio.TimerHandle | None = None

    def expire(self) -> None:
        """Cancel every block past its deadline; set the timer for the next deadline, if any."""
        self.timer = None
        now = self.loop.time()
        blocks = self.blocks
        for key, block in list(blocks.items()):
            if block.deadline > now:
                self.timer = self.loop.call_at(block.deadline, self.expire)
                return
            del blocks[key]
            block.expired = True
            block.task.cancel()


class Limit:
    """One block's deadline, as a context manager."""

    __slots__ = ("running", "deadline", "task", "cancelling", "expired")

    def __init__(self, running: _Running, task: asyncio.Task[object], deadline: float) -> None:
        self.running = running
        self.task = task
        self.deadline = deadline
        self.expired = False

    def __enter__(self) -> Limit:
        self.cancelling = self.task.cancelling()
        running = self.running
        running.blocks[id(self)] = self
        if running.timer is None:
            running.timer = running.loop.call_at(self.deadline, running.expire)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if not self.expired:
            self.running.blocks.pop(id(self), None)
            return
        # As asyncio.Timeout: the cancellation was ours only if nobody else asked for one meanwhile.
        if self.task.uncancel() <= self.cancelling and kind is asyncio.CancelledError:
            raise TimeoutError from error
