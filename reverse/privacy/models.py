"""The audit log: one row per staff action worth answering for later. Rows are only added."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reverse.core.db import UTCDateTime, enum_type, utcnow
from reverse.extensions import db


class AuditAction(enum.StrEnum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    #: any form a staff member sent (a POST to a staff page)
    CHANGE = "change"
    #: a support agent opened a customer's whole history
    VIEW_CUSTOMER = "view_customer"
    #: a file of data left the system (CSV, customer data export)
    EXPORT = "export"
    #: `flask privacy anonymise` removed personal data
    ANONYMISE = "anonymise"


class AuditEntry(db.Model):
    """Who did what, when, from where. Never the values typed into a form: field names only,
    so no password, token or customer detail is copied here (and outlives anonymisation)."""

    __tablename__ = "audit_entries"
    __table_args__ = (sa.Index("ix_audit_entries_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: None for a failed login with an unknown email, and for the command line
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: name and email at the time, so the log survives a renamed or removed user
    user_label: Mapped[str] = mapped_column(sa.String(200), default="")
    role: Mapped[str] = mapped_column(sa.String(20), default="")
    action: Mapped[AuditAction] = mapped_column(enum_type(AuditAction), index=True)
    #: the Flask endpoint ("staff.rma_transition") or CLI command
    endpoint: Mapped[str] = mapped_column(sa.String(120), default="")
    method: Mapped[str] = mapped_column(sa.String(8), default="")
    #: the path without its query string
    path: Mapped[str] = mapped_column(sa.String(300), default="")
    status_code: Mapped[int | None]
    #: what it was about: "R123456789", "customer 42" …
    target: Mapped[str] = mapped_column(sa.String(120), default="", index=True)
    #: field names sent, URL arguments, counts — never values typed by a person
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    ip: Mapped[str] = mapped_column(sa.String(45), default="")


@sa.event.listens_for(AuditEntry, "before_update")
@sa.event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(_mapper: Any, _connection: Any, target: AuditEntry) -> None:
    raise RuntimeError(f"audit entry {target.id} is append-only")
