"""State changes of RMAs. Each takes models and an actor, flushes, and never commits."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError

from reverse.catalog.models import Channel, Location
from reverse.core.actors import Actor
from reverse.core.codes import new_rma_number
from reverse.core.db import lock_query
from reverse.core.errors import ConcurrentChange, DomainError, IllegalTransition
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.notifications.case_mail import enqueue_case_mail
from reverse.orders.models import Order
from reverse.rmas.constants import (
    PROOF_STATUS_LABELS,
    STATUS_LABELS,
    ProofStatus,
    ReturnMethod,
    RmaSource,
    RmaStatus,
    RmaType,
    moves_for,
)
from reverse.rmas.models import EventKind, Rma, RmaAccessLink, RmaEvent, RmaLine


@dataclass
class LineData:
    variant_id: int | None = None
    description: str = ""
    quantity: int = 1
    reason: str = ""
    comment: str = ""
    order_line_id: int | None = None
    wanted_variant_id: int | None = None
    symptom: str = ""


@dataclass
class RmaData:
    type: RmaType
    channel: Channel
    customer: Customer
    source: RmaSource = RmaSource.WEB
    lines: list[LineData] = field(default_factory=list)
    order: Order | None = None
    location: Location | None = None
    return_method: ReturnMethod | None = None
    declared_retailer: str = ""
    declared_purchase_date: date | None = None
    declared_price_yen: int | None = None
    initial_status: RmaStatus = RmaStatus.SUBMITTED
    note: str = ""


def _unused_number() -> str:
    while True:
        number = new_rma_number()
        exists = db.session.scalar(sa.select(sa.exists().where(Rma.number == number)))
        if not exists:
            return number


def create_rma(data: RmaData, actor: Actor) -> tuple[Rma, str]:
    """Open a case; returns it and the customer's private link token (shown or mailed once)."""
    token = secrets.token_urlsafe(32)
    rma = Rma(
        number=_unused_number(),
        access_token_hash=Rma.hash_token(token),
        type=data.type,
        source=data.source,
        channel=data.channel,
        customer=data.customer,
        order=data.order,
        location=data.location,
        return_method=data.return_method,
        declared_retailer=data.declared_retailer,
        declared_purchase_date=data.declared_purchase_date,
        declared_price_yen=data.declared_price_yen,
    )
    for line in data.lines:
        rma.lines.append(RmaLine(**line.__dict__))
    rma.start(data.initial_status, actor, note=data.note)
    db.session.add(rma)
    db.session.flush()
    enqueue_case_mail(rma.id, "reverse.rmas.tasks:rma_created", rma.id)
    return rma, token


def get_rma_for_update(rma_id: int) -> Rma:
    """Load an RMA holding its row lock (PostgreSQL) for the rest of the transaction."""
    stmt = lock_query(sa.select(Rma).where(Rma.id == rma_id)).execution_options(
        populate_existing=True
    )
    return db.session.execute(stmt).scalar_one()


def move_rma(
    rma: Rma, to: RmaStatus, actor: Actor, *, note: str = "", quiet: bool = False
) -> RmaEvent | None:
    """Move a case to `to` under its row lock; a repeat returns None and changes nothing.
    What a move brings with it (stock reserved for an exchange, the return label) always
    follows; `quiet` only leaves out the status mail, for a step the customer is told about
    in another mail (the filing confirmation, the last of several steps). Several moves of
    one case in one transaction send one mail, about the last (notifications.case_mail)."""
    rma = get_rma_for_update(rma.id)
    event = rma.transition(to, actor, note=note)
    if event is not None:
        try:
            db.session.flush()
        except StaleDataError as exc:
            # Only reachable where the row lock is missing: the version column still refuses
            # to let a second writer overwrite the first.
            raise ConcurrentChange(
                _l("Someone else changed this request at the same moment. Please try again.")
            ) from exc
        if not quiet:
            # One mail per case per transaction: a later move of this one replaces it.
            enqueue_case_mail(rma.id, "reverse.rmas.tasks:rma_status_changed", rma.id, event.id)
        from reverse.resolution.exchanges import on_case_moved  # imports rmas: not at the top

        on_case_moved(rma, to, actor)
        if to == RmaStatus.AWAITING_ITEM:
            from reverse.shipping.operations import prepare_for_sending

            prepare_for_sending(rma)
    return event


def rma_by_token(token: str) -> Rma | None:
    """The case a private link opens: the link made at submission or one mailed later."""
    if not token or len(token) > 100:
        return None
    digest = Rma.hash_token(token)
    rma = db.session.scalar(sa.select(Rma).where(Rma.access_token_hash == digest))
    if rma is None:
        rma = db.session.scalar(
            sa.select(Rma)
            .join(RmaAccessLink, RmaAccessLink.rma_id == Rma.id)
            .where(RmaAccessLink.token_hash == digest)
        )
    return rma


# -- staff decisions and messages --------------------------------------------------------------


class ProofAlreadyDecided(ConcurrentChange):
    """The proof of purchase was decided (differently) by someone else, or needs no check."""

    code = "proof_already_decided"


def _proof_moves(rma: Rma, accepted: bool) -> list[RmaStatus]:
    """The statuses a proof decision moves the case through, from where it stands now."""
    if not accepted:
        return [RmaStatus.REJECTED]
    if rma.type == RmaType.REPAIR:
        wanted = [RmaStatus.AWAITING_ITEM]
    else:
        wanted = [RmaStatus.APPROVED, RmaStatus.AWAITING_ITEM]
    # A case already further along (approved by hand, or a repair taken in at a counter)
    # only takes the steps still ahead of it.
    moves, status = [], rma.status
    for target in wanted:
        if target in moves_for(rma.type).get(status, frozenset()):
            moves.append(target)
            status = target
    return moves


def verify_proof(rma: Rma, accepted: bool, reason: str, actor: Actor) -> None:
    """Accept or reject a declared purchase's receipt and move the case on.

    Accepted: returns and exchanges are approved and wait for the item, repairs wait for the
    item. Rejected: the case is rejected with `reason`, which the customer reads on their page
    and in the mail. Only a pending proof is decided: the same decision again changes nothing,
    a different one (someone else decided first) raises ProofAlreadyDecided.
    """
    rma = get_rma_for_update(rma.id)
    decided = ProofStatus.ACCEPTED if accepted else ProofStatus.REJECTED
    if rma.proof_status == decided:
        return
    if rma.proof_status != ProofStatus.PENDING:
        raise ProofAlreadyDecided(
            _l(
                "The proof of purchase of this request was already decided: "
                "“%(status)s”. Nothing was changed.",
                status=PROOF_STATUS_LABELS[rma.proof_status],
            )
        )
    reason = reason.strip()
    if not accepted and not reason:
        raise DomainError(_l("Give the reason the customer will read."))
    moves = _proof_moves(rma, accepted)
    if not accepted and RmaStatus.REJECTED not in moves_for(rma.type).get(rma.status, ()):
        raise IllegalTransition(
            _l(
                "A request in “%(status)s” cannot be rejected any more.",
                status=STATUS_LABELS[rma.status],
            )
        )
    rma.proof_status = decided
    rma.decision_reason = reason
    # Staff-only record of the decision and who made it, whatever the status does (the
    # aggregate's own recorder: the model offers no public method for a NOTE with data).
    rma._record(
        EventKind.NOTE,
        None,
        None,
        actor,
        note=reason,
        public=False,
        data={"proof_status": decided.value},
    )
    # Intermediate steps quietly; the last one through move_rma, so the customer gets one mail
    # about where the case now stands (with the reason when rejected).
    for target in moves[:-1]:
        move_rma(rma, target, actor, quiet=True)
    if moves:
        move_rma(rma, moves[-1], actor, note=reason if not accepted else "")


def add_staff_message(rma: Rma, text: str, actor: Actor) -> RmaEvent:
    """A message to the customer, shown on their status page."""
    text = text.strip()
    if not text:
        raise DomainError(_l("Write a message first."))
    if rma.anonymised_at is not None:
        raise DomainError(_l("This case was anonymised: nobody would read a message on it."))
    # The model has add_note for NOTE events only; a MESSAGE goes through its recorder.
    event = rma._record(EventKind.MESSAGE, None, None, actor, note=text, public=True)
    db.session.flush()
    return event


def add_internal_note(rma: Rma, text: str, actor: Actor) -> RmaEvent:
    """A note for staff only; the customer never sees it."""
    text = text.strip()
    if not text:
        raise DomainError(_l("Write a note first."))
    event = rma.add_note(actor, text, public=False)
    db.session.flush()
    return event
