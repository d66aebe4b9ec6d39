"""Store staff take a walk-in repair in at the counter and print its claim tag."""

from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import Category, ChannelCode, LocationKind
from reverse.core.dates import today_in_japan
from reverse.core.db import utcnow
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.jobs.models import OutboxMessage
from reverse.repairs.constants import Handback
from reverse.repairs.models import RepairOrder
from reverse.rmas.constants import AttachmentKind, ProofStatus, RmaSource, RmaStatus
from reverse.rmas.models import Attachment, Rma
from tests.conftest import csrf_token
from tests.fixtures.disk import DISK, noise_photo, pages, stored_size
from tests.staff.conftest import jpeg_bytes

PAGE = "/staff/repairs/counter"


@pytest.fixture(autouse=True)
def english(client):
    """The pages in English, so the messages checked below read the same once translated."""
    client.get("/lang/en")


@pytest.fixture
def counter(create_channel, create_location):
    """The channels a counter intake is judged by, and the repair centre."""
    create_channel(ChannelCode.DEPARTMENT_STORE, proof_required=True)
    create_channel(ChannelCode.WEB)
    create_location(LocationKind.REPAIR_CENTRE, code="REP")


def days_ago(n: int) -> str:
    return (utcnow().date() - timedelta(days=n)).isoformat()


def walk_in(**changes: object) -> dict[str, object]:
    """A bag bought at a department store two years ago: a paid repair."""
    return {
        "phone": "090-1234-5678",
        "email": "hanako@example.jp",
        "name": "山田 花子",
        "name_kana": "ヤマダ ハナコ",
        "locale": "ja",
        "description": "黒のレザートートバッグ",
        "place": "department_store",
        "retailer": "伊勢丹新宿店",
        "purchase_date": days_ago(730),
        "price_yen": "38500",
        "reason": "wear_and_tear",
        "symptom": "持ち手の付け根がほつれている",
        "condition_notes": "底に擦れ",
        "accessories": "保存袋",
        "estimate_min_yen": "5000",
        "estimate_max_yen": "12000",
        "handback": "store_pickup",
    } | changes


def post(client, fields, action="submit", files=None):
    page = client.get(PAGE)
    assert page.status_code == 200
    data = fields | {"action": action, "csrf_token": csrf_token(page.text)}
    if files is not None:
        data["photos"] = files
    return client.post(PAGE, data=data, content_type="multipart/form-data")


def accepted_number(response) -> str:
    assert response.status_code == 302, response.text
    match = re.search(r"/staff/repairs/counter/(R\d{10})$", response.headers["Location"])
    assert match, response.headers["Location"]
    return match.group(1)


def field_error(html: str, field: str) -> str:
    """The error shown beside a field, "" when there is none."""
    match = re.search(rf'id="{field}-error">(.*?)</p>', html, re.S)
    return match.group(1) if match else ""


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Rma, RepairOrder, Customer, Attachment, OutboxMessage)
        }


def case(app, number: str) -> Rma:
    with app.app_context():
        rma = db.session.scalar(sa.select(Rma).where(Rma.number == number))
        _ = (rma.repair, rma.lines, rma.customer, rma.attachments)
        db.session.expunge_all()
        return rma


def test_store_staff_take_in_a_paid_repair_of_a_department_store_bag(
    app, client, logged_in, counter, mailbox
):
    user = logged_in(Role.STORE)

    response = post(client, walk_in())

    number = accepted_number(response)
    rma = case(app, number)
    assert rma.status == RmaStatus.ACCEPTED
    assert rma.source == RmaSource.STORE_COUNTER
    assert rma.location_id == user.location_id
    assert rma.declared_retailer == "伊勢丹新宿店"
    assert rma.lines[0].description == "黒のレザートートバッグ"
    assert rma.lines[0].symptom == "持ち手の付け根がほつれている"
    assert rma.customer.name == "山田 花子"
    assert rma.proof_status == ProofStatus.PENDING  # the receipt was not seen
    repair = rma.repair
    assert not repair.warranty
    assert (repair.estimate_min_yen, repair.estimate_max_yen) == (5_000, 12_000)
    promise_days = timedelta(days=app.config["REPAIR_PROMISE_DAYS"])
    assert repair.promised_on == today_in_japan(utcnow()) + promise_days
    assert repair.handback == Handback.STORE_PICKUP
    assert repair.pickup_location_id == user.location_id
    assert (repair.condition_notes, repair.accessories) == ("底に擦れ", "保存袋")

    mails = [m for m in mailbox.mails() if "hanako@example.jp" in m[0]]
    assert len(mails) == 1
    assert "/r/" in mails[0][2]

    done = client.get(response.headers["Location"])
    assert done.status_code == 200
    assert f'href="/staff/repairs/{number}/claim-tag.pdf"' in done.text
    assert 'target="_blank"' in done.text
    assert "hanako@example.jp" in done.text  # where the status link went


def test_full_width_digits_from_a_japanese_keyboard_are_accepted(app, client, logged_in, counter):
    logged_in(Role.STORE)

    response = post(
        client,
        walk_in(
            phone="０９０－１２３４－５６７８",
            email="",
            price_yen="３８，５００円",
            estimate_min_yen="５，０００",
            estimate_max_yen="１２０００",
        ),
    )

    rma = case(app, accepted_number(response))
    assert rma.customer.phone == "+819012345678"
    assert rma.customer.email is None
    assert rma.declared_price_yen == 38_500
    assert (rma.repair.estimate_min_yen, rma.repair.estimate_max_yen) == (5_000, 12_000)
    done = client.get(f"{PAGE}/{rma.number}")
    assert "no status link" in done.text  # nobody to email: the page says so


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"symptom": "  "}, "symptom", "Describe what is wrong."),
        ({"phone": "", "email": ""}, "phone", "Enter a phone number or an email address."),
        (
            {"estimate_min_yen": "12000", "estimate_max_yen": "5000"},
            "estimate_max_yen",
            "The upper end of the estimate is below the lower end.",
        ),
        ({"retailer": ""}, "retailer", "Enter the shop"),
        ({"description": ""}, "query", "Pick the product from the results, or describe the item."),
    ],
)
def test_a_missing_or_wrong_detail_is_shown_beside_its_field_and_nothing_is_written(
    app, client, logged_in, counter, changes, field, message
):
    logged_in(Role.STORE)
    before = counts(app)

    response = post(client, walk_in(**changes))

    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert 'value="山田 花子"' in response.text  # what was typed is kept
    assert counts(app) == before


def test_a_defect_within_the_warranty_is_free_on_check_and_on_the_repair(
    app, client, logged_in, counter
):
    logged_in(Role.STORE)
    fields = walk_in(reason="defective", purchase_date=days_ago(100), receipt_seen="y")
    before = counts(app)

    checked = post(client, fields, action="check")

    assert checked.status_code == 200
    assert "Free repair under warranty" in checked.text
    assert counts(app) == before  # a check saves nothing

    rma = case(app, accepted_number(post(client, fields)))
    assert rma.repair.warranty is True
    assert rma.proof_status == ProofStatus.ACCEPTED  # the counter saw the receipt


def test_a_paid_repair_says_so_on_check(client, logged_in, counter):
    logged_in(Role.STORE)

    checked = post(client, walk_in(), action="check")

    assert checked.status_code == 200
    assert "Paid repair: the estimate applies" in checked.text


def test_a_scanned_jan_finds_the_product(client, logged_in, counter, create_variant):
    bag = create_variant(Category.BAGS, price_yen=38_500)
    logged_in(Role.STORE)
    full_width_jan = bag.jan.translate(str.maketrans("0123456789", "０１２３４５６７８９"))

    found = post(client, walk_in(description="", query=full_width_jan), action="refresh")

    assert found.status_code == 200
    assert bag.sku in found.text
    assert re.search(rf'name="variant_id" value="{bag.id}" checked', found.text)


def test_the_product_picked_is_the_item_of_the_repair(
    app, client, logged_in, counter, create_variant
):
    bag = create_variant(Category.BAGS, price_yen=38_500)
    logged_in(Role.STORE)

    response = post(client, walk_in(description="", query=bag.sku, variant_id=str(bag.id)))

    rma = case(app, accepted_number(response))
    assert rma.lines[0].variant_id == bag.id


def test_find_fills_in_a_known_customer(client, logged_in, counter, create_customer):
    create_customer(name="佐藤 一郎", email="ichiro@example.jp", phone="+819011112222")
    logged_in(Role.STORE)

    found = post(client, {"phone": "０９０ １１１１ ２２２２"}, action="find_customer")

    assert found.status_code == 200
    assert 'value="佐藤 一郎"' in found.text
    assert 'value="ichiro@example.jp"' in found.text


def test_another_store_gets_404_for_the_claim_tag(app, client, logged_in, counter, create_location):
    logged_in(Role.STORE)
    number = accepted_number(post(client, walk_in()))

    own = client.get(f"/staff/repairs/{number}/claim-tag.pdf")
    assert own.status_code == 200
    assert own.mimetype == "application/pdf"
    assert own.data.startswith(b"%PDF")

    client.post("/staff/logout", data={"csrf_token": csrf_token(client.get(PAGE).text)})
    logged_in(Role.STORE, location=create_location(LocationKind.STORE))
    assert client.get(f"/staff/repairs/{number}/claim-tag.pdf").status_code == 404
    assert client.get(f"{PAGE}/{number}").status_code == 404


def test_the_claim_tag_of_a_return_is_404(client, logged_in, create_rma):
    from reverse.rmas.constants import RmaType

    rma = create_rma(RmaType.RETURN, RmaStatus.SUBMITTED)
    logged_in(Role.ADMIN)

    assert client.get(f"/staff/repairs/{rma.number}/claim-tag.pdf").status_code == 404


def test_technicians_cannot_open_the_counter(client, logged_in):
    logged_in(Role.TECHNICIAN)

    assert client.get(PAGE).status_code == 403


def test_an_admin_chooses_the_counter(app, client, logged_in, counter, create_location):
    store = create_location(LocationKind.DEPARTMENT_STORE_COUNTER, retailer="阪急うめだ本店")
    logged_in(Role.ADMIN)

    missing = post(client, walk_in())
    assert missing.status_code == 422
    assert 'id="location_id-error"' in missing.text

    rma = case(app, accepted_number(post(client, walk_in(location_id=str(store.id)))))
    assert rma.location_id == store.id


def test_a_past_promised_date_is_refused_beside_the_field(app, client, logged_in, counter):
    logged_in(Role.STORE)
    before = counts(app)

    response = post(client, walk_in(promised_on=days_ago(1)))

    assert response.status_code == 422
    assert "The promised date is in the past." in field_error(response.text, "promised_on")
    assert counts(app) == before


def test_a_delivery_needs_the_address(app, client, logged_in, counter):
    logged_in(Role.STORE)

    missing = post(client, walk_in(handback="ship"))
    assert missing.status_code == 422
    assert 'id="postal_code-error"' in missing.text

    address = {
        "postal_code": "１５０－００４１",
        "prefecture": "東京都",
        "city": "渋谷区",
        "street": "神南1-2-3",
    }
    rma = case(app, accepted_number(post(client, walk_in(handback="ship", **address))))
    assert rma.repair.handback == Handback.SHIP
    assert rma.ship_postal_code == "150-0041"


def test_an_uploaded_photo_is_attached(app, client, logged_in, counter):
    logged_in(Role.STORE)

    response = post(client, walk_in(), files=[(io.BytesIO(jpeg_bytes()), "bag.jpg")])

    rma = case(app, accepted_number(response))
    assert [a.kind for a in rma.attachments] == [AttachmentKind.PHOTO]


def test_a_text_file_named_jpg_is_refused_with_a_message(app, client, logged_in, counter):
    logged_in(Role.STORE)
    before = counts(app)

    response = post(client, walk_in(), files=[(io.BytesIO(b"not a photo at all"), "bag.jpg")])

    assert response.status_code == 422
    assert "not a photo we can read" in field_error(response.text, "photos")
    assert "Choose the photos again" in response.text
    assert counts(app) == before


def test_more_than_five_photos_are_refused(app, client, logged_in, counter):
    logged_in(Role.STORE)
    before = counts(app)
    photos = [(io.BytesIO(jpeg_bytes()), f"{n}.jpg") for n in range(6)]

    response = post(client, walk_in(), files=photos)

    assert response.status_code == 422
    assert "At most 5 photos." in response.text
    assert counts(app) == before


def test_a_full_disk_at_the_counter_keeps_no_photo_and_no_case(
    app, client, logged_in, counter, tmp_path, small_disk
):
    """The second photo does not fit: the first one, already written, goes too, and no case,
    customer or repair is made (the staff member is told why, beside the photos)."""
    logged_in(Role.STORE)
    first, second = noise_photo(11), noise_photo(12)
    a, b = stored_size(app, tmp_path, first), stored_size(app, tmp_path, second)
    # room for the first photo and half of the second
    (small_disk / "other-files").write_bytes(b"\0" * (DISK - pages(a) - pages(b) // 2 - 4096))
    before = counts(app)

    response = post(
        client,
        walk_in(),
        files=[(io.BytesIO(first), "front.jpg"), (io.BytesIO(second), "back.jpg")],
    )

    assert response.status_code == 422
    assert "back.jpg: The photo could not be saved. Please try again." in field_error(
        response.text, "photos"
    )
    assert counts(app) == before
    assert sorted(os.listdir(small_disk)) == ["other-files"]


def test_photos_of_an_intake_the_repair_rules_refuse_are_not_kept(app, client, logged_in, counter):
    logged_in(Role.STORE)
    folder = app.config["UPLOAD_DIR"]
    kept = set(os.listdir(folder)) if os.path.isdir(folder) else set()
    before = counts(app)

    response = post(
        client,
        walk_in(promised_on=days_ago(1)),
        files=[(io.BytesIO(jpeg_bytes("maroon")), "front.jpg")],
    )

    assert response.status_code == 422
    assert "The promised date is in the past." in response.text
    assert counts(app) == before
    assert set(os.listdir(folder)) == kept
