"""The analytics dashboard's pages: who may read them, the figures and charts they show, the
CSV behind every table, filters, and what the page says when the figures are missing or old."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa

from reverse.analytics.models import Refresh
from reverse.analytics.operations import REFRESH_TASK
from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.jobs.models import OutboxMessage
from tests.analytics.conftest import known_data  # noqa: F401 - the known data set, as a fixture
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context

PAGE = "/staff/analytics/"
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
VIEWS = ["", "outcomes", "cycle", "sla", "repairs", "recovered", "skus"]
TABLES = [
    "trend",
    "rates",
    "outcomes",
    "cycle",
    "sla",
    "repairs",
    "recovered-grade",
    "recovered-disposition",
    "skus",
]


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.data[3:].decode("utf-8"), newline="")))


def english(client) -> None:
    client.get("/lang/en")


def test_no_login_goes_to_the_login_page(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]
    assert client.get(PAGE + "rates.csv").status_code == 302


@pytest.mark.parametrize("role", [Role.WAREHOUSE, Role.TECHNICIAN])
def test_other_roles_are_refused(client, logged_in, role):
    logged_in(role)
    assert client.get(PAGE).status_code == 403
    assert client.get(PAGE + "cycle").status_code == 403
    assert client.get(PAGE + "rates.csv").status_code == 403


@pytest.mark.databases
@pytest.mark.parametrize("role", [Role.ADMIN, Role.SUPPORT])
@pytest.mark.parametrize("view", VIEWS)
def test_managers_and_support_read_every_view(backend, client, logged_in, known_data, role, view):  # noqa: F811
    logged_in(role)
    english(client)
    response = client.get(PAGE + view, query_string=MARCH)
    assert response.status_code == 200
    assert "Figures as of 2026-04-30 09:00" in response.text  # the refresh, in Japan time
    assert "style=" not in response.text  # the CSP allows no inline styles


def test_the_return_view_shows_hand_computed_rates_and_a_chart(client, logged_in, known_data):  # noqa: F811
    logged_in(Role.ADMIN)
    english(client)
    page = client.get(PAGE, query_string=MARCH).text
    assert "50.0%" in page  # 5 of 10 units
    assert '<svg class="an-chart"' in page
    retailer = client.get(PAGE, query_string=MARCH | {"group": "retailer"}).text
    assert "髙島屋日本橋店" in retailer
    assert "unknown: no sales figures" in retailer


def test_every_table_downloads_as_csv(client, logged_in, known_data):  # noqa: F811
    logged_in(Role.ADMIN)
    english(client)
    for table in TABLES:
        rows = read_csv(client.get(f"{PAGE}{table}.csv", query_string=MARCH))
        assert len(rows) >= 2, table
    rates = read_csv(client.get(PAGE + "rates.csv", query_string=MARCH | {"group": "channel"}))
    assert rates[0] == [
        "Channel",
        "Group name",
        "Units returned",
        "Units sold",
        "Return rate (%)",
    ]
    assert ["web", "Web shop", "4", "5", "80.0"] in rates
    assert rates[-1] == ["", "Total", "5", "10", "50.0"]
    cycle = read_csv(client.get(PAGE + "cycle.csv", query_string=MARCH))
    assert cycle[1] == ["Submitted → received", "3", "48.0", "72.0", "86.4"]
    response = client.get(PAGE + "skus.csv", query_string=MARCH)
    assert "analytics-skus-20260301-20260331.csv" in response.headers["Content-Disposition"]


def test_the_channel_filter_narrows_the_figures(client, logged_in, known_data):  # noqa: F811
    logged_in(Role.ADMIN)
    english(client)
    query = MARCH | {"channel": "department_store", "group": "channel"}
    rates = read_csv(client.get(PAGE + "rates.csv", query_string=query))
    assert rates[1:] == [
        ["department_store", "Department store", "1", "5", "20.0"],
        ["", "Total", "1", "5", "20.0"],
    ]


def test_an_unknown_table_or_view_is_not_found(client, logged_in):
    logged_in(Role.ADMIN)
    assert client.get(PAGE + "nothing").status_code == 404
    assert client.get(PAGE + "nothing.csv").status_code == 404


def test_an_end_before_the_start_is_refused(client, logged_in, known_data):  # noqa: F811
    logged_in(Role.ADMIN)
    response = client.get(PAGE, query_string={"date_from": "2026-03-31", "date_to": "2026-03-01"})
    assert response.status_code == 422


def test_store_staff_see_only_their_own_location(app, client, logged_in, known_data):  # noqa: F811
    logged_in(Role.STORE, location=known_data.counter)
    english(client)
    # asking for every location still reads the counter's: its 5 units sold, none returned
    rates = read_csv(client.get(PAGE + "rates.csv", query_string=MARCH | {"location": ""}))
    assert rates[-1] == ["", "Total", "0", "5", "0.0"]
    page = client.get(PAGE, query_string=MARCH).text
    assert "Refresh now" not in page


def test_without_a_refresh_the_page_shows_no_figures_and_says_why(client, logged_in):
    logged_in(Role.ADMIN)
    english(client)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "The figures have not been computed yet." in page.text
    assert "Return rate by" not in page.text
    assert client.get(PAGE + "rates.csv").status_code == 409


def test_refresh_now_runs_the_job_and_the_figures_appear(app, client, logged_in, known_data):  # noqa: F811
    logged_in(Role.ADMIN)
    page = client.get(PAGE)
    response = client.post(
        PAGE + "refresh", data={"csrf_token": csrf_token(page.text), "next": PAGE}
    )
    assert response.status_code == 302
    with in_context(app):
        jobs = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.task == REFRESH_TASK)
        ).all()
        assert len(jobs) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Refresh)) == 2


def test_old_figures_with_changes_since_are_flagged(app, client, logged_in, known_data, create_rma):  # noqa: F811
    create_rma()  # events after the refresh of April 30th
    with in_context(app):
        refresh = db.session.scalar(sa.select(Refresh))
        refresh.as_of = utcnow() - timedelta(hours=3)
        db.session.commit()
    logged_in(Role.ADMIN)
    english(client)
    page = client.get(PAGE, query_string=MARCH).text
    assert "changes were made since" in page


def test_store_staff_may_not_ask_for_a_refresh(client, logged_in, create_location):
    logged_in(Role.STORE, location=create_location(LocationKind.STORE))
    page = client.get(PAGE)
    assert (
        client.post(PAGE + "refresh", data={"csrf_token": csrf_token(page.text)}).status_code == 403
    )
