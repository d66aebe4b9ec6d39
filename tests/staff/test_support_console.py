"""The support console: one customer across every channel, found by whatever the caller says."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import ChannelCode
from reverse.core.db import utcnow
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import EventKind, RmaEvent
from reverse.shipping.constants import Carrier, Direction
from reverse.shipping.models import Shipment
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context, saved


@pytest.fixture
def hanako(app, make_repair, create_order, create_rma):
    """A department-store customer: a walk-in repair at a store counter first, then a return
    of something she bought in the web shop."""
    repair = make_repair(RmaStatus.ACCEPTED, phone="09012345678")
    customer = repair.customer
    order = create_order(
        ChannelCode.WEB, customer=customer, number="W55500001", ordered_at=utcnow()
    )
    ret = create_rma(RmaType.RETURN, RmaStatus.SUBMITTED, customer=customer)
    return customer, repair, ret, order


def history_section(html: str) -> str:
    return html[html.index('id="p-history"') :]


@pytest.mark.databases
def test_a_walk_in_repair_and_a_later_web_return_are_one_history(client, logged_in, hanako):
    customer, repair, ret, _order = hanako
    logged_in(Role.SUPPORT)

    found = client.get("/staff/support/", query_string={"q": "０９０－１２３４－５６７８"})
    assert found.status_code == 200
    assert "山田 花子" in found.text
    assert "hanako@example.jp" in found.text
    link = f"/staff/support/customers/{customer.id}"
    assert link in found.text

    page = client.get(link)
    assert page.status_code == 200
    history = history_section(page.text)
    # both cases in one timeline, the later return above everything of the earlier repair
    assert ret.display_number in history
    assert repair.display_number in history
    assert history.rindex(ret.display_number) < history.index(repair.display_number)
    assert "W55500001" in history
    # each entry leads to its own page: the case page, or the repair page for a repair
    assert f"/staff/rmas/{ret.number}" in history
    assert f"/staff/repairs/{repair.number}" in history
    assert "店頭受付済み" in history  # the repair's first status, in staff words


def test_an_rma_number_goes_straight_to_the_customer_with_the_case_marked(
    client, logged_in, hanako
):
    customer, _repair, ret, _order = hanako
    logged_in(Role.SUPPORT)
    full_width = str.maketrans("0123456789-", "０１２３４５６７８９－")
    typed = "Ｒ" + ret.display_number[1:].translate(full_width)  # as an IME types it

    response = client.get("/staff/support/", query_string={"q": typed})
    assert response.status_code == 302
    assert f"/staff/support/customers/{customer.id}" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    case = re.search(rf'<li class="sc-open__case([^"]*)" id="case-{ret.number}"', page.text)
    assert case
    assert "is-highlighted" in case.group(1)


def test_a_tracking_number_finds_the_customer_of_the_parcel(app, client, logged_in, hanako):
    customer, _repair, ret, _order = hanako
    with in_context(app):
        saved(
            Shipment(
                rma_id=ret.id,
                direction=Direction.TO_CENTRE,
                carrier=Carrier.YAMATO,
                tracking_number="123456789013",
            )
        )
    logged_in(Role.SUPPORT)

    response = client.get("/staff/support/", query_string={"q": "1234-5678-9013"})
    assert response.status_code == 302
    assert f"/staff/support/customers/{customer.id}" in response.headers["Location"]
    assert f"case={ret.number}" in response.headers["Location"]


def test_an_order_number_finds_its_customer(client, logged_in, hanako):
    customer, _repair, _ret, order = hanako
    logged_in(Role.SUPPORT)

    response = client.get("/staff/support/", query_string={"q": "ｗ５５５０００01"})
    assert response.status_code == 302
    assert f"/staff/support/customers/{customer.id}" in response.headers["Location"]
    assert f"order={order.id}" in response.headers["Location"]


@pytest.mark.databases
def test_email_and_name_searches_list_the_customer(client, logged_in, hanako, create_customer):
    customer, _repair, _ret, _order = hanako
    create_customer(email="taro@example.jp", name="佐藤 太郎", name_kana="サトウ タロウ")
    logged_in(Role.SUPPORT)

    for typed in ("HANAKO@Example.JP", "山田", "山田花子", "hanako"):
        page = client.get("/staff/support/", query_string={"q": typed})
        assert page.status_code == 200
        assert f"/staff/support/customers/{customer.id}" in page.text, typed
        assert "佐藤" not in page.text, typed

    by_kana = client.get("/staff/support/", query_string={"q": "さとう"})
    assert "佐藤 太郎" in by_kana.text
    assert "山田 花子" not in by_kana.text


def test_nothing_found_says_so(client, logged_in):
    logged_in(Role.SUPPORT)
    page = client.get("/staff/support/", query_string={"q": "090-0000-0000"})
    assert page.status_code == 200
    assert "No customer found for “090-0000-0000”" in page.text or "に該当するお客様" in page.text
    assert "/staff/support/customers/" not in page.text


def test_a_long_list_says_more_matched(client, logged_in, create_customer, monkeypatch):
    from reverse.staff import support

    for n in range(3):
        create_customer(email=f"kato{n}@example.jp", name=f"加藤 {n}")
    logged_in(Role.SUPPORT)
    monkeypatch.setattr(support, "SEARCH_LIMIT", 2)

    page = client.get("/staff/support/", query_string={"q": "加藤"})
    assert page.text.count("/staff/support/customers/") == 2
    assert "3" in re.search(r'class="support-count"[^>]*>(.*?)</p>', page.text, re.S).group(1)


@pytest.mark.databases
def test_a_message_from_the_console_reaches_the_status_page(app, client, logged_in, hanako):
    customer, _repair, ret, _order = hanako
    logged_in(Role.SUPPORT)
    page = client.get(f"/staff/support/customers/{customer.id}")

    response = client.post(
        f"/staff/support/customers/{customer.id}/messages",
        data={
            "csrf_token": csrf_token(page.text),
            "rma": ret.number,
            "text": "ご返品の件、確認いたしました。",
        },
    )
    assert response.status_code == 302
    assert "ご返品の件、確認いたしました。" in client.get(f"/r/{ret.token}").text
    after = client.get(response.headers["Location"])
    assert "ご返品の件、確認いたしました。" in history_section(after.text)
    with app.app_context():
        event = db.session.scalar(
            sa.select(RmaEvent).where(RmaEvent.rma_id == ret.id, RmaEvent.kind == EventKind.MESSAGE)
        )
        assert event.public
        assert event.channel.value == "call_centre"


@pytest.mark.parametrize("text", ["   ", "あ" * 2001])
def test_an_empty_or_too_long_message_is_refused_and_kept(app, client, logged_in, hanako, text):
    customer, _repair, ret, _order = hanako
    logged_in(Role.SUPPORT)
    page = client.get(f"/staff/support/customers/{customer.id}")

    response = client.post(
        f"/staff/support/customers/{customer.id}/messages",
        data={"csrf_token": csrf_token(page.text), "rma": ret.number, "text": text},
    )
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    if text.strip():
        assert text in response.text
    with app.app_context():
        assert not db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RmaEvent)
            .where(RmaEvent.rma_id == ret.id, RmaEvent.kind == EventKind.MESSAGE)
        )


def test_a_message_on_another_customers_case_is_not_found(client, logged_in, hanako, create_rma):
    customer, _repair, _ret, _order = hanako
    other = create_rma(RmaType.RETURN)
    logged_in(Role.SUPPORT)
    page = client.get(f"/staff/support/customers/{customer.id}")
    response = client.post(
        f"/staff/support/customers/{customer.id}/messages",
        data={"csrf_token": csrf_token(page.text), "rma": other.number, "text": "こんにちは"},
    )
    assert response.status_code == 404


@pytest.mark.parametrize("role", [Role.STORE, Role.WAREHOUSE, Role.TECHNICIAN])
def test_only_support_and_admins_open_the_console(client, logged_in, hanako, role):
    customer, _repair, _ret, _order = hanako
    logged_in(role)
    assert client.get("/staff/support/", query_string={"q": "山田"}).status_code == 403
    assert client.get(f"/staff/support/customers/{customer.id}").status_code == 403


def test_admins_open_the_console(client, logged_in, hanako):
    customer, _repair, _ret, _order = hanako
    logged_in(Role.ADMIN)
    assert client.get(f"/staff/support/customers/{customer.id}").status_code == 200


def test_an_unknown_customer_is_not_found(client, logged_in):
    logged_in(Role.SUPPORT)
    assert client.get("/staff/support/customers/999999").status_code == 404


def test_the_timeline_filters_by_kind(client, logged_in, hanako):
    customer, repair, _ret, _order = hanako
    logged_in(Role.SUPPORT)
    orders = history_section(client.get(f"/staff/support/customers/{customer.id}?show=orders").text)
    assert "W55500001" in orders
    assert repair.display_number not in orders


def test_filing_for_this_customer_starts_with_their_contact_details(app, client, logged_in, hanako):
    customer, _repair, _ret, _order = hanako
    logged_in(Role.SUPPORT)
    page = client.get(f"/staff/support/customers/{customer.id}")
    assert f"/staff/rmas/new?customer={customer.id}" in page.text

    form = client.get(f"/staff/rmas/new?customer={customer.id}")
    assert form.status_code == 200
    assert 'value="hanako@example.jp"' in form.text
    assert 'value="090-1234-5678"' in form.text
    assert 'value="山田 花子"' in form.text
    with app.app_context():
        assert db.session.get(Customer, customer.id).email == "hanako@example.jp"


def test_the_page_reads_the_same_number_of_queries_however_long_the_history(
    app, client, logged_in, create_customer, create_order, create_rma
):
    customer = create_customer(phone="+819011112222")
    logged_in(Role.SUPPORT)

    def queries_for_page() -> int:
        statements: list[str] = []

        def count(_conn, _cursor, statement, *_args):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get(f"/staff/support/customers/{customer.id}").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(statements)

    create_order(customer=customer)
    create_rma(RmaType.RETURN, RmaStatus.APPROVED, customer=customer)
    few = queries_for_page()
    for _ in range(4):
        create_order(customer=customer)
        create_rma(RmaType.EXCHANGE, RmaStatus.AWAITING_ITEM, customer=customer)
    assert queries_for_page() == few
