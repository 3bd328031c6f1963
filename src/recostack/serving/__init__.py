"""The hot path: models loaded once per process, the one recommend pipeline, deployments."""

from recostack.serving.process import Serving, ServingSources
from recostack.serving.recommend import Answer, Recommender, RecommendRequest

__all__ = ["Answer", "RecommendRequest", "Recommender", "Serving", "ServingSources"]
