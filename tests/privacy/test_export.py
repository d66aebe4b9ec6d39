"""A customer's data on request: one ZIP with everything held about them and their files."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import sqlalchemy as sa
from PIL import Image

from reverse.auth.constants import Role
from reverse.core.actors import Actor
from reverse.core.uploads import save_image
from reverse.extensions import db
from reverse.privacy.models import AuditAction, AuditEntry
from reverse.rmas.constants import AttachmentKind, RmaStatus, RmaType
from reverse.rmas.models import Attachment, Rma
from reverse.rmas.operations import add_internal_note, add_staff_message
from tests.fixtures.catalog import in_context


@pytest.fixture
def customer_with_case(app, create_customer, create_rma, create_order):
    customer = create_customer(email="hanako@example.jp", phone="+819012345678", name="山田 花子")
    order = create_order(customer=customer, number="W77700001")
    rma = create_rma(RmaType.RETURN, RmaStatus.SUBMITTED, customer=customer)
    with in_context(app):
        stored = db.session.get(Rma, rma.id)
        stored.ship_street = "神宮前1-2-3"
        add_staff_message(stored, "袖丈が合いませんでした", Actor.customer())
        add_internal_note(stored, "常連のお客様", Actor.system("support"))
        out = io.BytesIO()
        Image.new("RGB", (32, 32), "olive").save(out, format="JPEG")
        image = save_image(io.BytesIO(out.getvalue()))
        db.session.add(Attachment.of_image(image, kind=AttachmentKind.PHOTO, rma=stored))
        db.session.commit()
    return customer, rma, order, image.name


def _read(archive: bytes) -> tuple[dict, list[str]]:
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        return json.loads(z.read("data.json")), z.namelist()


@pytest.mark.databases
def test_support_downloads_everything_held_about_a_customer(
    app, client, logged_in, customer_with_case
):
    customer, rma, _order, photo = customer_with_case
    logged_in(Role.SUPPORT)
    page = client.get(f"/staff/support/customers/{customer.id}")
    link = f"/staff/support/customers/{customer.id}/export.zip"
    assert link in page.text

    response = client.get(link)

    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    data, names = _read(response.data)
    assert data["customer"]["email"] == "hanako@example.jp"
    assert data["customer"]["phone"] == "+819012345678"
    assert [o["number"] for o in data["orders"]] == ["W77700001"]
    (case,) = data["cases"]
    assert case["number"] == rma.display_number
    assert case["address"]["street"] == "神宮前1-2-3"
    texts = [e["text"] for e in case["timeline"]]
    assert "袖丈が合いませんでした" in texts
    assert "常連のお客様" not in json.dumps(data, ensure_ascii=False)  # staff's own notes
    assert f"files/{photo}" in names
    assert case["files"] == [f"files/{photo}"]
    with in_context(app):
        last = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (last.action, last.target) == (AuditAction.EXPORT, f"customer {customer.id}")


def test_the_command_finds_the_customer_by_a_phone_number_typed_in_full_width(
    app, tmp_path, customer_with_case
):
    _customer, rma, _order, _photo = customer_with_case
    out = tmp_path / "export.zip"

    result = app.test_cli_runner().invoke(
        args=["privacy", "export", "--phone", "０９０－１２３４－５６７８", "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    data, _names = _read(out.read_bytes())
    assert data["customer"]["name"] == "山田 花子"
    assert data["cases"][0]["number"] == rma.display_number
    with in_context(app):
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        assert (entry.action, entry.endpoint) == (AuditAction.EXPORT, "flask privacy export")


def test_the_command_says_so_when_nobody_matches(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["privacy", "export", "--email", "nobody@example.jp"])
    assert result.exit_code == 1
    assert "No customer matches." in result.output
    assert runner.invoke(args=["privacy", "export"]).exit_code == 2
