"""Waiting on the server: poll until a condition holds, :class:`Unavailable` past a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from recostack.errors import Unavailable

__all__ = ["poll_until"]

T = TypeVar("T")


def poll_until(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    timeout: float,
    every: float,
    waiting_for: Callable[[T], str],
) -> T:
    """``fetch()`` every ``every`` seconds until ``done(answer)``; that answer.

    Past ``timeout`` seconds, :class:`Unavailable` with ``waiting_for(answer)``
    (what the last answer still showed) as its message.
    """
    deadline = time.monotonic() + timeout
    while True:
        answer = fetch()
        if done(answer):
            return answer
        if time.monotonic() > deadline:
            raise Unavailable(f"{waiting_for(answer)} after {timeout} s")
        time.sleep(every)
