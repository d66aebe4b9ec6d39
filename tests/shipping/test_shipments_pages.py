"""Staff print and export parcels; the customer downloads their label once it is ready."""

from __future__ import annotations

import csv
import io
import subprocess

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import LocationKind
from reverse.core.actors import Actor
from reverse.extensions import db
from reverse.rmas.constants import ReturnMethod, RmaStatus, RmaType
from reverse.rmas.operations import move_rma
from reverse.shipping.constants import Carrier
from reverse.shipping.exports import B2_HEADER
from reverse.shipping.models import CarrierAccount, Shipment
from reverse.shipping.operations import add_range
from reverse.shipping.tasks import render_shipment_label
from tests.conftest import csrf_token
from tests.fixtures.catalog import in_context


@pytest.fixture
def parcels(app, create_location, create_rma):
    """Two cases waiting for their item, each with a prepaid return label to the centre."""
    centre = create_location(
        LocationKind.RETURNS_CENTRE, code="RC-TEST", name_ja="市川返品センター"
    )
    with in_context(app):
        account = CarrierAccount(
            location_id=centre.id, carrier=Carrier.YAMATO, customer_code="0312345678"
        )
        db.session.add(account)
        db.session.flush()
        add_range(account, "12345678901", "12345678999")
        db.session.commit()
        for name in ("山田 花子", "髙橋 𠮷子"):
            rma = db.session.merge(create_rma(RmaType.RETURN, RmaStatus.APPROVED, location=centre))
            rma.return_method = ReturnMethod.PREPAID_LABEL
            rma.ship_name, rma.ship_postal_code = name, "150-0041"
            rma.ship_prefecture, rma.ship_city, rma.ship_street = "東京都", "渋谷区", "神南1-2-3"
            move_rma(rma, RmaStatus.AWAITING_ITEM, Actor.system("test"))
            db.session.commit()
        ids = list(db.session.scalars(sa.select(Shipment.id).order_by(Shipment.id)))
    return ids


def test_warehouse_prints_the_ticked_labels_as_one_pdf(app, client, logged_in, parcels):
    logged_in(Role.WAREHOUSE)
    page = client.get("/staff/shipments/")
    assert page.status_code == 200
    assert "123456789013" in page.text
    response = client.post(
        "/staff/shipments/print",
        data={
            "shipment": [str(i) for i in parcels],
            "layout": "thermal",
            "csrf_token": csrf_token(page.text),
        },
    )
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    info = subprocess.run(["pdfinfo", "-"], input=response.data, capture_output=True, check=True)
    assert b"Pages:           2" in info.stdout


def test_a_single_label_is_reprinted_even_before_its_job_ran(client, logged_in, parcels):
    logged_in(Role.WAREHOUSE)
    response = client.get(f"/staff/shipments/{parcels[0]}/label.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF")


def test_the_carrier_csv_reports_what_shift_jis_cannot_carry_first(client, logged_in, parcels):
    logged_in(Role.WAREHOUSE)
    page = client.get("/staff/shipments/")
    data = {"shipment": [str(i) for i in parcels], "csrf_token": csrf_token(page.text)}
    warning = client.post("/staff/shipments/export", data=data)
    assert warning.status_code == 422
    assert "U+20BB7" in warning.text

    confirmed = client.post(
        "/staff/shipments/export",
        data=data | {"accept_replacements": "1", "csrf_token": csrf_token(warning.text)},
    )
    assert confirmed.status_code == 200
    assert "Shift_JIS" in confirmed.headers["Content-Type"]
    rows = list(csv.reader(io.StringIO(confirmed.data.decode("cp932"), newline="")))
    assert tuple(rows[0]) == B2_HEADER
    names = {dict(zip(B2_HEADER, row, strict=True))["ご依頼主名"] for row in rows[1:]}
    assert names == {"山田 花子", "髙橋 〓子"}


def test_store_staff_do_not_see_the_centres_parcels(client, logged_in, parcels):
    logged_in(Role.STORE)
    assert "123456789013" not in client.get("/staff/shipments/").text
    assert client.get(f"/staff/shipments/{parcels[0]}/label.pdf").status_code == 404


def test_the_customer_gets_the_label_once_it_is_rendered(app, client, create_location, create_rma):
    centre = create_location(LocationKind.RETURNS_CENTRE, code="RC-C")
    with in_context(app):
        account = CarrierAccount(location_id=centre.id, carrier=Carrier.YAMATO, customer_code="1")
        db.session.add(account)
        db.session.flush()
        add_range(account, "22345678901", "22345678999")
        db.session.commit()
    rma = create_rma(RmaType.RETURN, RmaStatus.APPROVED, location=centre)
    token = rma.token
    with in_context(app):
        stored = db.session.merge(rma)
        stored.return_method = ReturnMethod.PREPAID_LABEL
        stored.ship_postal_code, stored.ship_prefecture = "150-0041", "東京都"
        move_rma(stored, RmaStatus.AWAITING_ITEM, Actor.system("test"))
        db.session.commit()
        shipment_id = db.session.scalars(sa.select(Shipment.id)).one()

    client.get("/lang/en")
    assert "preparing your shipping label" in client.get(f"/r/{token}").text
    assert client.get(f"/r/{token}/label.pdf").status_code == 404

    with app.app_context():
        render_shipment_label(shipment_id)
        db.session.commit()
    assert "Download your prepaid shipping label" in client.get(f"/r/{token}").text
    label = client.get(f"/r/{token}/label.pdf")
    assert label.status_code == 200
    assert label.data.startswith(b"%PDF")
    label.close()  # send_file streams from an open file


def test_accounts_and_ranges_from_the_command_line(app, create_location):
    create_location(LocationKind.STORE, code="ST-CLI")
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=[
            "shipping",
            "add-account",
            "--location",
            "ST-CLI",
            "--carrier",
            "sagawa",
            "--customer-code",
            "360012345",
        ]
    )
    assert created.exit_code == 0, created.output
    account_id = created.output.split()[1].rstrip(":")
    bad = runner.invoke(args=["shipping", "add-range", account_id, "123456789014", "123456789999"])
    assert bad.exit_code != 0
    assert "check digit" in bad.output or "チェック" in bad.output
    good = runner.invoke(args=["shipping", "add-range", account_id, "31004000000", "31004000099"])
    assert good.exit_code == 0, good.output
    assert "100" in good.output
    listing = runner.invoke(args=["shipping", "accounts"])
    assert "ST-CLI" in listing.output
    assert "100 left" in listing.output
