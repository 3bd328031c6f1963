"""The Recostack Python SDK: ``Client(base_url, api_key)`` and the ``Deployment`` resource.

Errors raise the library's own classes (:mod:`recostack.errors`)::

    from recostack.client import Client

    with Client("http://127.0.0.1:8000", api_key) as client:
        deployment = client.describe_deployment("web")
        answer = deployment.recommend(user_id="u1", recommendation_count=5)
"""

from recostack.client._client import Client
from recostack.client._deployment import Deployment

__all__ = ["Client", "Deployment"]
