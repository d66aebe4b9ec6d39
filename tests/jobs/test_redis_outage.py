"""Redis stopped while customers file requests: every request is kept, and every job runs
exactly once when Redis is back — with a real Redis server process and a real worker."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from reverse.core.actors import Actor
from reverse.core.db import commit
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus
from reverse.jobs.models import OutboxMessage
from reverse.rmas.constants import RmaType
from reverse.rmas.models import Rma
from reverse.rmas.operations import RmaData, create_rma
from tests.conftest import PG_URL, csrf_token, make_test_app, read_mails, service_unavailable

ROOT = Path(__file__).resolve().parents[2]
FILINGS = 5


class RedisServer:
    """A throw-away redis-server of the test's own, which the test may stop and start."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.folder = folder
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)  # waiting for the port to open, not timing a result
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        service_unavailable("redis-server", "not installed", "install the redis-server package")
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


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


def _post_form(client, path: str, fields: dict[str, str]) -> int:
    token = csrf_token(client.get(path).text)
    return client.post(path, data={**fields, "csrf_token": token}).status_code


def test_rate_limited_pages_answer_and_still_limit_while_redis_is_down(own_redis, tmp_path):
    """The limiter's counters live in Redis; with Redis stopped the login and "find my
    request" forms keep answering (no 500), and each process counts in memory meanwhile."""
    app = make_test_app(
        f"sqlite:///{tmp_path / 'limits.db'}",
        tmp_path,
        RATELIMIT_STORAGE_URL=own_redis.url,
        LOGIN_RATE_LIMIT="3 per minute",
        PORTAL_FIND_RATE_LIMIT="3 per minute",
    )
    with app.app_context():
        upgrade()
    client = app.test_client()
    wrong = {"email": "nobody@example.jp", "password": "wrong-password"}
    unknown = {"number": "R12345-67890", "contact": "nobody@example.jp"}
    assert _post_form(client, "/staff/login", wrong) == 422  # counted in Redis

    own_redis.stop()

    logins = [_post_form(client, "/staff/login", wrong) for _ in range(5)]
    finds = [_post_form(client, "/find", unknown) for _ in range(5)]
    assert 500 not in logins + finds
    assert logins[0] == 422
    assert logins[-1] == 429
    assert finds[0] in (302, 422)
    assert finds[-1] == 429
