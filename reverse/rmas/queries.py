"""Cases for other systems: the list with its filters, a page at a time, and one case."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from reverse.catalog.constants import ChannelCode
from reverse.catalog.models import Channel
from reverse.core.codes import parse_rma_number
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.orders.models import Order
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma, RmaLine


@dataclass
class RmaFilters:
    status: RmaStatus | None = None
    type: RmaType | None = None
    channel: ChannelCode | None = None
    order_number: str | None = None
    #: normalised (lower-case email, E.164 phone)
    customer_email: str | None = None
    customer_phone: str | None = None
    created_since: datetime | None = None
    updated_since: datetime | None = None


def _loaded(stmt: sa.Select) -> sa.Select:
    return stmt.options(
        joinedload(Rma.channel),
        joinedload(Rma.customer),
        joinedload(Rma.location),
        joinedload(Rma.order).joinedload(Order.channel),
        selectinload(Rma.lines).options(
            joinedload(RmaLine.variant), joinedload(RmaLine.wanted_variant)
        ),
    )


def rma_page(filters: RmaFilters, *, after_id: int | None, limit: int) -> tuple[list[Rma], bool]:
    """Up to `limit` cases matching `filters` after the case `after_id`, in id order; and
    whether more follow."""
    stmt = sa.select(Rma)
    if filters.status is not None:
        stmt = stmt.where(Rma.status == filters.status)
    if filters.type is not None:
        stmt = stmt.where(Rma.type == filters.type)
    if filters.channel is not None:
        stmt = stmt.where(
            Rma.channel_id.in_(sa.select(Channel.id).where(Channel.code == filters.channel))
        )
    if filters.order_number:
        wanted = filters.order_number.upper().replace(" ", "")
        stmt = stmt.where(
            Rma.order_id.in_(sa.select(Order.id).where(sa.func.upper(Order.number) == wanted))
        )
    if filters.customer_email:
        stmt = stmt.where(
            Rma.customer_id.in_(
                sa.select(Customer.id).where(Customer.email == filters.customer_email)
            )
        )
    if filters.customer_phone:
        stmt = stmt.where(
            Rma.customer_id.in_(
                sa.select(Customer.id).where(Customer.phone == filters.customer_phone)
            )
        )
    if filters.created_since is not None:
        stmt = stmt.where(Rma.created_at >= filters.created_since)
    if filters.updated_since is not None:
        stmt = stmt.where(Rma.updated_at >= filters.updated_since)
    if after_id is not None:
        stmt = stmt.where(Rma.id > after_id)
    found = list(db.session.scalars(_loaded(stmt.order_by(Rma.id).limit(limit + 1))).unique())
    return found[:limit], len(found) > limit


def rma_by_number(number: str) -> Rma | None:
    """The case with this number as printed, typed or scanned (full-width is fine)."""
    canonical = parse_rma_number(number)
    if canonical is None:
        return None
    return db.session.scalar(
        _loaded(sa.select(Rma).where(Rma.number == canonical)).options(selectinload(Rma.events))
    )
