"""Integrations (the web shop, a POS, the ERP …), their API keys, and the answers kept for
idempotent POSTs."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.core.db import TimestampMixin, UTCDateTime, utcnow
from reverse.extensions import db


class Integration(TimestampMixin, db.Model):
    """Another system that talks to Reverse: it holds API keys and webhook subscriptions."""

    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: a switched-off integration's keys are refused and its webhooks are not sent
    active: Mapped[bool] = mapped_column(default=True)

    keys: Mapped[list[ApiKey]] = relationship(back_populates="integration", order_by="ApiKey.id")


class ApiKey(db.Model):
    """One key of an integration. The key itself is shown once; only its SHA-256 is kept."""

    __tablename__ = "api_keys"
    __table_args__ = (
        sa.CheckConstraint("revoked_at IS NULL OR revoked_at >= created_at", name="revoked_after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"), index=True)
    #: the visible start of the key ("rvk_AbC12xYz"), to tell keys apart in lists and logs
    prefix: Mapped[str] = mapped_column(sa.String(16), unique=True)
    #: SHA-256 of the whole key
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: what the key may do: values of api.constants.Scope
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    label: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_label: Mapped[str] = mapped_column(sa.String(120), default="")
    #: updated at most every few minutes, not on every request
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_label: Mapped[str] = mapped_column(sa.String(120), default="")

    integration: Mapped[Integration] = relationship(back_populates="keys")

    @staticmethod
    def hash_key(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.integration.active

    def allows(self, scope: str) -> bool:
        return scope in self.scopes


class IdempotencyRecord(db.Model):
    """The answer to a POST sent with an Idempotency-Key, kept so that the same request sent
    again gets the same answer and changes nothing. Written in the transaction of the change
    itself: either both are there or neither."""

    __tablename__ = "idempotency_records"
    __table_args__ = (sa.UniqueConstraint("integration_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"))
    #: the client's Idempotency-Key
    key: Mapped[str] = mapped_column(sa.String(255))
    #: SHA-256 of method, path and body: the same key with another request is refused
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int]
    #: the JSON body as sent
    response_body: Mapped[str] = mapped_column(sa.Text, default="")
    #: headers worth repeating (Location)
    response_headers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
