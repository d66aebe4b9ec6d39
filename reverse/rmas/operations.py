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
from reverse.core.errors import ConcurrentChange
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.jobs.outbox import enqueue
from reverse.orders.models import Order
from reverse.rmas.constants import ReturnMethod, RmaSource, RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaAccessLink, RmaEvent, RmaLine


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
    enqueue("reverse.rmas.tasks:rma_created", rma.id, queue="notifications")
    return rma, token


def get_rma_for_update(rma_id: int) -> Rma:
    """Load an RMA holding its row lock (PostgreSQL) for the rest of the transaction."""
    stmt = lock_query(sa.select(Rma).where(Rma.id == rma_id)).execution_options(
        populate_existing=True
    )
    return db.session.execute(stmt).scalar_one()


def move_rma(rma: Rma, to: RmaStatus, actor: Actor, *, note: str = "") -> RmaEvent | None:
    """Move a case to `to` under its row lock; a repeat returns None and changes nothing."""
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
        enqueue("reverse.rmas.tasks:rma_status_changed", rma.id, event.id, queue="notifications")
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
