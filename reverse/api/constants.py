"""What an API key may do: one scope per kind of access."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Scope(enum.StrEnum):
    PRODUCTS_WRITE = "products:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    RMAS_READ = "rmas:read"
    RMAS_WRITE = "rmas:write"
    INTAKE_WRITE = "intake:write"
    TRACKING_WRITE = "tracking:write"
    RESALE_READ = "resale:read"
    REFUNDS_READ = "refunds:read"
    REFUNDS_WRITE = "refunds:write"


SCOPE_LABELS = {
    Scope.PRODUCTS_WRITE: _l("Create and update products and variants"),
    Scope.ORDERS_READ: _l("Read orders"),
    Scope.ORDERS_WRITE: _l("Create and update orders"),
    Scope.RMAS_READ: _l("Read requests"),
    Scope.RMAS_WRITE: _l("File requests and move them on"),
    Scope.INTAKE_WRITE: _l("Scan parcels in at a returns centre"),
    Scope.TRACKING_WRITE: _l("Report carrier tracking events"),
    Scope.RESALE_READ: _l("Read the pre-owned stock feed"),
    Scope.REFUNDS_READ: _l("Read refunds"),
    Scope.REFUNDS_WRITE: _l("Mark refunds settled"),
}

#: the header an API key travels in (besides `Authorization: Bearer …`)
API_KEY_HEADER = "X-API-Key"
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: set on a response replayed from an earlier request with the same Idempotency-Key
REPLAYED_HEADER = "Idempotent-Replayed"
#: a key's visible part: "rvk_" + 8 characters; the secret follows after "_"
KEY_PREFIX = "rvk_"
