"""The dashboard's pages: Jinja2 templates rendered with the signed-in user."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from recostack.web.auth import WebUser

__all__ = ["STATIC_DIR", "render"]

STATIC_DIR = Path(__file__).parent / "static"
_templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def render(
    request: Request,
    template: str,
    user: WebUser | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` with the user, their CSRF token and ``context``."""
    values = {"user": user, "csrf": user.csrf if user is not None else "", **context}
    response = _templates.TemplateResponse(request, template, values, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response
