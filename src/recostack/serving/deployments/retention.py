"""Prediction log retention: each deployment's ``logging.retention_days``, applied once a minute."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from recostack.serving.deployments.config import DeploymentConfig
from recostack.serving.deployments.live import LiveDeployments
from recostack.serving.stamps import Stamps

__all__ = ["LogRetention"]

logger = logging.getLogger(__name__)

EVERY_SECONDS = 60.0


class LogRetention:
    """Purges the logs older than a deployment's retention (``purge(deployment_id, before)``
    returns the number of records removed)."""

    def __init__(self, live: LiveDeployments, purge: Callable[[str, datetime], int]) -> None:
        self.live = live
        self.purge = purge
        self._purged_at = 0.0

    def on_stamps(self, _stamps: Stamps) -> None:
        if time.monotonic() - self._purged_at >= EVERY_SECONDS:
            self._purged_at = time.monotonic()
            self.purge_expired()

    def purge_expired(self) -> int:
        """Apply every deployment's log retention now; returns the records removed."""
        removed = 0
        now = datetime.now(UTC)
        for deployment_id, records in self.live.records().items():
            days = [
                DeploymentConfig.parse(r.settings, len(r.model_ids)).retention_days for r in records
            ]
            kept = [d for d in days if d is not None]
            if kept:
                try:
                    removed += self.purge(deployment_id, now - timedelta(days=max(kept)))
                except Exception:
                    logger.warning("could not purge the logs of %s", deployment_id, exc_info=True)
        return removed
