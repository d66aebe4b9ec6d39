"""Carriers, shipment directions and states."""

import enum

from flask_babel import lazy_gettext as _l


class Carrier(enum.StrEnum):
    YAMATO = "yamato"
    SAGAWA = "sagawa"
    JAPAN_POST = "japan_post"
    OWN = "own"


class Direction(enum.StrEnum):
    TO_CENTRE = "to_centre"  # customer → returns / repair centre
    TO_CUSTOMER = "to_customer"  # centre → customer
    TRANSFER = "transfer"  # store ↔ repair centre, store ↔ returns centre


class ShipmentStatus(enum.StrEnum):
    CREATED = "created"
    LABEL_READY = "label_ready"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Payment(enum.StrEnum):
    SENDER_PAYS = "sender_pays"  # 元払い / 発払い
    RECEIVER_PAYS = "receiver_pays"  # 着払い


CARRIER_LABELS = {
    Carrier.YAMATO: _l("Yamato Transport"),
    Carrier.SAGAWA: _l("Sagawa Express"),
    Carrier.JAPAN_POST: _l("Japan Post (Yu-Pack)"),
    Carrier.OWN: _l("In-house courier"),
}

DIRECTION_LABELS = {
    Direction.TO_CENTRE: _l("Customer to centre"),
    Direction.TO_CUSTOMER: _l("Centre to customer"),
    Direction.TRANSFER: _l("Transfer"),
}

SHIPMENT_STATUS_LABELS = {
    ShipmentStatus.CREATED: _l("Created"),
    ShipmentStatus.LABEL_READY: _l("Label ready"),
    ShipmentStatus.IN_TRANSIT: _l("In transit"),
    ShipmentStatus.DELIVERED: _l("Delivered"),
    ShipmentStatus.EXPIRED: _l("Expired"),
    ShipmentStatus.CANCELLED: _l("Cancelled"),
}
