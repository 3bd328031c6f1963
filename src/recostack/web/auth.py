"""Signing in to the dashboard: a key exchanged for a session cookie, and CSRF tokens.

``POST /login`` checks the key (admin, or recommend for a read-only view)
against the key ring, opens a session in the store and sets its id in a
cookie: HttpOnly, SameSite=Strict, Secure under TLS, ending with the
session (``settings.web_session_seconds``). The key itself is never kept,
put in a URL or a page, or logged. Every form that changes something
carries the session's CSRF token (an HMAC of the session id), checked
before anything is done; the token is also sent by htmx as a header.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256
from typing import Annotated

from fastapi import Depends, Request

from recostack.serving import Serving
from recostack.serving.keys import Role
from recostack.settings import Settings
from recostack.store.engine import Database
from recostack.store.tables import utcnow
from recostack.store.web_session_repository import (
    close_web_session,
    find_web_session,
    open_web_session,
)

__all__ = [
    "COOKIE",
    "AdminUser",
    "CsrfFailed",
    "ReadOnly",
    "SignInRequired",
    "User",
    "WebUser",
    "check_csrf",
    "sign_in",
    "sign_out",
]

COOKIE = "recostack_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """No open session: the dashboard sends the browser to the sign-in page."""


class ReadOnly(Exception):
    """A read-only (recommend key) session asked to change something."""


class CsrfFailed(Exception):
    """A form or htmx request without this session's CSRF token."""


@dataclass(frozen=True)
class WebUser:
    role: Role
    session_id: str

    @property
    def csrf(self) -> str:
        return hmac.new(self.session_id.encode(), b"csrf", sha256).hexdigest()

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


def sign_in(request: Request, key: str) -> tuple[str, float] | None:
    """A new session id and its lifetime (seconds) for a valid key, else ``None``."""
    serving: Serving = request.app.state.serving
    role = serving.role_for(key) if key else None
    if role is None:
        return None
    settings: Settings = request.app.state.settings
    db: Database = request.app.state.db
    session_id = secrets.token_urlsafe(32)
    lifetime = settings.web_session_seconds
    with db.transaction() as session:
        open_web_session(session, session_id, role, utcnow() + timedelta(seconds=lifetime))
    return session_id, lifetime


def sign_out(request: Request) -> None:
    session_id = request.cookies.get(COOKIE)
    if session_id:
        db: Database = request.app.state.db
        with db.transaction() as session:
            close_web_session(session, session_id)


def _user(request: Request) -> WebUser:
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        raise SignInRequired
    db: Database = request.app.state.db
    with db.transaction() as session:
        role = find_web_session(session, session_id)
    if role is None:
        raise SignInRequired
    return WebUser(role, session_id)


def _admin(user: Annotated[WebUser, Depends(_user)]) -> WebUser:
    if not user.is_admin:
        raise ReadOnly
    return user


def check_csrf(user: WebUser, token: str | None) -> None:
    """Refuse a state-changing request without this session's token (constant-time)."""
    if not token or not hmac.compare_digest(token, user.csrf):
        raise CsrfFailed


#: a signed-in user (redirected to the sign-in page otherwise)
User = Annotated[WebUser, Depends(_user)]
#: a signed-in admin (a read-only session gets a 403 page)
AdminUser = Annotated[WebUser, Depends(_admin)]
