"""What a repair customer reads in the status mails: the quote to answer with its total and the
private link, where to collect the item and what to pay, in Japanese or English."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from reverse.catalog.models import Location
from reverse.core.actors import Actor
from reverse.core.db import commit
from reverse.extensions import db
from reverse.repairs import operations as ops
from reverse.repairs.constants import Handback
from reverse.repairs.models import PriceListItem
from reverse.rmas.constants import RmaStatus
from reverse.rmas.models import Rma
from reverse.shipping.models import Shipment
from tests.conftest import read_mails
from tests.fixtures.repairs import CENTRE_ACTOR, STORE_ACTOR

S = RmaStatus


@pytest.fixture
def mails(app: Flask) -> Iterator[Callable[[], list[tuple[str, str, str]]]]:
    """(to, subject, body) of the mails sent since the test began."""
    folder = Path(app.config["MAIL_FILE_DIR"])
    shutil.rmtree(folder, ignore_errors=True)
    yield lambda: read_mails(folder) if folder.exists() else []
    shutil.rmtree(folder, ignore_errors=True)


def in_english(app: Flask, rma: Rma) -> None:
    with app.app_context():
        db.session.get(Rma, rma.id).customer.locale = "en"
        db.session.commit()


def step(app: Flask, rma: Rma, operation: Callable[[Rma], object]) -> None:
    """Run a repair operation as a view does: one transaction, its mails sent on commit."""
    with app.app_context():
        operation(db.session.get(Rma, rma.id))
        commit()


def only_mail(mails: Callable[[], list[tuple[str, str, str]]]) -> tuple[str, str, str]:
    sent = mails()
    assert len(sent) == 1, [subject for _to, subject, _body in sent]
    return sent[0]


def quote_first_line(rma: Rma) -> None:
    labour = db.session.scalar(db.select(PriceListItem).where(PriceListItem.code == "L-HANDLE"))
    ops.send_quote(
        rma, [ops.quote_line_from(labour, 1, "ja")], CENTRE_ACTOR, note="持ち手ごと交換します"
    )


def test_the_quote_mail_has_the_total_and_the_private_link(app, client, make_repair, mails):
    rma = make_repair(S.DIAGNOSED)
    step(app, rma, quote_first_line)
    to, subject, body = only_mail(mails)
    assert to == "hanako@example.jp"
    assert rma.display_number in subject
    assert "修理のお見積りをお送りしました。ご回答をお待ちしております。" in body
    assert "L-HANDLE 作業: 8,800円 × 1 = 8,800円" in body
    assert ": 8,800円" in body  # the total
    assert "持ち手ごと交換します" in body
    link = re.search(r"http://\S+/r/(\S+)", body)
    assert link is not None
    page = client.get(f"/r/{link.group(1)}").text
    assert "承認して修理を依頼する" in page  # the approve button of this very quote


def test_the_quote_mail_in_english(app, make_repair, mails):
    rma = make_repair(S.DIAGNOSED)
    in_english(app, rma)
    step(app, rma, quote_first_line)
    _to, subject, body = only_mail(mails)
    assert subject == f"Your repair quote for request {rma.display_number}"
    assert "A repair quote is waiting for your answer." in body
    assert "- L-HANDLE 作業: ¥8,800 × 1 = ¥8,800" in body
    assert "Total (tax included): ¥8,800" in body
    assert "Please answer the quote on your page" in body
    assert "Declining costs nothing." in body
    assert "/r/" in body


def test_a_revised_quote_is_mailed_with_its_new_total(app, make_repair, price_item, mails):
    rma = make_repair(S.QUOTED)
    in_english(app, rma)
    item = price_item("P-ZIP", 2200)

    def revise(case: Rma) -> None:
        ops.send_quote(case, [ops.quote_line_from(db.session.merge(item), 2, "en")], CENTRE_ACTOR)

    step(app, rma, revise)
    _to, subject, body = only_mail(mails)
    assert subject == f"Your repair quote for request {rma.display_number}"
    assert "The quote was revised: ¥4,400. Please answer the new quote." in body
    assert "- P-ZIP work: ¥2,200 × 2 = ¥4,400" in body
    assert "Total (tax included): ¥4,400" in body


def test_the_ready_for_pickup_mail_names_the_store_and_the_amount(app, make_repair, mails):
    rma = make_repair(S.RETURNING)
    with app.app_context():
        store = db.session.get(Rma, rma.id).repair.pickup_location
        store_id, name_ja = store.id, store.name_ja

    def receive(case: Rma) -> None:
        ops.receive_at_store(case.number, db.session.get(Location, store_id), STORE_ACTOR)

    step(app, rma, receive)
    to, _subject, body = only_mail(mails)
    assert to == "hanako@example.jp"
    assert "お品物のお渡し準備が整いました。" in body
    assert name_ja in body
    assert "8,800円" in body
    assert "お預かり票" in body


def test_the_ready_for_pickup_mail_in_english(app, make_repair, mails):
    rma = make_repair(S.RETURNING)
    in_english(app, rma)
    with app.app_context():
        store = db.session.get(Rma, rma.id).repair.pickup_location
        store_id, name_en, street = store.id, store.name_en, store.street

    def receive(case: Rma) -> None:
        ops.receive_at_store(case.number, db.session.get(Location, store_id), STORE_ACTOR)

    step(app, rma, receive)
    _to, subject, body = only_mail(mails)
    assert subject == f"Your item is ready for pickup ({rma.display_number})"
    assert f"You can collect it at:\n{name_en}\n" in body
    assert street in body
    assert "bring your claim tag (お預かり票)" in body
    assert "To pay at pickup: ¥8,800" in body


def test_the_returning_mail_says_which_store(app, make_repair, mails):
    rma = make_repair(S.QUALITY_CHECK)
    in_english(app, rma)
    with app.app_context():
        name_en = db.session.get(Rma, rma.id).repair.pickup_location.name_en
    step(app, rma, lambda case: ops.pass_quality_check(case, CENTRE_ACTOR))
    _to, _subject, body = only_mail(mails)
    assert f"It is on its way back to {name_en}." in body


def test_the_ready_mail_of_a_delivered_repair_has_the_tracking_number(app, make_repair, mails):
    rma = make_repair(S.QUALITY_CHECK, handback=Handback.SHIP)
    in_english(app, rma)
    step(app, rma, lambda case: ops.pass_quality_check(case, CENTRE_ACTOR))
    with app.app_context():
        parcel = db.session.scalar(
            db.select(Shipment).where(Shipment.rma_id == rma.id).order_by(Shipment.id.desc())
        )
        number = parcel.tracking_number
    sent = [m for m in mails() if "Your item is ready." in m[2]]
    assert len(sent) == 1
    body = sent[0][2]
    assert "We are sending the item to you." in body
    assert f"Tracking number: {number} (Yamato Transport)" in body
    assert "¥8,800 is still to be paid." in body


def test_the_declined_mail_states_the_fee(app, make_repair, mails):
    rma = make_repair(S.QUOTED)
    in_english(app, rma)
    with app.app_context():
        db.session.get(Rma, rma.id).repair.decline_fee_yen = 3300
        db.session.commit()

    def decline(case: Rma) -> None:
        ops.answer_quote(case, case.repair.open_quote.id, False, Actor.customer())

    step(app, rma, decline)
    _to, _subject, body = only_mail(mails)
    assert "You declined the quote; we will return the item unrepaired." in body
    assert "A fee of ¥3,300 applies for declining." in body


def test_each_customer_gets_only_their_own_quote(app, make_repair, mails):
    first = make_repair(S.DIAGNOSED)
    second = make_repair(S.DIAGNOSED, email="taro@example.jp", phone="08098765432")
    step(app, first, quote_first_line)
    step(app, second, quote_first_line)
    sent = {to: body for to, _subject, body in mails()}
    assert set(sent) == {"hanako@example.jp", "taro@example.jp"}
    assert first.display_number in sent["hanako@example.jp"]
    assert second.display_number not in sent["hanako@example.jp"]
    assert first.display_number not in sent["taro@example.jp"]
