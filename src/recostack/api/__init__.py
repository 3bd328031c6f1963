"""The REST API: FastAPI routers (one module per resource), schemas, auth and error handlers."""

from recostack.api.app import create_app

__all__ = ["create_app"]
