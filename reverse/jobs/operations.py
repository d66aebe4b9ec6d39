"""Changes to jobs made by people: a failed job tried again."""

from __future__ import annotations

from reverse.core.actors import Actor
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus
from reverse.jobs.models import OutboxMessage
from reverse.jobs.outbox import deliver_after_commit


def retry_failed(message: OutboxMessage, actor: Actor) -> bool:
    """Give a job that failed for good a fresh set of attempts; the relay (or, embedded, the
    commit) runs it again. Returns False when it had not failed (a repeat changes nothing).
    Jobs are safe to run twice, so a retry never does the work twice."""
    if message.status != OutboxStatus.FAILED:
        return False
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.available_at = utcnow()
    message.last_error = f"retried by {actor.label}; before: {message.last_error}"[:2000]
    db.session.flush()
    deliver_after_commit(message)
    return True
