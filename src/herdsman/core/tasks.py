"""Background tasks that nobody awaits, kept referenced until they finish.

The event loop keeps only weak references to tasks; a fire-and-forget task
must be held somewhere or it may be collected mid-flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

_BACKGROUND: set[asyncio.Task[Any]] = set()


def spawn(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
    task = loop.create_task(coro)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    return task
