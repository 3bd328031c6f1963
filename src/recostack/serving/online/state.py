"""What one API process knows of online learning: configurations and arm snapshots.

:class:`OnlineState` reloads the configurations (with their feature stores
and offers) when the ``online_learning_generation`` stamp changes, and
keeps one :class:`ArmsSnapshot` per configuration in use, re-read from the
options store every ``arms_refresh_seconds`` by the learner's thread (a
request never waits for it, except for a configuration's first).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from recostack.errors import NotFound
from recostack.rules import ItemProperties
from recostack.serving.online.records import (
    ONLINE_GENERATION,
    ArmStats,
    Impression,
    OnlineConfiguration,
    ResponseEvent,
)
from recostack.serving.stamps import Stamps

__all__ = ["ArmsSnapshot", "OnlineSource", "OnlineState", "SegmentArms"]

Arm = tuple[str, str]
_VERSIONS = itertools.count(1)


class OnlineSource(Protocol):
    """The store (``recostack.store.serving_source.OnlineStore``)."""

    def configurations(self) -> dict[str, OnlineConfiguration]: ...

    def arm_stats(self, config_id: str) -> dict[Arm, ArmStats]: ...

    def write(self, impressions: Sequence[Impression], responses: Sequence[ResponseEvent]) -> None:
        """Store both in one transaction (impressions first)."""

    def sweep(self, configuration: OnlineConfiguration, now_ms: int, since_ms: int) -> None: ...

    def shown_offers(self, request_id: str) -> list[dict[str, object]]: ...


@dataclass(frozen=True)
class SegmentArms:
    """The arms of some offers in one segment, as arrays in the offers' order."""

    offers: tuple[str, ...]
    alpha: np.ndarray
    beta: np.ndarray
    alpha_zero: np.ndarray
    beta_zero: np.ndarray
    shown: np.ndarray
    taken_up: np.ndarray

    @property
    def propensity(self) -> np.ndarray:
        """Observed take-up rates (0 where never shown)."""
        return np.divide(
            self.taken_up, self.shown, out=np.zeros(len(self.offers)), where=self.shown > 0
        )


@dataclass(frozen=True)
class ArmsSnapshot:
    """Every arm of one configuration as read at one time (``version`` names the read)."""

    stats: Mapping[Arm, ArmStats]
    version: int = field(default_factory=lambda: next(_VERSIONS))
    read_at: float = field(default_factory=time.monotonic)

    def arms(self, offers: Sequence[str], segment: str) -> SegmentArms:
        """The arms of ``offers`` in ``segment`` (one not stored yet: alpha = beta = 1)."""
        default = ArmStats(1.0, 1.0, 1.0, 1.0, 0, 0)
        rows = [self.stats.get((offer, segment), default) for offer in offers]
        columns = np.array(rows, dtype=np.float64).reshape(len(rows), 6).T
        return SegmentArms(tuple(offers), *columns)


class OnlineState:
    def __init__(self, source: OnlineSource, *, arms_refresh_seconds: float = 0.5) -> None:
        self.source = source
        self.arms_refresh_seconds = arms_refresh_seconds
        self._configurations: dict[str, OnlineConfiguration] = {}
        self._properties: dict[str, ItemProperties] = {}
        self._snapshots: dict[str, ArmsSnapshot] = {}
        self._stamp: str | None = None
        self._loaded = False
        self._lock = threading.Lock()

    # --- configurations ---------------------------------------------------------------
    def on_stamps(self, stamps: Stamps) -> None:
        stamp = stamps.get(ONLINE_GENERATION)
        if self._loaded and stamp == self._stamp:
            return
        self.reload()
        self._stamp = stamp

    def reload(self) -> None:
        configurations = self.source.configurations()
        with self._lock:
            self._configurations = configurations
            self._properties = {}
            self._loaded = True

    def configuration(self, config_id: str) -> OnlineConfiguration:
        found = self._configurations.get(config_id)
        if found is None and not self._loaded:
            self.reload()
            found = self._configurations.get(config_id)
        if found is None:
            raise NotFound(
                f"online learning configuration {config_id!r} does not exist",
                field="multi_armed_bandit.pulse_responder_id",
            )
        return found

    def properties(
        self, configuration: OnlineConfiguration
    ) -> tuple[tuple[str, ...], ItemProperties]:
        """Every offer of the feature store (sorted) and their attributes, for filters."""
        offers = tuple(sorted(configuration.feature_store.offers))
        found = self._properties.get(configuration.id)
        if found is None:
            names = sorted({k for r in configuration.feature_store.offers.values() for k in r})
            columns = {
                name: np.array(
                    [_text(configuration.feature_store.offers[o].get(name)) for o in offers],
                    dtype=object,
                )
                for name in names
            }
            found = ItemProperties(columns, n_items=len(offers))
            self._properties[configuration.id] = found
        return offers, found

    # --- arms -------------------------------------------------------------------------
    def snapshot(self, config_id: str) -> ArmsSnapshot:
        found = self._snapshots.get(config_id)
        if found is None:
            found = self.refresh(config_id)
        return found

    def refresh(self, config_id: str) -> ArmsSnapshot:
        snapshot = ArmsSnapshot(self.source.arm_stats(config_id))
        self._snapshots[config_id] = snapshot
        return snapshot

    def refresh_due(self) -> None:
        """Re-read the snapshots older than the refresh interval (the learner's thread)."""
        now = time.monotonic()
        for config_id, snapshot in list(self._snapshots.items()):
            if now - snapshot.read_at >= self.arms_refresh_seconds:
                if config_id in self._configurations:
                    self.refresh(config_id)
                else:
                    self._snapshots.pop(config_id, None)

    def in_use(self) -> list[OnlineConfiguration]:
        return [self._configurations[c] for c in self._snapshots if c in self._configurations]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)
