"""The jobs page: what waits, what failed and why, and running a failed job again."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from rq import SimpleWorker

from reverse.auth.constants import Role
from reverse.core.db import commit
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus, QueueName
from reverse.jobs.models import OutboxMessage
from reverse.jobs.outbox import get_queue, get_redis
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context


@pytest.fixture
def failed_mail_job(app, create_rma, mailbox):
    """The confirmation mail of a case, failed for good after the mail server refused it."""
    rma = create_rma()
    with in_context(app):
        db.session.execute(sa.delete(OutboxMessage))
        message = OutboxMessage(
            queue=QueueName.NOTIFICATIONS,
            task="reverse.rmas.tasks:rma_created",
            args=[rma.id],
            status=OutboxStatus.FAILED,
            attempts=5,
            last_error="SMTPServerDisconnected: Connection unexpectedly closed",
        )
        db.session.add(message)
        commit()
        mailbox.folder.mkdir(parents=True, exist_ok=True)
        for path in mailbox.folder.glob("*.eml"):
            path.unlink()
        return message.id


def _status(app, message_id: int) -> OutboxStatus:
    with in_context(app):
        return db.session.get(OutboxMessage, message_id).status


def test_a_failed_job_is_shown_with_its_error_and_runs_again(
    app, client, logged_in, failed_mail_job, mailbox
):
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    page = client.get("/staff/jobs/")
    assert page.status_code == 200
    assert f'data-job="{failed_mail_job}"' in page.text
    assert "SMTPServerDisconnected" in page.text
    assert re.search(r'data-status="failed">1<', page.text)

    answer = client.post(
        f"/staff/jobs/{failed_mail_job}/retry", data={"csrf_token": csrf_token(page.text)}
    )
    assert answer.status_code == 302
    # Embedded: the job runs right after the commit, and the customer gets her mail.
    assert _status(app, failed_mail_job) == OutboxStatus.DONE
    assert len(mailbox.mails()) == 1
    # Asking again changes nothing: the job is done, not run a second time.
    again = client.post(
        f"/staff/jobs/{failed_mail_job}/retry",
        data={"csrf_token": csrf_token(page.text)},
        follow_redirects=True,
    )
    assert "nothing was changed" in again.text
    assert len(mailbox.mails()) == 1


def test_running_again_needs_the_form_token(app, client, logged_in, failed_mail_job):
    logged_in(Role.ADMIN)
    assert client.post(f"/staff/jobs/{failed_mail_job}/retry").status_code == 400
    assert _status(app, failed_mail_job) == OutboxStatus.FAILED


def test_only_admins_see_the_jobs(client, logged_in, failed_mail_job):
    assert client.get("/staff/jobs/").status_code == 302  # to the login page
    logged_in(Role.SUPPORT)
    assert client.get("/staff/jobs/").status_code == 403
    assert client.post(f"/staff/jobs/{failed_mail_job}/retry").status_code in (400, 403)


@pytest.fixture
def on_redis(app, redis_url):
    previous = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = redis_url
    yield redis_url
    app.config["REDIS_URL"] = previous


@pytest.mark.redis
def test_queues_and_workers_are_read_from_redis(app, client, logged_in, on_redis):
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    with in_context(app):
        get_queue(QueueName.LABELS).enqueue_call("reverse.jobs.runner.run_outbox_job", args=(0,))
    page = client.get("/staff/jobs/")
    labels_row = re.search(r'data-queue="labels">.*?</tr>', page.text, re.S).group(0)
    assert 'data-count="queued">1<' in labels_row
    assert "No worker is running" in page.text

    with in_context(app):
        worker = SimpleWorker([get_queue(QueueName.LABELS)], connection=get_redis())
        worker.register_birth()
    try:
        page = client.get("/staff/jobs/")
        assert f'data-worker="{worker.name}"' in page.text
        assert "No worker is running" not in page.text
    finally:
        with in_context(app):
            worker.register_death()


def test_an_unreachable_redis_is_said_plainly(app, client, logged_in):
    logged_in(Role.ADMIN)
    previous = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    try:
        page = client.get("/staff/jobs/")
    finally:
        app.config["REDIS_URL"] = previous
    assert page.status_code == 200
    # Japanese by default
    assert "Redis に接続できません" in page.text
