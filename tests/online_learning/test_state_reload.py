"""The configurations one process knows: a reload that read before a write never installs its
older set over the reload that follows the write (the stamp poller's reload and the writer's
own run on different threads)."""

from __future__ import annotations

import threading
from typing import Any, cast

from recostack.serving.online.state import OnlineSource, OnlineState


class _Store:
    """Configurations only; the first read pauses between reading and returning."""

    def __init__(self) -> None:
        self.names = {"first": "first"}
        self.first_read_done = threading.Event()
        self.release_first = threading.Event()
        self.reads = 0

    def configurations(self) -> dict[str, Any]:
        self.reads += 1
        read = dict(self.names)
        if self.reads == 1:
            self.first_read_done.set()
            assert self.release_first.wait(5)
        return read


def test_a_reload_that_read_before_a_write_does_not_install_over_a_later_one() -> None:
    store = _Store()
    state = OnlineState(cast(OnlineSource, store))
    poller = threading.Thread(target=state.reload)  # the stamp poller's reload
    poller.start()
    assert store.first_read_done.wait(5)  # it has read the set without "second"
    store.names["second"] = "second"  # a configuration is created ...

    writer = threading.Thread(target=state.reload)  # ... and its writer reloads
    writer.start()
    writer.join(0.2)
    store.release_first.set()
    poller.join(5)
    writer.join(5)
    assert not poller.is_alive() and not writer.is_alive()
    assert state.configuration("second") == "second"
    assert store.reads == 2
