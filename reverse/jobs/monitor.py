"""What the jobs are doing: the outbox by state, RQ's queues and workers, jobs that failed.

Read by the admin page /staff/jobs. RQ is asked directly (no rq-dashboard: its pages need
inline script and POST without CSRF tokens, which this app's CSP and forms refuse)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from redis.exceptions import RedisError
from rq import Worker
from rq.registry import (
    DeferredJobRegistry,
    FailedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.jobs.constants import ALL_QUEUES, OutboxStatus
from reverse.jobs.models import OutboxMessage
from reverse.jobs.outbox import get_queue, get_redis, outbox_counts, redis_url


@dataclass
class QueueStats:
    name: str
    queued: int
    started: int
    scheduled: int
    deferred: int
    failed: int


@dataclass
class WorkerStats:
    name: str
    state: str
    queues: list[str]
    current_job: str | None
    last_heartbeat: datetime | None
    successful: int
    failed: int


@dataclass
class JobsOverview:
    counts: dict[str, int]
    #: rows that gave up after the last attempt, newest first
    failed: list[OutboxMessage]
    #: rows waiting for a retry after an error, soonest first
    retrying: list[OutboxMessage]
    #: pending rows whose time came this long ago: the relay is not running, or Redis is down
    oldest_pending_age: timedelta | None
    #: None in the embedded set-up (jobs run in the web process)
    queues: list[QueueStats] | None = None
    workers: list[WorkerStats] = field(default_factory=list)
    #: why RQ could not be asked
    redis_error: str = ""

    @property
    def embedded(self) -> bool:
        return self.queues is None and not self.redis_error


def overview(limit: int = 50) -> JobsOverview:
    now = utcnow()
    failed = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.FAILED)
        .order_by(OutboxMessage.finished_at.desc().nulls_last(), OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    retrying = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.attempts > 0)
        .order_by(OutboxMessage.available_at, OutboxMessage.id)
        .limit(limit)
    ).all()
    oldest = db.session.scalar(
        sa.select(sa.func.min(OutboxMessage.available_at)).where(
            OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.available_at <= now
        )
    )
    result = JobsOverview(
        counts=outbox_counts(),
        failed=list(failed),
        retrying=list(retrying),
        oldest_pending_age=(now - oldest) if oldest else None,
    )
    if redis_url():
        try:
            result.queues = [_queue_stats(str(name)) for name in ALL_QUEUES]
            result.workers = _workers()
        except RedisError as exc:
            result.queues = None
            result.redis_error = str(exc) or type(exc).__name__
    return result


def _queue_stats(name: str) -> QueueStats:
    queue = get_queue(name)
    connection = get_redis()
    return QueueStats(
        name=name,
        queued=queue.count,
        started=StartedJobRegistry(name, connection=connection).count,
        scheduled=ScheduledJobRegistry(name, connection=connection).count,
        deferred=DeferredJobRegistry(name, connection=connection).count,
        failed=FailedJobRegistry(name, connection=connection).count,
    )


def _workers() -> list[WorkerStats]:
    workers = []
    for worker in Worker.all(connection=get_redis()):
        job = worker.get_current_job_id()
        workers.append(
            WorkerStats(
                name=worker.name,
                state=str(worker.get_state()),
                queues=worker.queue_names(),
                current_job=job,
                last_heartbeat=worker.last_heartbeat,
                successful=worker.successful_job_count,
                failed=worker.failed_job_count,
            )
        )
    return sorted(workers, key=lambda w: w.name)


def stale_after() -> timedelta:
    """A pending job older than this means nobody is delivering jobs."""
    return timedelta(seconds=current_app.config["OUTBOX_REDELIVER_AFTER"] * 2)
