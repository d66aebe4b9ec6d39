"""The verification queue: staff accept or reject the receipt of a declared purchase."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.extensions import db
from reverse.rmas.constants import AttachmentKind, ProofStatus, RmaStatus, RmaType
from reverse.rmas.models import EventKind, Rma
from reverse.rmas.operations import ProofAlreadyDecided, verify_proof
from reverse.rmas.policies import staff_actor
from tests.conftest import csrf_token

pytestmark = pytest.mark.databases


def decide(client, rma, decision, reason="", version=None, origin="queue"):
    page = client.get("/staff/verification")
    return client.post(
        f"/staff/rmas/{rma.number}/verify",
        data={
            "decision": decision,
            "reason": reason,
            "version": str(rma.version_id if version is None else version),
            "origin": origin,
            "csrf_token": csrf_token(page.text),
        },
    )


def stored(app, rma) -> Rma:
    with app.app_context():
        found = db.session.get(Rma, rma.id)
        _ = found.events, found.customer  # loaded before the context ends
        db.session.expunge(found)
        return found


def test_the_queue_lists_pending_proofs_oldest_first_with_their_photos(
    client, logged_in, create_pending, create_rma, add_photo
):
    first = create_pending(RmaType.EXCHANGE)
    second = create_pending(RmaType.REPAIR)
    create_rma(RmaType.RETURN)  # a purchase we know: nothing to check
    receipt = add_photo(second, AttachmentKind.RECEIPT)
    logged_in(Role.SUPPORT)

    page = client.get("/staff/verification")
    assert page.status_code == 200
    numbers = re.findall(r'id="rma-(R\d{10})"', page.text)
    assert numbers == [first.number, second.number]
    assert f"/staff/attachments/{receipt}" in page.text
    assert "伊勢丹新宿店" in page.text
    assert "12,900" in page.text


def test_accepting_moves_an_exchange_on_and_records_who_did_it(
    app, client, logged_in, create_pending
):
    rma = create_pending(RmaType.EXCHANGE)
    user = logged_in(Role.SUPPORT)

    response = decide(client, rma, "accept")
    assert response.status_code == 302

    after = stored(app, rma)
    assert after.proof_status == ProofStatus.ACCEPTED
    assert after.status == RmaStatus.AWAITING_ITEM
    moves = [(e.from_status, e.to_status) for e in after.events if e.to_status]
    assert moves[-2:] == [
        (RmaStatus.SUBMITTED, RmaStatus.APPROVED),
        (RmaStatus.APPROVED, RmaStatus.AWAITING_ITEM),
    ]
    decision = next(e for e in after.events if e.data.get("proof_status") == "accepted")
    assert decision.kind == EventKind.NOTE
    assert not decision.public
    assert {e.actor_user_id for e in after.events[1:]} == {user.id}


def test_accepting_a_repair_asks_for_the_item(app, client, logged_in, create_pending):
    rma = create_pending(RmaType.REPAIR)
    logged_in(Role.ADMIN)
    assert decide(client, rma, "accept").status_code == 302
    after = stored(app, rma)
    assert (after.status, after.proof_status) == (RmaStatus.AWAITING_ITEM, ProofStatus.ACCEPTED)


def test_rejecting_needs_a_reason_and_changes_nothing_without_one(
    app, client, logged_in, create_pending
):
    rma = create_pending()
    logged_in(Role.SUPPORT)
    for reason in ("", "   "):
        response = decide(client, rma, "reject", reason=reason)
        assert response.status_code == 422
        assert "field__error" in response.text
    too_long = decide(client, rma, "reject", reason="x" * 501)
    assert too_long.status_code == 422
    after = stored(app, rma)
    assert (after.status, after.proof_status) == (RmaStatus.SUBMITTED, ProofStatus.PENDING)
    assert len(after.events) == 1


def test_the_customer_reads_the_rejection_reason_on_their_page_and_in_the_mail(
    app, client, logged_in, create_pending, mailbox
):
    rma = create_pending()
    logged_in(Role.SUPPORT)
    reason = "レシートの日付が読み取れませんでした。鮮明な写真をお送りください。"

    assert decide(client, rma, "reject", reason=reason).status_code == 302

    after = stored(app, rma)
    assert after.status == RmaStatus.REJECTED
    assert after.proof_status == ProofStatus.REJECTED
    assert after.decision_reason == reason
    status_page = client.get(f"/r/{rma.token}")
    assert status_page.status_code == 200
    assert reason in status_page.text
    mails = [m for m in mailbox.mails() if rma.display_number in m[1]]
    assert len(mails) == 1
    assert mails[0][0] == after.customer.email
    assert reason in mails[0][2]


def test_a_repeated_decision_changes_nothing_and_a_stale_one_is_refused(
    app, client, logged_in, create_pending, mailbox
):
    rma = create_pending()
    logged_in(Role.SUPPORT)
    assert decide(client, rma, "accept").status_code == 302
    events = len(stored(app, rma).events)
    mails = len(mailbox.mails())

    # The same form sent again (a double click): nothing more happens.
    again = decide(client, rma, "accept")
    assert again.status_code == 302
    # The other decision from the page as it was before: refused, with a message.
    stale = decide(client, rma, "reject", reason="写真が不鮮明です")
    assert stale.status_code == 409
    assert "Someone else changed this request" in stale.text or "他の" in stale.text

    after = stored(app, rma)
    assert (after.status, after.proof_status) == (RmaStatus.AWAITING_ITEM, ProofStatus.ACCEPTED)
    assert len(after.events) == events
    assert after.decision_reason == ""
    assert len(mailbox.mails()) == mails


def test_the_operation_decides_a_proof_once(ctx, create_pending, create_user):
    rma = create_pending()
    actor = staff_actor(db.session.merge(create_user(Role.SUPPORT)))
    target = db.session.get(Rma, rma.id)
    verify_proof(target, False, "保証書の販売店印がありません", actor)
    verify_proof(target, False, "別の理由", actor)  # the same decision: nothing changes
    assert target.decision_reason == "保証書の販売店印がありません"
    with pytest.raises(ProofAlreadyDecided):
        verify_proof(target, True, "", actor)
    assert target.proof_status == ProofStatus.REJECTED
    assert target.status == RmaStatus.REJECTED


def test_a_case_no_longer_waiting_is_not_decided(app, client, logged_in, create_rma):
    rma = create_rma(RmaType.EXCHANGE)  # proof not needed
    logged_in(Role.SUPPORT)
    response = decide(client, rma, "accept")
    assert response.status_code == 409
    after = stored(app, rma)
    assert (after.status, after.proof_status) == (RmaStatus.SUBMITTED, ProofStatus.NOT_NEEDED)


def test_store_staff_cannot_open_the_queue_or_decide(
    app, client, logged_in, create_location, create_pending
):
    shop = create_location(LocationKind.STORE)
    rma = create_pending(location=shop)
    logged_in(Role.STORE, location=shop)
    assert client.get("/staff/verification").status_code == 403
    page = client.get(f"/staff/rmas/{rma.number}")
    assert page.status_code == 200
    assert "/verify" not in page.text  # no decision form for them
    response = client.post(
        f"/staff/rmas/{rma.number}/verify",
        data={"decision": "accept", "version": "1", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 403
    assert stored(app, rma).proof_status == ProofStatus.PENDING


def test_the_menu_counts_what_waits_for_support_only(client, logged_in, create_pending):
    create_pending()
    create_pending()
    logged_in(Role.SUPPORT)
    menu = client.get("/staff/rmas").text
    assert "/staff/verification" in menu
    assert re.search(r'count--alert">2<', menu)
    client.delete_cookie("session")
    logged_in(Role.WAREHOUSE)
    assert "/staff/verification" not in client.get("/staff/rmas").text


def test_deciding_from_the_case_page_returns_there(app, client, logged_in, create_pending):
    rma = create_pending()
    logged_in(Role.SUPPORT)
    page = client.get(f"/staff/rmas/{rma.number}")
    assert f"/staff/rmas/{rma.number}/verify" in page.text
    response = client.post(
        f"/staff/rmas/{rma.number}/verify",
        data={
            "decision": "reject",
            "reason": "",
            "version": str(rma.version_id),
            "origin": "detail",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 422
    assert rma.display_number in response.text
    assert "p-verify" in response.text
    ok = decide(client, rma, "accept", origin="detail")
    assert ok.headers["Location"].endswith(f"/staff/rmas/{rma.number}")
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).select_from(Rma).where(Rma.proof_status == "pending")
        )
    assert count == 0
