"""A model's status, as the reference spells it."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["ModelStatus"]


class ModelStatus(StrEnum):
    CREATED = "Created"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
