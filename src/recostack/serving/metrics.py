"""This process's Prometheus metrics, and their text for ``GET /metrics``.

One :class:`ServingMetrics` per process (:func:`serving_metrics`), made on
first use: requests by route template, method and status and their
latency (the HTTP middleware), recommendations, errors and take-ups per
deployment and version (the statistics rollups), the model cache's bytes,
hits and loads.

Several API processes (``recostack serve --workers N``) share one
directory of memory-mapped files (prometheus-client's multiprocess mode):
``recostack serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before the processes
start, each writes its own values there, and whichever process answers a
scrape adds them all up. Without the variable, values live in memory.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.metrics import MetricWrapperBase

__all__ = [
    "MULTIPROC_ENV",
    "ServingMetrics",
    "mark_process_dead",
    "prepare_multiprocess_dir",
    "serving_metrics",
]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: latency buckets of HTTP requests (seconds)
HTTP_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
#: the route label of a request no route matched (its path is not a label: unbounded)
UNMATCHED = "unmatched"

_M = TypeVar("_M", bound=MetricWrapperBase)


def _multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class ServingMetrics:
    """The metrics one process updates (see the module docstring)."""

    def __init__(self) -> None:
        self.multiprocess = _multiprocess()
        if self.multiprocess:
            # the value class is chosen when prometheus_client is imported; the variable
            # may have been set afterwards (``recostack serve`` sets it before serving)
            values.ValueClass = values.get_value_class()
        self.registry = CollectorRegistry(auto_describe=True)
        if not self.multiprocess:
            from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

            for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
                self.registry.register(collector)
        self.http_requests = self._add(
            Counter(
                "recostack_http_requests",
                "HTTP requests answered, by route template, method and status",
                ["route", "method", "status"],
                registry=None,
            )
        )
        self.http_latency = self._add(
            Histogram(
                "recostack_http_request_duration_seconds",
                "Time to answer an HTTP request, by route template and method",
                ["route", "method"],
                buckets=HTTP_BUCKETS,
                registry=None,
            )
        )
        self.recommendations = self._add(
            Counter(
                "recostack_deployment_recommendations",
                "Answers given through a deployment",
                ["deployment", "version"],
                registry=None,
            )
        )
        self.deployment_errors = self._add(
            Counter(
                "recostack_deployment_errors",
                "Failed recommend requests of a deployment, by status class (4xx, 5xx)",
                ["deployment", "version", "status_class"],
                registry=None,
            )
        )
        self.take_ups = self._add(
            Counter(
                "recostack_deployment_take_ups",
                "Responses that took an answer up",
                ["deployment", "version"],
                registry=None,
            )
        )
        self.model_cache_bytes = self._add(
            Gauge(
                "recostack_model_cache_bytes",
                "Bytes of the models held by the model cache (summed over live processes)",
                multiprocess_mode="livesum",
                registry=None,
            )
        )
        self.model_cache_hits = self._add(
            Counter(
                "recostack_model_cache_hits", "Model lookups answered from the cache", registry=None
            )
        )
        self.model_cache_loads = self._add(
            Counter(
                "recostack_model_cache_loads",
                "Models loaded into the cache (misses)",
                registry=None,
            )
        )
        self._http: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._lock = threading.Lock()

    def _add(self, metric: _M) -> _M:
        self.registry.register(metric)
        return metric

    # --- the request path ------------------------------------------------------------
    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request (children cached: no label validation per request)."""
        key = (route, method, status)
        children = self._http.get(key)
        if children is None:
            with self._lock:
                children = (
                    self.http_requests.labels(route, method, str(status)),
                    self.http_latency.labels(route, method),
                )
                self._http[key] = children
        children[0].inc()
        children[1].observe(seconds)

    # --- a scrape ----------------------------------------------------------------------
    def render(self) -> bytes:
        """The text format of every process's values (this one's without a shared dir)."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)


_metrics: ServingMetrics | None = None
_created = threading.Lock()


def serving_metrics() -> ServingMetrics:
    """This process's metrics (made on first use)."""
    global _metrics
    if _metrics is None:
        with _created:
            if _metrics is None:
                _metrics = ServingMetrics()
    return _metrics


def prepare_multiprocess_dir(path: Path) -> None:
    """Empty ``path`` and point this process (and the processes it starts) at it."""
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)


def mark_process_dead(pid: int | None = None) -> None:
    """A process stops: its live gauges leave the sums (multiprocess mode only)."""
    if _multiprocess():
        multiprocess.mark_process_dead(os.getpid() if pid is None else pid)
