"""Carrier tracking reports coming in: they move parcels and cases, and tell the customer.

Reports arrive through a signed webhook or a CSV file; the same report twice is recorded
once. A parcel's status only moves forward (a late "in transit" after "delivered" is kept
in the history but changes nothing).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.core.actors import Actor, ActorKind, EventChannel
from reverse.core.codes import is_valid_tracking_number
from reverse.core.db import lock_query, utcnow
from reverse.core.errors import DomainError
from reverse.core.i18n import N_
from reverse.core.normalise import digits_and_dashes, nfkc
from reverse.extensions import db
from reverse.resolution.constants import RefundRelease
from reverse.resolution.operations import on_release_point
from reverse.rmas.constants import RmaStatus
from reverse.rmas.operations import move_rma
from reverse.shipping.constants import Carrier, Direction, ShipmentStatus
from reverse.shipping.models import Shipment, TrackingEvent

#: carriers' words (English codes and the Japanese their screens use) → our status
STATUS_WORDS = {
    "picked_up": ShipmentStatus.IN_TRANSIT,
    "in_transit": ShipmentStatus.IN_TRANSIT,
    "out_for_delivery": ShipmentStatus.IN_TRANSIT,
    "delivered": ShipmentStatus.DELIVERED,
    "荷物受付": ShipmentStatus.IN_TRANSIT,
    "集荷": ShipmentStatus.IN_TRANSIT,
    "発送": ShipmentStatus.IN_TRANSIT,
    "発送済み": ShipmentStatus.IN_TRANSIT,
    "輸送中": ShipmentStatus.IN_TRANSIT,
    "配達中": ShipmentStatus.IN_TRANSIT,
    "配達完了": ShipmentStatus.DELIVERED,
    "お届け済み": ShipmentStatus.DELIVERED,
    "配達済み": ShipmentStatus.DELIVERED,
}
_ORDER = {
    ShipmentStatus.CREATED: 0,
    ShipmentStatus.LABEL_READY: 1,
    ShipmentStatus.IN_TRANSIT: 2,
    ShipmentStatus.DELIVERED: 3,
}
SIGNATURE_HEADER = "X-Reverse-Signature"
SIGNATURE_TOLERANCE_S = 300


class TrackingError(DomainError):
    code = "tracking_error"


class UnknownTrackingNumber(TrackingError):
    status = 404
    code = "unknown_tracking_number"


class BadSignature(DomainError):
    status = 401
    code = "bad_signature"


@dataclass(frozen=True)
class TrackingReport:
    tracking_number: str
    status: str
    occurred_at: datetime
    place: str = ""
    description: str = ""


def carrier_actor(carrier: Carrier) -> Actor:
    return Actor(ActorKind.SYSTEM, EventChannel.CARRIER, label=carrier.value)


def parse_status(word: str) -> ShipmentStatus:
    status = STATUS_WORDS.get(nfkc(word).lower()) or STATUS_WORDS.get(nfkc(word))
    if status is None:
        raise TrackingError(_l("Unknown tracking status “%(word)s”.", word=word), status=word)
    return status


def find_shipment(tracking_number: str) -> Shipment:
    number = digits_and_dashes(tracking_number)
    if not number.isdigit() or not 8 <= len(number) <= 20:
        raise TrackingError(_l("“%(n)s” is not a tracking number.", n=tracking_number))
    shipment = db.session.scalar(
        lock_query(sa.select(Shipment).where(Shipment.tracking_number == number))
    )
    if shipment is None:
        if len(number) == 12 and not is_valid_tracking_number(number):
            raise TrackingError(
                _l("%(n)s has a wrong check digit.", n=number), tracking_number=number
            )
        raise UnknownTrackingNumber(
            _l("No parcel with tracking number %(n)s.", n=number), tracking_number=number
        )
    return shipment


def record_tracking(report: TrackingReport, source: str) -> TrackingEvent | None:
    """Record one report; None when it was already recorded. Raises TrackingError."""
    if report.occurred_at.tzinfo is None:
        raise TrackingError(_l("The time of a tracking event needs a time zone."))
    status = parse_status(report.status)
    shipment = find_shipment(report.tracking_number)
    duplicate = db.session.scalar(
        sa.select(TrackingEvent.id).where(
            TrackingEvent.shipment_id == shipment.id,
            TrackingEvent.status == status,
            TrackingEvent.occurred_at == report.occurred_at,
        )
    )
    if duplicate:
        return None
    event = TrackingEvent(
        shipment_id=shipment.id,
        status=status,
        occurred_at=report.occurred_at,
        place=nfkc(report.place)[:120],
        description=nfkc(report.description)[:200],
        source=source,
    )
    db.session.add(event)
    if _ORDER.get(shipment.status, -1) < _ORDER[status]:
        shipment.status = status
        if status == ShipmentStatus.IN_TRANSIT and shipment.shipped_at is None:
            shipment.shipped_at = report.occurred_at
        if status == ShipmentStatus.DELIVERED:
            shipment.delivered_at = report.occurred_at
            shipment.shipped_at = shipment.shipped_at or report.occurred_at
        _move_case(shipment, status)
    db.session.flush()
    return event


def _move_case(shipment: Shipment, status: ShipmentStatus) -> None:
    rma = shipment.rma
    if rma is None:
        return
    actor = carrier_actor(shipment.carrier)
    if shipment.direction == Direction.TO_CENTRE:
        if rma.status in (RmaStatus.AWAITING_ITEM, RmaStatus.ACCEPTED):
            move_rma(rma, RmaStatus.IN_TRANSIT, actor)
            on_release_point(rma, RefundRelease.CARRIER_SCAN, actor)
        if status == ShipmentStatus.DELIVERED:
            rma.add_note(
                actor, N_("The parcel was delivered to our centre."), public=True, msgid=True
            )
    elif shipment.direction == Direction.TO_CUSTOMER:
        if status == ShipmentStatus.DELIVERED:
            rma.add_note(actor, N_("The parcel was delivered to you."), public=True, msgid=True)
        from reverse.repairs.operations import on_parcel_news  # repairs import shipping

        on_parcel_news(rma, shipment, status, actor)


# -- signed webhooks ---------------------------------------------------------------------------


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The signature header value for a body: "t=<unix time>,v1=<hex HMAC-SHA256>"."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(
    secret: str, body: bytes, header: str | None, now: float | None = None
) -> None:
    """Raise BadSignature unless `header` signs `body` with `secret` within 5 minutes."""
    if not secret:
        raise BadSignature(_l("Tracking webhooks are not configured."))
    parts = dict(p.split("=", 1) for p in (header or "").split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise BadSignature(_l("Missing or malformed signature.")) from exc
    if abs((now or time.time()) - timestamp) > SIGNATURE_TOLERANCE_S:
        raise BadSignature(_l("The signature has expired."))
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        raise BadSignature(_l("The signature does not match."))


# -- unused labels -----------------------------------------------------------------------------


def expire_unused_labels(days: int, now: datetime | None = None) -> int:
    """Cases whose return label went unused for `days` expire; returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=days)
    shipments = db.session.scalars(
        sa.select(Shipment).where(
            Shipment.direction == Direction.TO_CENTRE,
            Shipment.status.in_([ShipmentStatus.CREATED, ShipmentStatus.LABEL_READY]),
            Shipment.created_at < cutoff,
        )
    ).all()
    expired = 0
    for shipment in shipments:
        shipment.status = ShipmentStatus.EXPIRED
        rma = shipment.rma
        if rma is not None and rma.status == RmaStatus.AWAITING_ITEM:
            move_rma(rma, RmaStatus.EXPIRED, Actor.system("label expiry"))
            expired += 1
    db.session.flush()
    return expired
