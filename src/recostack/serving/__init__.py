"""The hot path: models loaded once per process, keys and the default model in memory."""

from recostack.serving.model_cache import ModelCache
from recostack.serving.state import NO_DEFAULT_MODEL, ServingSource, ServingState

__all__ = ["NO_DEFAULT_MODEL", "ModelCache", "ServingSource", "ServingState"]
