"""/api/v1/intake/scans: a centre's scanner receives parcels once."""

from __future__ import annotations

import sqlalchemy as sa

from reverse.api.constants import Scope
from reverse.catalog.constants import LocationKind
from reverse.core.codes import format_rma_number
from reverse.extensions import db
from reverse.intake.models import Receipt
from reverse.rmas.constants import RmaStatus, RmaType
from tests.fixtures.api import auth


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def test_a_scan_receives_the_parcel_once(app, client, api_key, create_rma, create_location):
    centre = create_location(LocationKind.RETURNS_CENTRE, code="RC-CHIBA")
    rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM, location=centre)
    key = api_key(Scope.INTAKE_WRITE)
    body = {"code": full_width(format_rma_number(rma.number)), "location": "rc-chiba"}
    first = client.post("/api/v1/intake/scans", json=body, headers=auth(key))
    assert first.status_code == 200, first.json
    assert first.json["new"] is True
    assert first.json["rma"]["status"] == "received"
    assert first.json["rma"]["number"] == format_rma_number(rma.number)
    again = client.post("/api/v1/intake/scans", json=body, headers=auth(key))
    assert again.json["new"] is False
    assert again.json["received_at"] == first.json["received_at"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 1


def test_unknown_codes_and_centres_are_refused(client, api_key, create_location, create_rma):
    create_location(LocationKind.RETURNS_CENTRE, code="RC-CHIBA")
    store = create_location(LocationKind.STORE, code="ST-1")
    key = api_key(Scope.INTAKE_WRITE)
    unknown = client.post(
        "/api/v1/intake/scans",
        json={"code": "123456789013", "location": "RC-CHIBA"},
        headers=auth(key),
    )
    assert unknown.status_code == 404
    assert unknown.json["error"]["code"] == "unknown_code"
    not_a_centre = client.post(
        "/api/v1/intake/scans",
        json={"code": "123456789013", "location": store.code},
        headers=auth(key),
    )
    assert not_a_centre.status_code == 422
    assert "location" in not_a_centre.json["error"]["details"]
    repair = create_rma(RmaType.REPAIR, RmaStatus.SUBMITTED)
    refused = client.post(
        "/api/v1/intake/scans",
        json={"code": repair.number, "location": "RC-CHIBA"},
        headers=auth(key),
    )
    assert refused.status_code == 422
    assert refused.json["error"]["code"] == "scan_error"
    missing = client.post("/api/v1/intake/scans", json={}, headers=auth(key))
    assert set(missing.json["error"]["details"]) == {"code", "location"}
    assert client.post("/api/v1/intake/scans", json={}).status_code == 401
    other = api_key(Scope.RMAS_WRITE)
    assert client.post("/api/v1/intake/scans", json={}, headers=auth(other)).status_code == 403


def test_a_replayed_scan_answers_the_same(app, client, api_key, create_rma, create_location):
    centre = create_location(LocationKind.RETURNS_CENTRE, code="RC-CHIBA")
    rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM, location=centre)
    headers = auth(api_key(Scope.INTAKE_WRITE), **{"Idempotency-Key": "scan-1"})
    body = {"code": rma.number, "location": "RC-CHIBA"}
    first = client.post("/api/v1/intake/scans", json=body, headers=headers)
    second = client.post("/api/v1/intake/scans", json=body, headers=headers)
    assert second.json == first.json
    assert second.json["new"] is True
    assert second.headers["Idempotent-Replayed"] == "true"
    other = client.post(
        "/api/v1/intake/scans", json={**body, "code": "123456789013"}, headers=headers
    )
    assert other.status_code == 422
