"""The resale item's life: prices by grade rule, legal moves only, reservations one at a time,
sales recorded once, expiry."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from reverse.catalog.constants import LocationKind
from reverse.core.actors import Actor, ActorKind, EventChannel
from reverse.core.db import commit, utcnow
from reverse.core.errors import IllegalTransition
from reverse.extensions import db
from reverse.intake.constants import Grade
from reverse.resale import operations as resale
from reverse.resale.constants import (
    ResaleEventKind,
    ResaleState,
    ReservationKind,
    ReservationState,
    SaleChannel,
)
from reverse.resale.models import ResaleEvent, ResaleItem, ResaleReservation
from reverse.resale.pricing import PriceRuleRefused, price_for_grade, rule_price, set_price_rule
from tests.conftest import read_mails

STAFF = Actor(ActorKind.STAFF, EventChannel.WAREHOUSE, None, "倉庫 次郎")
CUSTOMER = Actor.customer()
CONTACT = {"name": "佐藤 花子", "email": "hanako@example.jp", "phone": None, "locale": "ja"}


def _item(item_id: int) -> ResaleItem:
    db.session.expire_all()
    return db.session.get(ResaleItem, item_id)


def _events(item_id: int) -> list[ResaleEvent]:
    return list(
        db.session.scalars(
            sa.select(ResaleEvent).where(ResaleEvent.item_id == item_id).order_by(ResaleEvent.id)
        )
    )


# -- prices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "percent", "rounding", "expected"),
    [
        (12_900, 60, 10, 7_740),
        (12_900, 60, 100, 7_700),
        (9_990, 80, 10, 7_990),
        (9_990, 40, 1, 3_996),
    ],
)
def test_rule_price_rounds_down_to_the_step(original, percent, rounding, expected):
    assert rule_price(original, percent, rounding) == expected


def test_a_changed_rule_prices_new_items_and_reprices_old_ones_on_request(ctx, make_item):
    old = make_item("B", price_yen=10_000)
    set_price_rule("B", 55, 100, STAFF)
    db.session.commit()
    assert price_for_grade(12_900, Grade.B) == 7_000
    assert _item(old.id).price_yen == 6_000  # kept until re-priced

    result = resale.reprice_by_rule([old.id], STAFF)
    db.session.commit()

    assert [i.id for i in result.changed] == [old.id]
    assert _item(old.id).price_yen == _item(old.id).suggested_price_yen == 5_500


def test_a_rule_out_of_range_is_refused(ctx):
    with pytest.raises(PriceRuleRefused):
        set_price_rule("A", 150, 10, STAFF)
    with pytest.raises(PriceRuleRefused):
        set_price_rule("A", 80, 50, STAFF)


def test_a_manual_price_needs_a_reason_unless_it_is_the_rule_price(ctx, make_item):
    item = make_item("A", price_yen=10_000)
    with pytest.raises(resale.ResaleRefused):
        resale.set_price(item.id, 7_000, "", STAFF)
    db.session.rollback()
    assert _item(item.id).price_yen == 8_000

    resale.set_price(item.id, 7_000, "小さなほつれあり", STAFF)
    resale.set_price(item.id, 7_000, "小さなほつれあり", STAFF)  # a repeat records nothing
    db.session.commit()

    item = _item(item.id)
    assert (item.price_yen, item.price_reason) == (7_000, "小さなほつれあり")
    assert [e.kind for e in _events(item.id)].count(ResaleEventKind.PRICE) == 1


def test_a_markdown_skips_what_cannot_change_and_changes_the_rest(ctx, make_item):
    listed = make_item("B", price_yen=10_000, listed=True)
    sold = make_item("B", price_yen=10_000, listed=True)
    resale.record_sale(sold.id, channel=SaleChannel.STORE, actor=STAFF)
    db.session.commit()

    result = resale.markdown([listed.id, sold.id], 10, "年末セール", STAFF)
    db.session.commit()

    assert [i.id for i in result.changed] == [listed.id]
    assert [i for i, _ in result.refused] == [sold.id]
    assert _item(listed.id).price_yen == 5_400
    assert _item(sold.id).price_yen == 6_000


# -- lifecycle --------------------------------------------------------------------------------


def test_a_refurbish_item_is_listed_only_after_its_repair(ctx, make_item):
    item = make_item("C", refurbish=True)
    assert item.state == ResaleState.REFURBISHING
    with pytest.raises(IllegalTransition):
        resale.list_item(item.id, STAFF)
    db.session.rollback()

    resale.mark_refurbished(item.id, "ボタン付け替え", STAFF)
    resale.list_item(item.id, STAFF)
    db.session.commit()

    item = _item(item.id)
    assert item.state == ResaleState.LISTED
    assert item.refurbished_at is not None
    moves = [
        (e.from_state, e.to_state) for e in _events(item.id) if e.kind == ResaleEventKind.STATE
    ]
    assert moves == [
        (ResaleState.REFURBISHING, ResaleState.DRAFT),
        (ResaleState.DRAFT, ResaleState.LISTED),
    ]


def test_withdrawing_needs_a_reason_and_a_reserved_item_cannot_be_withdrawn(ctx, make_item):
    item = make_item("B", listed=True)
    with pytest.raises(resale.ResaleRefused):
        resale.withdraw_item(item.id, " ", STAFF)
    db.session.rollback()
    store = _store()
    resale.reserve(
        item.id, kind="pickup", contact=CONTACT, pickup_location_id=store, actor=CUSTOMER
    )
    db.session.commit()
    with pytest.raises(IllegalTransition):
        resale.withdraw_item(item.id, "汚れ", STAFF)
    db.session.rollback()
    assert _item(item.id).state == ResaleState.RESERVED


def _store() -> int:
    from reverse.catalog.models import Location

    location = Location(
        code=f"ST-{utcnow().timestamp():.6f}",
        kind=LocationKind.STORE,
        name_ja="渋谷店",
        name_en="Shibuya",
        postal_code="150-0041",
        prefecture="東京都",
        city="渋谷区",
        street="神南1-1-1",
    )
    db.session.add(location)
    db.session.commit()
    return location.id


# -- reservations and sales ---------------------------------------------------------------


def test_a_pickup_reservation_travels_to_the_store_and_is_sold_there(ctx, make_item, app):
    item = make_item("B", price_yen=12_900, listed=True)
    store = _store()

    reservation, token = resale.reserve(
        item.id, kind="pickup", contact=CONTACT, pickup_location_id=store, actor=CUSTOMER
    )
    db.session.commit()
    assert reservation.state == ReservationState.ACTIVE
    assert resale.reservation_for_token(token).id == reservation.id
    assert resale.reservation_for_token(token + "x") is None

    resale.mark_ready(reservation.id, STAFF)
    db.session.commit()
    assert _item(item.id).location_id == store

    resale.record_sale(item.id, channel=SaleChannel.STORE, actor=STAFF)
    resale.record_sale(item.id, channel=SaleChannel.STORE, actor=STAFF)  # repeat: nothing more
    db.session.commit()

    item = _item(item.id)
    assert (item.state, item.sold_price_yen, item.sold_channel) == (
        ResaleState.SOLD,
        7_740,
        SaleChannel.STORE,
    )
    assert item.sold_location_id == store
    assert db.session.get(ResaleReservation, reservation.id).state == ReservationState.COMPLETED
    sold_moves = [e for e in _events(item.id) if e.to_state == ResaleState.SOLD]
    assert len(sold_moves) == 1


def test_the_customer_is_mailed_when_reserved_and_when_ready(ctx, make_item, app):
    item = make_item("B", listed=True)
    store = _store()
    reservation, token = resale.reserve(
        item.id, kind="pickup", contact=CONTACT, pickup_location_id=store, actor=CUSTOMER
    )
    commit()  # the mail jobs run once the reservation is committed
    resale.mark_ready(reservation.id, STAFF)
    commit()

    mails = [m for m in read_mails(app.config["MAIL_FILE_DIR"]) if item.code in m[1]]
    assert [to for to, _, _ in mails] == ["hanako@example.jp"] * 2
    assert all(f"/preowned/reservations/{token}" in body for _, _, body in mails)


def test_reserving_at_the_store_where_the_item_is_makes_it_ready_at_once(ctx, make_item):
    store = _store()
    from reverse.catalog.models import Location

    item = make_item("A", listed=True, location=db.session.get(Location, store))
    reservation, _ = resale.reserve(
        item.id, kind="pickup", contact=CONTACT, pickup_location_id=store, actor=CUSTOMER
    )
    db.session.commit()
    assert reservation.state == ReservationState.READY


def test_a_second_customer_is_told_the_item_is_taken_and_nothing_is_recorded(ctx, make_item):
    item = make_item("B", listed=True)
    resale.reserve(
        item.id, kind="purchase", contact=CONTACT, pickup_location_id=None, actor=CUSTOMER
    )
    db.session.commit()

    other = CONTACT | {"email": "jiro@example.jp", "name": "鈴木 次郎"}
    with pytest.raises(resale.NotAvailable):
        resale.reserve(
            item.id, kind="purchase", contact=other, pickup_location_id=None, actor=CUSTOMER
        )
    db.session.rollback()

    assert db.session.scalar(sa.select(sa.func.count()).select_from(ResaleReservation)) == 1


def test_a_cancelled_reservation_puts_the_item_back_on_sale_once(ctx, make_item):
    item = make_item("B", listed=True)
    reservation, _ = resale.reserve(
        item.id, kind="purchase", contact=CONTACT, pickup_location_id=None, actor=CUSTOMER
    )
    db.session.commit()

    resale.cancel_reservation(reservation.id, CUSTOMER, "気が変わった")
    resale.cancel_reservation(reservation.id, CUSTOMER)
    db.session.commit()

    assert _item(item.id).state == ResaleState.LISTED
    back = [e for e in _events(item.id) if e.to_state == ResaleState.LISTED]
    assert len(back) == 2  # listed once at first, back on sale once


def test_an_overdue_reservation_expires_and_frees_the_item(ctx, make_item):
    item = make_item("B", listed=True)
    reservation, _ = resale.reserve(
        item.id, kind="purchase", contact=CONTACT, pickup_location_id=None, actor=CUSTOMER
    )
    db.session.commit()

    assert resale.expire_overdue(now=utcnow() + timedelta(hours=1)) == 0
    assert resale.expire_overdue(now=utcnow() + timedelta(hours=25)) == 1
    db.session.commit()

    assert db.session.get(ResaleReservation, reservation.id).state == ReservationState.EXPIRED
    assert _item(item.id).state == ResaleState.LISTED


def test_a_reservation_past_its_hold_does_not_block_the_next_customer(ctx, make_item):
    item = make_item("B", listed=True)
    resale.reserve(
        item.id, kind="purchase", contact=CONTACT, pickup_location_id=None, actor=CUSTOMER
    )
    db.session.commit()

    later = utcnow() + timedelta(days=2)
    other = CONTACT | {"email": "jiro@example.jp"}
    second, _ = resale.reserve(
        item.id, kind="purchase", contact=other, pickup_location_id=None, actor=CUSTOMER, now=later
    )
    db.session.commit()
    assert second.state == ReservationState.ACTIVE


def test_pickup_needs_a_store_and_a_reachable_customer(ctx, make_item):
    item = make_item("B", listed=True)
    with pytest.raises(resale.ResaleRefused):
        resale.reserve(
            item.id, kind="pickup", contact=CONTACT, pickup_location_id=None, actor=CUSTOMER
        )
    db.session.rollback()
    with pytest.raises(resale.ResaleRefused):
        resale.reserve(
            item.id,
            kind="purchase",
            contact={"name": "佐藤", "email": None, "phone": None},
            pickup_location_id=None,
            actor=CUSTOMER,
        )
    db.session.rollback()
    assert _item(item.id).state == ResaleState.LISTED


@pytest.mark.databases
def test_twenty_customers_at_once_make_exactly_one_reservation(app, make_item):
    item = make_item("B", listed=True)
    barrier = threading.Barrier(20)
    won: list[int] = []
    refused: list[BaseException] = []
    failures: list[BaseException] = []

    def attempt(n: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                reservation, _ = resale.reserve(
                    item.id,
                    kind=ReservationKind.PURCHASE,
                    contact=CONTACT | {"email": f"buyer{n}@example.jp", "name": f"客{n}"},
                    pickup_location_id=None,
                    actor=CUSTOMER,
                )
                db.session.commit()
                won.append(reservation.id)
            except resale.NotAvailable as exc:
                db.session.rollback()
                refused.append(exc)
            except BaseException as exc:
                db.session.rollback()
                failures.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert len(won) == 1
    assert len(refused) == 19
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(ResaleReservation))
        assert count == 1
        assert db.session.get(ResaleItem, item.id).state == ResaleState.RESERVED


def test_the_expiry_command_ends_overdue_reservations(app, make_item):
    item = make_item("B", listed=True)
    with app.app_context():
        resale.reserve(
            item.id,
            kind="purchase",
            contact=CONTACT,
            pickup_location_id=None,
            actor=CUSTOMER,
            now=utcnow() - timedelta(days=3),
        )
        db.session.commit()
        db.session.remove()

    result = app.test_cli_runner().invoke(args=["resale", "expire-reservations"])

    assert result.exit_code == 0, result.output
    assert "expired 1" in result.output
    with app.app_context():
        assert db.session.get(ResaleItem, item.id).state == ResaleState.LISTED


def test_a_reserved_item_is_sold_only_the_way_its_reservation_says(ctx, make_item):
    item = make_item("B", listed=True)
    store = _store()
    reservation, _ = resale.reserve(
        item.id, kind="pickup", contact=CONTACT, pickup_location_id=store, actor=CUSTOMER
    )
    db.session.commit()
    for channel in (SaleChannel.STORE, SaleChannel.WEB_SHOP):  # not at the store yet / not online
        with pytest.raises(IllegalTransition):
            resale.record_sale(item.id, channel=channel, actor=STAFF)
        db.session.rollback()
    assert _item(item.id).state == ResaleState.RESERVED

    resale.mark_ready(reservation.id, STAFF)
    resale.record_sale(item.id, channel=SaleChannel.STORE, actor=STAFF)
    db.session.commit()
    assert _item(item.id).state == ResaleState.SOLD
