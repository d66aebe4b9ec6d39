"""The settlement on the staff case page, the decision form, the customer's status page and
the refund choice at the end of the request form, and the channel's refund settings."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import ChannelCode
from reverse.catalog.models import Channel
from reverse.extensions import db
from reverse.resolution.constants import RefundRelease, RefundState, Resolution
from reverse.resolution.models import Refund
from reverse.resolution.operations import record_refund, release_refund
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context
from tests.resolution.conftest import WAREHOUSE, inspect_all, receive

FEES = {"return_shipping_fee_yen": 990, "restocking_fee_yen": 1000}


@pytest.fixture
def english(client):
    client.get("/lang/en")
    return client


@pytest.fixture
def inspected(app, make_case):
    """An inspected return of ¥12,800 with fees, one unit back to the customer: it waits for
    a person."""
    from reverse.intake.constants import Disposition

    case = make_case(lines=[{"price": 12800}], outcome=FEES)
    with in_context(app):
        receive(case.id)
        inspect_all(case.id, {1: Disposition.RETURN_TO_CUSTOMER})
        db.session.commit()
    return case


def decide(client, case, data, token=None):
    if token is None:
        token = csrf_token(client.get(f"/staff/rmas/{case.number}").text)
    return client.post(
        f"/staff/resolution/rmas/{case.number}/decide",
        data={f"resolve-{k}": v for k, v in data.items()} | {"resolve-csrf_token": token},
    )


def status_of(app, case) -> tuple[RmaStatus, Resolution | None, str]:
    with app.app_context():
        rma = db.session.get(Rma, case.id)
        return rma.status, rma.resolution, rma.decision_reason


def test_the_case_page_shows_the_refund_breakdown_and_why_it_waits(english, logged_in, inspected):
    logged_in(Role.WAREHOUSE)
    page = english.get(f"/staff/rmas/{inspected.number}").text
    assert "Settlement" in page
    assert "¥12,800" in page  # paid
    assert "− ¥1,000" in page  # restocking
    assert "− ¥990" in page  # return shipping
    assert "¥10,810" in page  # refund
    assert "A unit is to be returned to the customer." in page
    assert 'action="/staff/resolution/rmas/' in page


def test_a_rejection_needs_a_reason_and_then_settles_the_case(app, english, logged_in, inspected):
    logged_in(Role.WAREHOUSE)
    missing = decide(english, inspected, {"decision": "rejected", "reason": ""})
    assert missing.status_code == 422
    assert "Give the reason the customer will read." in missing.text
    assert status_of(app, inspected)[0] == RmaStatus.INSPECTED

    done = decide(english, inspected, {"decision": "rejected", "reason": "Stained collar."})
    assert done.status_code == 302
    assert status_of(app, inspected) == (RmaStatus.RESOLVED, Resolution.REJECTED, "Stained collar.")


def test_a_refund_decision_records_and_releases_it(app, english, logged_in, inspected):
    logged_in(Role.SUPPORT)
    assert decide(english, inspected, {"decision": "refund"}).status_code == 302
    with app.app_context():
        [refund] = db.session.scalars(sa.select(Refund)).all()
        assert (refund.amount_yen, refund.state) == (10810, RefundState.RELEASED)
    page = english.get(f"/staff/rmas/{inspected.number}").text
    assert "Released to payment" in page


def test_the_decision_form_needs_its_csrf_token(app, english, logged_in, inspected):
    logged_in(Role.WAREHOUSE)
    assert decide(english, inspected, {"decision": "refund"}, token="forged").status_code == 400
    assert status_of(app, inspected)[0] == RmaStatus.INSPECTED


@pytest.mark.parametrize("role", [Role.STORE, Role.TECHNICIAN])
def test_only_warehouse_support_and_admins_decide(app, english, logged_in, inspected, role):
    logged_in(role)
    token = csrf_token(english.get(f"/r/{inspected.token}").text)
    response = decide(english, inspected, {"decision": "refund"}, token=token)
    assert response.status_code == 403
    assert status_of(app, inspected)[0] == RmaStatus.INSPECTED


def test_the_index_lists_the_cases_waiting_for_a_decision(english, logged_in):
    logged_in(Role.WAREHOUSE)
    response = english.get("/staff/resolution/")
    assert response.status_code == 302
    assert "status=inspected" in response.headers["Location"]


def test_the_status_page_shows_the_refund_in_plain_words(app, english, make_case):
    case = make_case(lines=[{"price": 12800}], outcome=FEES)
    with app.app_context():
        refund = record_refund(db.session.get(Rma, case.id), WAREHOUSE)
        db.session.commit()
        page = english.get(f"/r/{case.token}").text
        assert "Your refund" in page
        assert "Being prepared" in page
        assert "¥10,810" in page
        release_refund(db.session.get(Refund, refund.id), WAREHOUSE)
        db.session.commit()
    page = english.get(f"/r/{case.token}").text
    assert "On its way" in page
    assert "− ¥990" in page


def test_the_status_page_shows_a_rejection_with_its_reason_and_parcel(
    app, english, centre, make_case
):
    from reverse.resolution.operations import resolve
    from reverse.shipping.models import Shipment

    case = make_case(lines=[{"price": 12800}])
    with app.app_context():
        receive(case.id, location_id=centre)
        resolve(db.session.get(Rma, case.id), Resolution.REJECTED, WAREHOUSE, reason="Worn.")
        db.session.commit()
        number = db.session.scalar(sa.select(Shipment.tracking_number))
    page = english.get(f"/r/{case.token}").text
    assert "Our decision" in page
    assert "Worn." in page
    assert number in page


def test_the_status_page_shows_the_replacement_and_its_tracking_number(
    app, english, centre, variant, make_case
):
    from reverse.resolution.exchanges import reserve_replacements, ship_replacements

    wanted = variant(stock={centre: 1})
    case = make_case(RmaStatus.RECEIVED, rma_type=RmaType.EXCHANGE, lines=[{"wanted": wanted}])
    with app.app_context():
        reserve_replacements(db.session.get(Rma, case.id), WAREHOUSE)
        db.session.commit()
    assert "Set aside for you" in english.get(f"/r/{case.token}").text
    with app.app_context():
        [parcel] = ship_replacements(db.session.get(Rma, case.id), WAREHOUSE)
        db.session.commit()
        number = parcel.tracking_number
    page = english.get(f"/r/{case.token}").text
    assert "Your exchange" in page
    assert number in page


def test_the_customer_may_choose_store_credit_with_its_bonus(app, client):
    """The last step of the form offers store credit when the channel gives a bonus, and the
    choice is what the case is settled by."""
    from reverse.catalog.constants import Category, LocationKind
    from reverse.catalog.models import Location, Product, Variant
    from reverse.core.codes import jan_check_digit
    from reverse.core.db import utcnow
    from reverse.customers.models import Customer
    from reverse.orders.models import Order, OrderLine
    from tests.portal.conftest import Portal

    with app.app_context():
        web = Channel(
            code=ChannelCode.WEB,
            name_ja="web",
            name_en="web",
            allowed_types=["return"],
            store_credit_bonus_percent=10,
            refund_release=RefundRelease.RECEIPT,
        )
        db.session.add(web)
        db.session.add(
            Location(
                code="RC",
                kind=LocationKind.RETURNS_CENTRE,
                name_ja="RC",
                name_en="RC",
                postal_code="270-1234",
                prefecture="千葉県",
                city="印西市",
                street="草深1-1",
            )
        )
        body = "495000000001"
        variant = Variant(
            sku="CR-1",
            jan=body + str(jan_check_digit(body)),
            price_yen=10000,
            product=Product(
                style_code="CR", name_ja="シャツ", name_en="Shirt", category=Category.TOPS
            ),
        )
        order = Order(
            channel=web,
            number="W12345678",
            customer=Customer(email="hanako@example.jp", name="山田 花子"),
            ordered_at=utcnow(),
            delivered_at=utcnow(),
        )
        order.lines.append(OrderLine(variant=variant, quantity=1, unit_price_yen=10000))
        db.session.add(order)
        db.session.commit()
        line_id = order.lines[0].id

    client.get("/lang/en")
    portal = Portal(client)
    portal.start("return", "web")
    assert portal.lookup("W12345678", "hanako@example.jp").status_code == 302
    assert portal.choose(None, {line_id: 1}).status_code == 302
    assert portal.items({"reason": "size_too_small"}).status_code == 302
    assert portal.method("carriage_forward").status_code == 302
    assert portal.contact(email="hanako@example.jp").status_code == 302
    review = client.get("/request/review").text
    assert "Store credit" in review
    assert re.search(r"¥11,000 to spend in our stores and online shop: 10% more", review)
    response = portal.post(
        "/request/review", {"accept_terms": "y", "refund_choice": "store_credit"}
    )
    assert response.status_code == 302, response.text
    with app.app_context():
        assert db.session.scalar(sa.select(Rma.resolution)) == Resolution.STORE_CREDIT


def test_admins_set_the_channels_refund_point_and_bonus(app, english, logged_in, channel):
    channel(RefundRelease.INSPECTION)
    logged_in(Role.ADMIN)
    page = english.get("/staff/policy/channels")
    assert "Refund goes to the payment system" in page.text
    response = english.post(
        "/staff/policy/channels/web",
        data={
            "web-return_window_days": "30",
            "web-window_starts": "delivery",
            "web-allowed_types": ["return"],
            "web-refund_release": "carrier_scan",
            "web-store_credit_bonus_percent": "15",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 302
    bad = english.post(
        "/staff/policy/channels/web",
        data={
            "web-return_window_days": "30",
            "web-window_starts": "delivery",
            "web-store_credit_bonus_percent": "150",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert bad.status_code == 422
    with app.app_context():
        web = db.session.scalar(sa.select(Channel))
        assert (web.refund_release, web.store_credit_bonus_percent) == (
            RefundRelease.CARRIER_SCAN,
            15,
        )
