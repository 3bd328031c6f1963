"""Sign-in and sign-out."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from recostack.web.auth import COOKIE, User, check_csrf, sign_in, sign_out
from recostack.web.page_route import PageRoute
from recostack.web.templating import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    return render(request, "login.html", None)


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, key: Annotated[str, Form(max_length=512)] = "") -> Response:
    opened = sign_in(request, key)
    if opened is None:
        return render(request, "login.html", None, status_code=401, error="That key is not valid.")
    session_id, lifetime = opened
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=math.ceil(lifetime),  # a cookie never shorter than its session
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, user: User, csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(user, csrf_token)
    sign_out(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
