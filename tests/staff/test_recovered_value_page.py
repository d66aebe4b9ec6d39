"""The recovered-value page and its CSV: who may read it, the figures it shows, dates typed
with full-width digits, and store staff seeing only their own location's sales."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.core.actors import Actor
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.resale import operations as resale
from reverse.resale.constants import SaleChannel
from tests.fixtures.catalog import in_context

STAFF = Actor.system("test")
RECEIVED = datetime(2026, 3, 1, 1, 0, tzinfo=UTC)
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
PAGE = "/staff/recovered-value/"
EXPORT = "/staff/recovered-value/export.csv"


@pytest.fixture
def sell(app):
    def sell(item, *, at: datetime, location=None, channel=SaleChannel.STORE) -> None:
        with in_context(app):
            resale.record_sale(
                item.id,
                channel=channel,
                actor=STAFF,
                location_id=location.id if location else None,
                now=at,
            )
            db.session.commit()

    return sell


@pytest.fixture
def stores(create_location):
    return create_location(LocationKind.STORE), create_location(LocationKind.STORE)


@pytest.fixture
def march_sales(make_item, sell, stores):
    """Sold in March: A 10,000 → 8,000 and B 12,900 → 7,740 at the first store, B 8,000 →
    4,800 at the second; and one sold in April, outside the range."""
    first, second = stores
    for grade, price, store, days in (
        ("A", 10_000, first, 10),
        ("B", 12_900, first, 2),
        ("B", 8_000, second, 3),
    ):
        item = make_item(grade, price_yen=price, listed=True, received_at=RECEIVED)
        sell(item, at=RECEIVED + timedelta(days=days), location=store)
    april = make_item("A", price_yen=50_000, listed=True, received_at=RECEIVED)
    sell(april, at=datetime(2026, 4, 2, tzinfo=UTC), location=first)


def english(client) -> None:
    client.get("/lang/en")


def read_csv(response) -> list[list[str]]:
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data[3:].decode("utf-8")
    assert "\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("role", [Role.ADMIN, Role.WAREHOUSE, Role.SUPPORT, Role.STORE])
def test_managers_the_warehouse_support_and_stores_can_read_it(client, logged_in, role):
    logged_in(role)
    assert client.get(PAGE).status_code == 200
    assert client.get(EXPORT).status_code == 200


def test_technicians_are_refused_and_strangers_sent_to_log_in(client, logged_in):
    assert client.get(PAGE).status_code == 302
    logged_in(Role.TECHNICIAN)
    assert client.get(PAGE).status_code == 403
    assert client.get(EXPORT).status_code == 403


@pytest.mark.databases
def test_the_page_shows_the_headline_and_a_row_per_grade(client, logged_in, march_sales):
    logged_in(Role.WAREHOUSE)
    english(client)

    page = client.get(PAGE, query_string=MARCH).text

    headline = page[page.index("value-headline") : page.index("value-table")]
    assert "¥20,540" in headline  # recovered in March
    assert "66.5%" in headline
    assert "of ¥30,900 original price" in headline
    assert "¥12,540" in page
    assert "60.0%" in page
    assert "¥50,000" not in page  # sold in April
    assert '<rect width="60.0"' in page  # grade B's bar


def test_the_csv_has_the_tables_columns_and_figures(client, logged_in, march_sales):
    logged_in(Role.ADMIN)
    english(client)

    response = client.get(EXPORT, query_string=MARCH)

    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "recovered-value-grade-20260301-20260331.csv" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == [
        "Grade",
        "Group name",
        "Units sold",
        "Original price total (yen)",
        "Recovered (yen)",
        "Recovery rate (%)",
        "Average days to sale",
        "Median days to sale",
        "Still to sell (units)",
        "Still to sell (yen)",
    ]
    assert rows[1:] == [
        ["A", "Grade A", "1", "10000", "8000", "80.0", "10.0", "10.0", "0", "0"],
        ["B", "Grade B", "2", "20900", "12540", "60.0", "2.5", "2.5", "0", "0"],
        ["", "Total", "3", "30900", "20540", "66.5", "5.0", "3.0", "0", "0"],
    ]


def test_the_csv_link_carries_the_filters_shown(client, logged_in, march_sales, stores):
    logged_in(Role.ADMIN)

    page = client.get(
        PAGE, query_string={**MARCH, "group": "disposition", "location": stores[0].id}
    ).text

    assert (
        f'href="/staff/recovered-value/export.csv?date_from=2026-03-01&amp;date_to=2026-03-31'
        f'&amp;group=disposition&amp;location={stores[0].id}"' in page
    )


def test_dates_typed_with_full_width_digits_are_read(client, logged_in, march_sales):
    logged_in(Role.ADMIN)

    response = client.get(
        EXPORT,
        query_string={"date_from": "２０２６／０３／０１", "date_to": "２０２６－０３－３１"},
    )

    assert read_csv(response)[-1][2:5] == ["3", "30900", "20540"]
    page = client.get(PAGE, query_string={"date_from": "２０２６年３月１日"}).text
    assert 'value="2026-03-01"' in page


def test_an_end_before_the_start_is_shown_beside_the_field(client, logged_in):
    logged_in(Role.ADMIN)
    english(client)

    response = client.get(PAGE, query_string={"date_from": "2026-03-31", "date_to": "2026-03-01"})

    assert response.status_code == 422
    assert "The end date is before the start date." in response.text
    bad = client.get(PAGE, query_string={"date_from": "31/03/2026"})
    assert bad.status_code == 422


def test_store_staff_see_only_their_own_locations_sales(client, logged_in, march_sales, stores):
    first, second = stores
    logged_in(Role.STORE, location=second)

    # asking for the other store changes nothing: the location is theirs
    response = client.get(EXPORT, query_string={**MARCH, "location": first.id})

    assert read_csv(response)[-1][2:5] == ["1", "8000", "4800"]


def test_without_dates_the_last_ninety_days_are_shown(client, logged_in, make_item, sell):
    logged_in(Role.ADMIN)
    recent = make_item("A", price_yen=10_000, listed=True)
    old = make_item("A", price_yen=30_000, listed=True)
    sell(recent, at=utcnow() - timedelta(days=3))
    sell(old, at=utcnow() - timedelta(days=120))

    rows = read_csv(client.get(EXPORT))

    assert rows[-1][2:5] == ["1", "10000", "8000"]


def test_a_period_without_sales_or_stock_says_so(client, logged_in):
    logged_in(Role.ADMIN)
    english(client)

    page = client.get(PAGE, query_string=MARCH).text

    assert "No pre-owned items were sold in this period" in page
    assert "value-table" not in page
