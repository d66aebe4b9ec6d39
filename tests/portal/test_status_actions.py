"""What a customer can do on their status page: cancel, write, add photos, get the slip."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from reverse.extensions import db
from reverse.portal.operations import CUSTOMER_CANCELLABLE
from reverse.rmas.constants import ReturnMethod, RmaStatus, RmaType
from reverse.rmas.models import Attachment, EventKind, Rma
from tests.conftest import csrf_token
from tests.portal.conftest import photo

pytestmark = pytest.mark.databases


def post(client, url, data=None, **kw):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/find").text)
    return client.post(url, data={"csrf_token": token, **(data or {})}, **kw)


def field_errors(html: str) -> list[str]:
    found = re.findall(r'class="field__error"[^>]*>(.*?)</p>', html, re.S)
    return [re.sub(r"<[^>]+>", "", e).strip() for e in found]


@pytest.mark.parametrize("status", sorted(CUSTOMER_CANCELLABLE))
def test_a_request_can_be_cancelled_until_the_item_is_on_its_way(
    app, client, create_rma, mailbox, status
):
    rma = create_rma(RmaType.RETURN, status)
    page = client.get(f"/r/{rma.token}").text
    assert f'href="/r/{rma.token}/cancel"' in page
    confirm = client.get(f"/r/{rma.token}/cancel")
    assert "Yes, cancel my request" in confirm.text
    response = post(client, f"/r/{rma.token}/cancel")
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(Rma, rma.id)
        assert stored.status == RmaStatus.CANCELLED
        assert stored.events[-1].actor_kind.value == "customer"
    assert "This request was cancelled." in client.get(f"/r/{rma.token}").text


@pytest.mark.parametrize(
    ("rma_type", "status"),
    [
        (RmaType.RETURN, RmaStatus.IN_TRANSIT),
        (RmaType.RETURN, RmaStatus.RECEIVED),
        (RmaType.RETURN, RmaStatus.REJECTED),
        (RmaType.REPAIR, RmaStatus.AT_REPAIR_CENTRE),
        (RmaType.RETURN, RmaStatus.CLOSED),
    ],
)
def test_a_request_cannot_be_cancelled_once_the_item_is_on_its_way(
    app, client, create_rma, rma_type, status
):
    rma = create_rma(rma_type, status)
    assert f"/r/{rma.token}/cancel" not in client.get(f"/r/{rma.token}").text
    response = post(client, f"/r/{rma.token}/cancel")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Rma, rma.id).status == status


def test_cancelling_needs_the_form_token(app, client, create_rma):
    rma = create_rma(RmaType.RETURN, RmaStatus.SUBMITTED)
    assert client.post(f"/r/{rma.token}/cancel").status_code == 400
    with app.app_context():
        assert db.session.get(Rma, rma.id).status == RmaStatus.SUBMITTED


def test_a_message_appears_on_the_timeline(app, client, create_rma):
    rma = create_rma()
    response = post(client, f"/r/{rma.token}/messages", {"body": "サイズ交換は可能ですか？"})
    assert response.status_code == 302
    page = client.get(f"/r/{rma.token}").text
    assert "サイズ交換は可能ですか？" in page
    with app.app_context():
        event = db.session.get(Rma, rma.id).events[-1]
        assert (event.kind, event.public, event.actor_kind.value) == (
            EventKind.MESSAGE,
            True,
            "customer",
        )


def test_a_5000_character_message_is_refused_and_kept(app, client, create_rma):
    rma = create_rma()
    client.get("/lang/en?next=/")
    text = "あいうえお" * 1000
    response = post(client, f"/r/{rma.token}/messages", {"body": text})
    assert response.status_code == 422
    assert field_errors(response.text) == ["Up to 2000 characters, please."]
    assert re.search(rf"<textarea[^>]*>\s*{text}</textarea>", response.text)
    with app.app_context():
        assert all(e.kind != EventKind.MESSAGE for e in db.session.get(Rma, rma.id).events)


def test_photos_added_later_are_shown_to_this_case_only(app, client, create_rma):
    first = create_rma()
    second = create_rma()
    response = post(
        client,
        f"/r/{first.token}/photos",
        {"photos": [photo(), photo(colour="#c88")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        ids = db.session.scalars(
            sa.select(Attachment.id).where(Attachment.rma_id == first.id)
        ).all()
    assert len(ids) == 2
    page = client.get(f"/r/{first.token}").text
    for attachment_id in ids:
        assert f'src="/r/{first.token}/photos/{attachment_id}"' in page
        with client.get(f"/r/{first.token}/photos/{attachment_id}") as own:
            assert own.status_code == 200
            assert own.mimetype == "image/jpeg"
            assert own.headers["X-Content-Type-Options"] == "nosniff"
            assert own.headers["Cache-Control"] == "no-store"
        assert client.get(f"/r/{second.token}/photos/{attachment_id}").status_code == 404
        assert client.get(f"/r/not-a-token/photos/{attachment_id}").status_code == 404


def test_a_file_that_is_not_a_photo_is_refused_on_the_status_page(app, client, create_rma):
    import io

    rma = create_rma()
    client.get("/lang/en?next=/")
    response = post(
        client,
        f"/r/{rma.token}/photos",
        {"photos": [(io.BytesIO(b"GIF89a not really"), "x.jpg")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert field_errors(response.text) == [
        "This file is not a photo we can read. Please send a JPEG, PNG or WebP image."
    ]


def test_a_drop_off_shows_the_code_to_present_at_the_counter(
    app, client, create_rma, create_location
):
    client.get("/lang/ja")  # this test reads the Japanese page
    from reverse.catalog.constants import LocationKind

    store = create_location(LocationKind.STORE, name_ja="渋谷店")
    rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM, location=store)
    with app.app_context():
        stored = db.session.get(Rma, rma.id)
        stored.return_method = ReturnMethod.STORE_DROP_OFF
        db.session.commit()
    page = client.get(f"/r/{rma.token}").text
    assert 'class="barcode barcode--qr"' in page
    assert f'aria-label="{rma.number}"' in page
    assert "渋谷店" in page


def test_a_rejected_proof_shows_the_reason(app, client, create_rma):
    from reverse.rmas.constants import ProofStatus

    rma = create_rma(RmaType.EXCHANGE, RmaStatus.REJECTED)
    with app.app_context():
        stored = db.session.get(Rma, rma.id)
        stored.proof_status = ProofStatus.REJECTED
        stored.decision_reason = "レシートの日付が読み取れませんでした。"
        db.session.commit()
    page = client.get(f"/r/{rma.token}").text
    assert "レシートの日付が読み取れませんでした。" in page


def test_the_return_slip_is_offered_once_the_item_may_be_sent_and_is_a_pdf(app, client, create_rma):
    waiting = create_rma(RmaType.RETURN, RmaStatus.SUBMITTED)
    approved = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    with app.app_context():
        for rma in (waiting, approved):
            db.session.get(Rma, rma.id).return_method = ReturnMethod.CARRIAGE_FORWARD
        db.session.commit()
    assert "/slip.pdf" not in client.get(f"/r/{waiting.token}").text
    assert f'href="/r/{approved.token}/slip.pdf"' in client.get(f"/r/{approved.token}").text
    response = client.get(f"/r/{approved.token}/slip.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(f"/r/{approved.token}x/slip.pdf").status_code == 404


def test_a_slip_can_be_printed_for_an_item_described_in_words(app, client, create_rma):
    rma = create_rma(RmaType.REPAIR, RmaStatus.ACCEPTED)
    with app.app_context():
        stored = db.session.get(Rma, rma.id)
        stored.lines[0].variant_id = None
        stored.lines[0].description = "黒い革のトートバッグ"
        stored.lines[0].symptom = "持ち手が切れた"
        stored.return_method = ReturnMethod.CARRIAGE_FORWARD
        db.session.commit()
    response = client.get(f"/r/{rma.token}/slip.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")
