"""Jobs are recorded with the change that asks for them and are never lost nor run twice."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq import Queue, SimpleWorker

from reverse.core.actors import Actor
from reverse.core.db import commit, utcnow
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus
from reverse.jobs.models import OutboxMessage
from reverse.jobs.outbox import deliver_committed, get_redis, relay_once
from reverse.jobs.runner import run_outbox_job
from reverse.rmas.constants import RmaType
from reverse.rmas.models import Rma
from reverse.rmas.operations import RmaData, create_rma
from tests.conftest import PG_URL, read_mails

UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def mailbox(app) -> Path:
    folder = Path(app.config["MAIL_FILE_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    return folder


def mails(folder: Path) -> list[str]:
    """Each mail as "To: … / Subject: … / body", decoded."""
    return [f"To: {to}\nSubject: {subject}\n\n{body}" for to, subject, body in read_mails(folder)]


def _open_rma(create_channel, create_customer) -> Rma:
    rma, _token = create_rma(
        RmaData(
            type=RmaType.RETURN,
            channel=db.session.merge(create_channel()),
            customer=db.session.merge(create_customer(email="hanako@example.jp")),
        ),
        Actor.customer(),
    )
    return rma


@pytest.fixture
def with_redis(app, redis_url):
    """Point the shared test app at `url` for one test."""
    previous = app.config["REDIS_URL"]

    def point_at(url: str) -> None:
        app.config["REDIS_URL"] = url

    point_at(redis_url)
    yield point_at
    app.config["REDIS_URL"] = previous


@pytest.mark.databases
def test_no_job_when_the_transaction_rolls_back(ctx, create_channel, create_customer, mailbox):
    _open_rma(create_channel, create_customer)
    db.session.rollback()
    deliver_committed()

    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rma)) == 0
    assert mails(mailbox) == []


@pytest.mark.databases
def test_embedded_set_up_runs_the_job_in_process_after_commit(
    ctx, create_channel, create_customer, mailbox
):
    rma = _open_rma(create_channel, create_customer)
    number = rma.display_number
    commit()

    message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert message.status == OutboxStatus.DONE
    [mail] = mails(mailbox)
    assert "To: hanako@example.jp" in mail
    assert number in mail


@pytest.mark.databases
def test_a_job_run_twice_does_its_work_once(ctx, create_channel, create_customer, mailbox):
    _open_rma(create_channel, create_customer)
    db.session.commit()  # plain commit: nothing delivered yet
    message_id = db.session.scalars(sa.select(OutboxMessage.id)).one()
    db.session.rollback()  # end the read: on SQLite it holds the write lock the job needs

    assert run_outbox_job(message_id) == "done"
    assert run_outbox_job(message_id) == "already-done"

    assert len(mails(mailbox)) == 1
    assert db.session.get(OutboxMessage, message_id).attempts == 1


def test_a_failing_job_waits_for_its_backoff_then_runs(
    ctx, create_channel, create_customer, mailbox, monkeypatch
):
    import reverse.rmas.tasks as tasks

    real = tasks.rma_created
    monkeypatch.setattr(tasks, "rma_created", lambda rma_id: 1 / 0)
    _open_rma(create_channel, create_customer)
    commit()  # runs in-process and fails

    message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert message.status == OutboxStatus.PENDING
    assert message.attempts == 1
    assert "ZeroDivisionError" in message.last_error
    assert message.available_at > utcnow()

    monkeypatch.setattr(tasks, "rma_created", real)
    assert relay_once() == 0  # not yet: the backoff has not passed
    assert relay_once(now=utcnow() + timedelta(minutes=5)) == 1

    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == OutboxStatus.DONE
    assert len(mails(mailbox)) == 1


def test_a_job_that_keeps_failing_is_given_up_after_the_maximum(
    ctx, create_channel, create_customer, monkeypatch
):
    import reverse.rmas.tasks as tasks

    monkeypatch.setattr(tasks, "rma_created", lambda rma_id: 1 / 0)
    _open_rma(create_channel, create_customer)
    commit()
    later = utcnow()
    for _ in range(ctx.config["OUTBOX_MAX_ATTEMPTS"]):
        later += timedelta(hours=2)
        relay_once(now=later)

    message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert message.status == OutboxStatus.FAILED
    assert message.attempts == ctx.config["OUTBOX_MAX_ATTEMPTS"]
    assert message.finished_at is not None  # when it was given up, shown on the jobs page
    assert "ZeroDivisionError" in message.last_error


@pytest.mark.redis
@pytest.mark.databases
def test_no_rq_job_when_the_transaction_rolls_back(
    ctx, with_redis, create_channel, create_customer
):
    _open_rma(create_channel, create_customer)
    db.session.rollback()
    deliver_committed()
    relay_once()

    assert Queue("notifications", connection=get_redis()).count == 0


@pytest.mark.redis
@pytest.mark.databases
def test_redis_down_at_submit_keeps_the_change_and_runs_the_job_once_redis_is_back(
    ctx, with_redis, redis_url, create_channel, create_customer, mailbox
):
    with_redis(UNREACHABLE_REDIS)
    rma = _open_rma(create_channel, create_customer)
    commit()  # must not raise although Redis is down

    assert db.session.get(Rma, rma.id) is not None
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    message_id = message.id
    assert message.status == OutboxStatus.PENDING
    assert relay_once() == 0  # still down: nothing delivered, nothing lost

    with_redis(redis_url)
    assert relay_once() == 1
    queue = Queue("notifications", connection=get_redis())
    assert queue.job_ids == [f"outbox-{message_id}"]
    SimpleWorker([queue], connection=get_redis()).work(burst=True)

    assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.DONE
    assert len(mails(mailbox)) == 1


@pytest.mark.redis
def test_a_redelivered_row_is_one_rq_job_not_two(
    ctx, with_redis, create_channel, create_customer, mailbox
):
    _open_rma(create_channel, create_customer)
    commit()
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    job_id = message.job_id
    assert message.status == OutboxStatus.ENQUEUED
    db.session.rollback()

    # The worker's answer was lost: the relay finds the row still enqueued after the delay
    # and its RQ job gone, so it hands it over again.
    get_redis().delete(f"rq:job:{job_id}")
    relay_once(now=utcnow() + timedelta(minutes=5))
    relay_once(now=utcnow() + timedelta(minutes=10))
    queue = Queue("notifications", connection=get_redis())
    assert queue.job_ids == [job_id]

    SimpleWorker([queue], connection=get_redis()).work(burst=True)
    assert len(mails(mailbox)) == 1


@pytest.mark.redis
@pytest.mark.postgres
def test_a_real_worker_process_consumes_the_job(
    app, ctx, with_redis, redis_url, create_channel, create_customer, mailbox, tmp_path
):
    rma = _open_rma(create_channel, create_customer)
    number = rma.display_number
    commit()
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    message_id = message.id
    assert message.status == OutboxStatus.ENQUEUED
    db.session.rollback()

    env = os.environ | {
        "REVERSE_DATABASE_URL": PG_URL,
        "REVERSE_REDIS_URL": redis_url,
        "REVERSE_INSTANCE_PATH": str(tmp_path),
        "REVERSE_MAIL_FILE_DIR": str(mailbox),
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert done.returncode == 0, done.stderr

    assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.DONE
    [mail] = mails(mailbox)
    assert number in mail
