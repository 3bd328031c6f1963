"""The dashboard's sign-in sessions (migration ``0008_web_sessions``).

A session is stored by the SHA-256 of its id (the cookie holds the id, the
store never does), with the role of the key that opened it and when it ends.
Signing out, or the end time passing, closes it on every API process alike.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from recostack.store.tables import Base, UTCDateTime, utcnow

__all__ = ["WebSessionRow"]


class WebSessionRow(Base):
    __tablename__ = "web_sessions"

    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
