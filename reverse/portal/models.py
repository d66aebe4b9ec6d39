"""A request being filled in: kept server-side between the steps of the form."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reverse.core.db import UTCDateTime, utcnow
from reverse.extensions import db


class PortalDraft(db.Model):
    """What the customer has entered so far. The browser holds only a random key (in its
    session cookie); photos hang on the draft until it becomes a case."""

    __tablename__ = "portal_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: SHA-256 of the key in the visitor's session
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, index=True
    )

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
