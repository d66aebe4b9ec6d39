"""kill -9 of the worker while it writes a label: after recovery there is exactly one whole
label — with real Redis, PostgreSQL and worker processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry

from reverse.catalog.constants import LocationKind
from reverse.core.actors import Actor
from reverse.core.db import commit
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus, QueueName
from reverse.jobs.models import OutboxMessage
from reverse.jobs.outbox import get_redis
from reverse.rmas.constants import ReturnMethod, RmaStatus, RmaType
from reverse.rmas.operations import move_rma
from reverse.shipping.constants import Carrier
from reverse.shipping.models import CarrierAccount, Shipment
from reverse.shipping.operations import add_range
from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[2]
LABEL_TASK = "reverse.shipping.tasks:render_shipment_label"

#: Test instrumentation loaded into the first worker only (through PYTHONPATH): whatever the
#: label code writes into the labels folder stops half-way, says so, and hangs there until
#: the test kills the process — the real code path, cut at its worst moment.
HUNG_WRITE = """
import os, time, pathlib

real_write_bytes = pathlib.Path.write_bytes

def hung_write_bytes(self, data):
    if self.parent.name != "labels":
        return real_write_bytes(self, data)
    with open(self, "wb") as fh:
        fh.write(data[: len(data) // 2])
        fh.flush()
        pathlib.Path(os.environ["HUNG_MARKER"]).write_text(str(os.getpid()))
        time.sleep(600)

pathlib.Path.write_bytes = hung_write_bytes
"""


def _worker(env: dict[str, str], *, wait: bool = True) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", "-q", "labels"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if wait:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    return process


@pytest.mark.postgres
@pytest.mark.redis
def test_a_worker_killed_while_writing_a_label_leaves_exactly_one_label(
    app, ctx, backend, redis_url, create_location, create_rma, tmp_path
):
    ctx.config["REDIS_URL"] = redis_url
    try:
        centre = db.session.merge(create_location(LocationKind.RETURNS_CENTRE, code="RC-KILL"))
        account = CarrierAccount(location=centre, carrier=Carrier.YAMATO, customer_code="0399")
        db.session.add(account)
        db.session.flush()
        add_range(account, "12345678901", "12345678999")
        rma = db.session.merge(create_rma(RmaType.RETURN, RmaStatus.APPROVED, location=centre))
        rma.return_method = ReturnMethod.PREPAID_LABEL
        rma.ship_name, rma.ship_postal_code = "山田 花子", "150-0041"
        rma.ship_prefecture, rma.ship_city, rma.ship_street = "東京都", "渋谷区", "神南1-2-3"
        move_rma(rma, RmaStatus.AWAITING_ITEM, Actor.system("test"))
        commit()  # the label job goes to RQ's labels queue
        job = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.task == LABEL_TASK)
        ).one()
        job_id, message_id = job.job_id, job.id
        db.session.rollback()

        hook = tmp_path / "hook"
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(HUNG_WRITE)
        marker = tmp_path / "writing"
        env = os.environ | {
            "REVERSE_DATABASE_URL": PG_URL,
            "REVERSE_REDIS_URL": redis_url,
            "REVERSE_INSTANCE_PATH": str(tmp_path),
            "REVERSE_OUTBOX_REDELIVER_AFTER": "0",
        }
        labels = tmp_path / "labels"

        # 1. The first worker takes the job and is killed half-way through the file.
        hung = _worker(env | {"PYTHONPATH": str(hook), "HUNG_MARKER": str(marker)}, wait=False)
        try:
            deadline = time.monotonic() + 60
            while not marker.exists():
                assert hung.poll() is None, hung.stderr.read() if hung.stderr else ""
                assert time.monotonic() < deadline, "the worker never started the label"
                time.sleep(0.05)  # waiting for the worker to reach the write, not timing it
            os.kill(hung.pid, signal.SIGKILL)
        finally:
            hung.wait(timeout=30)
            if hung.stderr:
                hung.stderr.close()
        assert list(labels.glob("*.pdf")) == []  # half a file is never where a label is read
        assert len(list(labels.glob("*.tmp"))) == 1
        db.session.expire_all()
        assert db.session.scalars(sa.select(Shipment.label_path)).one() is None

        # 2. RQ finds the job abandoned by its dead worker once the job's heartbeat lapses
        #    (about a minute and a half); the test moves RQ's clock instead of waiting.
        connection = get_redis()
        assert Job.fetch(job_id, connection=connection).get_status() == JobStatus.STARTED
        StartedJobRegistry(str(QueueName.LABELS), connection=connection).cleanup(
            timestamp=int(time.time()) + 3600
        )
        assert Job.fetch(job_id, connection=connection).get_status() == JobStatus.FAILED

        # 3. The next worker's relay hands the job over again, and the label is made once.
        _worker(env)
        _worker(env)  # and another worker later: nothing is made twice

        [label] = labels.glob("*")
        assert label.suffix == ".pdf"
        assert label.read_bytes().startswith(b"%PDF")
        assert label.read_bytes().rstrip().endswith(b"%%EOF")
        db.session.expire_all()
        shipment = db.session.scalars(sa.select(Shipment)).one()
        assert shipment.label_path == f"labels/{label.name}"
        assert db.session.get(OutboxMessage, message_id).status == OutboxStatus.DONE
    finally:
        ctx.config["REDIS_URL"] = ""
