"""The inspection screen, the case page's units panel and the disposition rules admin,
driven through their HTTP forms."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from reverse.auth.constants import Role
from reverse.catalog.constants import Category, LocationKind
from reverse.catalog.models import StockLevel
from reverse.core.actors import Actor
from reverse.extensions import db
from reverse.intake.constants import Disposition, Grade
from reverse.intake.models import DispositionRule, Inspection, ReceiptUnit
from reverse.intake.operations import receive_parcel
from reverse.resale.models import ResaleItem
from reverse.rmas.constants import AttachmentKind, RmaStatus, RmaType
from reverse.rmas.models import Attachment, Rma, RmaLine
from tests.conftest import csrf_token
from tests.fixtures.auth import login
from tests.fixtures.catalog import in_context

GOOD = {
    "check_tags_attached": "yes",
    "check_worn": "no",
    "check_stains": "no",
    "check_odour": "no",
    "check_damage": "no",
}


@pytest.fixture
def centre(create_location):
    return create_location(LocationKind.RETURNS_CENTRE, code="RC-PAGES")


@pytest.fixture
def received(app, create_rma, create_variant, centre):
    """A return of two units of one shirt (¥10,000), taken in at the centre."""

    def make(quantity: int = 2, reason: str = "size_too_small", location=None) -> Rma:
        rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
        variant = create_variant(Category.TOPS, 10_000)
        with in_context(app):
            line = db.session.scalars(sa.select(RmaLine).where(RmaLine.rma_id == rma.id)).one()
            line.variant_id, line.quantity, line.reason = variant.id, quantity, reason
            line.comment = "首まわりがきつかったです"
            db.session.commit()
            where = (location or centre).id
            receive_parcel(rma.number, Actor.system("desk"), location_id=where)
            db.session.commit()
            return db.session.get(Rma, rma.id)

    return make


def unit_ids(app, rma: Rma) -> list[int]:
    with app.app_context():
        stmt = (
            sa.select(ReceiptUnit.id)
            .where(ReceiptUnit.rma_id == rma.id)
            .order_by(ReceiptUnit.unit_no)
        )
        return list(db.session.scalars(stmt))


def photo() -> tuple[io.BytesIO, str]:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), "olive").save(out, format="JPEG")
    out.seek(0)
    return out, "sleeve.jpg"


def inspect_via_form(client, unit_id: int, grade: str = "B", **extra):
    page = client.get(f"/staff/inspection/unit/{unit_id}")
    assert page.status_code == 200
    data = {**GOOD, "grade": grade, "notes": "", "csrf_token": csrf_token(page.text), **extra}
    return client.post(
        f"/staff/inspection/unit/{unit_id}", data=data, content_type="multipart/form-data"
    )


def decide_via_form(client, unit_id: int, disposition: str, reason: str = ""):
    page = client.get(f"/staff/inspection/unit/{unit_id}")
    return client.post(
        f"/staff/inspection/unit/{unit_id}/decide",
        data={
            "disposition": disposition,
            "override_reason": reason,
            "csrf_token": csrf_token(page.text),
        },
    )


def test_a_warehouse_user_inspects_and_decides_every_unit_through_the_forms(
    app, client, logged_in, received, centre
):
    rma = received(2)
    first, second = unit_ids(app, rma)
    logged_in(Role.WAREHOUSE, location=centre)
    client.get("/lang/en")

    listing = client.get("/staff/inspection/")
    assert listing.status_code == 200
    assert rma.display_number in listing.text
    assert f'href="/staff/inspection/unit/{first}"' in listing.text

    form = client.get(f"/staff/inspection/unit/{first}")
    assert "首まわりがきつかったです" in form.text  # the customer's comment
    assert "As new: unworn, tags attached" in form.text  # grade definitions shown
    assert 'accept="image/*" capture="environment"' in form.text

    saved = inspect_via_form(client, first, "B", photos=photo())
    assert saved.status_code == 302
    proposal = client.get(saved.headers["Location"])
    assert "Resale (pre-owned)" in proposal.text
    assert "built-in default for grade B" in proposal.text

    # Accepting goes on to the next unit of the case.
    accepted = decide_via_form(client, first, "resale")
    assert accepted.status_code == 302
    assert accepted.headers["Location"].endswith(f"/staff/inspection/unit/{second}")

    # An override without a reason is refused beside the field; with one it is kept.
    assert inspect_via_form(client, second, "A").status_code == 302
    refused = decide_via_form(client, second, "dispose")
    assert refused.status_code == 422
    assert "Give the reason" in refused.text
    done = decide_via_form(client, second, "dispose", "ボタンが割れている")
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/staff/inspection/")

    with app.app_context():
        case = db.session.get(Rma, rma.id)
        assert case.status == RmaStatus.INSPECTED
        decided = {
            i.unit_id: (i.disposition, i.override_reason)
            for i in db.session.scalars(sa.select(Inspection))
        }
        assert decided == {
            first: (Disposition.RESALE, ""),
            second: (Disposition.DISPOSE, "ボタンが割れている"),
        }
        item = db.session.scalars(sa.select(ResaleItem)).one()
        assert item.suggested_price_yen == 6_000
        kinds = db.session.scalars(
            sa.select(Attachment.kind).where(Attachment.unit_id == first)
        ).all()
        assert kinds == [AttachmentKind.INSPECTION]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StockLevel)) == 0

    # The case page shows each unit with grade, disposition and the override reason.
    detail = client.get(f"/staff/rmas/{rma.number}")
    assert "Received units" in detail.text
    assert "Override: ボタンが割れている" in detail.text
    assert "Resale (pre-owned)" in detail.text


def test_a_missing_checklist_answer_is_shown_and_nothing_saved(app, client, logged_in, received):
    rma = received(1)
    (unit_id,) = unit_ids(app, rma)
    logged_in(Role.WAREHOUSE)
    client.get("/lang/en")
    answers = {**GOOD}
    del answers["check_stains"]
    page = client.get(f"/staff/inspection/unit/{unit_id}")
    response = client.post(
        f"/staff/inspection/unit/{unit_id}",
        data={**answers, "grade": "A", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 422
    assert "Answer yes or no." in response.text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0


def test_a_form_without_its_csrf_token_is_refused(app, client, logged_in, received):
    rma = received(1)
    (unit_id,) = unit_ids(app, rma)
    logged_in(Role.WAREHOUSE)
    response = client.post(f"/staff/inspection/unit/{unit_id}", data={**GOOD, "grade": "A"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Inspection)) == 0


def test_staff_elsewhere_cannot_inspect(
    app, client, logged_in, received, create_location, create_user
):
    rma = received(1)
    (unit_id,) = unit_ids(app, rma)
    logged_in(Role.STORE)
    assert client.get(f"/staff/inspection/unit/{unit_id}").status_code == 403
    assert client.get("/staff/inspection/").status_code == 403

    # Warehouse staff of another centre neither see the case nor reach its units.
    other = create_location(LocationKind.RETURNS_CENTRE)
    user = create_user(Role.WAREHOUSE, location=other)
    elsewhere = app.test_client()
    assert login(elsewhere, user.email).status_code == 302
    assert rma.display_number not in elsewhere.get("/staff/inspection/").text
    assert elsewhere.get(f"/staff/inspection/unit/{unit_id}").status_code == 404


def test_the_case_page_shows_no_units_panel_before_the_parcel_arrives(
    client, logged_in, create_rma
):
    rma = create_rma(RmaType.RETURN, RmaStatus.IN_TRANSIT)
    logged_in(Role.SUPPORT)
    client.get("/lang/en")
    page = client.get(f"/staff/rmas/{rma.number}")
    assert page.status_code == 200
    assert "Received units" not in page.text


def test_an_admin_adds_a_rule_and_the_inspection_proposes_it(app, client, logged_in, received):
    logged_in(Role.ADMIN)
    client.get("/lang/en")
    page = client.get("/staff/dispositions/rules/new")
    assert page.status_code == 200
    rule_form = {
        "rma_type": "return",
        "reason": "size_too_small",
        "category": "tops",
        "grade": "B",
        "disposition": "refurbish",
        "note": "試着のしわはアイロン後に販売",
        "csrf_token": csrf_token(page.text),
    }
    created = client.post("/staff/dispositions/rules/new", data=rule_form)
    assert created.status_code == 302
    listing = client.get("/staff/dispositions/")
    assert "試着のしわはアイロン後に販売" in listing.text

    # The same rule again is refused with a message beside the fields.
    again = client.post("/staff/dispositions/rules/new", data=rule_form)
    assert again.status_code == 422
    assert "already matches" in again.text

    with app.app_context():
        rule_id = db.session.scalars(sa.select(DispositionRule.id)).one()
    tried = client.get(
        "/staff/dispositions/?rma_type=return&reason=size_too_small&category=tops&grade=B"
    )
    assert re.search(rf'Why: rule\s*<a href="#rule-{rule_id}">', tried.text)

    rma = received(1)
    (unit_id,) = unit_ids(app, rma)
    saved = inspect_via_form(client, unit_id, "B")
    assert saved.status_code == 302
    proposal = client.get(saved.headers["Location"])
    assert f"Proposed by rule #{rule_id}" in proposal.text
    with app.app_context():
        inspection = db.session.scalars(sa.select(Inspection)).one()
        assert (inspection.proposed_disposition, inspection.rule_id, inspection.grade) == (
            Disposition.REFURBISH,
            rule_id,
            Grade.B,
        )

    # Switched off, the rule no longer proposes anything.
    listing = client.get("/staff/dispositions/")
    off = client.post(
        f"/staff/dispositions/rules/{rule_id}/active",
        data={"active": "0", "csrf_token": csrf_token(listing.text)},
    )
    assert off.status_code == 302
    tried = client.get(
        "/staff/dispositions/?rma_type=return&reason=size_too_small&category=tops&grade=B"
    )
    assert "built-in default for grade B" in tried.text


def test_only_admins_edit_disposition_rules(client, logged_in):
    logged_in(Role.WAREHOUSE)
    assert client.get("/staff/dispositions/").status_code == 403
