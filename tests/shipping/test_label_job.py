"""A case waiting for its item gets one return label, rendered by a job that can be re-run."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from reverse.catalog.constants import LocationKind
from reverse.core.actors import Actor
from reverse.extensions import db
from reverse.jobs.models import OutboxMessage
from reverse.rmas.constants import ReturnMethod, RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.rmas.operations import move_rma
from reverse.shipping.constants import Carrier, Direction, Payment, ShipmentStatus
from reverse.shipping.models import CarrierAccount, Shipment
from reverse.shipping.operations import add_range
from reverse.shipping.tasks import render_shipment_label


@pytest.fixture
def approved_return(ctx, create_location, create_rma):
    centre = db.session.merge(create_location(LocationKind.RETURNS_CENTRE, code="RC-TEST"))
    account = CarrierAccount(location=centre, carrier=Carrier.YAMATO, customer_code="0312345678")
    db.session.add(account)
    db.session.flush()
    add_range(account, "12345678901", "12345678999")
    rma = db.session.merge(create_rma(RmaType.RETURN, RmaStatus.APPROVED, location=centre))
    rma.return_method = ReturnMethod.PREPAID_LABEL
    rma.ship_name, rma.ship_postal_code = "山田 花子", "150-0041"
    rma.ship_prefecture, rma.ship_city, rma.ship_street = "東京都", "渋谷区", "神南1-2-3"
    db.session.commit()
    return rma


def labels_in(app) -> list[Path]:
    return sorted((Path(app.instance_path) / "labels").glob("*.pdf"))


def test_waiting_for_the_item_issues_one_label_to_the_centre(ctx, approved_return):
    move_rma(approved_return, RmaStatus.AWAITING_ITEM, Actor.system("test"))
    db.session.commit()
    [shipment] = db.session.scalars(sa.select(Shipment)).all()
    assert shipment.direction == Direction.TO_CENTRE
    assert shipment.payment == Payment.RECEIVER_PAYS
    assert shipment.tracking_number == "123456789013"
    assert shipment.to_location.code == "RC-TEST"
    jobs = db.session.scalars(sa.select(OutboxMessage.task)).all()
    assert "reverse.shipping.tasks:render_shipment_label" in jobs


def test_a_label_job_killed_after_writing_and_run_again_leaves_one_label(
    ctx, approved_return, tmp_path
):
    for old in labels_in(ctx):
        old.unlink()
    move_rma(approved_return, RmaStatus.AWAITING_ITEM, Actor.system("test"))
    db.session.commit()
    shipment_id = db.session.scalars(sa.select(Shipment.id)).one()

    render_shipment_label(shipment_id)
    db.session.rollback()  # the worker died before its commit
    assert db.session.get(Shipment, shipment_id).label_path is None

    render_shipment_label(shipment_id)
    db.session.commit()
    render_shipment_label(shipment_id)  # and once more after it succeeded
    db.session.commit()

    shipment = db.session.get(Shipment, shipment_id)
    assert shipment.status == ShipmentStatus.LABEL_READY
    [label] = labels_in(ctx)
    assert label.name == f"{shipment_id}-123456789013.pdf"
    assert label.read_bytes().startswith(b"%PDF")
    assert shipment.label_path == f"labels/{label.name}"


def test_without_a_carrier_account_the_case_goes_on_and_staff_see_why(
    ctx, create_location, create_rma
):
    store = db.session.merge(create_location(LocationKind.RETURNS_CENTRE, code="RC-NONE"))
    rma = db.session.merge(create_rma(RmaType.RETURN, RmaStatus.APPROVED, location=store))
    rma.return_method = ReturnMethod.PREPAID_LABEL
    move_rma(rma, RmaStatus.AWAITING_ITEM, Actor.system("test"))
    db.session.commit()
    rma = db.session.get(Rma, rma.id)
    assert rma.status == RmaStatus.AWAITING_ITEM
    assert any(not e.public and "RC-NONE" in e.note for e in rma.events)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Shipment)) == 0
