"""Staff RMA pages: what each role sees, filters, and moving a case from its page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import ChannelCode, LocationKind
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma
from tests.conftest import csrf_token


def numbers_on(html: str) -> set[str]:
    return set(re.findall(r"/staff/rmas/(R\d{10})", html))


@pytest.fixture
def two_stores(create_location, create_rma):
    shibuya = create_location(LocationKind.STORE, code="ST-SHIBUYA")
    umeda = create_location(LocationKind.STORE, code="ST-UMEDA")
    ours = create_rma(RmaType.REPAIR, RmaStatus.ACCEPTED, location=shibuya)
    theirs = create_rma(RmaType.REPAIR, RmaStatus.ACCEPTED, location=umeda)
    return shibuya, umeda, ours, theirs


def test_store_staff_see_only_their_store(client, logged_in, two_stores):
    shibuya, _umeda, ours, theirs = two_stores
    logged_in(Role.STORE, location=shibuya)

    listing = client.get("/staff/rmas")
    assert numbers_on(listing.text) == {ours.number}
    assert client.get(f"/staff/rmas/{ours.number}").status_code == 200
    # Another store's case looks exactly like one that does not exist.
    assert client.get(f"/staff/rmas/{theirs.number}").status_code == 404
    # Asking for the other store's filter is not a way round it.
    other = client.get(f"/staff/rmas?location={_umeda.id}")
    assert other.status_code == 200
    assert theirs.number not in other.text


def test_store_staff_cannot_move_another_stores_case(app, client, logged_in, two_stores):
    shibuya, _umeda, _ours, theirs = two_stores
    logged_in(Role.STORE, location=shibuya)
    page = client.get("/staff/rmas")
    response = client.post(
        f"/staff/rmas/{theirs.number}/status",
        data={"to_status": "in_transit", "version": "2", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Rma, theirs.id).status == RmaStatus.ACCEPTED


def test_support_sees_every_case(client, logged_in, two_stores):
    _s, _u, ours, theirs = two_stores
    logged_in(Role.SUPPORT)
    assert numbers_on(client.get("/staff/rmas").text) == {ours.number, theirs.number}


def test_technicians_see_repairs_and_warehouse_sees_returns(client, logged_in, create_rma):
    repair = create_rma(RmaType.REPAIR, RmaStatus.SUBMITTED)
    exchange = create_rma(RmaType.EXCHANGE)
    logged_in(Role.TECHNICIAN)
    assert numbers_on(client.get("/staff/rmas").text) == {repair.number}
    assert client.get(f"/staff/rmas/{exchange.number}").status_code == 404
    client.delete_cookie("session")
    logged_in(Role.WAREHOUSE)
    assert numbers_on(client.get("/staff/rmas").text) == {exchange.number}


def test_only_admins_open_the_user_list(client, logged_in):
    logged_in(Role.SUPPORT)
    assert client.get("/staff/users").status_code == 403
    client.delete_cookie("session")
    admin = logged_in(Role.ADMIN)
    response = client.get("/staff/users")
    assert response.status_code == 200
    assert admin.email in response.text


def test_filters_by_status_type_channel_and_age(app, client, logged_in, create_rma):
    approved = create_rma(RmaType.RETURN, RmaStatus.APPROVED)
    submitted = create_rma(RmaType.RETURN)
    repair = create_rma(RmaType.REPAIR, RmaStatus.SUBMITTED, channel=ChannelCode.DEPARTMENT_STORE)
    with app.app_context():
        db.session.execute(
            sa.update(Rma)
            .where(Rma.id == submitted.id)
            .values(status_changed_at=utcnow() - timedelta(days=10))
        )
        db.session.commit()
    logged_in(Role.ADMIN)

    assert numbers_on(client.get("/staff/rmas?status=approved").text) == {approved.number}
    assert numbers_on(client.get("/staff/rmas?type=repair").text) == {repair.number}
    by_channel = client.get("/staff/rmas?channel=department_store").text
    assert numbers_on(by_channel) == {repair.number}
    assert numbers_on(client.get("/staff/rmas?age=7").text) == {submitted.number}
    # Typed as people type it: full-width digits, a long dash, no "R".
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    typed = (submitted.number[1:6] + "ー" + submitted.number[6:]).translate(full_width)
    assert numbers_on(client.get(f"/staff/rmas?q={typed}").text) == {submitted.number}


def test_bad_filter_values_give_a_message_not_an_error(client, logged_in, create_rma):
    create_rma()
    logged_in(Role.ADMIN)
    for query in ("status=flying", "age=abc", "location=x", "page=-3", "q=R123", "type=%00"):
        response = client.get(f"/staff/rmas?{query}")
        assert response.status_code == 200, query
    assert "受付番号の形式ではありません" in client.get("/staff/rmas?q=R123").text


def test_a_legal_move_from_the_page_is_recorded_with_the_staff_member(
    app, client, logged_in, create_rma
):
    rma = create_rma(RmaType.RETURN)
    user = logged_in(Role.SUPPORT)
    page = client.get(f"/staff/rmas/{rma.number}")
    response = client.post(
        f"/staff/rmas/{rma.number}/status",
        data={
            "to_status": "approved",
            "note": "<script>alert(1)</script>",
            "version": str(rma.version_id),
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(Rma, rma.id)
        assert stored.status == RmaStatus.APPROVED
        assert stored.events[-1].actor_user_id == user.id
    detail = client.get(f"/staff/rmas/{rma.number}").text
    assert "<script>alert(1)</script>" not in detail
    assert "&lt;script&gt;" in detail


def test_a_move_from_a_stale_page_is_refused(app, client, logged_in, create_rma):
    rma = create_rma(RmaType.RETURN)
    logged_in(Role.SUPPORT)
    page = client.get(f"/staff/rmas/{rma.number}")
    stale = {"version": str(rma.version_id), "csrf_token": csrf_token(page.text)}
    assert (
        client.post(
            f"/staff/rmas/{rma.number}/status", data=stale | {"to_status": "approved"}
        ).status_code
        == 302
    )
    response = client.post(
        f"/staff/rmas/{rma.number}/status", data=stale | {"to_status": "cancelled"}
    )
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(Rma, rma.id).status == RmaStatus.APPROVED


def test_a_move_the_lifecycle_does_not_allow_is_refused(app, client, logged_in, create_rma):
    rma = create_rma(RmaType.RETURN)
    logged_in(Role.SUPPORT)
    page = client.get(f"/staff/rmas/{rma.number}")
    response = client.post(
        f"/staff/rmas/{rma.number}/status",
        data={
            "to_status": "resolved",
            "version": str(rma.version_id),
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.get(Rma, rma.id).status == RmaStatus.SUBMITTED
        assert len(db.session.get(Rma, rma.id).events) == 1


def test_pages_are_japanese_by_default_and_english_on_request(client, logged_in, create_rma):
    create_rma()
    logged_in(Role.ADMIN)
    assert 'lang="ja"' in client.get("/staff/rmas").text
    client.get("/lang/en?next=/staff/rmas")
    english = client.get("/staff/rmas").text
    assert 'lang="en"' in english
    assert "Submitted" in english
