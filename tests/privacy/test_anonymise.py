"""`flask privacy anonymise`: closed cases and inactive customers lose their personal data,
everywhere it was copied; every figure stays the same; running it again changes nothing."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from reverse.analytics.models import CaseFact, LineFact, ReturnDay, SalesDay
from reverse.analytics.refresh import refresh_summaries
from reverse.auth.constants import Role
from reverse.catalog.models import Location
from reverse.core.actors import Actor
from reverse.core.db import utcnow
from reverse.core.uploads import save_image, upload_path
from reverse.customers.models import Customer
from reverse.demo.loader import load_demo
from reverse.extensions import db
from reverse.portal.operations import new_access_link
from reverse.privacy.anonymise import cases_due, customers_due
from reverse.privacy.cli import run
from reverse.privacy.models import AuditAction, AuditEntry
from reverse.repairs.models import RepairOrder
from reverse.resale import operations as resale
from reverse.resale.constants import ReservationState
from reverse.resolution.models import Refund
from reverse.rmas.constants import AttachmentKind, RmaStatus, RmaType
from reverse.rmas.models import Attachment, EventKind, Rma, RmaEvent, RmaLine
from reverse.rmas.operations import add_internal_note, add_staff_message
from reverse.shipping.constants import Carrier, Direction
from reverse.shipping.models import Shipment
from reverse.webhooks.models import WebhookDelivery
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context

pytestmark = pytest.mark.databases

#: shorter strings (a prefecture, "M") say nothing about anyone and occur everywhere
MIN_LENGTH = 5


def _texts(rows: Iterable[Iterable[object]]) -> set[str]:
    return {str(v) for row in rows for v in row if v and len(str(v)) >= MIN_LENGTH}


def _personal(customer_ids: sa.Select) -> set[str]:
    """What these customers and their cases say about them, as stored."""
    rmas = sa.select(Rma.id).where(Rma.customer_id.in_(customer_ids))
    found = _texts(
        db.session.execute(
            sa.select(Customer.name, Customer.name_kana, Customer.email, Customer.phone).where(
                Customer.id.in_(customer_ids)
            )
        )
    )
    found |= _texts(
        db.session.execute(
            sa.select(Rma.ship_name, Rma.ship_street, Rma.ship_building, Rma.decision_reason).where(
                Rma.id.in_(rmas)
            )
        )
    )
    events = db.session.execute(
        sa.select(RmaEvent.note, RmaEvent.data).where(RmaEvent.rma_id.in_(rmas))
    )
    found |= _texts((e.note,) for e in events if not e.data.get("i18n"))
    found |= _texts(
        db.session.execute(
            sa.select(RmaLine.comment, RmaLine.symptom).where(RmaLine.rma_id.in_(rmas))
        )
    )
    found |= _texts(
        db.session.execute(
            sa.select(RepairOrder.condition_notes, RepairOrder.diagnosis).where(
                RepairOrder.rma_id.in_(rmas)
            )
        )
    )
    return found


def _figures() -> dict[str, list[tuple]]:
    """Everything the dashboards and the books count, recomputed from the live tables."""
    refresh_summaries(now=utcnow())
    db.session.flush()
    tables = {
        "cases": sa.select(CaseFact).order_by(CaseFact.rma_id),
        "lines": sa.select(LineFact).order_by(LineFact.rma_id, LineFact.reason),
        "returns": sa.select(ReturnDay),
        "sales": sa.select(SalesDay),
    }
    figures = {}
    for name, stmt in tables.items():
        rows = db.session.scalars(stmt).all()
        figures[name] = sorted(
            tuple(str(getattr(row, c.key)) for c in sa.inspect(type(row)).columns if c.key != "id")
            for row in rows
        )
    figures["refunds"] = sorted(
        db.session.execute(sa.select(Refund.rma_id, Refund.amount_yen, Refund.state)).all()
    )
    figures["rmas"] = sorted(
        db.session.execute(
            sa.select(
                Rma.id, Rma.type, Rma.status, Rma.resolution, Rma.channel_id,
                Rma.declared_price_yen, Rma.refund_estimate_yen, Rma.created_at,
            )
        ).all()
    )  # fmt: skip
    figures["repairs"] = sorted(
        db.session.execute(
            sa.select(RepairOrder.rma_id, RepairOrder.amount_due_yen, RepairOrder.handed_back_at)
        ).all()
    )
    return figures


def _every_stored_text() -> Iterable[tuple[str, str]]:
    """(table.column, value) for every text and JSON value in the database."""
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text | sa.JSON)]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            for column, value in zip(columns, row, strict=True):
                if value:
                    yield f"{table.name}.{column.name}", str(value)


def _write_personal_text(rma_ids: sa.Select) -> None:
    """What people write on a case in its life: words of their own, on every such field."""
    for rma in db.session.scalars(sa.select(Rma).where(Rma.id.in_(rma_ids))):
        who = rma.customer.name or "お客様"
        add_staff_message(
            rma, f"{who}様、ご連絡ありがとうございます ({rma.number})", Actor.customer()
        )
        add_internal_note(rma, f"{who}様より電話 {rma.number}", Actor.system("support"))
        rma.decision_reason = f"{who}様のご事情 {rma.number}"
        for line in rma.lines:
            line.comment = f"{who}の言葉 {rma.number}-{line.id}"
        if rma.repair is not None:
            rma.repair.condition_notes = f"{who}様 持ち込み時の状態 {rma.number}"
    db.session.commit()


def test_every_trace_of_an_anonymised_customer_is_gone_and_the_figures_stay(app):
    with in_context(app):
        load_demo()
        db.session.commit()
        now = utcnow() + timedelta(days=400)  # every closed demo case is old by then
        cutoff = now - timedelta(days=30)
        _write_personal_text(cases_due(cutoff))
        due = customers_due(cutoff)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(due.subquery())) > 0
        kept = sa.select(Customer.id).where(Customer.id.not_in(due))
        # Shop addresses and what customers who stay also wrote are not theirs alone.
        locations = _texts(
            db.session.execute(sa.select(Location.name_ja, Location.street, Location.building))
        )
        personal = _personal(due) - _personal(kept) - locations
        assert len(personal) > 100
        before = _figures()
        db.session.rollback()

        report = run(timedelta(days=30), now=now)

        assert report.customers > 0
        assert report.cases > 0
        pattern = re.compile("|".join(re.escape(p) for p in sorted(personal, key=len)[::-1]))
        leaks = {
            (where, match.group(0))
            for where, value in _every_stored_text()
            if (match := pattern.search(value))
        }
        assert leaks == set()
        assert _figures() == before
        db.session.rollback()
        # Nothing is left to do: a second run changes nothing.
        again = run(timedelta(days=30), now=now)
        assert again.as_dict() == {"cases": 0, "customers": 0, "drafts": 0, "files": 0, "labels": 0}


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, format="JPEG")
    return out.getvalue()


def _closed_long_ago(rma: Rma, days: int) -> None:
    stored = db.session.get(Rma, rma.id)
    stored.status_changed_at = utcnow() - timedelta(days=days)


@pytest.fixture
def closed_case(app, create_rma, create_customer):
    """A return closed 100 days ago, from a customer known for longer, with an address, a
    message, a receipt photo, a label PDF and a private link."""
    customer = create_customer(
        email="hanako@example.jp", name="山田 花子", name_kana="ヤマダ ハナコ"
    )
    rma = create_rma(RmaType.RETURN, RmaStatus.CLOSED, customer=customer)
    with in_context(app):
        stored = db.session.get(Rma, rma.id)
        stored.ship_name = "山田 花子"
        stored.ship_postal_code = "1500001"
        stored.ship_street = "神宮前1-2-3"
        stored.ship_building = "メゾン原宿 405"
        stored.lines[0].comment = "袖が長すぎました"
        add_staff_message(stored, "花子様、ご返送ありがとうございます", Actor.system("support"))
        image = save_image(io.BytesIO(_jpeg()))
        db.session.add(Attachment.of_image(image, kind=AttachmentKind.RECEIPT, rma=stored))
        label = Path(app.instance_path) / "labels" / f"{stored.number}.pdf"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_bytes("%PDF-1.7 山田 花子".encode())
        shipment = Shipment(rma=stored, direction=Direction.TO_CENTRE, carrier=Carrier.YAMATO)
        shipment.label_path = str(label.relative_to(app.instance_path))
        db.session.add(shipment)
        link = new_access_link(stored)
        _closed_long_ago(stored, 100)
        db.session.get(Customer, customer.id).created_at = utcnow() - timedelta(days=400)
        db.session.commit()
        return {"rma": rma, "customer": customer, "photo": upload_path(image.name), "label": label,
                "links": [rma.token, link]}  # fmt: skip


def test_the_command_anonymises_a_closed_case_and_its_customer(app, client, closed_case):
    runner = app.test_cli_runner()

    preview = runner.invoke(args=["privacy", "anonymise", "--older-than", "90", "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert "would anonymise: 1 cases, 1 customers" in preview.output
    with in_context(app):
        assert db.session.get(Customer, closed_case["customer"].id).email == "hanako@example.jp"

    result = runner.invoke(args=["privacy", "anonymise", "--older-than", "90"])

    assert result.exit_code == 0, result.output
    assert "anonymised: 1 cases, 1 customers" in result.output
    with in_context(app):
        customer = db.session.get(Customer, closed_case["customer"].id)
        assert (customer.email, customer.phone, customer.name) == (None, None, "")
        assert customer.anonymised_at is not None
        rma = db.session.get(Rma, closed_case["rma"].id)
        assert rma.anonymised_at is not None
        assert rma.ship_street == ""
        assert rma.ship_name == ""
        assert rma.lines[0].comment == ""
        assert rma.status == RmaStatus.CLOSED
        assert len(rma.lines) == 1
        messages = [e for e in rma.events if e.kind == EventKind.MESSAGE]
        assert messages
        assert all(e.note == "" for e in messages)
        assert rma.attachments == []
        labels = sa.select(Shipment.label_path).where(Shipment.rma_id == rma.id)
        assert db.session.scalar(labels) is None
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert entry.action == AuditAction.ANONYMISE
        assert entry.detail["cases"] == 1
    assert not closed_case["photo"].exists()
    assert not closed_case["label"].exists()
    for token in closed_case["links"]:
        assert client.get(f"/r/{token}").status_code == 404

    again = runner.invoke(args=["privacy", "anonymise", "--older-than", "90"])
    assert "anonymised: 0 cases, 0 customers" in again.output


def test_recent_and_open_business_keeps_its_data(app, closed_case, create_rma, create_order):
    customer = closed_case["customer"]
    create_order(customer=customer)  # bought again last week: may still return it
    open_case = create_rma(RmaType.RETURN, RmaStatus.SUBMITTED)
    recent = create_rma(RmaType.RETURN, RmaStatus.CLOSED)
    with in_context(app):
        _closed_long_ago(open_case, 200)  # waiting long, but not closed
        _closed_long_ago(recent, 10)
        db.session.commit()

        report = run(timedelta(days=90))

        assert (report.cases, report.customers) == (1, 0)
        assert db.session.get(Customer, customer.id).email == "hanako@example.jp"
        assert db.session.get(Rma, closed_case["rma"].id).anonymised_at is not None
        assert db.session.get(Rma, open_case.id).anonymised_at is None
        assert db.session.get(Rma, recent.id).anonymised_at is None


def test_the_period_must_be_a_positive_number_of_days(app):
    result = app.test_cli_runner().invoke(args=["privacy", "anonymise", "--older-than", "0"])
    assert result.exit_code == 2
    assert "--older-than" in result.output


def test_staff_see_an_anonymised_case_as_such_and_cannot_message_it(
    app, client, logged_in, closed_case
):
    run_result = app.test_cli_runner().invoke(args=["privacy", "anonymise", "--older-than", "90"])
    assert run_result.exit_code == 0
    logged_in(Role.SUPPORT)
    rma = closed_case["rma"]

    page = client.get(f"/staff/rmas/{rma.number}")
    assert "保存期間の規定により" in page.text
    assert "山田 花子" not in page.text
    assert f"/staff/rmas/{rma.number}/messages" not in page.text
    sent = client.post(
        f"/staff/rmas/{rma.number}/messages",
        data={"message-text": "ご連絡です", "csrf_token": csrf_token(page.text)},
    )
    assert sent.status_code == 422
    assert "匿名化済み" in sent.text
    with in_context(app):
        messages = db.session.scalars(
            sa.select(RmaEvent).where(RmaEvent.rma_id == rma.id, RmaEvent.kind == EventKind.MESSAGE)
        ).all()
        assert [m.note for m in messages] == [""]


def test_the_copy_of_a_purchase_request_kept_for_replays_loses_the_customer(
    ctx, subscribe, make_item
):
    item = make_item("A", price_yen=8_800, listed=True)
    subscribe("https://shop.example.jp/hooks/reverse", "resale.purchase_requested")
    contact = {"name": "佐藤 花子", "email": "sato@example.jp", "phone": None, "locale": "ja"}
    reservation, _token = resale.reserve(
        item.id, kind="purchase", contact=contact, pickup_location_id=None, actor=Actor.system("t")
    )
    db.session.commit()
    sent = (reservation.id, reservation.price_yen)
    long_ago = utcnow() - timedelta(days=200)
    reservation.state = ReservationState.CANCELLED
    reservation.created_at = long_ago
    reservation.customer.created_at = long_ago
    db.session.commit()

    report = run(timedelta(days=90))

    assert report.customers == 1
    delivery = db.session.scalars(sa.select(WebhookDelivery)).one()
    data = delivery.payload["data"]
    assert data["customer"] == {"name": None, "email": None, "phone": None, "locale": None}
    assert (data["reservation_id"], data["price_yen"]) == sent  # the rest stays as sent
