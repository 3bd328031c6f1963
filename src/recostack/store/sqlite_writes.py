"""SQLite's one writer at a time, handed over between the threads of one process.

SQLite lets one transaction write at a time. A connection that finds the
database locked waits in SQLite's busy handler, which polls: it sleeps 1, 2,
5, 10, ... up to 100 ms between tries, and a newcomer may take the lock
between two tries of one that has waited long. Under steady writes from
several threads (the prediction logger's batches, one transaction per
response, the statistics rollups, the worker) that polling was the long tail
of a soak (``bench/soak.py``, 435 requests/s: ``BEGIN IMMEDIATE`` was where
the response threads sampled most, and p99 reached 123 ms in a minute whose
p50 was 5 ms).

So in one process the writing transactions of an engine take turns on a lock
first: the next writer wakes the moment the last one commits or rolls back.
Other processes (workers, replicas) still meet SQLite's busy handler. A
thread that already holds the turn through another connection does not wait
for itself: its nested write goes to SQLite's own handling, as before.
"""

from __future__ import annotations

import sqlite3
import threading

__all__ = ["WriterTurns", "turn_taking_connection"]


class WriterTurns:
    """The turn to write to one database, among the threads of this process."""

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self._lock = threading.Lock()
        self._owner: int | None = None

    def take(self) -> bool:
        """Wait for the turn; ``False`` when not taken (this thread holds it already, or
        the wait timed out: SQLite's busy handler decides then)."""
        me = threading.get_ident()
        if self._owner == me:
            return False
        if not self._lock.acquire(timeout=self.timeout_seconds):
            return False
        self._owner = me
        return True

    def give(self) -> None:
        self._owner = None
        self._lock.release()


def turn_taking_connection(turns_: WriterTurns) -> type[sqlite3.Connection]:
    """A ``sqlite3.Connection`` class (the driver's ``factory``) whose writing transactions
    hold ``turns_`` from :meth:`begin_write` until their commit, rollback or close."""

    class TurnTakingConnection(sqlite3.Connection):
        turns: WriterTurns = turns_
        _holds = False

        def begin_write(self) -> None:
            self._holds = self.turns.take()
            try:
                self.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._end()
                raise

        def _end(self) -> None:
            if self._holds:
                self._holds = False
                self.turns.give()

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self._end()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._end()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._end()

    return TurnTakingConnection
