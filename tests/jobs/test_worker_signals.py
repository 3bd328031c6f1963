"""``recostack worker`` stops on SIGINT and SIGTERM wherever the signal lands.

Seen in CI: a SIGINT that reached the worker while SQLAlchemy was pinging a
pooled connection became, in the driver's clean-up, a ProgrammingError; the
worker's loop logged it as a failed look for work and went on, and the
process had to be killed. These tests send the signal from inside a step that
turns a KeyboardInterrupt into an ordinary error, as that ping did.
"""

from __future__ import annotations

import signal
import time

import pytest

from recostack.jobs import worker as worker_module
from recostack.jobs.worker import Worker
from recostack.settings import Settings
from recostack.store.engine import Database


def _driver_call_hit_by(sig: int) -> None:
    """A database call the signal lands in; its clean-up error replaces an interrupt.

    ``raise_signal`` delivers it to this thread before it returns (``os.kill`` to the process
    can land on another thread)."""
    try:
        signal.raise_signal(sig)
        time.sleep(0.2)
    except KeyboardInterrupt as interrupt:
        raise RuntimeError("can't change 'autocommit' now") from interrupt


@pytest.mark.timeout(30)
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_signal_inside_a_database_call_stops_the_worker(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch, sig: int
) -> None:
    steps = 0

    class SignalledWorker(Worker):
        def run_once(self) -> bool:
            nonlocal steps
            steps += 1
            if steps == 2:
                _driver_call_hit_by(sig)
            return False

    # the worker run_worker makes, not Worker itself: workers other tests of this process
    # left running would call the patched step too (seen in CI: 5 steps counted, not 2)
    monkeypatch.setattr(worker_module, "Worker", SignalledWorker)
    settings = settings.model_copy(update={"job_poll_seconds": 0.05})
    before = (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM))
    worker_module.run_worker(settings)  # returns: the signal stopped it
    assert steps == 2  # it stopped after the step the signal landed in
    # the process's own handlers are back
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


@pytest.mark.timeout(30)
def test_a_second_sigint_interrupts_at_once(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    class SignalledWorker(Worker):
        def run_once(self) -> bool:
            signal.raise_signal(signal.SIGINT)  # stop after this step...
            signal.raise_signal(signal.SIGINT)  # ...no: now
            time.sleep(5)
            raise AssertionError("the second signal did not interrupt the step")

    monkeypatch.setattr(worker_module, "Worker", SignalledWorker)
    with pytest.raises(KeyboardInterrupt):
        worker_module.run_worker(settings)
