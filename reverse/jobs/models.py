"""The outbox: jobs recorded in the same transaction as the change that asks for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reverse.core.db import UTCDateTime, enum_type, utcnow
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus, QueueName


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.Index("ix_outbox_messages_status_available", "status", "available_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    queue: Mapped[QueueName] = mapped_column(enum_type(QueueName))
    #: "module:function" of a job under reverse.*
    task: Mapped[str] = mapped_column(sa.String(200))
    #: positional arguments: ids and plain values only, never ORM objects
    args: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus), default=OutboxStatus.PENDING
    )
    #: how many times the job has been started
    attempts: Mapped[int] = mapped_column(default=0)
    #: not handed out before this time (backoff after a failure)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def job_id(self) -> str:
        """The RQ job id: derived from the row, so re-delivering it is not a second job."""
        return f"outbox-{self.id}"
