"""Admins keep carrier accounts and their tracking-number ranges on /staff/carriers: what they
add there is what labels are numbered from, and what the carrier would refuse is refused."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location
from reverse.extensions import db
from reverse.shipping.constants import Carrier
from reverse.shipping.models import CarrierAccount, TrackingRange
from reverse.shipping.operations import (
    InvalidRange,
    NoCarrierAccount,
    add_range,
    allocate_tracking_number,
    carrier_account_for,
)
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context

PAGE = "/staff/carriers/"


@pytest.fixture
def centre(create_location) -> Location:
    return create_location(LocationKind.RETURNS_CENTRE, code="RC-TEST", name_ja="市川返品センター")


@pytest.fixture
def create_account(app) -> Callable[..., int]:
    """`create_account(location, carrier, code, (first, last), used=n)`: an account with one
    range of which `used` numbers are already taken; returns its id."""

    def make(
        location: Location,
        carrier: Carrier = Carrier.YAMATO,
        code: str = "047100009999",
        numbers: tuple[str, str] | None = None,
        used: int = 0,
    ) -> int:
        with in_context(app):
            account = CarrierAccount(location_id=location.id, carrier=carrier, customer_code=code)
            db.session.add(account)
            db.session.flush()
            if numbers:
                add_range(account, *numbers)
                for _ in range(used):
                    allocate_tracking_number(account)
            db.session.commit()
            return account.id

    return make


def counts(app) -> tuple[int, int]:
    with app.app_context():
        accounts = db.session.scalar(sa.select(sa.func.count(CarrierAccount.id)))
        ranges = db.session.scalar(sa.select(sa.func.count(TrackingRange.id)))
        db.session.remove()
        return accounts, ranges


def add_account(client, location: Location, **fields: str):
    page = client.get(PAGE)
    data = {
        "location": str(location.id),
        "carrier": "yamato",
        "customer_code": "047100001001",
        "name": "市川返品センター",
        "active": "y",
        "csrf_token": csrf_token(page.text),
    } | fields
    return client.post(f"{PAGE}accounts", data=data)


def add_range_form(client, account_id: int, first: str, last: str):
    page = client.get(PAGE)
    prefix = f"range-{account_id}"
    return client.post(
        f"{PAGE}accounts/{account_id}/ranges",
        data={
            f"{prefix}-first": first,
            f"{prefix}-last": last,
            f"{prefix}-csrf_token": csrf_token(page.text),
        },
    )


def account_block(html: str, account_id: int) -> str:
    """The markup of one account on the page."""
    match = re.search(rf'<article[^>]*id="account-{account_id}".*?</article>', html, re.S)
    assert match, f"account {account_id} is not on the page"
    return match.group(0)


@pytest.mark.databases
def test_admin_adds_an_account_then_a_range_and_sees_what_is_left(app, client, logged_in, centre):
    logged_in(Role.ADMIN)
    created = add_account(client, centre, customer_code="0471-0000-1001")
    assert created.status_code == 302
    with app.app_context():
        account = db.session.scalars(sa.select(CarrierAccount)).one()
        assert (account.customer_code, account.carrier, account.active) == (
            "047100001001",
            Carrier.YAMATO,
            True,
        )
        account_id = account.id
        db.session.remove()
    # 12345678901 … 12345680134 is 1,234 numbers, given as full 12-digit numbers
    added = add_range_form(client, account_id, "123456789013", "123456801344")
    assert added.status_code == 302
    block = account_block(client.get(PAGE).text, account_id)
    assert "047100001001" in block
    assert "1234-5678-9013 – 1234-5680-1344" in block
    assert "1,234" in block
    assert "ヤマト運輸" in block


@pytest.mark.databases
def test_an_account_and_its_first_range_come_in_one_form(app, client, logged_in, centre):
    logged_in(Role.ADMIN)
    response = add_account(client, centre, first="40012000000", last="40012099999")
    assert response.status_code == 302
    with app.app_context():
        rng = db.session.scalars(sa.select(TrackingRange)).one()
        assert (rng.first_body, rng.remaining) == (40012000000, 100_000)
        db.session.remove()
    assert "100,000" in client.get(PAGE).text


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.SUPPORT, Role.STORE, Role.TECHNICIAN])
def test_only_admins_see_or_change_carrier_accounts(app, client, logged_in, centre, role):
    logged_in(role)
    assert client.get(PAGE).status_code == 403
    token = csrf_token(client.get("/staff/rmas").text)
    response = client.post(
        f"{PAGE}accounts",
        data={
            "location": str(centre.id),
            "carrier": "yamato",
            "customer_code": "047100001001",
            "csrf_token": token,
        },
    )
    assert response.status_code == 403
    assert counts(app) == (0, 0)


def test_a_form_without_its_csrf_token_writes_nothing(app, client, logged_in, centre):
    logged_in(Role.ADMIN)
    response = client.post(
        f"{PAGE}accounts",
        data={"location": str(centre.id), "carrier": "yamato", "customer_code": "047100001001"},
    )
    assert response.status_code == 400
    assert counts(app) == (0, 0)


@pytest.mark.databases
def test_a_range_overlapping_another_accounts_is_refused_and_nothing_is_written(
    app, client, logged_in, centre, create_location, create_account
):
    store = create_location(LocationKind.STORE, code="ST-TEST")
    create_account(centre, code="047100001001", numbers=("12345678901", "12345678999"))
    other = create_account(store, code="033300003001")
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    response = add_range_form(client, other, "12345678990", "12345679100")
    assert response.status_code == 422
    block = account_block(response.text, other)
    assert "overlaps 123456789013 – 123456789993 of the account 047100001001 at RC-TEST" in block
    assert 'value="12345678990"' in block  # what was typed stays in the field
    assert counts(app) == (2, 1)


@pytest.mark.databases
def test_a_refused_first_range_leaves_no_account_behind(
    app, client, logged_in, centre, create_account
):
    create_account(centre, code="047100001001", numbers=("12345678901", "12345678999"))
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    response = add_account(
        client, centre, customer_code="047100002002", first="12345678950", last="12345679000"
    )
    assert response.status_code == 422
    assert "already recorded for this account" not in response.text  # not the new account's
    assert "of the account 047100001001 at RC-TEST" in response.text
    assert 'value="047100002002"' in response.text  # the form keeps what was typed
    assert counts(app) == (1, 1)


def test_every_mistake_in_the_account_form_shows_at_once(app, client, logged_in, centre):
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    response = add_account(client, centre, customer_code="ab", first="12345678901")
    assert response.status_code == 422
    code_error = re.search(r'id="customer_code-error">(.*?)</p>', response.text, re.S)
    assert code_error
    assert "4 to 20 letters or digits" in code_error.group(1)
    range_error = re.search(r'id="last-error">(.*?)</p>', response.text, re.S)
    assert range_error
    assert "Give both the first and the last number." in range_error.group(1)
    assert counts(app) == (0, 0)


def test_the_same_shipper_code_twice_is_refused(app, client, logged_in, centre, create_account):
    create_account(centre, code="047100001001")
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    response = add_account(client, centre, customer_code="０４７１０００－０１００１")
    assert response.status_code == 422
    assert "RC-TEST already has this carrier account." in response.text
    assert counts(app) == (1, 0)


def test_the_same_range_sent_twice_is_recorded_once(app, client, logged_in, centre, create_account):
    account_id = create_account(centre)
    logged_in(Role.ADMIN)
    for _ in range(2):
        response = add_range_form(client, account_id, "12345678901", "12345678999")
        assert response.status_code == 302
    assert counts(app) == (1, 1)


def test_full_width_digits_and_hyphens_are_accepted(app, client, logged_in, centre, create_account):
    account_id = create_account(centre)
    logged_in(Role.ADMIN)
    response = add_range_form(
        client, account_id, "１２３４－５６７８－９０１３", "１２３４５６７８９９９"
    )
    assert response.status_code == 302
    with app.app_context():
        rng = db.session.scalars(sa.select(TrackingRange)).one()
        assert (rng.first_body, rng.last_body) == (12345678901, 12345678999)
        db.session.remove()


@pytest.mark.parametrize(
    ("first", "last", "field", "message"),
    [
        ("123456789014", "123456789993", "first", "123456789014 has a wrong check digit."),
        ("1234567890", "12345678999", "first", "Give 11-digit bodies or 12-digit"),
        ("12345678901", "", "last", "Enter the number."),
        ("12345678999", "12345678901", "last", "The first number must not be after the last."),
    ],
)
def test_what_the_carrier_would_refuse_is_shown_beside_the_field(
    app, client, logged_in, centre, create_account, first, last, field, message
):
    account_id = create_account(centre)
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    response = add_range_form(client, account_id, first, last)
    assert response.status_code == 422
    error = re.search(rf'id="range-{account_id}-{field}-error">(.*?)</p>', response.text, re.S)
    assert error, response.text
    assert message in error.group(1)
    assert counts(app) == (1, 0)


@pytest.mark.databases
def test_labels_are_numbered_from_the_range_added_on_the_page(
    app, client, logged_in, centre, create_account
):
    account_id = create_account(centre, numbers=("12345678901", "12345678901"), used=1)
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    assert "No numbers left" in account_block(client.get(PAGE).text, account_id)
    assert add_range_form(client, account_id, "22345678901", "22345678999").status_code == 302
    with app.app_context():
        account = db.session.get(CarrierAccount, account_id)
        assert allocate_tracking_number(account) == "223456789010"  # 22345678901 mod 7 = 0
        db.session.commit()
    block = account_block(client.get(PAGE).text, account_id)
    assert "2234-5678-9021" in block  # the next number
    assert "No numbers left" not in block


def test_a_nearly_used_range_warns(client, logged_in, centre, create_account):
    account_id = create_account(centre, numbers=("12345678901", "12345679300"), used=50)
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    page = client.get(PAGE).text
    assert "Running low" in account_block(page, account_id)
    assert "1 active account needs a new range soon." in page


@pytest.mark.databases
def test_a_switched_off_account_issues_no_labels(app, client, logged_in, centre, create_account):
    account_id = create_account(centre, numbers=("12345678901", "12345678999"))
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    page = client.get(PAGE)
    for _ in range(2):  # a second click changes nothing more
        response = client.post(
            f"{PAGE}accounts/{account_id}/active",
            data={"active": "0", "csrf_token": csrf_token(page.text)},
        )
        assert response.status_code == 302
    page = client.get(PAGE).text
    assert "No active account: labels for this location cannot be issued." in page
    with app.app_context():
        assert db.session.get(CarrierAccount, account_id).active is False
        with pytest.raises(NoCarrierAccount):
            carrier_account_for(db.session.get(Location, centre.id))
        db.session.remove()


@pytest.mark.databases
def test_two_admins_adding_overlapping_ranges_at_once_get_one(
    app, centre, create_location, create_account
):
    accounts = [
        create_account(centre, code="047100001001"),
        create_account(create_location(LocationKind.STORE), code="033300003001"),
    ]
    barrier = threading.Barrier(2)
    added: list[int] = []
    refused: list[int] = []

    def add(account_id: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                add_range(db.session.get(CarrierAccount, account_id), "12345678901", "12345678999")
                db.session.commit()
                added.append(account_id)
            except InvalidRange:
                db.session.rollback()
                refused.append(account_id)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=add, args=(a,)) for a in accounts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert (len(added), len(refused)) == (1, 1)
    assert counts(app) == (2, 1)
