"""/api/v1/refunds: the payment system lists refunds and settles the released ones once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reverse.api.constants import Scope
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.resolution.constants import RefundKind, RefundState
from reverse.resolution.models import Refund
from reverse.rmas.constants import RmaStatus
from reverse.rmas.models import RmaEvent
from tests.fixtures.api import auth


@pytest.fixture
def make_refund(app, create_rma):
    def make(state: RefundState = RefundState.RELEASED, amount: int = 8900) -> int:
        rma = create_rma(status=RmaStatus.RESOLVED)
        with app.app_context():
            refund = Refund(
                rma_id=rma.id,
                kind=RefundKind.REFUND,
                amount_yen=amount,
                state=state,
                released_at=utcnow() if state != RefundState.PENDING else None,
            )
            db.session.add(refund)
            db.session.commit()
            return refund.id

    return make


def test_refunds_are_listed_by_state_and_paged(client, api_key, make_refund):
    ids = [make_refund(), make_refund(RefundState.PENDING), make_refund()]
    key = api_key(Scope.REFUNDS_READ)
    seen, cursor = [], None
    while True:
        query = {"limit": 1, "state": "released", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/refunds", query_string=query, headers=auth(key))
        assert page.status_code == 200, page.json
        seen += [item["id"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert seen == [ids[0], ids[2]]
    item = client.get("/api/v1/refunds", headers=auth(key)).json["items"][0]
    assert item["rma_number"].startswith("R")
    assert item["settlement_reference"] is None
    later = client.get(
        "/api/v1/refunds", query_string={"since": "2099-01-01T00:00:00Z"}, headers=auth(key)
    )
    assert later.json["items"] == []
    rmas_cursor = client.get("/api/v1/rmas", headers=auth(api_key()))
    assert rmas_cursor.status_code == 200
    from reverse.api.paging import encode_cursor

    foreign = encode_cursor("rmas", 1)
    refused = client.get("/api/v1/refunds", query_string={"cursor": foreign}, headers=auth(key))
    assert refused.status_code == 422


@pytest.mark.databases
def test_a_released_refund_is_settled_once(app, client, api_key, make_refund):
    refund_id = make_refund()
    key = api_key(Scope.REFUNDS_WRITE)
    path = f"/api/v1/refunds/{refund_id}/settle"
    first = client.post(path, json={"reference": "ＰＡＹ－００１"}, headers=auth(key))
    assert first.status_code == 200, first.json
    assert first.json["changed"] is True
    assert first.json["refund"]["state"] == "settled"
    assert first.json["refund"]["settlement_reference"] == "PAY-001"
    again = client.post(path, json={"reference": "PAY-001"}, headers=auth(key))
    assert again.status_code == 200
    assert again.json["changed"] is False
    other = client.post(path, json={"reference": "PAY-002"}, headers=auth(key))
    assert other.status_code == 409
    assert other.json["error"]["code"] == "already_settled"
    with app.app_context():
        refund = db.session.get(Refund, refund_id)
        assert refund.state == RefundState.SETTLED
        notes = db.session.scalars(
            sa.select(RmaEvent).where(RmaEvent.rma_id == refund.rma_id, RmaEvent.kind == "note")
        ).all()
        settled = [e for e in notes if e.data.get("refund_settled") == refund_id]
        assert len(settled) == 1
        assert settled[0].actor_kind.value == "integration"


def test_only_a_released_refund_can_be_settled(client, api_key, make_refund):
    pending = make_refund(RefundState.PENDING)
    key = api_key(Scope.REFUNDS_WRITE)
    response = client.post(
        f"/api/v1/refunds/{pending}/settle", json={"reference": "PAY-1"}, headers=auth(key)
    )
    assert response.status_code == 409
    assert response.json["error"]["details"] == {"from_state": "pending", "to_state": "settled"}
    blank = client.post(
        f"/api/v1/refunds/{pending}/settle", json={"reference": "　"}, headers=auth(key)
    )
    assert blank.status_code == 422
    assert "reference" in blank.json["error"]["details"]
    missing = client.post(
        "/api/v1/refunds/999999/settle", json={"reference": "x"}, headers=auth(key)
    )
    assert missing.status_code == 404
    reader = api_key(Scope.REFUNDS_READ)
    assert (
        client.post(
            f"/api/v1/refunds/{pending}/settle", json={"reference": "x"}, headers=auth(reader)
        ).status_code
        == 403
    )


def test_a_replayed_settlement_answers_the_same(app, client, api_key, make_refund):
    refund_id = make_refund()
    headers = auth(api_key(Scope.REFUNDS_WRITE), **{"Idempotency-Key": "pay-1"})
    path = f"/api/v1/refunds/{refund_id}/settle"
    first = client.post(path, json={"reference": "PAY-1"}, headers=headers)
    second = client.post(path, json={"reference": "PAY-1"}, headers=headers)
    assert second.json == first.json
    assert second.json["changed"] is True
    assert second.headers["Idempotent-Replayed"] == "true"
    assert client.post(path, json={"reference": "PAY-2"}, headers=headers).status_code == 422
    with app.app_context():
        refund = db.session.get(Refund, refund_id)
        notes = db.session.scalars(sa.select(RmaEvent).where(RmaEvent.rma_id == refund.rma_id))
        assert sum(1 for e in notes if e.data.get("refund_settled") == refund_id) == 1
