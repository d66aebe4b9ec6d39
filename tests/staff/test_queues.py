"""Work queues: which cases wait where, oldest (overdue) first, SLA colours with words, the
counts on the tabs, and who sees which location's cases."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaLine
from reverse.warehouse_queues import (
    QueueName,
    SlaState,
    age_parts,
    queue_counts,
    queue_page,
    sla_state,
)
from tests.fixtures.catalog import in_context

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
SLAS = {
    "SLA_RECEIPT_DAYS": 14,
    "SLA_INSPECTION_HOURS": 48,
    "SLA_DECISION_HOURS": 24,
    "SLA_DUE_SOON_PERCENT": 75,
}


def changed(app, rma: Rma, at: datetime) -> Rma:
    """Pretend the case's status last changed at `at`."""
    with in_context(app):
        db.session.execute(sa.update(Rma).where(Rma.id == rma.id).values(status_changed_at=at))
        db.session.commit()
    return rma


def aged(app, rma: Rma, **delta: float) -> Rma:
    return changed(app, rma, utcnow() - timedelta(**delta))


def numbers_in_order(html: str) -> list[str]:
    return re.findall(r'href="/staff/rmas/(R\d{10})"', html)


def rows_by_number(html: str) -> dict[str, str]:
    """Each row's HTML, by the case number it links to."""
    return {
        m.group(1): m.group(0)
        for m in re.finditer(
            r'<tr class="queue-row[^"]*">.*?/staff/rmas/(R\d{10}).*?</tr>', html, re.S
        )
    }


@pytest.fixture
def centre(create_location):
    return create_location(LocationKind.RETURNS_CENTRE, code="RC-TEST", name_en="Test Centre")


# -- SLA arithmetic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "state"),
    [
        (timedelta(hours=35, minutes=59, seconds=59), SlaState.OK),
        (timedelta(hours=36), SlaState.DUE_SOON),
        (timedelta(hours=48), SlaState.DUE_SOON),
        (timedelta(hours=48, seconds=1), SlaState.OVERDUE),
    ],
)
def test_sla_state_changes_at_three_quarters_and_after_the_sla(age, state):
    assert sla_state(age, timedelta(hours=48), 0.75) is state


@pytest.mark.parametrize(
    ("age", "parts"),
    [
        (timedelta(days=3, hours=23), (3, "days")),
        (timedelta(hours=5, minutes=59), (5, "hours")),
        (timedelta(minutes=59, seconds=59), (59, "minutes")),
    ],
)
def test_age_is_told_in_its_largest_whole_unit(age, parts):
    assert age_parts(age) == parts


@pytest.mark.databases
def test_the_database_agrees_with_the_sla_at_its_boundaries(
    app, ctx, create_rma, create_user, centre
):
    """A case exactly 48 hours in inspection is due soon; a second older is overdue — in the
    rows and in the overdue count of the tab (now is passed in, not waited for)."""
    user = create_user(Role.WAREHOUSE, location=centre)
    on_time = changed(
        app,
        create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=centre),
        NOW - timedelta(hours=35, minutes=59),
    )
    due = changed(
        app,
        create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=centre),
        NOW - timedelta(hours=48),
    )
    late = changed(
        app,
        create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=centre),
        NOW - timedelta(hours=48, seconds=1),
    )

    counts = queue_counts(user, SLAS, NOW)
    page = queue_page(
        QueueName.INSPECTION, user, SLAS, NOW, total=counts[QueueName.INSPECTION].total
    )

    assert [(r.number, r.sla) for r in page.items] == [
        (late.number, SlaState.OVERDUE),
        (due.number, SlaState.DUE_SOON),
        (on_time.number, SlaState.OK),
    ]
    assert (counts[QueueName.INSPECTION].total, counts[QueueName.INSPECTION].overdue) == (3, 1)


@pytest.mark.databases
def test_settings_move_the_sla(app, ctx, create_rma, create_user, centre):
    user = create_user(Role.WAREHOUSE, location=centre)
    changed(
        app,
        create_rma(RmaType.RETURN, RmaStatus.INSPECTED, location=centre),
        NOW - timedelta(hours=30),
    )
    assert queue_counts(user, SLAS, NOW)[QueueName.DECISION].overdue == 1
    relaxed = SLAS | {"SLA_DECISION_HOURS": 72}
    assert queue_counts(user, relaxed, NOW)[QueueName.DECISION].overdue == 0
    page = queue_page(QueueName.DECISION, user, relaxed, NOW, total=1)
    assert page.items[0].sla is SlaState.OK


# -- the page ------------------------------------------------------------------------------------


@pytest.mark.databases
def test_awaiting_receipt_lists_parcels_expected_overdue_first(
    app, client, logged_in, create_rma, centre
):
    fresh = aged(app, create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM, location=centre), hours=5)
    late = aged(app, create_rma(RmaType.EXCHANGE, RmaStatus.IN_TRANSIT, location=centre), days=20)
    soon = aged(app, create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM, location=centre), days=12)
    received = create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=centre)
    repair = aged(app, create_rma(RmaType.REPAIR, RmaStatus.IN_TRANSIT, location=centre), days=30)
    logged_in(Role.WAREHOUSE, location=centre)
    client.get("/lang/en")

    page = client.get("/staff/queues/")

    assert page.status_code == 200
    assert numbers_in_order(page.text) == [late.number, soon.number, fresh.number]
    assert received.number not in page.text
    assert repair.number not in page.text
    rows = rows_by_number(page.text)
    assert "Overdue" in rows[late.number]
    assert "20 days" in rows[late.number]
    assert "Due soon" in rows[soon.number]
    assert "On time" in rows[fresh.number]
    assert "5 hours" in rows[fresh.number]
    assert "In transit" in rows[late.number]
    assert "Exchange" in rows[late.number]


@pytest.mark.databases
def test_each_queue_holds_its_own_status(app, client, logged_in, create_rma, centre):
    received = create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=centre)
    inspected = create_rma(RmaType.EXCHANGE, RmaStatus.INSPECTED, location=centre)
    create_rma(RmaType.RETURN, RmaStatus.RESOLVED, location=centre)
    logged_in(Role.WAREHOUSE, location=centre)

    assert numbers_in_order(client.get("/staff/queues/inspection").text) == [received.number]
    assert numbers_in_order(client.get("/staff/queues/decision").text) == [inspected.number]
    assert numbers_in_order(client.get("/staff/queues/").text) == []
    assert client.get("/staff/queues/nonsense").status_code == 404


@pytest.mark.databases
def test_tabs_count_cases_and_overdue_ones(app, client, logged_in, create_rma, centre):
    for days in (1, 15, 16):
        aged(app, create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM, location=centre), days=days)
    aged(app, create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=centre), hours=50)
    logged_in(Role.WAREHOUSE, location=centre)
    client.get("/lang/en")

    html = client.get("/staff/queues/decision").text
    tabs = dict(
        re.findall(r'href="/staff/queues/(\w*)"[^>]*>\s*<span>[^<]*</span>(.*?)</a>', html, re.S)
    )

    def figures(tab: str) -> list[str]:
        return re.findall(r"(\d+)(?:<span class=\"visually-hidden\"> cases| overdue)", tabs[tab])

    assert figures("") == ["3", "2"]  # awaiting receipt is the queues' front page
    assert figures("inspection") == ["1", "1"]
    assert figures("decision") == ["0"]
    assert "Nothing waiting here." in html


@pytest.mark.databases
def test_the_case_number_leads_to_the_staff_case_page(app, client, logged_in, create_rma, centre):
    rma = create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=centre)
    logged_in(Role.WAREHOUSE, location=centre)
    html = client.get("/staff/queues/inspection").text
    assert f'href="/staff/rmas/{rma.number}">{rma.display_number}</a>' in html
    assert client.get(f"/staff/rmas/{rma.number}").status_code == 200


def test_the_items_column_counts_units_across_lines(app, client, logged_in, create_rma, centre):
    rma = create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=centre)
    with in_context(app):
        db.session.add(RmaLine(rma_id=rma.id, description="ニット", quantity=2))
        db.session.commit()
    logged_in(Role.WAREHOUSE, location=centre)
    row = rows_by_number(client.get("/staff/queues/inspection").text)[rma.number]
    assert re.search(r'data-label="[^"]+" class="queue-table__num">3<', row)


def test_a_long_queue_is_paged_oldest_first(
    app, client, logged_in, create_rma, centre, monkeypatch
):
    monkeypatch.setitem(app.config, "STAFF_PAGE_SIZE", 2)
    cases = [
        aged(app, create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=centre), hours=h)
        for h in (10, 30, 20)
    ]
    logged_in(Role.WAREHOUSE, location=centre)
    first = client.get("/staff/queues/inspection")
    second = client.get("/staff/queues/inspection?page=2")
    assert numbers_in_order(first.text) == [cases[1].number, cases[2].number]
    assert numbers_in_order(second.text) == [cases[0].number]
    assert 'rel="next"' in first.text


def test_a_page_costs_the_same_queries_for_three_rows_as_for_one(
    app, client, logged_in, create_rma, centre
):
    """No query per row: the rows, customers, channels and item counts come in one query."""
    logged_in(Role.WAREHOUSE, location=centre)
    create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=centre)

    def queries() -> int:
        seen: list[str] = []
        with app.app_context():
            engine = db.engine

        def count(*_args) -> None:
            seen.append("q")

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/staff/queues/inspection").status_code == 200
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    one = queries()
    for _ in range(2):
        create_rma(RmaType.EXCHANGE, RmaStatus.RECEIVED, location=centre)
    assert queries() == one


# -- who sees what ------------------------------------------------------------------------------


@pytest.mark.databases
def test_staff_with_a_location_see_only_its_cases(
    app, client, logged_in, create_rma, create_location, centre
):
    other = create_location(LocationKind.RETURNS_CENTRE, code="RC-OTHER")
    ours = create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=centre)
    theirs = create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=other)
    nowhere = create_rma(RmaType.RETURN, RmaStatus.RECEIVED)
    logged_in(Role.WAREHOUSE, location=centre)

    html = client.get("/staff/queues/inspection").text
    assert numbers_in_order(html) == [ours.number]
    # Asking for another location is not a way round it.
    html = client.get(f"/staff/queues/inspection?location={other.id}").text
    assert numbers_in_order(html) == [ours.number]
    assert theirs.number not in html
    assert nowhere.number not in html


def test_admins_see_every_location_and_may_pick_one(
    app, client, logged_in, create_rma, create_location, centre
):
    store = create_location(LocationKind.STORE, code="ST-TEST", name_en="Test Store")
    at_centre = aged(app, create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=centre), hours=9)
    at_store = aged(app, create_rma(RmaType.RETURN, RmaStatus.RECEIVED, location=store), hours=8)
    logged_in(Role.ADMIN)
    client.get("/lang/en")

    everything = client.get("/staff/queues/inspection").text
    assert numbers_in_order(everything) == [at_centre.number, at_store.number]
    assert "Test Store" in rows_by_number(everything)[at_store.number]

    one = client.get(f"/staff/queues/inspection?location={store.id}").text
    assert numbers_in_order(one) == [at_store.number]
    # The tabs keep the chosen location.
    assert f'href="/staff/queues/?location={store.id}"' in one


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.WAREHOUSE, 200),
        (Role.ADMIN, 200),
        (Role.SUPPORT, 200),
        (Role.STORE, 403),
        (Role.TECHNICIAN, 403),
    ],
)
def test_who_may_open_the_queues(client, logged_in, role, status):
    logged_in(role)
    assert client.get("/staff/queues/").status_code == status


def test_the_queues_need_a_login(client):
    response = client.get("/staff/queues/")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]
