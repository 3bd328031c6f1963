"""Dashboard sessions in the store: open, find, close (ids are kept as SHA-256 digests)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from recostack.serving.keys import Role
from recostack.store.tables import utcnow
from recostack.store.web_tables import WebSessionRow

__all__ = ["close_web_session", "find_web_session", "open_web_session"]


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def open_web_session(session: Session, session_id: str, role: Role, expires_at: datetime) -> None:
    """Store a new session (and drop the ended ones: the table stays small)."""
    session.execute(delete(WebSessionRow).where(WebSessionRow.expires_at < utcnow()))
    session.add(WebSessionRow(id_digest=_digest(session_id), role=role, expires_at=expires_at))


def find_web_session(session: Session, session_id: str) -> Role | None:
    """The role of an open session, ``None`` when it is unknown, closed or ended."""
    row = session.scalar(
        select(WebSessionRow).where(
            WebSessionRow.id_digest == _digest(session_id), WebSessionRow.expires_at > utcnow()
        )
    )
    return Role(row.role) if row is not None else None


def close_web_session(session: Session, session_id: str) -> None:
    session.execute(delete(WebSessionRow).where(WebSessionRow.id_digest == _digest(session_id)))
