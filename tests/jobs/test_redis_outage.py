"""Redis stopped while customers file requests: every request is kept, and every job runs
exactly once when Redis is back — with a real Redis server process and a real worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from reverse.core.actors import Actor
from reverse.core.db import commit
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus
from reverse.jobs.models import OutboxMessage
from reverse.rmas.constants import RmaType
from reverse.rmas.models import Rma
from reverse.rmas.operations import RmaData, create_rma
from tests.conftest import PG_URL, read_mails

ROOT = Path(__file__).resolve().parents[2]
FILINGS = 5


def _file_a_return(create_channel, create_customer, n: int) -> str:  # type: ignore[no-untyped-def]
    rma, _token = create_rma(
        RmaData(
            type=RmaType.RETURN,
            channel=db.session.merge(create_channel()),
            customer=db.session.merge(create_customer(email=f"outage{n}@example.jp")),
        ),
        Actor.customer(),
    )
    number = rma.display_number
    commit()  # hands the confirmation mail to Redis — or leaves it pending
    return number


def _worker(redis_url: str, instance: Path, mail: Path) -> None:
    env = os.environ | {
        "REVERSE_DATABASE_URL": PG_URL,
        "REVERSE_REDIS_URL": redis_url,
        "REVERSE_INSTANCE_PATH": str(instance),
        "REVERSE_MAIL_FILE_DIR": str(mail),
        # the one job Redis forgot counts as lost at once, not after 30 s
        "REVERSE_OUTBOX_REDELIVER_AFTER": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.postgres
def test_requests_filed_while_redis_is_down_are_kept_and_mailed_once_it_is_back(
    app, ctx, backend, own_redis, create_channel, create_customer, tmp_path
):
    ctx.config["REDIS_URL"] = own_redis.url
    mail = tmp_path / "mail"
    try:
        before = _file_a_return(create_channel, create_customer, 0)

        own_redis.stop()
        during = [_file_a_return(create_channel, create_customer, n) for n in range(1, FILINGS)]

        # Every request is in the database; their mails wait in the outbox.
        numbers = {r.display_number for r in db.session.scalars(sa.select(Rma))}
        assert numbers == {before, *during}
        statuses = db.session.scalars(
            sa.select(OutboxMessage.status).order_by(OutboxMessage.id)
        ).all()
        assert statuses == [OutboxStatus.ENQUEUED] + [OutboxStatus.PENDING] * (FILINGS - 1)
        db.session.rollback()

        # Redis comes back empty (it kept nothing on disk): the worker's relay hands the
        # pending jobs over, and runs the one Redis forgot once its redelivery time is due.
        own_redis.start()
        _worker(own_redis.url, tmp_path, mail)
        _worker(own_redis.url, tmp_path, mail)  # and again: nothing runs twice

        db.session.expire_all()
        statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
        assert statuses == [OutboxStatus.DONE] * FILINGS
        mailed = sorted(body for _to, _subject, body in read_mails(mail))
        assert len(mailed) == FILINGS
        for number in (before, *during):
            assert sum(number in body for body in mailed) == 1
    finally:
        ctx.config["REDIS_URL"] = ""
