"""What one API process knows of online learning: configurations and arm snapshots.

:class:`OnlineState` reloads the configurations (with their feature stores
and offers) when the ``online_learning_generation`` stamp changes, and
keeps one :class:`ArmsSnapshot` per configuration in use, re-read from the
options store by the learner's thread after its writes, at most every
``arms_refresh_seconds`` (a request never waits for it, except for a
configuration's first, which it awaits without blocking the event loop).
A read is one row that the database aggregates (every arm's figures), and a
snapshot keeps where each arm is from read to read while the arms stay the
same, so a segment's arrays are one ``take`` from the new figures.
Per-customer arms (a segment that is one customer) are read per customer,
in bulk with the other customers asked for at the same moment, and kept
``arms_refresh_seconds``.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from recostack.errors import NotFound
from recostack.rules import ItemProperties
from recostack.serving.online.bulk_reader import BulkReader
from recostack.serving.online.records import (
    ONLINE_GENERATION,
    Arm,
    ArmTable,
    Impression,
    OnlineConfiguration,
    ResponseEvent,
)
from recostack.serving.stamps import Stamps

__all__ = ["ArmLayout", "ArmsSnapshot", "OnlineSource", "OnlineState", "SegmentArms"]

_VERSIONS = itertools.count(1)
#: the figures of an arm not stored yet (a snapshot table's last column): alpha = beta = 1
#: and their priors, never shown
_NOT_STORED = np.array([[1.0], [1.0], [1.0], [1.0], [0.0], [0.0]])
#: (segment, offers) asked for whose columns and arrays a layout and a snapshot keep
_KEPT = 10_000


class OnlineSource(Protocol):
    """The store (``recostack.store.serving_source.OnlineStore``)."""

    def configurations(self) -> dict[str, OnlineConfiguration]: ...

    def arm_table(self, config_id: str, segments: Sequence[str] | None = None) -> ArmTable:
        """A configuration's arms, or those of some segments (per-customer arms: a segment is
        a customer)."""

    def offers(self, collection: str) -> dict[str, dict[str, Any]]:
        """An offer collection's records by offer id."""

    def write(self, impressions: Sequence[Impression], responses: Sequence[ResponseEvent]) -> None:
        """Store both in one transaction (impressions first)."""

    def sweep(self, configuration: OnlineConfiguration, now_ms: int, since_ms: int) -> bool:
        """Apply the window, the count and decay (arms shown since ``since_ms``); whether it
        ran (``False``: another process is sweeping the configuration)."""

    def shown_offers(self, request_ids: Sequence[str]) -> dict[str, list[tuple[Any, ...]]]:
        """Per answer, the offers it showed in rank order: (offer, config_id,
        deployment_id, version, segment)."""


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


class ArmLayout:
    """Where each arm of a read is (its column in a snapshot's table) and, per segment and
    offers asked for, their columns: worked out once, and kept from read to read while the
    store gives the same layout (the same arms, only their figures changed)."""

    def __init__(self, keys: Sequence[Arm], text: str | None = None) -> None:
        #: the store's layout (``None``: never the same as another read's)
        self.text = text
        self.columns: dict[Arm, int] = dict(zip(keys, range(len(keys)), strict=True))
        self._asked: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}

    def of(self, segment: str, offers: tuple[str, ...]) -> np.ndarray:
        """The columns of ``offers`` in ``segment`` (an arm not stored yet: the last)."""
        key = (segment, offers)
        found = self._asked.get(key)
        if found is None:
            missing = len(self.columns)
            columns = self.columns
            found = np.array([columns.get((o, segment), missing) for o in offers], dtype=np.intp)
            if len(self._asked) < _KEPT:
                self._asked[key] = found
        return found


def _table(values: np.ndarray) -> np.ndarray:
    """6 × (arms + 1), a row per figure (contiguous, what the compiled kernels take), an arm
    not stored yet's last, from arms × 6."""
    return np.concatenate([values.T, _NOT_STORED], axis=1)


@dataclass(frozen=True)
class ArmsSnapshot:
    """Every arm of one configuration as read at one time (``version`` names the read)."""

    layout: ArmLayout
    #: alpha, beta, alpha_zero, beta_zero, shown, taken_up: a row each, a column per arm in
    #: the layout's order, then an arm not stored yet's
    table: np.ndarray
    version: int = field(default_factory=lambda: next(_VERSIONS))
    read_at: float = field(default_factory=time.monotonic)
    #: arrays already made from this read, by (segment, offers)
    _made: dict[tuple[str, tuple[str, ...]], SegmentArms] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def read(cls, arms: ArmTable, previous: ArmsSnapshot | None = None) -> ArmsSnapshot:
        """A snapshot of ``arms``, in ``previous``' layout when the arms are the same."""
        if previous is not None and previous.layout.text == arms.layout:
            layout = previous.layout
        else:
            layout = ArmLayout(arms.arms(), arms.layout)
        return cls(layout, _table(arms.values))

    def arms(self, offers: Sequence[str], segment: str) -> SegmentArms:
        """The arms of ``offers`` in ``segment`` (one not stored yet: alpha = beta = 1); the
        arrays are made once per read (requests of a segment share them until the next)."""
        key = (segment, tuple(offers))
        found = self._made.get(key)
        if found is None:
            figures = self.table.take(self.layout.of(segment, key[1]), axis=1)
            found = SegmentArms(key[1], *figures)
            if len(self._made) < _KEPT:
                self._made[key] = found
        return found


class OnlineState:
    def __init__(
        self,
        source: OnlineSource,
        *,
        arms_refresh_seconds: float = 0.5,
        customers_kept: int = 100_000,
    ) -> None:
        self.source = source
        self.arms_refresh_seconds = arms_refresh_seconds
        self._configurations: dict[str, OnlineConfiguration] = {}
        self._properties: dict[tuple[str, str | None, str], ItemProperties] = {}
        self._snapshots: dict[str, ArmsSnapshot] = {}
        self._stamp: str | None = None
        self._loaded = False
        self._lock = threading.Lock()
        #: reloads one at a time, each reading and installing under it: a reload that read
        #: before a write must not install its older set after the reload that follows it
        self._reload_lock = threading.Lock()
        #: a configuration's arms, read in bulk the first time it is used
        self._arms_reader: BulkReader[str, ArmsSnapshot] = BulkReader(
            lambda ids: {i: ArmsSnapshot.read(self.source.arm_table(i)) for i in ids},
            name="online-arms",
        )
        #: per-customer arms: (configuration, customer) -> that customer's arms
        self._customers: OrderedDict[tuple[str, str], ArmsSnapshot] = OrderedDict()
        self._customers_kept = customers_kept
        self._customer_reader: BulkReader[tuple[str, str], ArmsSnapshot] = BulkReader(
            self._read_customers, name="online-customer-arms"
        )
        #: offer matrices (``setup_offer_matrix``): collection -> records by offer id
        self._matrices: dict[str, dict[str, dict[str, Any]]] = {}
        self._matrix_reader: BulkReader[str, dict[str, dict[str, Any]]] = BulkReader(
            lambda names: {n: self.source.offers(n) for n in names}, name="online-offers"
        )

    # --- configurations ---------------------------------------------------------------
    def on_stamps(self, stamps: Stamps) -> None:
        stamp = stamps.get(ONLINE_GENERATION)
        if self._loaded and stamp == self._stamp:
            return
        self.reload()
        self._stamp = stamp

    def reload(self) -> None:
        with self._reload_lock:
            configurations = self.source.configurations()
            with self._lock:
                self._configurations = configurations
                self._properties = {}
                self._matrices = {}
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

    async def properties(
        self, configuration: OnlineConfiguration, matrix: str | None = None, key: str = "offer"
    ) -> tuple[tuple[str, ...], ItemProperties]:
        """Every offer of the feature store (sorted) and their attributes, for filters: the
        feature store's offer records, or those of the deployment's offer matrix
        (``setup_offer_matrix``: ``matrix`` collection, offers named by their ``key`` field)."""
        offers = tuple(sorted(configuration.feature_store.offers))
        cache_key = (configuration.id, matrix, key)
        found = self._properties.get(cache_key)
        if found is None:
            records: Mapping[str, Mapping[str, Any]] = configuration.feature_store.offers
            if matrix is not None:
                records = await self.offer_matrix(matrix, key)
            names = sorted({k for r in records.values() for k in r})
            columns = {
                name: np.array([_text(records.get(o, {}).get(name)) for o in offers], dtype=object)
                for name in names
            }
            found = ItemProperties(columns, n_items=len(offers))
            self._properties[cache_key] = found
        return offers, found

    async def offer_matrix(self, collection: str, key: str) -> dict[str, dict[str, Any]]:
        """An offer collection's records by offer name (their ``key`` field, else their id)."""
        records = self._matrices.get(collection)
        if records is None:
            records = await self._matrix_reader.get(collection) or {}
            self._matrices[collection] = records
        return {str(r.get(key) or offer_id): r for offer_id, r in records.items()}

    # --- arms -------------------------------------------------------------------------
    async def snapshot(self, config_id: str) -> ArmsSnapshot:
        found = self._snapshots.get(config_id)
        if found is None:
            read = await self._arms_reader.get(config_id)
            assert read is not None
            found = self._snapshots.setdefault(config_id, read)
        return found

    def refresh(self, config_id: str) -> ArmsSnapshot:
        snapshot = ArmsSnapshot.read(
            self.source.arm_table(config_id), self._snapshots.get(config_id)
        )
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
        used = set(self._snapshots) | {c for c, _ in list(self._customers)}
        return [self._configurations[c] for c in sorted(used) if c in self._configurations]

    # --- per-customer arms --------------------------------------------------------------
    def _read_customers(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], ArmsSnapshot]:
        by_config: dict[str, list[str]] = {}
        for config_id, customer in keys:
            by_config.setdefault(config_id, []).append(customer)
        found: dict[tuple[str, str], ArmsSnapshot] = {}
        for config_id, customers in by_config.items():
            read = self.source.arm_table(config_id, customers)
            arms = read.arms()
            rows: dict[str, list[int]] = {customer: [] for customer in customers}
            for row, (_, customer) in enumerate(arms):
                rows[customer].append(row)
            for customer, mine in rows.items():
                found[(config_id, customer)] = ArmsSnapshot(
                    ArmLayout([arms[r] for r in mine]), _table(read.values[mine])
                )
        return found

    async def customer_snapshot(self, config_id: str, customer: str) -> ArmsSnapshot:
        """One customer's arms, as read at most ``arms_refresh_seconds`` ago (read in bulk
        with the other customers waiting)."""
        key = (config_id, customer)
        found = self._customers.get(key)
        if found is not None and time.monotonic() - found.read_at < self.arms_refresh_seconds:
            return found
        read = await self._customer_reader.get(key)
        assert read is not None
        with self._lock:
            self._customers[key] = read
            self._customers.move_to_end(key)
            while len(self._customers) > self._customers_kept:
                self._customers.popitem(last=False)
        return read

    def stop(self) -> None:
        for reader in (self._arms_reader, self._customer_reader, self._matrix_reader):
            reader.stop()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)
