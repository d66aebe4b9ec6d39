"""The case page: purchase and proof, promised outcome, photos, messages and notes."""

from __future__ import annotations

import re

import pytest

from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.extensions import db
from reverse.rmas.constants import AttachmentKind, RmaType
from reverse.rmas.models import Attachment, EventKind, Rma
from tests.conftest import csrf_token


def post(client, rma, path, data):
    page = client.get(f"/staff/rmas/{rma.number}")
    return client.post(
        f"/staff/rmas/{rma.number}/{path}", data=data | {"csrf_token": csrf_token(page.text)}
    )


def test_the_page_shows_proof_place_address_and_promise(app, client, logged_in, create_pending):
    rma = create_pending()
    with app.app_context():
        stored = db.session.get(Rma, rma.id)
        stored.ship_postal_code, stored.ship_prefecture = "150-0041", "東京都"
        stored.ship_city, stored.ship_street = "渋谷区", "神南1-2-3"
        stored.outcome = {"refund_estimate_yen": None, "proof_required": True}
        db.session.commit()
    logged_in(Role.SUPPORT)
    client.get("/lang/en")
    page = client.get(f"/staff/rmas/{rma.number}").text
    assert "Waiting for verification" in page
    assert "A department store counter" in page
    assert "〒150-0041" in page
    assert "東京都渋谷区神南1-2-3" in page
    assert "Promised when filed" in page


def test_store_staff_see_their_own_cases_photos_but_not_another_stores(
    client, logged_in, create_location, create_pending, add_photo
):
    ours = create_location(LocationKind.STORE)
    theirs = create_location(LocationKind.STORE)
    own_photo = add_photo(create_pending(location=ours), AttachmentKind.PHOTO, "red")
    other_photo = add_photo(create_pending(location=theirs), AttachmentKind.RECEIPT, "blue")
    logged_in(Role.STORE, location=ours)

    with client.get(f"/staff/attachments/{own_photo}") as shown:
        assert shown.status_code == 200
        assert shown.mimetype == "image/jpeg"
        assert shown.data[:2] == b"\xff\xd8"
    # Another store's photo looks exactly like one that does not exist.
    assert client.get(f"/staff/attachments/{other_photo}").status_code == 404
    assert client.get("/staff/attachments/999999").status_code == 404


def test_photos_need_a_login_and_a_stored_file(app, client, logged_in, create_pending, add_photo):
    photo = add_photo(create_pending())
    assert client.get(f"/staff/attachments/{photo}").status_code == 302  # to the login
    logged_in(Role.SUPPORT)
    with app.app_context():
        db.session.get(Attachment, photo).stored_name = "../../etc/passwd"
        db.session.commit()
    assert client.get(f"/staff/attachments/{photo}").status_code == 404


def test_a_file_that_is_not_an_image_is_downloaded_not_shown(
    app, client, logged_in, create_pending, add_photo
):
    photo = add_photo(create_pending())
    with app.app_context():
        db.session.get(Attachment, photo).content_type = "text/html"
        db.session.commit()
    logged_in(Role.ADMIN)
    with client.get(f"/staff/attachments/{photo}") as response:
        assert response.status_code == 200
        assert response.mimetype == "application/octet-stream"
        assert response.headers["Content-Disposition"].startswith("attachment")


def test_a_reply_reaches_the_customer_page_and_a_note_does_not(app, client, logged_in, create_rma):
    rma = create_rma(RmaType.RETURN)
    user = logged_in(Role.SUPPORT)
    reply = post(client, rma, "messages", {"message-text": "ご返送をお待ちしております。"})
    assert reply.status_code == 302
    note = post(client, rma, "notes", {"note-text": "お客様は常連、丁寧に対応"})
    assert note.status_code == 302

    with app.app_context():
        events = db.session.get(Rma, rma.id).events
        message = next(e for e in events if e.kind == EventKind.MESSAGE)
        assert (message.public, message.actor_user_id) == (True, user.id)
        memo = next(e for e in events if e.kind == EventKind.NOTE)
        assert (memo.public, memo.actor_user_id) == (False, user.id)
    staff_page = client.get(f"/staff/rmas/{rma.number}").text
    assert "ご返送をお待ちしております。" in staff_page
    assert "お客様は常連、丁寧に対応" in staff_page
    client.delete_cookie("session")
    customer_page = client.get(f"/r/{rma.token}").text
    assert "ご返送をお待ちしております。" in customer_page
    assert "お客様は常連" not in customer_page


@pytest.mark.parametrize(
    ("path", "field", "text"),
    [
        ("messages", "message-text", ""),
        ("messages", "message-text", "あ" * 2001),
        ("notes", "note-text", "   "),
        ("notes", "note-text", "x" * 2001),
    ],
)
def test_empty_or_long_messages_and_notes_write_nothing(
    app, client, logged_in, create_rma, path, field, text
):
    rma = create_rma()
    logged_in(Role.SUPPORT)
    response = post(client, rma, path, {field: text})
    assert response.status_code == 422
    assert "field__error" in response.text
    with app.app_context():
        assert len(db.session.get(Rma, rma.id).events) == 1


def test_another_stores_staff_cannot_write_on_a_case(
    app, client, logged_in, create_location, create_rma
):
    ours = create_location(LocationKind.STORE)
    theirs = create_rma(RmaType.REPAIR, location=create_location(LocationKind.STORE))
    logged_in(Role.STORE, location=ours)
    page = client.get("/staff/rmas")
    for path, field in (("messages", "message-text"), ("notes", "note-text")):
        response = client.post(
            f"/staff/rmas/{theirs.number}/{path}",
            data={field: "こんにちは", "csrf_token": csrf_token(page.text)},
        )
        assert response.status_code == 404
    with app.app_context():
        assert len(db.session.get(Rma, theirs.id).events) == 1


def test_no_status_is_preselected(client, logged_in, create_rma):
    rma = create_rma()
    logged_in(Role.SUPPORT)
    page = client.get(f"/staff/rmas/{rma.number}").text
    first = re.search(r'<select[^>]*name="to_status"[^>]*>\s*<option([^>]*)>', page)
    assert first is not None
    assert 'value=""' in first.group(1)
    assert "selected" not in page[first.start() : page.index("</select>", first.start())]
