"""Asking for fresh figures: a refresh job through the outbox (it runs after the commit)."""

from __future__ import annotations

import sqlalchemy as sa

from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus
from reverse.jobs.models import OutboxMessage
from reverse.jobs.outbox import enqueue

REFRESH_TASK = "reverse.analytics.tasks:refresh_job"


def refresh_pending() -> bool:
    """A refresh asked for and not finished yet."""
    stmt = sa.select(OutboxMessage.id).where(
        OutboxMessage.task == REFRESH_TASK,
        OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.ENQUEUED]),
    )
    return db.session.scalar(stmt.limit(1)) is not None


def request_refresh() -> bool:
    """Enqueue a refresh unless one is already waiting; True when one was enqueued."""
    if refresh_pending():
        return False
    enqueue(REFRESH_TASK)
    return True
