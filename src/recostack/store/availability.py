"""Telling "the database is away" from "the statement is wrong", and waiting the first out.

A database restart, a failover or a cut network shows up as SQLAlchemy's
operational or interface errors, a connection found invalid, or a pool
with no connection free in time: :func:`is_database_unavailable`. The API
answers those with a 503 (``recostack.api.unavailable``); the workers wait
them out with :func:`retry_while_unavailable` where giving up would lose
work (recording a job's outcome, publishing a finished model). Any other
error is raised at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import exc as sa_exc

__all__ = ["is_database_unavailable", "retry_while_unavailable"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


def is_database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database is unreachable or too slow, not that a statement
    is wrong: operational and interface errors (connection refused or cut, server
    shutting down or starting, statement timeout), a connection found invalid, a pool
    with no connection free in time."""
    if isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


def retry_while_unavailable(
    action: Callable[[], T], *, seconds: float, what: str, pause: float = 0.5
) -> T:
    """``action()``, tried again every ``pause`` seconds for up to ``seconds`` while the
    database is unavailable (then, or on any other error, the error is raised)."""
    deadline = time.monotonic() + seconds
    waited = False
    while True:
        try:
            result = action()
        except Exception as exc:
            if not is_database_unavailable(exc) or time.monotonic() >= deadline:
                raise
            if not waited:
                logger.warning("%s: the database is unavailable; trying again", what)
                waited = True
            time.sleep(pause)
            continue
        if waited:
            logger.warning("%s: done, the database is back", what)
        return result
