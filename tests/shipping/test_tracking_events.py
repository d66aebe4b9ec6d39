"""Carrier tracking reports move parcels and cases; bad or unknown reports are refused."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from reverse.catalog.constants import LocationKind
from reverse.extensions import db
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.shipping.cli import import_tracking_csv
from reverse.shipping.constants import Carrier, Direction, ShipmentStatus
from reverse.shipping.models import Shipment, TrackingEvent
from reverse.shipping.tracking import expire_unused_labels, sign
from tests.fixtures.catalog import in_context

SECRET = "tracking-test-secret"
NUMBER = "123456789013"


@pytest.fixture
def webhook_secret(app):
    previous = app.config["TRACKING_WEBHOOK_SECRET"]
    app.config["TRACKING_WEBHOOK_SECRET"] = SECRET
    yield SECRET
    app.config["TRACKING_WEBHOOK_SECRET"] = previous


@pytest.fixture
def parcel(app, create_rma, create_location):
    centre = create_location(LocationKind.RETURNS_CENTRE)
    rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM, location=centre)
    with in_context(app):
        shipment = Shipment(
            rma_id=rma.id,
            direction=Direction.TO_CENTRE,
            carrier=Carrier.YAMATO,
            tracking_number=NUMBER,
            to_location_id=centre.id,
            status=ShipmentStatus.LABEL_READY,
        )
        db.session.add(shipment)
        db.session.commit()
        return rma.id, shipment.id


def post(client, payload: dict, secret: str = SECRET, timestamp: int | None = None):
    body = json.dumps(payload).encode()
    header = sign(secret, body, timestamp or int(time.time()))
    return client.post(
        "/api/v1/tracking/events",
        data=body,
        content_type="application/json",
        headers={"X-Reverse-Signature": header},
    )


def event(number: str = NUMBER, status: str = "in_transit", at: str = "2026-11-24T10:00:00+09:00"):
    return {"tracking_number": number, "status": status, "occurred_at": at, "place": "羽田"}


def test_a_signed_report_moves_the_parcel_and_the_case(app, client, webhook_secret, parcel):
    rma_id, shipment_id = parcel
    response = post(client, {"events": [event()]})
    assert response.status_code == 200, response.json
    assert response.json == {"recorded": 1, "duplicates": 0}
    with app.app_context():
        assert db.session.get(Shipment, shipment_id).status == ShipmentStatus.IN_TRANSIT
        rma = db.session.get(Rma, rma_id)
        assert rma.status == RmaStatus.IN_TRANSIT
        assert rma.events[-1].actor_label == "yamato"


def test_the_same_report_twice_is_recorded_once(app, client, webhook_secret, parcel):
    post(client, {"events": [event()]})
    again = post(client, {"events": [event(), event()]})
    assert again.json == {"recorded": 0, "duplicates": 2}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackingEvent)) == 1


def test_delivery_is_told_to_the_customer_and_a_late_scan_changes_nothing(
    app, client, webhook_secret, parcel
):
    rma_id, shipment_id = parcel
    post(client, {"events": [event(status="配達完了", at="2026-11-25T09:00:00+09:00")]})
    post(client, {"events": [event(status="輸送中", at="2026-11-24T20:00:00+09:00")]})
    with app.app_context():
        assert db.session.get(Shipment, shipment_id).status == ShipmentStatus.DELIVERED
        rma = db.session.get(Rma, rma_id)
        delivered = [e for e in rma.events if e.public and e.kind.value == "note"]
        assert len(delivered) == 1


def test_a_bad_signature_is_refused_and_records_nothing(app, client, webhook_secret, parcel):
    assert post(client, {"events": [event()]}, secret="wrong").status_code == 401
    stale = post(client, {"events": [event()]}, timestamp=int(time.time()) - 3600)
    assert stale.status_code == 401
    assert stale.json["error"]["code"] == "bad_signature"
    unsigned = client.post("/api/v1/tracking/events", json={"events": [event()]})
    assert unsigned.status_code == 401
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackingEvent)) == 0


def test_an_unknown_number_is_refused_clearly_and_the_batch_is_kept_whole(
    app, client, webhook_secret, parcel
):
    response = post(client, {"events": [event(), event(number="999999999994")]})
    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_tracking_number"
    assert response.json["error"]["details"] == {
        "events": {"1": {"tracking_number": "999999999994"}}
    }
    wrong_digit = post(client, {"events": [event(number="123456789014")]})
    assert wrong_digit.status_code == 422
    assert "check digit" in wrong_digit.json["error"]["message"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackingEvent)) == 0


def test_a_malformed_payload_gets_field_details(client, webhook_secret, parcel):
    response = post(client, {"events": [{"tracking_number": NUMBER, "occurred_at": "yesterday"}]})
    assert response.status_code == 422
    fields = response.json["error"]["details"]["events"]["0"]
    assert set(fields) == {"status", "occurred_at"}


def test_a_carrier_csv_in_shift_jis_records_good_rows_and_reports_bad_ones(app, parcel):
    rma_id, _ = parcel
    data = (
        "伝票番号,ステータス,日時,場所\r\n"
        "1234-5678-9013,発送済み,2026/11/24 10:00,渋谷営業所\r\n"
        "123456789014,配達完了,2026/11/25 10:00,\r\n"
        "123456789013,配達完了,2026/11/25 11:00,市川\r\n"
    ).encode("cp932")
    with app.app_context():
        recorded, duplicates, errors = import_tracking_csv(data)
        db.session.commit()
        assert (recorded, duplicates) == (2, 0)
        assert [line for line, _ in errors] == [3]
        assert db.session.get(Rma, rma_id).status == RmaStatus.IN_TRANSIT


def test_unused_labels_expire_the_case(app, parcel):
    from datetime import timedelta

    from reverse.core.db import utcnow

    rma_id, _ = parcel
    with app.app_context():
        assert expire_unused_labels(14) == 0
        assert expire_unused_labels(14, now=utcnow() + timedelta(days=15)) == 1
        db.session.commit()
        assert db.session.get(Rma, rma_id).status == RmaStatus.EXPIRED
