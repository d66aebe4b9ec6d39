"""Runs one outbox job: the RQ entry point, also called in-process in the embedded set-up.

The job's database changes and the row's `done` mark commit together, so a worker killed
half-way leaves nothing behind and the re-run starts clean; a finished row is never run again.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context

from reverse.core.db import commit, is_postgresql, utcnow
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus
from reverse.jobs.models import OutboxMessage

log = logging.getLogger(__name__)

_app: Flask | None = None


def _job_app() -> Flask:
    """The current app, or one made once per process (a plain `rq worker` has none)."""
    global _app
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]
    if _app is None:
        from reverse.app import create_app

        _app = create_app()
    return _app


def resolve_task(name: str) -> Callable[..., Any]:
    module_name, _, func_name = name.partition(":")
    if not module_name.startswith("reverse.") or not func_name:
        raise ValueError(f"not a job: {name!r}")
    return getattr(importlib.import_module(module_name), func_name)


def backoff(attempts: int) -> timedelta:
    """10 s, 40 s, 90 s, … capped at an hour."""
    return timedelta(seconds=min(3600, 10 * attempts * attempts))


def run_outbox_job(message_id: int) -> str:
    """Run outbox row `message_id` once; returns what happened ("done", "skipped", …)."""
    with _job_app().app_context():
        try:
            return _run(message_id)
        finally:
            db.session.remove()


def _claim(message_id: int) -> OutboxMessage | None:
    stmt = sa.select(OutboxMessage).where(OutboxMessage.id == message_id)
    if is_postgresql():
        # A row locked by another worker is being run right now: leave it to that worker.
        stmt = stmt.with_for_update(skip_locked=True)
    return db.session.execute(stmt).scalar_one_or_none()


def _run(message_id: int) -> str:
    message = _claim(message_id)
    if message is None:
        db.session.rollback()
        return "skipped"
    if message.status in (OutboxStatus.DONE, OutboxStatus.FAILED):
        db.session.rollback()
        return "already-" + message.status.value
    task, args = message.task, list(message.args)
    try:
        resolve_task(task)(*args)
        message.attempts += 1
        message.status = OutboxStatus.DONE
        message.finished_at = utcnow()
        message.last_error = ""
        commit()
    except Exception as exc:
        db.session.rollback()
        _record_failure(message_id, exc)
        raise
    return "done"


def _record_failure(message_id: int, exc: Exception) -> None:
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return
    message.attempts += 1
    message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    if message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED
        message.finished_at = utcnow()
        log.error("job %s (%s) failed for good: %s", message_id, message.task, exc)
    else:
        message.status = OutboxStatus.PENDING
        message.available_at = utcnow() + backoff(message.attempts)
    db.session.commit()
