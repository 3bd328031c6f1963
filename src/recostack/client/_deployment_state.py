"""Objects in a deployment's description: model history, pending switch, auto-deploy decision."""

from __future__ import annotations

from datetime import datetime

from recostack.client._wire import WireRecord

__all__ = ["AutoDeployDecision", "ModelVersionEntry", "PendingModelVersion"]


class ModelVersionEntry(WireRecord):
    """One model version a deployment served (``modelVersionHistory``), oldest first."""

    model_version: str
    promoted_at: datetime | None = None
    rolled_back_at: datetime | None = None
    #: what promoted it, when not a person (``"auto_deploy"``)
    source: str | None = None


class PendingModelVersion(WireRecord):
    """The model version a deployment is switching to (loaded before the switch)."""

    model_version: str


class AutoDeployDecision(WireRecord):
    """The last auto-deploy decision of a deployment (``lastAutoDeploy``)."""

    model_version: str
    #: "promoted" or "skipped"
    decision: str
    reason: str
    at: datetime
