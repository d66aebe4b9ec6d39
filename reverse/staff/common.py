"""What every staff page shares: label tables for the templates and finding a visible case."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from reverse.auth.constants import ROLE_LABELS
from reverse.catalog.constants import CATEGORY_LABELS, CHANNEL_LABELS, LOCATION_KIND_LABELS
from reverse.core.actors import ACTOR_KIND_LABELS, EVENT_CHANNEL_LABELS
from reverse.core.codes import parse_rma_number
from reverse.extensions import db
from reverse.rmas.constants import (
    PROOF_STATUS_LABELS,
    PURCHASE_PLACE_LABELS,
    REASON_LABELS,
    RETURN_METHOD_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    STATUS_TONES,
    TERMINAL_STATUSES,
    TYPE_LABELS,
    AttachmentKind,
    ProofStatus,
)
from reverse.rmas.models import Rma
from reverse.rmas.policies import can_see

ATTACHMENT_KIND_LABELS = {
    AttachmentKind.PHOTO: _l("Photo of the item"),
    AttachmentKind.RECEIPT: _l("Receipt or warranty card"),
    AttachmentKind.TAG: _l("Product tag"),
    AttachmentKind.INSPECTION: _l("Inspection photo"),
    AttachmentKind.PARCEL: _l("Unexpected parcel"),
}

#: badge colour of a proof status
PROOF_TONES = {
    ProofStatus.PENDING: "warn",
    ProofStatus.ACCEPTED: "good",
    ProofStatus.REJECTED: "bad",
    ProofStatus.NOT_NEEDED: "muted",
}

LABELS = {
    "status": STATUS_LABELS,
    "tone": STATUS_TONES,
    "type": TYPE_LABELS,
    "channel": CHANNEL_LABELS,
    "source": SOURCE_LABELS,
    "method": RETURN_METHOD_LABELS,
    "role": ROLE_LABELS,
    "reason": REASON_LABELS,
    "location_kind": LOCATION_KIND_LABELS,
    "actor_kind": ACTOR_KIND_LABELS,
    "event_channel": EVENT_CHANNEL_LABELS,
    "proof": PROOF_STATUS_LABELS,
    "proof_tone": PROOF_TONES,
    "place": PURCHASE_PLACE_LABELS,
    "category": CATEGORY_LABELS,
    "attachment_kind": ATTACHMENT_KIND_LABELS,
}


def visible_rma(number: str) -> Rma:
    """The case with this number if the logged-in staff member may see it; 404 otherwise."""
    canonical = parse_rma_number(number)
    rma = db.session.scalar(sa.select(Rma).where(Rma.number == canonical)) if canonical else None
    # Someone else's case looks exactly like a missing one: no hint that it exists.
    if rma is None or not can_see(current_user, rma):
        abort(404)
    return rma


def pending_proofs() -> sa.Select[tuple[Rma]]:
    """Open cases whose declared purchase waits for a person to check the receipt."""
    return sa.select(Rma).where(
        Rma.proof_status == ProofStatus.PENDING, Rma.status.not_in(list(TERMINAL_STATUSES))
    )


def pending_proof_count() -> int:
    stmt = pending_proofs().with_only_columns(sa.func.count(Rma.id))
    return db.session.scalar(stmt) or 0
