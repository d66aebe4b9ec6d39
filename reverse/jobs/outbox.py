"""Enqueue after commit: record the job in the business transaction, hand it to RQ afterwards.

`enqueue()` only writes an outbox row. When the transaction commits, `deliver_committed()`
hands the new rows to RQ (production) or runs them in-process (embedded). A row that could
not be handed over — Redis down, process killed between commit and hand-over — stays
pending, and `relay_once()` delivers it later. The RQ job id is derived from the row, and
the job itself refuses to run a row twice, so a re-delivery is never a second run.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus, QueueName
from reverse.jobs.models import OutboxMessage

log = logging.getLogger(__name__)

_NEW = "reverse.outbox.new"
_COMMITTED = "reverse.outbox.committed"
#: RQ's own record of a job is kept this long after it finished
RESULT_TTL = 24 * 3600
JOB_TIMEOUT = 300


def enqueue(task: str, *args: Any, queue: QueueName | str = QueueName.DEFAULT) -> OutboxMessage:
    """Record a job to run once the current transaction commits (and never if it rolls back)."""
    module, _, func = task.partition(":")
    if not module.startswith("reverse.") or not func:
        raise ValueError(f"jobs are 'reverse.<module>:<function>', not {task!r}")
    message = OutboxMessage(queue=QueueName(queue), task=task, args=list(args))
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(_NEW, []).append(message.id)
    return message


def deliver_after_commit(message: OutboxMessage) -> None:
    """Hand an existing row (made pending again) to its queue once this transaction commits."""
    db.session.info.setdefault(_NEW, []).append(message.id)


@event.listens_for(Session, "after_commit")
def _remember_committed(session: Session) -> None:
    new = session.info.pop(_NEW, None)
    if new:
        session.info.setdefault(_COMMITTED, []).extend(new)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_NEW, None)


def deliver_committed() -> None:
    """Hand the jobs of the transaction that just committed to their queue, or run them here."""
    ids = db.session.info.pop(_COMMITTED, None)
    if ids:
        deliver(ids)


def deliver(ids: list[int]) -> int:
    """Hand over (or, embedded, run) these rows; returns how many were handed over or run."""
    if redis_url():
        return sum(_hand_to_rq(message_id) for message_id in ids)
    from reverse.jobs.runner import run_outbox_job

    ran = 0
    for message_id in ids:
        try:
            ran += run_outbox_job(message_id) == "done"
        except Exception:
            # The row keeps its failure and backoff; the embedded relay runs it again.
            log.exception("job %s failed; it will be retried", message_id)
    return ran


def redis_url() -> str:
    return current_app.config.get("REDIS_URL") or ""


def get_redis() -> Redis:
    """A client for the configured Redis, shared by the app's threads (the pool is per URL)."""
    url = redis_url()
    clients: dict[str, Redis] = current_app.extensions.setdefault("reverse_redis", {})
    if url not in clients:
        clients[url] = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    return clients[url]


def get_queue(name: QueueName | str) -> Queue:
    return Queue(str(name), connection=get_redis(), default_timeout=JOB_TIMEOUT)


def _hand_to_rq(message_id: int) -> bool:
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status != OutboxStatus.PENDING:
        return False
    queue, job_id = message.queue, message.job_id
    try:
        connection = get_redis()
        rq_queue = get_queue(queue)
        # A re-delivery replaces the earlier hand-over: its record and any copy of its id still
        # waiting in the queue go first, so one row is one job in the queue.
        with contextlib.suppress(NoSuchJobError):
            Job.fetch(job_id, connection=connection).delete()
        rq_queue.remove(job_id)
        rq_queue.enqueue_call(
            "reverse.jobs.runner.run_outbox_job",
            args=(message_id,),
            job_id=job_id,
            result_ttl=RESULT_TTL,
            failure_ttl=RESULT_TTL,
        )
    except RedisError as exc:
        log.warning("Redis unavailable; job %s stays pending for the relay: %s", message_id, exc)
        db.session.rollback()
        return False
    # Conditional: the worker may already have finished the job and marked it done.
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.ENQUEUED, enqueued_at=utcnow())
    )
    db.session.commit()
    return True


def _rq_job_is_alive(job_id: str) -> bool:
    try:
        status = Job.fetch(job_id, connection=get_redis()).get_status()
    except NoSuchJobError:
        return False
    return status in {
        JobStatus.QUEUED,
        JobStatus.STARTED,
        JobStatus.DEFERRED,
        JobStatus.SCHEDULED,
    }


def relay_once(now: datetime | None = None, limit: int = 200) -> int:
    """Deliver pending rows whose time has come and re-deliver stuck ones; returns how many
    were handed over (or run, embedded)."""
    now = now or utcnow()
    pending = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.available_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    stuck: list[int] = []
    if redis_url():
        cutoff = now - timedelta(seconds=current_app.config["OUTBOX_REDELIVER_AFTER"])
        candidates = db.session.scalars(
            sa.select(OutboxMessage)
            .where(
                OutboxMessage.status == OutboxStatus.ENQUEUED,
                OutboxMessage.enqueued_at < cutoff,
            )
            .order_by(OutboxMessage.id)
            .limit(limit)
        ).all()
        try:
            stuck = [m.id for m in candidates if not _rq_job_is_alive(m.job_id)]
        except RedisError as exc:
            log.warning("Redis unavailable; relay will try again: %s", exc)
            db.session.rollback()
            return 0
        if stuck:
            db.session.execute(
                sa.update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_(stuck),
                    OutboxMessage.status == OutboxStatus.ENQUEUED,
                )
                .values(status=OutboxStatus.PENDING)
            )
    db.session.commit()
    ids = list(pending) + stuck
    return deliver(ids) if ids else 0


def outbox_counts() -> dict[str, int]:
    rows = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
    ).all()
    counts = {status.value: 0 for status in OutboxStatus}
    counts.update({status.value: n for status, n in rows})
    return counts
