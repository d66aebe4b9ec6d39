"""Every step a customer is told about (reverse/notifications/steps.py CUSTOMER_MAILS) sends
exactly one mail, in Japanese or English as the customer chose, with the case number (or the
pre-owned item's code) and a private link that opens. A status a case can move to without a
mail of its own, or a step in the table that nothing here drives, fails the walk."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale, gettext

from reverse.catalog.constants import LocationKind
from reverse.core.actors import Actor
from reverse.core.db import commit, utcnow
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.jobs.models import OutboxMessage
from reverse.jobs.runner import run_outbox_job
from reverse.notifications.steps import CUSTOMER_MAILS
from reverse.repairs import operations as repairs
from reverse.repairs.constants import Handback
from reverse.repairs.models import PriceListItem
from reverse.resale import operations as resale
from reverse.resolution.constants import Resolution
from reverse.resolution.operations import after_inspection, resolve
from reverse.rmas.constants import CUSTOMER_STATUS_TEXT, ReturnMethod, RmaStatus, RmaType, moves_for
from reverse.rmas.models import Rma
from reverse.rmas.operations import RmaData, move_rma
from reverse.rmas.operations import create_rma as open_case
from reverse.shipping.operations import prepare_for_sending
from reverse.shipping.tracking import expire_unused_labels
from tests.conftest import read_mails
from tests.fixtures.repairs import CENTRE_ACTOR, STORE_ACTOR
from tests.fixtures.rmas import path_to
from tests.resolution.conftest import WAREHOUSE, inspect_all, receive

S = RmaStatus
STAFF = Actor.system("test")
ROOT = Path(__file__).parents[2]
JAPANESE = re.compile(r"[\u3040-\u30ff]")  # kana: every Japanese sentence has some
ANY_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


@dataclass
class Expect:
    """What the step's mail must carry: the case number (or item code) and where it goes."""

    number: str
    to: str


@dataclass
class Kit:
    """The factories a step needs, and the customer's language."""

    app: Flask
    locale: str
    fixtures: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        return self.fixtures[name]

    def customer(self) -> Customer:
        return self.create_customer(locale=self.locale)

    def ready(self, rma_id: int) -> Expect:
        """End the set-up: case `rma_id`'s customer speaks this kit's language, and what the
        set-up committed is left undelivered (a new session forgets its jobs), so the mails
        that follow are the step's own."""
        rma = db.session.get(Rma, rma_id)
        rma.customer.locale = self.locale
        expect = Expect(rma.display_number, rma.customer.email)
        fresh_session()
        return expect


def fresh_session() -> None:
    db.session.commit()
    db.session.remove()


def case(rma_id: int) -> Rma:
    return db.session.get(Rma, rma_id)


def case_at(kit: Kit, rma_type: RmaType, status: RmaStatus) -> int:
    """A web case of `rma_type` walked to `status` without mails; its id."""
    from reverse.catalog.constants import ChannelCode
    from reverse.catalog.models import Channel

    kit.create_channel()
    channel = db.session.scalar(sa.select(Channel).where(Channel.code == ChannelCode.WEB))
    rma, _token = open_case(
        RmaData(type=rma_type, channel=channel, customer=db.session.merge(kit.customer())),
        Actor.customer(),
    )
    for step in path_to(rma_type, S.SUBMITTED, status):
        rma.transition(step, STAFF)
    db.session.flush()
    return rma.id


# -- how each step is reached: a set-up that sends nothing, then the step as a view does it


def _generic_status(status: RmaStatus) -> Callable[[Kit], Expect]:
    """Move a case (of the first type that can reach `status`) there from a status before it."""

    def drive(kit: Kit) -> Expect:
        rma_type, source = next(
            (t, s)
            for t in (RmaType.RETURN, RmaType.EXCHANGE, RmaType.REPAIR)
            for s in sorted(moves_for(t))
            if status in moves_for(t)[s] and s != S.ACCEPTED
        )
        expect = kit.ready(case_at(kit, rma_type, source))
        move_rma(case(case_id(expect)), status, STAFF)
        commit()
        return expect

    return drive


def case_id(expect: Expect) -> int:
    from reverse.core.codes import parse_rma_number

    return db.session.scalar(sa.select(Rma.id).where(Rma.number == parse_rma_number(expect.number)))


def created(kit: Kit) -> Expect:
    kit.create_channel()
    fresh_session()
    from reverse.catalog.constants import ChannelCode
    from reverse.catalog.models import Channel

    channel = db.session.scalar(sa.select(Channel).where(Channel.code == ChannelCode.WEB))
    rma, _token = open_case(
        RmaData(type=RmaType.RETURN, channel=channel, customer=db.session.merge(kit.customer())),
        Actor.customer(),
    )
    expect = Expect(rma.display_number, rma.customer.email)
    commit()
    return expect


def awaiting_item(kit: Kit) -> Expect:
    made = kit.make_case(S.APPROVED, method=ReturnMethod.CARRIAGE_FORWARD)
    expect = kit.ready(made.id)
    move_rma(case(made.id), S.AWAITING_ITEM, WAREHOUSE)
    commit()
    return expect


def label_ready(kit: Kit) -> Expect:
    """The label job has rendered the PDF the customer prints."""
    made = kit.make_case(S.APPROVED, method=ReturnMethod.PREPAID_LABEL)
    move_rma(case(made.id), S.AWAITING_ITEM, WAREHOUSE)  # its status mail is another step
    label_job = db.session.scalar(
        sa.select(OutboxMessage.id).where(OutboxMessage.task.like("%render_shipment_label"))
    )
    expect = kit.ready(made.id)
    assert run_outbox_job(label_job) == "done"
    return expect


def label_expired(kit: Kit) -> Expect:
    """`shipping expire-labels`: the label went unused, the case expires."""
    made = kit.make_case(S.AWAITING_ITEM, method=ReturnMethod.PREPAID_LABEL)
    assert prepare_for_sending(case(made.id)) is not None
    expect = kit.ready(made.id)
    assert expire_unused_labels(14, now=utcnow() + timedelta(days=15)) == 1
    commit()
    return expect


def _inspected_and_settled(resolution: Resolution | None, **kw: Any) -> Callable[[Kit], Expect]:
    """The last unit is inspected and the case settles in the same transaction (by itself,
    or by a person's decision): one mail, about the outcome."""

    def drive(kit: Kit) -> Expect:
        made = kit.make_case(S.RECEIVED, resolution=resolution, lines=[{"price": 10000}])
        receive(made.id, location_id=kit.centre)
        inspect_all(made.id)
        expect = kit.ready(made.id)
        move_rma(case(made.id), S.INSPECTED, WAREHOUSE)
        if resolution == Resolution.REJECTED:
            resolve(case(made.id), resolution, WAREHOUSE, **kw)
        else:
            assert after_inspection(case(made.id), WAREHOUSE) == (resolution or Resolution.REFUND)
        commit()
        return expect

    return drive


def exchange_settled(kit: Kit) -> Expect:
    """Settled by itself after inspection, with a cheaper replacement: the difference is
    refunded, and told in the same mail."""
    cheaper = kit.variant(price=7000, stock={kit.centre: 1})
    made = kit.make_case(
        S.SUBMITTED, rma_type=RmaType.EXCHANGE, lines=[{"price": 9000, "wanted": cheaper}]
    )
    for status in (S.APPROVED, S.AWAITING_ITEM):
        move_rma(case(made.id), status, WAREHOUSE)
    case(made.id).transition(S.RECEIVED, WAREHOUSE)
    receive(made.id)
    inspect_all(made.id)
    expect = kit.ready(made.id)
    move_rma(case(made.id), S.INSPECTED, WAREHOUSE)
    assert after_inspection(case(made.id), WAREHOUSE) == Resolution.EXCHANGE
    commit()
    return expect


def _repair(status: RmaStatus, step: Callable[[Rma], object], **kw: Any) -> Callable[[Kit], Expect]:
    def drive(kit: Kit) -> Expect:
        rma_id = kit.make_repair(status, **kw).id
        expect = kit.ready(rma_id)
        step(case(rma_id))
        commit()
        return expect

    return drive


def _web_repair_brought_to_a_store(kit: Kit) -> Expect:
    expect = kit.ready(case_at(kit, RmaType.REPAIR, S.AWAITING_ITEM))
    move_rma(case(case_id(expect)), S.ACCEPTED, STORE_ACTOR)
    commit()
    return expect


def _send_quote(rma: Rma) -> None:
    labour = db.session.scalar(sa.select(PriceListItem).where(PriceListItem.code == "L-HANDLE"))
    repairs.send_quote(rma, [repairs.quote_line_from(labour, 1, "ja")], CENTRE_ACTOR)


def _decline(rma: Rma) -> None:
    repairs.answer_quote(rma, rma.repair.open_quote.id, False, Actor.customer())


def _receive_at_store(rma: Rma) -> None:
    repairs.receive_at_store(rma.number, rma.repair.pickup_location, STORE_ACTOR)


def access_link(kit: Kit) -> Expect:
    from reverse.portal.operations import request_access_link

    expect = kit.ready(case_at(kit, RmaType.RETURN, S.AWAITING_ITEM))
    assert request_access_link(expect.number, expect.to)
    commit()
    return expect


def _reservation(what: str) -> Callable[[Kit], Expect]:
    def drive(kit: Kit) -> Expect:
        made = kit.make_item("B", listed=True)
        item_id, code = made.id, made.code
        store_id = kit.create_location(LocationKind.STORE).id
        email = f"{what}-{kit.locale}@example.jp"
        contact = {"name": "佐藤 花子", "email": email, "phone": None, "locale": kit.locale}
        fresh_session()

        def reserve() -> int:
            reservation, _token = resale.reserve(
                item_id,
                kind="pickup",
                contact=contact,
                pickup_location_id=store_id,
                actor=Actor.customer(),
            )
            return reservation.id

        if what == "confirmed":
            reserve()
        else:
            reservation_id = reserve()
            fresh_session()  # its confirmation is another step
            if what == "ready":
                resale.mark_ready(reservation_id, STAFF)
            elif what == "cancelled":
                resale.cancel_reservation(reservation_id, Actor.customer())
            else:
                assert resale.expire_overdue(now=utcnow() + timedelta(days=30)) == 1
        commit()
        return Expect(code, email)

    return drive


DRIVERS: dict[str, Callable[[Kit], Expect]] = {
    "created": created,
    **{
        f"status.{s.value}": _generic_status(s)
        for s in (
            S.APPROVED,
            S.REJECTED,
            S.IN_TRANSIT,
            S.RECEIVED,
            S.INSPECTED,
            S.RESOLVED,
            S.AT_REPAIR_CENTRE,
            S.DIAGNOSED,
            S.QUOTE_APPROVED,
            S.IN_REPAIR,
            S.QUALITY_CHECK,
            S.HANDED_BACK,
            S.CLOSED,
            S.CANCELLED,
        )
    },
    "status.accepted": _web_repair_brought_to_a_store,
    "status.awaiting_item": awaiting_item,
    "status.expired": label_expired,
    "status.quoted": _repair(S.DIAGNOSED, _send_quote),
    "repair.quote_revised": _repair(S.QUOTED, _send_quote),
    "status.quote_declined": _repair(S.QUOTED, _decline),
    "status.returning": _repair(
        S.QUALITY_CHECK, lambda rma: repairs.pass_quality_check(rma, CENTRE_ACTOR)
    ),
    "status.ready": _repair(
        S.QUALITY_CHECK,
        lambda rma: repairs.pass_quality_check(rma, CENTRE_ACTOR),
        handback=Handback.SHIP,
    ),
    "repair.ready_for_pickup": _repair(S.RETURNING, _receive_at_store),
    "label.ready": label_ready,
    "refund.released": _inspected_and_settled(None),
    "credit.released": _inspected_and_settled(Resolution.STORE_CREDIT),
    "resolved.exchange": exchange_settled,
    "resolved.rejected": _inspected_and_settled(
        Resolution.REJECTED, reason="Worn and washed: not returnable."
    ),
    "access_link": access_link,
    **{f"reservation.{w}": _reservation(w) for w in ("confirmed", "ready", "cancelled", "expired")},
}


# -- what every mail is checked against -----------------------------------------------------


def mail_msgids() -> set[str]:
    """The English source of every sentence a customer mail can contain."""
    found = set()
    for path in (ROOT / "templates" / "mail").glob("*.txt"):
        for m in re.finditer(r"_\('((?:[^'\\]|\\.)*)'", path.read_text()):
            found.add(m.group(1).replace("\\'", "'"))
    with force_locale("en"):
        found.update(str(text) for text in CUSTOMER_STATUS_TEXT.values())
        for step in CUSTOMER_MAILS.values():
            found.add(step.subject)
            if step.next_step is not None:
                found.add(str(step.next_step))
    return found


def fragments(text: str) -> list[str]:
    return [f.strip() for f in PLACEHOLDER.split(text) if f.strip()]


@functools.cache
def sentences() -> dict[str, list[str]]:
    """English template sentences, and their Japanese translations, as fragments long enough
    not to match by chance (placeholders cut them). Needs an app context."""
    english, japanese = [], []
    with force_locale("ja"):
        for msgid in sorted(mail_msgids()):
            english += [f for f in fragments(msgid) if len(f) >= 12 and " " in f]
            translated = gettext(msgid)
            if re.search("[A-Za-z]{2,}", PLACEHOLDER.sub("", msgid)):
                assert translated != msgid, f"not translated: {msgid!r}"
            japanese += [f for f in fragments(translated) if len(f) >= 4 and JAPANESE.search(f)]
    return {"en": english, "ja": japanese}


@pytest.fixture
def kit(
    app: Flask,
    request: pytest.FixtureRequest,
    mail_folder: Path,
) -> Callable[[str], Kit]:
    names = (
        "create_rma",
        "create_customer",
        "create_channel",
        "create_location",
        "make_repair",
        "make_case",
        "make_item",
        "variant",
        "centre",
    )

    def make(locale: str) -> Kit:
        fixtures = {name: request.getfixturevalue(name) for name in names}
        return Kit(app, locale, fixtures)

    return make


def test_every_status_a_case_can_move_to_has_a_mail():
    targets = {s for t in RmaType for moves in moves_for(t).values() for s in moves}
    missing = {f"status.{s.value}" for s in targets} - set(CUSTOMER_MAILS)
    assert not missing, f"statuses without a customer mail: {sorted(missing)}"


def test_every_step_in_the_table_is_walked_here():
    assert set(DRIVERS) == set(CUSTOMER_MAILS)


def test_every_mail_template_exists():
    for key, step in CUSTOMER_MAILS.items():
        assert (ROOT / "templates" / step.template).is_file(), key


@pytest.mark.databases
@pytest.mark.parametrize("locale", ["ja", "en"])
@pytest.mark.parametrize("step", sorted(DRIVERS))
def test_each_step_sends_one_mail_in_the_customers_language(
    app, client, kit, mail_folder, step, locale
):
    with app.app_context():
        expect = DRIVERS[step](kit(locale))
        db.session.remove()
        other_language = sentences()["en" if locale == "ja" else "ja"]

    sent = read_mails(mail_folder) if mail_folder.exists() else []
    assert len(sent) == 1, [subject for _to, subject, _body in sent]
    [(to, subject, body)] = sent
    assert to == expect.to
    assert expect.number in subject + body

    if locale == "ja":
        assert JAPANESE.search(subject), subject
        assert JAPANESE.search(body)
    else:
        assert not ANY_JAPANESE.search(subject), subject
    leaked = [s for s in other_language if s in body]
    assert not leaked, f"{step} ({locale}) has sentences of the other language: {leaked}"

    base = app.config["PUBLIC_BASE_URL"]
    links = re.findall(re.escape(base) + r"(/(?:r|preowned/reservations)/[\w-]+)", body)
    assert links, body
    assert client.get(links[0]).status_code == 200
