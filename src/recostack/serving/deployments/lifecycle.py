"""Starting a deployment and switching its model, in background threads of this process.

Start: load and warm up the version's models, serve them here, then record
ACTIVE in the store (or FAILED with the error). Switch (a promotion or a
rollback): load and warm up the new model, serve it here instead of the
old one, then record the promotion; a failed load leaves the old model
serving and records why. A client polls the deployment until its state
is stable (the SDK's ``wait_for_deployment``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from recostack.errors import RecostackError
from recostack.serving.deployments.config import DeploymentConfig
from recostack.serving.deployments.live import LiveDeployment, LiveDeployments
from recostack.serving.deployments.records import DeploymentRecord, DeploymentStatus, Environment

__all__ = ["DeploymentLifecycle"]

logger = logging.getLogger(__name__)


def _reason(exc: BaseException) -> str:
    return exc.message if isinstance(exc, RecostackError) else f"{type(exc).__name__}: {exc}"


class DeploymentLifecycle:
    def __init__(self, live: LiveDeployments) -> None:
        self.live = live
        self.source = live.source
        self._tasks: list[threading.Thread] = []
        self._lock = threading.Lock()

    def activate(self, record: DeploymentRecord) -> None:
        """Load and warm up ``record``'s models, then mark it ACTIVE (or FAILED)."""
        self._spawn(self._activate, record)

    def switch_model(self, record: DeploymentRecord, model_version: str, *, rollback: bool) -> None:
        """Load and warm up ``model_version``, then serve it instead of the current one."""
        self._spawn(self._switch, record, model_version, rollback)

    def wait_for_tasks(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        for thread in list(self._tasks):
            thread.join(max(0.0, deadline - time.monotonic()))

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name="deployment-task", daemon=True)
        with self._lock:
            self._tasks = [t for t in self._tasks if t.is_alive()]
            self._tasks.append(thread)
        thread.start()

    def _activate(self, record: DeploymentRecord) -> None:
        if record.status == DeploymentStatus.PENDING:  # a new version: loading starts now
            self.source.set_status(record.pk, DeploymentStatus.DEPLOYING)
        try:
            models = self.live.load(record.model_ids)
            config = DeploymentConfig.parse(record.settings, len(models))
        except Exception as exc:
            logger.warning("deployment %s failed to start", record.deployment_id, exc_info=True)
            self.source.set_status(record.pk, DeploymentStatus.FAILED, _reason(exc))
            self.live.reload()
            return
        # this process serves before the store says ACTIVE (a client that sees
        # ACTIVE is answered), a disabled one never; the reload then rebuilds
        # the entry from the store's record as it is now
        if record.environment != Environment.DISABLE:
            active = replace(record, status=DeploymentStatus.ACTIVE, error=None)
            self.live.install(LiveDeployment(active, config, models))
        self.source.set_status(record.pk, DeploymentStatus.ACTIVE, None, deployed=True)
        self.live.reload()

    def _switch(self, record: DeploymentRecord, model_version: str, rollback: bool) -> None:
        try:
            new = self.live.load([model_version])[0]
        except Exception as exc:
            logger.warning("deployment %s: switch failed", record.deployment_id, exc_info=True)
            self.source.fail_promotion(record.pk, f"model {model_version}: {_reason(exc)}")
            self.live.reload()
            return
        current = self.live.current(record)
        if current is not None:
            switched = replace(
                current.record,
                model_ids=(model_version, *current.record.model_ids[1:]),
                pending_model_version=None,
            )
            # the new model serves from here on; the old one is released afterwards
            self.live.install(LiveDeployment(switched, current.config, (new, *current.models[1:])))
        self.source.complete_promotion(record.pk, model_version, rollback=rollback)
        self.live.reload()
