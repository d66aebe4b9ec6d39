"""The intake screen: scan, see the result, scan again; strangers' parcels recorded."""

from __future__ import annotations

import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.extensions import db
from reverse.intake.models import Receipt, UnexpectedParcel
from reverse.rmas.constants import RmaStatus, RmaType
from tests.conftest import csrf_token


def scan(client, code: str):
    page = client.get("/staff/intake/")
    return client.post("/staff/intake/", data={"code": code, "csrf_token": csrf_token(page.text)})


def test_a_scan_receives_the_parcel_and_shows_what_should_be_inside(
    app, client, logged_in, create_rma
):
    rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    logged_in(Role.WAREHOUSE)
    client.get("/lang/en")
    first = scan(client, rma.number)
    assert first.status_code == 200
    assert f"Received: {rma.display_number}" in first.text
    assert "scan-result--good" in first.text
    again = scan(client, rma.display_number)
    assert "Already received" in again.text
    assert "scan-result--warn" in again.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 1


def test_a_bad_code_is_a_red_message_in_japanese_and_nothing_is_recorded(app, client, logged_in):
    logged_in(Role.WAREHOUSE)
    response = scan(client, "123456789014")
    assert response.status_code == 422
    assert "scan-result--bad" in response.text
    assert 'lang="ja"' in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 0


def test_a_parcel_matching_nothing_is_recorded_for_support(app, client, logged_in):
    logged_in(Role.WAREHOUSE)
    page = client.get("/staff/intake/")
    response = client.post(
        "/staff/intake/unexpected",
        data={
            "code": "",
            "note": "<b>ニット1点</b>、差出人不明",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 200
    with app.app_context():
        parcel = db.session.scalars(sa.select(UnexpectedParcel)).one()
        assert parcel.note == "<b>ニット1点</b>、差出人不明"


def test_only_warehouse_staff_and_admins_take_parcels_in(client, logged_in):
    logged_in(Role.STORE)
    assert client.get("/staff/intake/").status_code == 403


def test_an_unexpected_parcel_keeps_its_photos_and_refuses_a_fake_one(app, client, logged_in):
    import io

    from PIL import Image

    from reverse.rmas.constants import AttachmentKind
    from reverse.rmas.models import Attachment

    photo = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(photo, "JPEG")
    logged_in(Role.WAREHOUSE)
    page = client.get("/staff/intake/")
    fake = client.post(
        "/staff/intake/unexpected",
        data={
            "note": "靴1足",
            "photos": [(io.BytesIO(b"not an image"), "box.jpg")],
            "csrf_token": csrf_token(page.text),
        },
        content_type="multipart/form-data",
    )
    assert fake.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UnexpectedParcel)) == 0
    kept = client.post(
        "/staff/intake/unexpected",
        data={
            "note": "靴1足",
            "photos": [(io.BytesIO(photo.getvalue()), "box.jpg")],
            "csrf_token": csrf_token(page.text),
        },
        content_type="multipart/form-data",
    )
    assert kept.status_code == 200
    with app.app_context():
        parcel = db.session.scalars(sa.select(UnexpectedParcel)).one()
        photos = db.session.scalars(
            sa.select(Attachment).where(Attachment.unexpected_parcel_id == parcel.id)
        ).all()
        assert [p.kind for p in photos] == [AttachmentKind.PARCEL]
        assert photos[0].rma_id is None


def test_support_matches_an_unexpected_parcel_and_the_waiting_case_is_received(
    app, client, logged_in, create_rma
):
    from reverse.core.actors import Actor
    from reverse.intake.operations import record_unexpected
    from reverse.rmas.models import Rma

    rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    with app.app_context():
        parcel = record_unexpected("", Actor.system("desk"), location_id=None, note="ニット")
        db.session.commit()
        parcel_id = parcel.id
    logged_in(Role.SUPPORT)
    page = client.get("/staff/intake/unexpected-parcels")
    assert page.status_code == 200
    assert f'id="parcel-{parcel_id}"' in page.text
    token = csrf_token(page.text)
    for _ in range(2):  # a second match to the same case changes nothing
        done = client.post(
            f"/staff/intake/unexpected-parcels/{parcel_id}/match",
            data={"code": rma.display_number, "csrf_token": token},
        )
        assert done.status_code == 302
    other = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    refused = client.post(
        f"/staff/intake/unexpected-parcels/{parcel_id}/match",
        data={"code": other.number, "csrf_token": token},
        follow_redirects=True,
    )
    assert "flash--error" in refused.text
    with app.app_context():
        assert db.session.get(UnexpectedParcel, parcel_id).rma_id == rma.id
        assert db.session.get(Rma, rma.id).status == RmaStatus.RECEIVED
        assert db.session.get(Rma, other.id).status == RmaStatus.AWAITING_ITEM
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)) == 1


def test_store_staff_do_not_see_unexpected_parcels(client, logged_in):
    logged_in(Role.STORE)
    assert client.get("/staff/intake/unexpected-parcels").status_code == 403
