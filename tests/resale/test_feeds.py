"""The feeds other resale channels pull: what is on sale, what changed since a moment, page by
page without a row lost or repeated, as JSON and as CSV Excel opens."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from werkzeug.routing import Map, Rule

from reverse.core.actors import Actor
from reverse.extensions import db
from reverse.intake.models import ReceiptUnit
from reverse.resale import operations as resale
from reverse.resale.constants import SaleChannel
from reverse.resale.feeds import FIELDS
from reverse.resale.models import ResaleItem
from reverse.rmas.constants import AttachmentKind
from reverse.rmas.models import Attachment
from tests.fixtures.catalog import in_context

STAFF = Actor.system("test")
T0 = datetime(2026, 4, 1, 3, 0, tzinfo=UTC)


def stamp(app, item_ids: list[int], when: datetime) -> None:
    """Give items one `updated_at`, as a batch of changes in one moment would."""
    with in_context(app):
        db.session.execute(
            sa.update(ResaleItem).where(ResaleItem.id.in_(item_ids)).values(updated_at=when)
        )
        db.session.commit()


def change(app, operation, *args, **kw) -> None:
    with in_context(app):
        operation(*args, actor=STAFF, **kw)
        db.session.commit()


def codes(body: dict) -> list[str]:
    return [row["id"] for row in body["items"]]


def test_without_since_the_feed_lists_what_is_on_sale_with_every_field(app, client, make_item):
    listed = make_item("B", price_yen=12_900, listed=True, notes="袖口に小さな擦れ")
    make_item("A")  # a draft, never offered
    sold = make_item("A", listed=True)
    change(app, resale.record_sale, sold.id, channel=SaleChannel.STORE)
    with in_context(app):
        unit = db.session.get(ReceiptUnit, listed.unit_id)
        photo = Attachment(
            rma_id=unit.rma_id,
            unit_id=unit.id,
            kind=AttachmentKind.INSPECTION,
            stored_name="a" * 64 + ".jpg",
            content_type="image/jpeg",
            size_bytes=100,
        )
        db.session.add(photo)
        db.session.commit()
        photo_id = photo.id

    response = client.get("/preowned/feed.json")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    body = response.get_json()
    assert codes(body) == [listed.code]
    assert body["next"] is None
    assert body["generated_at"].endswith("Z")
    row = body["items"][0]
    assert list(row) == list(FIELDS)
    base = app.config["PUBLIC_BASE_URL"]
    assert row["id"].startswith("PO")
    assert len(row["id"]) == 9
    assert (row["grade"], row["price_yen"], row["original_price_yen"]) == ("B", 7_740, 12_900)
    assert (row["currency"], row["tax_included"]) == ("JPY", True)
    assert (row["state"], row["available"]) == ("listed", True)
    assert row["condition_notes"] == "袖口に小さな擦れ"
    assert row["grade_text_en"].startswith("Good:")
    assert row["grade_text_ja"]
    assert row["url"] == f"{base}/preowned/{listed.code}"
    assert row["photos"] == [f"{base}/preowned/{listed.code}/photos/{photo_id}"]
    assert row["updated_at"].endswith("Z")
    assert row["listed_at"].endswith("Z")


def test_since_brings_sold_and_withdrawn_items_as_not_available(app, client, make_item):
    sold = make_item("A", listed=True)
    withdrawn = make_item("B", listed=True)
    still = make_item("C", listed=True)
    change(app, resale.record_sale, sold.id, channel=SaleChannel.WEB_SHOP)
    change(app, resale.withdraw_item, withdrawn.id, "破損")
    never_listed = make_item("D")
    stamp(app, [still.id], T0 - timedelta(days=1))  # unchanged since
    stamp(app, [sold.id, withdrawn.id, never_listed.id], T0 + timedelta(minutes=5))

    body = client.get("/preowned/feed.json", query_string={"since": "2026-04-01T03:00:00Z"})

    rows = {row["id"]: row for row in body.get_json()["items"]}
    assert set(rows) == {sold.code, withdrawn.code}
    assert (rows[sold.code]["state"], rows[sold.code]["available"]) == ("sold", False)
    assert (rows[withdrawn.code]["state"], rows[withdrawn.code]["available"]) == (
        "withdrawn",
        False,
    )


@pytest.mark.parametrize(
    "since",
    [
        "2026-04-01T12:04:59+09:00",  # Tokyo time
        "2026-04-01T12:04:59 09:00",  # its plus sign sent unencoded
        "2026-04-01T03:04:59",  # naive: UTC
        "2026-04-01T03:04:59.000Z",
    ],
)
def test_since_reads_zones_offsets_and_naive_utc(app, client, make_item, since):
    item = make_item("A", listed=True)
    stamp(app, [item.id], T0 + timedelta(minutes=5))

    assert codes(client.get("/preowned/feed.json", query_string={"since": since}).get_json()) == [
        item.code
    ]
    later = client.get("/preowned/feed.json", query_string={"since": "2026-04-01T03:05:00Z"})
    assert codes(later.get_json()) == []  # strictly after


@pytest.mark.databases
@pytest.mark.parametrize("query", [{}, {"since": "2026-01-01T00:00:00Z"}])
def test_pages_over_rows_sharing_one_moment_give_every_row_once(app, client, make_item, query):
    items = [make_item("B", listed=True) for _ in range(5)]
    stamp(app, [i.id for i in items[:4]], T0)
    stamp(app, [items[4].id], T0 - timedelta(hours=1))

    seen: list[str] = []
    body = client.get("/preowned/feed.json", query_string={**query, "limit": 2}).get_json()
    for _ in range(3):  # a cursor that repeats a row must fail here, not loop for ever
        seen += codes(body)
        if body["next"] is None:
            break
        body = client.get(
            "/preowned/feed.json", query_string={"cursor": body["next"], "limit": 2}
        ).get_json()

    # the oldest first, then the four of one moment by id; three pages, the last one says so
    assert seen == [items[4].code] + [i.code for i in items[:4]]
    assert body["next"] is None


def test_a_cursor_of_the_listed_feed_stays_on_listed_items(app, client, make_item):
    first, second = make_item("A", listed=True), make_item("B", listed=True)
    sold = make_item("B", listed=True)
    stamp(app, [first.id, second.id], T0)
    change(app, resale.record_sale, sold.id, channel=SaleChannel.STORE)

    page = client.get("/preowned/feed.json?limit=1").get_json()
    rest = client.get("/preowned/feed.json", query_string={"cursor": page["next"]}).get_json()

    assert codes(page) + codes(rest) == [first.code, second.code]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-13-01T00:00:00Z"}, "since"),
        ({"limit": "0"}, "limit"),
        ({"limit": "2001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "bm90LWEtY3Vyc29y"}, "cursor"),
        ({"cursor": "%%%"}, "cursor"),
    ],
)
@pytest.mark.parametrize("path", ["/preowned/feed.json", "/preowned/feed.csv"])
def test_a_parameter_it_cannot_read_is_a_400_naming_the_field(client, path, query, field):
    response = client.get(path, query_string=query)

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == f"invalid_{field}"
    assert list(error["details"]) == [field]
    assert error["message"]


def test_the_csv_feed_opens_in_excel_and_parses_with_the_csv_module(app, client, make_item):
    item = make_item("B", price_yen=12_900, listed=True, notes='"汚れ", 少し\n袖口')
    make_item("A", listed=True)

    response = client.get("/preowned/feed.csv?limit=1")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="preowned-feed.csv"'
    assert response.data.startswith(b"\xef\xbb\xbf")
    text = response.data[3:].decode("utf-8")
    assert text.endswith("\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(FIELDS)
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["id"], row["price_yen"], row["available"]) == (item.code, "7740", "true")
    assert row["condition_notes"] == '"汚れ", 少し\n袖口'
    link = response.headers["Link"]
    assert link.startswith(f"<{app.config['PUBLIC_BASE_URL']}/preowned/feed.csv?cursor=")
    assert link.endswith('>; rel="next"')

    rest = client.get(link[1 : link.index(">")].removeprefix(app.config["PUBLIC_BASE_URL"]))
    rest_rows = list(csv.reader(io.StringIO(rest.data[3:].decode(), newline="")))
    assert len(rest_rows) == 2
    assert rest_rows[1][0] != item.code
    assert "Link" not in rest.headers


def test_an_unchanged_feed_answers_304_to_its_etag(client, make_item):
    make_item("B", listed=True)
    first = client.get("/preowned/feed.json")
    etag = first.headers["ETag"]

    again = client.get("/preowned/feed.json", headers={"If-None-Match": etag})
    assert again.status_code == 304

    make_item("A", listed=True)
    changed = client.get("/preowned/feed.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert len(changed.get_json()["items"]) == 2


def test_the_feed_paths_win_over_the_shop_item_route(app):
    """`/preowned/feed.json` is the feed, and an item code still reaches the shop's page."""
    rules = [Rule(r.rule, endpoint=r.endpoint, methods=r.methods) for r in app.url_map.iter_rules()]
    if not any(r.rule == "/preowned/<code>" for r in rules):
        rules.append(Rule("/preowned/<code>", endpoint="shop.item"))
    adapter = Map(rules).bind("localhost")

    assert adapter.match("/preowned/feed.json")[0] == "feeds.feed_json"
    assert adapter.match("/preowned/feed.csv")[0] == "feeds.feed_csv"
    assert adapter.match("/preowned/PO0000012")[0] == "shop.item"
    real = app.url_map.bind("localhost")
    assert real.match("/preowned/feed.json")[0] == "feeds.feed_json"


def test_a_page_takes_two_queries_however_many_items_it_holds(app, client, make_item):
    """The items with their variant, product and location in one query, the photos in one."""
    for grade in "ABCD":
        make_item(grade, listed=True)
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get("/preowned/feed.json")
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)

    assert len(response.get_json()["items"]) == 4
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 2, selects
