"""Parcels: tracking numbers from carrier ranges (never twice, even in parallel), shipments,
and what their labels and carrier CSV rows say."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.catalog.models import Location
from reverse.core.actors import Actor
from reverse.core.codes import tracking_check_digit
from reverse.core.db import utcnow
from reverse.core.errors import DomainError
from reverse.core.normalise import code_text, digits_and_dashes, nfkc, phone_display
from reverse.extensions import db
from reverse.jobs.outbox import enqueue
from reverse.rmas.models import Rma
from reverse.shipping.constants import Carrier, Direction, Payment, ShipmentStatus
from reverse.shipping.exports import CsvParty, CsvShipment
from reverse.shipping.labels import LabelData, Party
from reverse.shipping.models import CarrierAccount, Shipment, TrackingRange

BODY_DIGITS = 11


class RangeExhausted(DomainError):
    status = 409
    code = "tracking_range_exhausted"


class InvalidRange(DomainError):
    code = "invalid_tracking_range"


def tracking_number(body: int) -> str:
    digits = f"{body:0{BODY_DIGITS}d}"
    return digits + str(tracking_check_digit(digits))


def _range_body(value: str, field: str) -> int:
    """The 11-digit body of a number as typed: full-width digits, hyphens and spaces are
    accepted, and a 12th digit must be the right check digit."""
    digits = digits_and_dashes(value)
    well_formed = digits.isascii() and digits.isdigit()
    if not well_formed or len(digits) not in (BODY_DIGITS, BODY_DIGITS + 1):
        raise InvalidRange(
            _l("Give 11-digit bodies or 12-digit tracking numbers."), field=field, number=digits
        )
    if len(digits) == BODY_DIGITS + 1:
        if tracking_check_digit(digits[:BODY_DIGITS]) != int(digits[-1]):
            raise InvalidRange(
                _l("%(n)s has a wrong check digit.", n=digits), field=field, number=digits
            )
        digits = digits[:BODY_DIGITS]
    return int(digits)


def add_range(account: CarrierAccount, first: str, last: str) -> TrackingRange:
    """Record a range the carrier issued, given as its first and last tracking numbers (or
    11-digit bodies). Overlapping an existing range of the same carrier is refused; the very
    same range of the same account again changes nothing."""
    low, high = _range_body(first, "first"), _range_body(last, "last")
    if low > high:
        raise InvalidRange(_l("The first number must not be after the last."), field="last")
    # Two admins adding overlapping ranges at once: the carrier's accounts are locked in one
    # order, so the second waits and then sees the first one's range (SQLite serialises anyway).
    db.session.execute(
        sa.select(CarrierAccount.id)
        .where(CarrierAccount.carrier == account.carrier)
        .order_by(CarrierAccount.id)
        .with_for_update()
    ).all()
    overlap = db.session.execute(
        sa.select(TrackingRange, CarrierAccount)
        .join(CarrierAccount, TrackingRange.account_id == CarrierAccount.id)
        .where(
            CarrierAccount.carrier == account.carrier,
            TrackingRange.first_body <= high,
            TrackingRange.last_body >= low,
        )
        .order_by(TrackingRange.first_body)
    ).first()
    if overlap:
        rng, owner = overlap
        if owner.id == account.id and (rng.first_body, rng.last_body) == (low, high):
            return rng  # the same range again (a resent form): already recorded
        raise _overlap_error(account, rng, owner)
    rng = TrackingRange(account=account, first_body=low, last_body=high, next_body=low)
    db.session.add(rng)
    db.session.flush()
    return rng


def _overlap_error(
    account: CarrierAccount, rng: TrackingRange, owner: CarrierAccount
) -> InvalidRange:
    """Say which recorded range is in the way, so the admin can check the carrier's paper."""
    first, last = tracking_number(rng.first_body), tracking_number(rng.last_body)
    if owner.id == account.id:
        message = _l(
            "This range overlaps %(first)s – %(last)s, already recorded for this account.",
            first=first,
            last=last,
        )
    else:
        message = _l(
            "This range overlaps %(first)s – %(last)s of the account %(code)s at %(location)s.",
            first=first,
            last=last,
            code=owner.customer_code,
            location=owner.location.code,
        )
    return InvalidRange(message, range=rng.id, account=owner.id)


def allocate_tracking_number(account: CarrierAccount) -> str:
    """The next unused tracking number of the account.

    A single conditional UPDATE … RETURNING takes the number: PostgreSQL's row lock and
    SQLite's write lock make a parallel caller wait and then take the following one."""
    range_ids = db.session.scalars(
        sa.select(TrackingRange.id)
        .where(
            TrackingRange.account_id == account.id,
            TrackingRange.next_body <= TrackingRange.last_body,
        )
        .order_by(TrackingRange.id)
    ).all()
    for range_id in range_ids:
        taken = db.session.execute(
            sa.update(TrackingRange)
            .where(
                TrackingRange.id == range_id,
                TrackingRange.next_body <= TrackingRange.last_body,
            )
            .values(next_body=TrackingRange.next_body + 1)
            .returning(TrackingRange.next_body)
            .execution_options(synchronize_session=False)
        ).scalar()
        if taken is not None:
            return tracking_number(taken - 1)
    raise RangeExhausted(
        _l("No tracking numbers are left for this carrier account. Add a new range."),
        account=account.id,
    )


# -- shipments and their labels ----------------------------------------------------------------

#: return methods for which we issue the customer a label (prepaid) or the driver brings one
LABELLED_METHODS = frozenset({"prepaid_label", "pickup"})


def carrier_account_for(location: Location, carrier: Carrier | None = None) -> CarrierAccount:
    stmt = sa.select(CarrierAccount).where(
        CarrierAccount.location_id == location.id, CarrierAccount.active
    )
    if carrier is not None:
        stmt = stmt.where(CarrierAccount.carrier == carrier)
    account = db.session.scalars(stmt.order_by(CarrierAccount.id)).first()
    if account is None:
        raise NoCarrierAccount(
            _l(
                "%(location)s has no carrier account. An admin must add one.",
                location=location.code,
            ),
            location=location.code,
        )
    return account


class NoCarrierAccount(DomainError):
    status = 409
    code = "no_carrier_account"


class InvalidAccount(DomainError):
    code = "invalid_carrier_account"


#: ご請求先顧客コード / お客様コード as the carrier wrote it, without grouping hyphens
_SHIPPER_CODE_RE = re.compile(r"[0-9A-Z]{4,20}")


def shipper_code(value: str) -> str:
    """The shipper code as stored and printed on slips and in carrier CSVs: NFKC, upper case,
    without the hyphens and spaces people type to group it ("０４７１-０００-０１００１")."""
    code = code_text(value).replace("-", "").replace(" ", "").upper()
    if not _SHIPPER_CODE_RE.fullmatch(code):
        raise InvalidAccount(
            _l("Give the shipper code as the carrier issued it: 4 to 20 letters or digits."),
            field="customer_code",
        )
    return code


def add_carrier_account(
    location: Location,
    carrier: Carrier,
    customer_code: str,
    *,
    name: str = "",
    active: bool = True,
) -> CarrierAccount:
    """A location's contract with a carrier. The same shipper code twice for one location and
    carrier is refused; the unique constraint catches two admins adding it at once."""
    code = shipper_code(customer_code)
    name = nfkc(name)
    if len(name) > 120:
        raise InvalidAccount(_l("The name is longer than 120 characters."), field="name")
    duplicate = _l("%(location)s already has this carrier account.", location=location.code)
    exists = db.session.scalar(
        sa.select(CarrierAccount.id).where(
            CarrierAccount.location_id == location.id,
            CarrierAccount.carrier == carrier,
            CarrierAccount.customer_code == code,
        )
    )
    if exists:
        raise InvalidAccount(duplicate, field="customer_code", account=exists)
    account = CarrierAccount(
        location=location, carrier=carrier, customer_code=code, name=name, active=active
    )
    try:
        with db.session.begin_nested():
            db.session.add(account)
    except sa.exc.IntegrityError as exc:
        raise InvalidAccount(duplicate, field="customer_code") from exc
    return account


def set_account_active(account: CarrierAccount, active: bool) -> bool:
    """Switch an account off (no new labels are issued under it; its ranges and parcels stay)
    or on again. Says whether anything changed: a repeated click changes nothing twice."""
    if account.active == active:
        return False
    account.active = active
    db.session.flush()
    return True


def _item_name(rma: Rma) -> str:
    kinds = {"return": "返品", "exchange": "交換", "repair": "修理"}
    return f"衣類・雑貨（{kinds[rma.type.value]} {rma.display_number}）"


def create_shipment(
    rma: Rma | None,
    direction: Direction,
    *,
    account: CarrierAccount,
    payment: Payment,
    from_location: Location | None = None,
    to_location: Location | None = None,
    item_name: str = "",
) -> Shipment:
    """A parcel with its tracking number, and the job that renders its label."""
    shipment = Shipment(
        rma_id=rma.id if rma else None,
        direction=direction,
        carrier=account.carrier,
        payment=payment,
        account_id=account.id,
        tracking_number=allocate_tracking_number(account),
        from_location_id=from_location.id if from_location else None,
        to_location_id=to_location.id if to_location else None,
        item_name=item_name or (_item_name(rma) if rma else ""),
    )
    db.session.add(shipment)
    db.session.flush()
    enqueue("reverse.shipping.tasks:render_shipment_label", shipment.id, queue="labels")
    return shipment


def return_shipment(rma: Rma) -> Shipment | None:
    """The case's live parcel to the centre, if one was issued (its label may still be
    rendering)."""
    return db.session.scalar(
        sa.select(Shipment)
        .where(
            Shipment.rma_id == rma.id,
            Shipment.direction == Direction.TO_CENTRE,
            Shipment.status.not_in([ShipmentStatus.CANCELLED, ShipmentStatus.EXPIRED]),
        )
        .order_by(Shipment.id.desc())
    )


def prepare_for_sending(rma: Rma) -> Shipment | None:
    """When a case waits for its item and the customer chose a label or a pickup, issue the
    return label to the centre (once)."""
    if rma.return_method is None or rma.return_method.value not in LABELLED_METHODS:
        return None
    if rma.location is None:
        return None
    existing = return_shipment(rma)
    if existing is not None:
        return existing
    try:
        return create_shipment(
            rma,
            Direction.TO_CENTRE,
            account=carrier_account_for(rma.location),
            payment=Payment.RECEIVER_PAYS,  # the brand pays: the slip is printed 着払い
            to_location=rma.location,
        )
    except (NoCarrierAccount, RangeExhausted) as exc:
        # The case goes on; staff see why no label was issued and can reprint one later.
        rma.add_note(Actor.system("labels"), str(exc.message), public=False)
        return None


def ship_to_customer(rma: Rma, from_location: Location, carrier: Carrier | None = None) -> Shipment:
    """An outbound parcel: an exchange replacement or a repaired item going home."""
    return create_shipment(
        rma,
        Direction.TO_CUSTOMER,
        account=carrier_account_for(from_location, carrier),
        payment=Payment.SENDER_PAYS,
        from_location=from_location,
    )


def transfer(
    rma: Rma | None, from_location: Location, to_location: Location, carrier: Carrier | None = None
) -> Shipment:
    """A parcel between a store and a centre, on the sending location's account."""
    return create_shipment(
        rma,
        Direction.TRANSFER,
        account=carrier_account_for(from_location, carrier),
        payment=Payment.SENDER_PAYS,
        from_location=from_location,
        to_location=to_location,
    )


def courier_transfer(rma: Rma, from_location: Location, to_location: Location) -> Shipment:
    """A parcel the in-house courier carries between our sites: no carrier number and no
    label; the case's own number (its claim tag) is what is scanned at the other end."""
    shipment = Shipment(
        rma_id=rma.id,
        direction=Direction.TRANSFER,
        carrier=Carrier.OWN,
        payment=Payment.SENDER_PAYS,
        status=ShipmentStatus.IN_TRANSIT,
        from_location_id=from_location.id,
        to_location_id=to_location.id,
        item_name=_item_name(rma),
        shipped_at=utcnow(),
    )
    db.session.add(shipment)
    db.session.flush()
    return shipment


def _location_party(location: Location) -> Party:
    return Party(
        name=location.name_ja,
        honorific="御中",
        postal_code=location.postal_code,
        address_lines=tuple(location.address_lines[1:]),
        phone=location.phone,
    )


def _customer_party(rma: Rma) -> Party:
    lines = rma.ship_address_lines
    return Party(
        name=rma.ship_name or rma.customer.name,
        honorific="様",
        postal_code=rma.ship_postal_code,
        address_lines=tuple(lines[1:]),
        phone=phone_display(rma.customer.phone),
    )


def label_data(shipment: Shipment) -> LabelData:
    """What the slip says, from the shipment, its case and its locations."""
    rma = shipment.rma
    customer = _customer_party(rma) if rma else None
    origin = _location_party(shipment.from_location) if shipment.from_location else customer
    target = _location_party(shipment.to_location) if shipment.to_location else customer
    if origin is None or target is None:
        raise DomainError(_l("This parcel has no sender or no recipient address."))
    account = db.session.get(CarrierAccount, shipment.account_id) if shipment.account_id else None
    return LabelData(
        carrier=shipment.carrier.value,
        tracking_number=shipment.tracking_number or "",
        payment=shipment.payment.value,
        to=target,
        sender=origin,
        item_name=shipment.item_name,
        rma_number=rma.number if rma else None,
        rma_display=rma.display_number if rma else None,
        shipper_code=account.customer_code if account else "",
        ship_date=None,
    )


def _csv_party(party: Party) -> CsvParty:
    first, *rest = (*party.address_lines, "")
    return CsvParty(
        party.name,
        party.postal_code,
        first,
        " ".join(x for x in rest if x),
        party.phone,
        party.honorific,
    )


def csv_shipment(shipment: Shipment, ship_date: date) -> CsvShipment:
    """The parcel as a carrier-CSV row: the same parties the label prints."""
    data = label_data(shipment)
    return CsvShipment(
        reference=shipment.rma.number if shipment.rma else f"S{shipment.id}",
        carrier=shipment.carrier.value,
        payment=shipment.payment,
        tracking_number=shipment.tracking_number or "",
        ship_date=ship_date,
        to=_csv_party(data.to),
        sender=_csv_party(data.sender),
        item_name=shipment.item_name,
        shipper_code=data.shipper_code,
    )
