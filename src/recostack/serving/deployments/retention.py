"""Log retention: each deployment's ``logging.retention_days``, applied once a minute.

A deployment's logs are its predictions and responses and, when it learns online, the
offers it showed (``online_interactions``): those older than the retention are removed
once they no longer count in their arms (an interaction still counting is part of an
arm's alpha and beta; it goes at the first purge after the window or the count drops it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from recostack.serving.deployments.config import DeploymentConfig
from recostack.serving.deployments.live import LiveDeployments
from recostack.serving.stamps import Stamps

__all__ = ["LogRetention", "Purge"]

logger = logging.getLogger(__name__)

EVERY_SECONDS = 60.0


#: ``purge(deployment_id, before, config_ids)``: the number of records removed
Purge = Callable[[str, datetime, Sequence[str]], int]


class LogRetention:
    """Purges the logs older than a deployment's retention (``purge(deployment_id, before,
    config_ids)`` returns the number of records removed; ``config_ids``: the online learning
    configurations its versions link)."""

    def __init__(self, live: LiveDeployments, purge: Purge) -> None:
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
            configs = [DeploymentConfig.parse(r.settings, len(r.model_ids)) for r in records]
            kept = [c.retention_days for c in configs if c.retention_days is not None]
            linked = sorted({c.online.config_id for c in configs if c.online is not None})
            if kept:
                try:
                    before = now - timedelta(days=max(kept))
                    removed += self.purge(deployment_id, before, linked)
                except Exception:
                    logger.warning("could not purge the logs of %s", deployment_id, exc_info=True)
        return removed
