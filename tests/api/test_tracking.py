"""/api/v1/tracking/events with an API key (the signed carrier webhook is tested in
tests/shipping), and its place in the OpenAPI document."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reverse.api.constants import Scope
from reverse.catalog.constants import LocationKind
from reverse.extensions import db
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma
from reverse.shipping.constants import Carrier, Direction, ShipmentStatus
from reverse.shipping.models import Shipment, TrackingEvent
from tests.fixtures.api import auth

NUMBER = "123456789013"


@pytest.fixture
def parcel(app, create_rma, create_location):
    centre = create_location(LocationKind.RETURNS_CENTRE)
    rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM, location=centre)
    with app.app_context():
        db.session.add(
            Shipment(
                rma_id=rma.id,
                direction=Direction.TO_CENTRE,
                carrier=Carrier.YAMATO,
                tracking_number=NUMBER,
                to_location_id=centre.id,
                status=ShipmentStatus.LABEL_READY,
            )
        )
        db.session.commit()
    return rma.id


def batch(number: str = "１２３４－５６７８－９０１３"):
    return {
        "events": [
            {
                "tracking_number": number,
                "status": "輸送中",
                "occurred_at": "2026-12-01T10:00:00+09:00",
            }
        ]
    }


def test_an_api_key_with_the_scope_reports_events(app, client, api_key, parcel):
    key = api_key(Scope.TRACKING_WRITE)
    response = client.post("/api/v1/tracking/events", json=batch(), headers=auth(key))
    assert response.status_code == 200, response.json
    assert response.json == {"recorded": 1, "duplicates": 0}
    again = client.post("/api/v1/tracking/events", json=batch(), headers=auth(key))
    assert again.json == {"recorded": 0, "duplicates": 1}
    with app.app_context():
        assert db.session.get(Rma, parcel).status == RmaStatus.IN_TRANSIT
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackingEvent)) == 1


def test_without_signature_or_scope_nothing_is_recorded(app, client, api_key, parcel):
    assert client.post("/api/v1/tracking/events", json=batch()).status_code == 401
    other = api_key(Scope.RMAS_WRITE)
    response = client.post("/api/v1/tracking/events", json=batch(), headers=auth(other))
    assert response.status_code == 403
    bad = client.post(
        "/api/v1/tracking/events",
        json=batch(),
        headers=auth(api_key(Scope.TRACKING_WRITE), **{"X-Reverse-Signature": "t=1,v1=00"}),
    )
    assert bad.status_code == 401  # a signature, when sent, must be right
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TrackingEvent)) == 0


def test_the_endpoint_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").json
    operation = spec["paths"]["/api/v1/tracking/events"]["post"]
    assert {"CarrierSignature": []} in operation["security"]
    assert {"ApiKey": []} in operation["security"]
    assert "CarrierSignature" in spec["components"]["securitySchemes"]
