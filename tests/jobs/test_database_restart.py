"""PostgreSQL restarted under a running app and a running worker: both carry on without
anyone touching them — on a PostgreSQL cluster of the test's own (the shared one stays up)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from reverse.catalog.constants import ChannelCode
from reverse.catalog.models import Channel
from reverse.core import db as core_db
from reverse.core.actors import Actor
from reverse.core.db import commit
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus
from reverse.jobs.models import OutboxMessage
from reverse.rmas.constants import RmaType
from reverse.rmas.operations import RmaData, create_rma
from tests.conftest import make_test_app, read_mails, service_unavailable
from tests.fixtures.catalog import in_context

ROOT = Path(__file__).resolve().parents[2]


def _bin(name: str) -> str | None:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else shutil.which(name)


class Cluster:
    def __init__(self, folder: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.data = folder / "data"
        self.folder = folder

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres(_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust")

    def pg_ctl(self, action: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._as_postgres(
            _bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l",
            str(self.folder / "log"), "-w", "-m", "fast", action,
        )  # fmt: skip


@pytest.fixture
def own_postgres() -> Iterator[Cluster]:
    if not (_bin("initdb") and _bin("pg_ctl")):
        service_unavailable("initdb / pg_ctl", "not installed", "install the postgresql package")
    # Not under pytest's folders: the postgres user cannot enter root's private ones.
    folder = Path(tempfile.mkdtemp(prefix="reverse-pg-"))
    cluster = Cluster(folder)
    try:
        cluster.init()
        cluster.pg_ctl("start")
        try:
            yield cluster
        finally:
            cluster.pg_ctl("stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _wait_for(check, what: str, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen"
        time.sleep(0.2)  # polling for another process's work, not timing it


@pytest.mark.redis
def test_the_app_and_a_worker_carry_on_after_postgresql_restarts(
    own_postgres, redis_url, tmp_path, monkeypatch
):
    # Pooled connections idle longer than IDLE_PING_SECONDS are pinged before use; at 0 every
    # one is, so the outcome does not depend on how long the restart happened to take.
    monkeypatch.setattr(core_db, "IDLE_PING_SECONDS", 0.0)
    instance = tmp_path / "instance"
    app = make_test_app(own_postgres.url, instance, REDIS_URL=redis_url)
    mail = Path(app.config["MAIL_FILE_DIR"])
    with app.app_context():
        upgrade()
    env = os.environ | {
        "REVERSE_DATABASE_URL": own_postgres.url,
        "REVERSE_REDIS_URL": redis_url,
        "REVERSE_INSTANCE_PATH": str(instance),
        "REVERSE_MAIL_FILE_DIR": str(mail),
        "REVERSE_OUTBOX_REDELIVER_AFTER": "1",
        "REVERSE_RELAY_INTERVAL": "0.5",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = app.test_client()
    try:

        def file(n: int) -> tuple[str, str]:
            with in_context(app):
                channel = db.session.scalar(sa.select(Channel)) or Channel(
                    code=ChannelCode.WEB, name_ja="公式オンラインストア", name_en="Web shop"
                )
                rma, token = create_rma(
                    RmaData(
                        type=RmaType.RETURN,
                        channel=channel,
                        customer=Customer(email=f"pg{n}@example.jp", name="山田 花子"),
                    ),
                    Actor.customer(),
                )
                number = rma.display_number
                commit()
                return f"/r/{token}", number

        link, first = file(1)
        assert client.get(link).status_code == 200
        _wait_for(lambda: len(read_mails(mail)) == 1 if mail.exists() else False, "first mail")

        own_postgres.pg_ctl("restart")

        # The app: the pooled connections died with the server; each is found dead when it
        # is checked out and replaced, and every request is served.
        statuses = [client.get(link).status_code for _ in range(6)]
        assert statuses == [200] * 6
        # A new case after the restart, and its mail sent by the same worker process.
        _link, second = file(2)
        _wait_for(lambda: len(read_mails(mail)) == 2, "the mail after the restart")
        assert worker.poll() is None  # the worker never stopped
        bodies = [body for _to, _subject, body in read_mails(mail)]
        assert sum(first in b for b in bodies) == 1
        assert sum(second in b for b in bodies) == 1
        with in_context(app):
            statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
            assert statuses == [OutboxStatus.DONE, OutboxStatus.DONE]
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        with app.app_context():
            db.engine.dispose()
