"""Model artifacts on disk: ``<data_dir>/models/<model id>/``.

A training run writes into a staging folder next to it
(``<model id>.staging-<token>``), sealed with its checksums
(:mod:`recostack.training.artifact_integrity`), and :func:`publish_artifacts`
renames it into place and flushes the rename, so a half-written model is
never where a loader looks.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from recostack.training.artifact_integrity import fsync_dir

__all__ = ["model_dir", "new_staging_dir", "publish_artifacts", "remove_artifacts"]

_STAGING = ".staging-"


def model_dir(models_dir: Path, model_id: str) -> Path:
    return models_dir / model_id


def new_staging_dir(models_dir: Path, model_id: str) -> Path:
    """A fresh, empty folder to train ``model_id`` into."""
    path = models_dir / f"{model_id}{_STAGING}{uuid.uuid4().hex[:12]}"
    path.mkdir(parents=True)
    return path


def publish_artifacts(staging: Path, models_dir: Path, model_id: str) -> Path:
    """Move a finished staging folder to the model's folder.

    A stale model folder, and staging folders that workers which died left
    behind, are deleted.
    """
    final = model_dir(models_dir, model_id)
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    fsync_dir(models_dir)
    _remove_staging(models_dir, model_id)
    return final


def remove_artifacts(models_dir: Path, model_id: str) -> None:
    """Delete the model's folder and any staging folder of it."""
    shutil.rmtree(model_dir(models_dir, model_id), ignore_errors=True)
    _remove_staging(models_dir, model_id)


def _remove_staging(models_dir: Path, model_id: str) -> None:
    if models_dir.is_dir():
        for staging in models_dir.glob(f"{model_id}{_STAGING}*"):
            shutil.rmtree(staging, ignore_errors=True)
