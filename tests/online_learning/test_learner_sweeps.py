"""The learner's sweeps: a round skipped because another process held the configuration's lock
does not move the time decay recomputes from, and what this process wrote late (its shown
time older than the last sweep) is recomputed too."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from recostack.algorithms.bandits import EcosystemRewardsConfig
from recostack.serving.online.learner import OnlineLearner, ShownAnswer
from recostack.serving.online.records import (
    FeatureStore,
    Impression,
    OnlineConfiguration,
    ResponseEvent,
)

CONFIGURATION = OnlineConfiguration(
    "c1",
    "decaying",
    EcosystemRewardsConfig(decay_gamma=2.0),
    (),
    FeatureStore("recostack", "fs", {}, {"": ("o1",)}),
)


class _Source:
    """Sweeps that another process's lock skips while ``skip`` says so."""

    def __init__(self) -> None:
        self.skip = True
        self.sweeps: list[tuple[int, int, bool]] = []
        self.written: list[Impression] = []

    def write(self, impressions: Sequence[Impression], responses: Sequence[ResponseEvent]) -> None:
        self.written += impressions

    def sweep(self, configuration: OnlineConfiguration, now_ms: int, since_ms: int) -> bool:
        self.sweeps.append((now_ms, since_ms, not self.skip))
        return not self.skip


class _State:
    def __init__(self, source: _Source) -> None:
        self.source = source

    def refresh_due(self) -> None:
        pass

    def in_use(self) -> list[OnlineConfiguration]:
        return [CONFIGURATION]


def _learner() -> tuple[OnlineLearner, _Source]:
    source = _Source()
    state: Any = _State(source)
    return OnlineLearner(state, sweep_seconds=0.0), source


def test_a_skipped_sweep_keeps_its_since() -> None:
    learner, source = _learner()
    learner._maintain()  # skipped: another process holds the lock
    learner._maintain()  # skipped again
    first_now, first_since, _ = source.sweeps[0]
    assert first_since == first_now - 60_000
    # the next round still recomputes from where no sweep of this process has run
    assert source.sweeps[1][1] == first_since
    source.skip = False
    learner._maintain()
    assert source.sweeps[2][1] == first_since and source.sweeps[2][2]
    learner._maintain()
    assert source.sweeps[3][1] == source.sweeps[2][0]  # it ran: the next starts at its time


def test_late_writes_are_recomputed() -> None:
    learner, source = _learner()
    source.skip = False
    learner._maintain()
    swept_at = source.sweeps[0][0]
    # an offer shown 5 s before that sweep, written only now (it waited in the queue)
    shown_ms = swept_at - 5_000
    impression = Impression(
        "r1", "o1", "c1", "dep", "1", "", "ann", 1, shown_ms, 0.5, 1.0, False, 0.01
    )
    learner.shown([impression], ShownAnswer("dep", "1", "c1", "", ("o1",)))
    learner._drain()
    assert source.written == [impression]
    learner._maintain()
    assert source.sweeps[1][1] == shown_ms
    learner._maintain()  # covered: the next round starts at the last sweep's time
    assert source.sweeps[2][1] == source.sweeps[1][0]
