"""/api/v1/intake: a returns centre's own scanning system reports parcels received."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint

from reverse.api.auth import api_actor, require_scope
from reverse.api.constants import Scope
from reverse.api.idempotency import idempotent
from reverse.api.responses import errors
from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location
from reverse.core.errors import DomainError
from reverse.extensions import db
from reverse.intake.operations import ScanResult, receive_parcel
from reverse.intake.schemas import ScanCreateSchema, ScanResultSchema

blp = Blueprint(
    "api-intake",
    __name__,
    url_prefix="/api/v1/intake",
    description="Parcels received at a returns centre, each taken in once.",
)


class UnknownCentre(DomainError):
    code = "validation_error"


@blp.route("/scans", methods=["POST"])
@require_scope(Scope.INTAKE_WRITE)
@errors(404)
@idempotent
@blp.arguments(ScanCreateSchema)
@blp.response(200, ScanResultSchema)
def scan(data: dict[str, Any]) -> ScanResult:
    """Receive the parcel a scanned code points at (a repeat changes nothing: new is false)"""
    centre = db.session.scalar(
        sa.select(Location).where(
            sa.func.upper(Location.code) == data["location"],
            Location.kind == LocationKind.RETURNS_CENTRE,
            Location.active,
        )
    )
    if centre is None:
        message = _l("No returns centre has this code.")
        raise UnknownCentre(message, location=[message])
    return receive_parcel(data["code"], api_actor(), location_id=centre.id)
