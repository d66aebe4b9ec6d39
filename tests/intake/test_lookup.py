"""The desk's instant look-up: what a scanned code finds, in the desk's language, and that it
keeps answering while something else writes."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.core.codes import format_rma_number
from reverse.extensions import db
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import RmaLine
from reverse.shipping.constants import Carrier, Direction
from reverse.shipping.models import Shipment
from tests.fixtures.catalog import in_context

FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
TRACKING = "123456789013"


@pytest.fixture
def parcel(app, create_rma):
    """A return on its way, with two lines: a catalogue item and one known only by its words."""
    rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    with in_context(app):
        first = db.session.scalar(sa.select(RmaLine).where(RmaLine.rma_id == rma.id))
        db.session.add_all(
            [
                Shipment(
                    rma_id=rma.id,
                    direction=Direction.TO_CENTRE,
                    carrier=Carrier.YAMATO,
                    tracking_number=TRACKING,
                ),
                RmaLine(rma_id=rma.id, description="古い革ジャケット", quantity=2),
            ]
        )
        rma.item = {"ja": first.variant.label("ja"), "en": first.variant.label("en")}
        rma.customer_name = db.session.merge(rma).customer.name
        db.session.commit()
    return rma


@pytest.mark.databases
def test_a_tracking_number_typed_full_width_finds_the_case_with_its_lines(
    client, logged_in, parcel
):
    logged_in(Role.WAREHOUSE)
    typed = "1234-5678-9013".translate(FULL_WIDTH)
    found = client.get(
        "/staff/intake/lookup", query_string={"code": typed}, headers={"Accept-Language": "ja"}
    )
    assert found.status_code == 200, found.text
    assert found.json["number"] == parcel.number
    assert found.json["display_number"] == format_rma_number(parcel.number)
    assert found.json["status"] == "awaiting_item"
    assert found.json["type"] == "return"
    assert found.json["customer"] == parcel.customer_name
    assert [(line["item"], line["quantity"]) for line in found.json["lines"]] == [
        (parcel.item["ja"], 1),
        ("古い革ジャケット", 2),
    ]
    assert found.json["lines"][1]["sku"] is None

    english = client.get(
        "/staff/intake/lookup",
        query_string={"code": parcel.number},
        headers={"Accept-Language": "en-GB,en;q=0.8"},
    )
    assert english.json["lines"][0]["item"] == parcel.item["en"]
    assert parcel.item["en"] != parcel.item["ja"]


@pytest.mark.databases
def test_a_case_the_desk_does_not_handle_is_not_found(client, logged_in, create_rma):
    repair = create_rma(RmaType.REPAIR)
    logged_in(Role.WAREHOUSE)
    answer = client.get("/staff/intake/lookup", query_string={"code": repair.number})
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "unknown_code"
    assert repair.number not in answer.text


def test_the_lookup_answers_while_a_long_write_holds_the_database(app, client, logged_in, parcel):
    """SQLite: the look-up reads outside a transaction, so it does not wait for the write lock
    an import or a batch holds; what writes afterwards still takes the lock first."""
    logged_in(Role.WAREHOUSE)
    path = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE rmas SET updated_at = updated_at")
        found = client.get("/staff/intake/lookup", query_string={"code": TRACKING})
        assert found.status_code == 200, found.text
        assert found.json["number"] == parcel.number
    finally:
        writer.rollback()
        writer.close()
    with in_context(app):
        # the connection went back to the pool under SQLAlchemy's control of transactions
        # (every transaction BEGIN IMMEDIATE), not the driver's
        connection = db.session.connection()
        assert connection.connection.dbapi_connection.isolation_level is None
        assert connection.connection.dbapi_connection.in_transaction
