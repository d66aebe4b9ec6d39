"""From a completed draft to a case, at the level of operations (the form is tested apart)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from reverse.catalog.constants import Category, ChannelCode, LocationKind
from reverse.core.actors import Actor
from reverse.core.db import commit, utcnow
from reverse.extensions import db
from reverse.policy.models import PolicyRule
from reverse.portal.operations import (
    PortalError,
    assess,
    find_order,
    new_draft,
    request_access_link,
    submit_draft,
    update_draft,
)
from reverse.rmas.constants import AttachmentKind, ProofStatus, PurchasePlace, RmaStatus
from reverse.rmas.models import Attachment, Rma
from tests.conftest import read_mails

CONTACT = {"name": "山田 花子", "email": "hanako@example.jp", "phone": None, "locale": "ja"}


@pytest.fixture
def centres(create_location):
    create_location(LocationKind.RETURNS_CENTRE, code="RC")
    create_location(LocationKind.REPAIR_CENTRE, code="REPAIR")


@pytest.fixture
def web_order(ctx, centres, create_customer, create_order):
    customer = create_customer(email="hanako@example.jp", phone="+819012345678")
    return db.session.merge(create_order(ChannelCode.WEB, customer=customer, number="W00012345"))


def draft_for(order, **changes):
    draft, _key = new_draft()
    update_draft(
        draft,
        type="return",
        place="web",
        order_id=order.id,
        lines=[{"order_line_id": order.lines[0].id, "quantity": 1, "reason": "changed_mind"}],
        method="carriage_forward",
        contact=CONTACT,
        **changes,
    )
    return draft


def test_an_order_is_found_by_number_and_email_or_phone_as_typed(web_order):
    assert find_order(PurchasePlace.WEB, "ｗ０００１２３４５", "HANAKO@example.jp") == web_order
    assert find_order(PurchasePlace.WEB, "W00012345", "090ー1234ー5678") == web_order
    assert find_order(PurchasePlace.WEB, "W00012345", "someone@example.jp") is None
    assert find_order(PurchasePlace.WEB, "W99999999", "hanako@example.jp") is None
    assert find_order(PurchasePlace.STORE, "W00012345", "hanako@example.jp") is None


def test_submitting_creates_the_case_with_what_was_promised(web_order, app):
    draft = draft_for(web_order)
    rma, _token = submit_draft(draft, Actor.customer())
    commit()

    rma = db.session.get(Rma, rma.id)
    assert rma.status == RmaStatus.SUBMITTED
    assert rma.purchase_place == PurchasePlace.WEB
    assert rma.refund_estimate_yen == web_order.lines[0].paid_yen
    assert rma.outcome["refund_estimate_yen"] == rma.refund_estimate_yen
    assert rma.customer.email == "hanako@example.jp"
    assert rma.location.kind == LocationKind.RETURNS_CENTRE
    assert rma.proof_status == ProofStatus.NOT_NEEDED


def test_the_confirmation_mail_carries_a_link_that_opens_the_case(web_order, app):
    rma, _token = submit_draft(draft_for(web_order), Actor.customer())
    number = rma.display_number
    commit()  # embedded: the mail job runs in-process after commit

    [(to, subject, text)] = read_mails(app.config["MAIL_FILE_DIR"])
    assert to == "hanako@example.jp"
    assert number in subject
    assert number in text
    link = re.search(r"http://[^\s]+/r/([\w-]+)", text)
    assert link, text
    db.session.remove()
    response = app.test_client().get(f"/r/{link.group(1)}")
    assert response.status_code == 200
    assert number in response.text


def test_what_was_requested_cannot_be_requested_again(web_order):
    submit_draft(draft_for(web_order), Actor.customer())
    db.session.flush()
    outcome = assess(draft_for(web_order).data)
    assert not outcome.eligible
    with pytest.raises(PortalError):
        submit_draft(draft_for(web_order), Actor.customer())


def test_an_expired_window_is_refused_and_nothing_is_written(
    ctx, centres, create_customer, create_order
):
    old = db.session.merge(
        create_order(ordered_at=utcnow() - timedelta(days=90), customer=create_customer())
    )
    with pytest.raises(PortalError):
        submit_draft(draft_for(old), Actor.customer())
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Rma)) == 0


def test_auto_approval_by_policy_puts_the_case_straight_to_awaiting_the_item(web_order):
    db.session.add(PolicyRule(channel_code=ChannelCode.WEB, auto_approve=True))
    rma, _ = submit_draft(draft_for(web_order), Actor.customer())
    assert rma.status == RmaStatus.AWAITING_ITEM
    assert [e.actor_label for e in rma.events[1:]] == ["policy", "policy"]


def test_a_department_store_purchase_waits_for_its_receipt_to_be_checked(
    ctx, centres, create_channel, create_variant
):
    create_channel(
        ChannelCode.DEPARTMENT_STORE, proof_required=True, allowed_types=["exchange", "repair"]
    )
    variant = create_variant(Category.BAGS)
    draft, _ = new_draft()
    update_draft(
        draft,
        type="repair",
        place="department_store",
        retailer="伊勢丹新宿店",
        purchase_date=(utcnow() - timedelta(days=100)).date().isoformat(),
        price_yen=29_700,
        lines=[
            {
                "variant_id": variant.id,
                "quantity": 1,
                "reason": "defective",
                "symptom": "持ち手の付け根がほつれている",
            }
        ],
        method="carriage_forward",
        contact=CONTACT,
    )
    db.session.add(
        Attachment(
            draft_id=draft.id,
            kind=AttachmentKind.RECEIPT,
            stored_name="a" * 64 + ".jpg",
            content_type="image/jpeg",
            size_bytes=1000,
        )
    )
    rma, _ = submit_draft(draft, Actor.customer())
    db.session.flush()

    assert rma.proof_status == ProofStatus.PENDING
    assert rma.status == RmaStatus.SUBMITTED
    assert rma.declared_retailer == "伊勢丹新宿店"
    assert rma.location.kind == LocationKind.REPAIR_CENTRE
    assert [a.kind for a in rma.attachments] == [AttachmentKind.RECEIPT]
    assert rma.outcome["warranty"] == [True]


def test_find_my_request_only_mails_on_a_match(web_order, app):
    rma, _ = submit_draft(draft_for(web_order), Actor.customer())
    db.session.flush()
    assert request_access_link(rma.display_number, "hanako@example.jp")
    assert request_access_link(rma.number.lower(), "090-1234-5678")
    assert not request_access_link(rma.display_number, "other@example.jp")
    assert not request_access_link("R00000-00000", "hanako@example.jp")
