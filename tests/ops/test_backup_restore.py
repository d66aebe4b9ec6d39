"""The README's backup and restore commands, run for real: pg_dump of a working database,
pg_restore into an empty one, and the app on the copy — without the instance folder's files."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from reverse.catalog.constants import LocationKind
from reverse.core.actors import Actor
from reverse.core.db import commit
from reverse.extensions import db
from reverse.jobs.constants import OutboxStatus, QueueName
from reverse.jobs.models import OutboxMessage
from reverse.jobs.outbox import relay_once
from reverse.rmas.constants import ReturnMethod, RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaEvent
from reverse.rmas.operations import move_rma
from reverse.shipping.constants import Carrier
from reverse.shipping.models import CarrierAccount, Shipment
from reverse.shipping.operations import add_range
from tests.conftest import PG_URL, make_test_app, read_mails


def _run(*command: str) -> None:
    if shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is not installed (postgresql-client)")
    subprocess.run(command, check=True, capture_output=True)


@pytest.fixture
def restored_url():
    name = f"restore_{uuid.uuid4().hex[:10]}"
    server = PG_URL.rsplit("/", 1)[0]
    admin = sa.create_engine(
        f"{server}/postgres".replace("postgresql://", "postgresql+psycopg://", 1),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_a_restored_dump_serves_cases_labels_and_pending_jobs(
    app, backend, create_location, create_rma, restored_url, tmp_path
):
    # A working system: a return waiting for its parcel, its label rendered by the job …
    with app.app_context():
        centre = db.session.merge(create_location(LocationKind.RETURNS_CENTRE, code="RC-TEST"))
        account = CarrierAccount(
            location=centre, carrier=Carrier.YAMATO, customer_code="0312345678"
        )
        db.session.add(account)
        db.session.flush()
        add_range(account, "12345678901", "12345678999")
        made = create_rma(RmaType.RETURN, RmaStatus.APPROVED, location=centre)
        number, token = made.number, made.token
        rma = db.session.merge(made)
        rma.return_method = ReturnMethod.PREPAID_LABEL
        rma.ship_name, rma.ship_postal_code = "山田 花子", "150-0041"
        rma.ship_prefecture, rma.ship_city, rma.ship_street = "東京都", "渋谷区", "神南1-2-3"
        move_rma(rma, RmaStatus.AWAITING_ITEM, Actor.system("test"))
        commit()
        assert db.session.scalars(sa.select(Shipment.label_path)).one()
        # … and a mail job that was still waiting when the backup ran (Redis was down).
        waiting = OutboxMessage(
            queue=QueueName.NOTIFICATIONS, task="reverse.rmas.tasks:rma_created", args=[rma.id]
        )
        db.session.add(waiting)
        db.session.commit()
        waiting_id = waiting.id
        events = db.session.scalar(sa.select(sa.func.count()).select_from(RmaEvent))
        db.session.remove()

    dump = tmp_path / "reverse.dump"
    _run("pg_dump", "--format=custom", f"--file={dump}", PG_URL)
    _run("pg_restore", "--no-owner", f"--dbname={restored_url}", str(dump))

    # The copy runs with an empty instance folder: the files were not restored.
    instance = tmp_path / "restored-instance"
    restored = make_test_app(restored_url, instance)
    try:
        with restored.app_context():
            upgrade()  # nothing to do: the dump is as new as the code
            copy = db.session.scalars(sa.select(Rma)).one()
            assert copy.number == number
            assert copy.status == RmaStatus.AWAITING_ITEM
            assert db.session.scalar(sa.select(sa.func.count()).select_from(RmaEvent)) == events

            # The job pending at backup time runs once on the copy, and never again.
            assert relay_once() == 1
            assert relay_once() == 0
            assert db.session.get(OutboxMessage, waiting_id).status == OutboxStatus.DONE
            db.session.remove()
        assert len(read_mails(Path(restored.config["MAIL_FILE_DIR"]))) == 1

        # The customer's label link still gives her the label, rendered again from the data.
        with restored.test_client().get(f"/r/{token}/label.pdf") as label:
            assert label.status_code == 200
            assert label.data.startswith(b"%PDF")
        assert list((instance / "labels").glob("*.pdf"))
    finally:
        with restored.app_context():
            db.engine.dispose()
