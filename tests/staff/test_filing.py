"""Support staff file a request for a customer on the phone, under the customer form's rules."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import Category, ChannelCode, LocationKind, WindowStart
from reverse.catalog.models import StockLevel
from reverse.core.dates import today_in_japan
from reverse.core.db import utcnow
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.jobs.models import OutboxMessage
from reverse.portal.models import PortalDraft
from reverse.rmas.constants import ProofStatus, PurchasePlace, RmaSource, RmaStatus
from reverse.rmas.models import Rma
from tests.conftest import csrf_token

ADDRESS = {
    "postal_code": "１５０－００４１",
    "prefecture": "東京都",
    "city": "渋谷区",
    "street": "神南1-2-3",
    "building": "",
}


@pytest.fixture
def shop(create_channel, create_location):
    """The channels and centres the form needs, as the demo sets them up."""
    create_channel(
        ChannelCode.WEB,
        return_window_days=30,
        window_starts=WindowStart.DELIVERY,
        allowed_types=["return", "exchange", "repair"],
    )
    create_channel(
        ChannelCode.DEPARTMENT_STORE,
        return_window_days=14,
        window_starts=WindowStart.PURCHASE,
        allowed_types=["exchange", "repair"],
        proof_required=True,
    )
    return {
        "centre": create_location(LocationKind.RETURNS_CENTRE, code="RC"),
        "repairs": create_location(LocationKind.REPAIR_CENTRE, code="REP"),
        "counter": create_location(
            LocationKind.DEPARTMENT_STORE_COUNTER, code="DS-1", retailer="伊勢丹新宿店"
        ),
    }


@pytest.fixture
def web_order(app, shop, create_customer, create_variant, create_order):
    def make(days_since_delivery: int = 5):
        customer = create_customer(email="hanako@example.jp", phone="+819012345678")
        shirt = create_variant(Category.TOPS, price_yen=8_900)
        order = create_order(
            ChannelCode.WEB,
            customer=customer,
            lines=[(shirt, 2)],
            number="W30120001",
            ordered_at=utcnow() - timedelta(days=days_since_delivery + 2),
            delivered_days=2,
        )
        with app.app_context():
            lines = [(li.id, li.variant_id) for li in db.session.merge(order).lines]
        return SimpleNamespace(id=order.id, number=order.number, lines=lines)

    return make


def file(client, fields, action="submit"):
    page = client.get("/staff/rmas/new")
    assert page.status_code == 200
    return client.post(
        "/staff/rmas/new",
        data=fields | {"action": action, "csrf_token": csrf_token(page.text)},
    )


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Rma, PortalDraft, Customer, OutboxMessage)
        }


def web_return(order, **changes):
    line_id, _variant = order.lines[0]
    return {
        "name": "山田 花子",
        "email": "",
        "phone": "090-1234-5678",  # the customer's phone, typed as people say it
        "locale": "ja",
        "type": "return",
        "place": "web",
        "order_number": order.number.lower(),
        "lines-0-order_line_id": str(line_id),
        "lines-0-include": "y",
        "lines-0-quantity": "1",
        "lines-0-reason": "size_too_large",
        "lines-0-comment": "身幅が大きすぎました。",
        "method": "prepaid_label",
        **ADDRESS,
    } | changes


@pytest.mark.databases
def test_support_files_a_web_return_and_gets_the_private_link(
    app, client, logged_in, web_order, mailbox
):
    order = web_order()
    user = logged_in(Role.SUPPORT)

    response = file(client, web_return(order))
    assert response.status_code == 302, response.text
    number = re.search(r"/staff/rmas/(R\d{10})$", response.headers["Location"]).group(1)

    with app.app_context():
        rma = db.session.scalar(sa.select(Rma).where(Rma.number == number))
        assert rma.source == RmaSource.CALL_CENTRE
        assert rma.channel.code == ChannelCode.WEB
        assert rma.purchase_place == PurchasePlace.WEB
        assert rma.order_id == order.id
        assert rma.customer.email == "hanako@example.jp"  # found by phone
        assert rma.ship_postal_code == "150-0041"
        assert [(li.order_line_id, li.quantity) for li in rma.lines] == [(order.lines[0][0], 1)]
        assert rma.events[0].actor_user_id == user.id
        assert rma.proof_status == ProofStatus.NOT_NEEDED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PortalDraft)) == 0

    page = client.get(f"/staff/rmas/{number}")
    link = re.search(r'value="(http[^"]+/r/([^"]+))"', page.text)
    assert link is not None
    assert client.get(f"/r/{link.group(2)}").status_code == 200
    # Shown once: the page does not keep the customer's link.
    assert "/r/" + link.group(2) not in client.get(f"/staff/rmas/{number}").text
    mails = [m for m in mailbox.mails() if "hanako@example.jp" in m[0]]
    assert len(mails) == 1


def test_looking_up_the_order_lists_its_items_and_writes_nothing(app, client, logged_in, web_order):
    order = web_order()
    logged_in(Role.SUPPORT)
    before = counts(app)
    fields = {
        "name": "山田 花子",
        "email": "HANAKO@example.jp",
        "type": "return",
        "place": "web",
        "order_number": "ｗ３０１２０００１",  # full-width, as an IME types it
    }
    found = file(client, fields, action="find_order")
    assert found.status_code == 200
    assert order.number in found.text
    assert f'value="{order.lines[0][0]}"' in found.text

    wrong = file(client, fields | {"email": "someone@example.jp"}, action="find_order")
    assert wrong.status_code == 200
    assert 'id="order_number-error"' in wrong.text
    assert counts(app) == before


def test_a_policy_refusal_is_shown_and_nothing_is_written(app, client, logged_in, web_order):
    order = web_order(days_since_delivery=45)  # the 30-day window is over
    logged_in(Role.SUPPORT)
    before = counts(app)

    response = file(client, web_return(order))
    assert response.status_code == 422
    assert "problems" in response.text
    # the window ends on a date in Japan, whatever the hour in UTC
    assert today_in_japan(utcnow() - timedelta(days=15)).isoformat() in response.text
    assert counts(app) == before


def test_a_department_store_exchange_waits_for_its_receipt(
    app, client, logged_in, shop, create_variant
):
    worn = create_variant(Category.KNITWEAR, price_yen=16_500)
    wanted = create_variant(Category.KNITWEAR, price_yen=16_500)
    with app.app_context():
        # the other size of the same jumper, in stock at the centre
        wanted_row = db.session.merge(wanted)
        wanted_row.product_id = db.session.merge(worn).product_id
        db.session.add(StockLevel(variant=wanted_row, location_id=shop["centre"].id, on_hand=3))
        db.session.commit()
    logged_in(Role.SUPPORT)

    search = file(
        client,
        {"type": "exchange", "place": "department_store", "lines-0-query": worn.sku},
        action="search",
    )
    assert search.status_code == 200
    assert f'value="{worn.id}"' in search.text

    response = file(
        client,
        {
            "name": "佐藤 陽菜",
            "email": "hina@example.jp",
            "locale": "en",
            "type": "exchange",
            "place": "department_store",
            "retailer": "伊勢丹新宿店",
            "purchase_date": (utcnow() - timedelta(days=3)).date().isoformat(),
            "price_yen": "16500",
            "lines-0-query": worn.sku,
            "lines-0-variant_id": str(worn.id),
            "lines-0-quantity": "1",
            "lines-0-reason": "size_too_small",
            "lines-0-wanted_variant_id": str(wanted.id),
            "method": "store_drop_off",
            "drop_off_location_id": str(shop["counter"].id),
        },
    )
    assert response.status_code == 302, response.text
    with app.app_context():
        rma = db.session.scalar(sa.select(Rma))
        assert rma.channel.code == ChannelCode.DEPARTMENT_STORE
        assert rma.proof_status == ProofStatus.PENDING
        assert rma.status == RmaStatus.SUBMITTED
        assert rma.declared_retailer == "伊勢丹新宿店"
        assert rma.location_id == shop["counter"].id
        assert rma.lines[0].wanted_variant_id == wanted.id
        assert rma.customer.locale == "en"
    assert rma.number in client.get("/staff/verification").text


def test_an_exchange_for_a_size_sold_out_everywhere_is_refused(app, client, logged_in, web_order):
    order = web_order()
    logged_in(Role.SUPPORT)
    before = counts(app)
    _line, variant_id = order.lines[0]
    response = file(
        client,
        web_return(
            order,
            type="exchange",
            **{"lines-0-reason": "size_too_small", "lines-0-wanted_variant_id": str(variant_id)},
        ),
    )
    assert response.status_code == 422
    assert 'id="lines-0-wanted_variant_id-error"' in response.text
    assert counts(app) == before


def test_missing_details_are_marked_beside_their_fields(app, client, logged_in, shop):
    logged_in(Role.SUPPORT)
    before = counts(app)
    response = file(client, {"method": "pickup"})
    assert response.status_code == 422
    for field in ("name", "email", "type", "place", "postal_code", "lines-0-query"):
        assert f'id="{field}-error"' in response.text, field
    assert counts(app) == before


@pytest.mark.parametrize(
    "fields",
    [
        {"type": "flying", "place": "moon"},
        {"type": "return", "place": "web", "order_number": "x" * 500},
        {"lines-0-quantity": "abc", "lines-0-variant_id": "99999999999"},
        {"purchase_date": "2026-13-45", "price_yen": "-5", "type": "repair", "place": "gift"},
        {"drop_off_location_id": "x", "method": "store_drop_off", "lines-0-order_line_id": "1e9"},
        {"email": "not an email", "phone": "12", "postal_code": "abc"},
        {"lines-3-description": "coat", "lines-0-wanted_variant_id": "-1", "type": "exchange"},
    ],
)
@pytest.mark.parametrize("action", ["submit", "refresh", "find_order", "add_line", "remove:9"])
def test_odd_input_never_breaks_the_page(app, client, logged_in, shop, fields, action):
    logged_in(Role.SUPPORT)
    response = file(client, fields, action=action)
    assert response.status_code in (200, 422)
    assert counts(app)["rmas"] == 0


@pytest.mark.parametrize("role", [Role.STORE, Role.WAREHOUSE, Role.TECHNICIAN])
def test_only_support_and_admins_file_requests(client, logged_in, create_location, role):
    extra = {"location": create_location(LocationKind.STORE)} if role == Role.STORE else {}
    logged_in(role, **extra)
    assert client.get("/staff/rmas/new").status_code == 403
