"""A deployment version as serving sees it: its record and the enums of its state.

The store maps its rows onto these values
(``recostack.store.deployment_repository``); serving never reads a row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["DeploymentRecord", "DeploymentStatus", "Environment"]


class DeploymentStatus(StrEnum):
    PENDING = "PENDING"
    DEPLOYING = "DEPLOYING"
    ACTIVE = "ACTIVE"
    STOPPED = "STOPPED"
    FAILED = "FAILED"


class Environment(StrEnum):
    """``project_status``: where the deployment is pushed."""

    EXPERIMENT = "experiment"
    VALIDATE = "validate"
    PRODUCTION = "production"
    DISABLE = "disable"


@dataclass(frozen=True)
class DeploymentRecord:
    """One deployment version: its lifecycle state, models and settings document."""

    pk: int
    deployment_id: str
    version: str
    status: str
    environment: str
    error: str | None
    model_ids: tuple[str, ...]
    pending_model_version: str | None
    settings: Mapping[str, Any] = field(default_factory=dict)
