"""Tracking numbers: allocated from carrier-issued ranges, never twice, even in parallel."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.core.codes import tracking_check_digit
from reverse.core.errors import DomainError
from reverse.extensions import db
from reverse.shipping.models import CarrierAccount, TrackingRange

BODY_DIGITS = 11


class RangeExhausted(DomainError):
    status = 409
    code = "tracking_range_exhausted"


class InvalidRange(DomainError):
    code = "invalid_tracking_range"


def tracking_number(body: int) -> str:
    digits = f"{body:0{BODY_DIGITS}d}"
    return digits + str(tracking_check_digit(digits))


def add_range(account: CarrierAccount, first: str, last: str) -> TrackingRange:
    """Record a range the carrier issued, given as its first and last tracking numbers (or
    11-digit bodies). Overlapping an existing range of the same carrier is refused."""
    bodies = []
    for value in (first, last):
        digits = value.strip()
        if len(digits) == BODY_DIGITS + 1 and digits.isdigit():
            if tracking_check_digit(digits[:BODY_DIGITS]) != int(digits[-1]):
                raise InvalidRange(_l("%(n)s has a wrong check digit.", n=digits), number=digits)
            digits = digits[:BODY_DIGITS]
        if len(digits) != BODY_DIGITS or not digits.isdigit():
            raise InvalidRange(_l("Give 11-digit bodies or 12-digit tracking numbers."))
        bodies.append(int(digits))
    low, high = bodies
    if low > high:
        raise InvalidRange(_l("The first number must not be after the last."))
    overlap = db.session.scalar(
        sa.select(TrackingRange.id)
        .join(CarrierAccount, TrackingRange.account_id == CarrierAccount.id)
        .where(
            CarrierAccount.carrier == account.carrier,
            TrackingRange.first_body <= high,
            TrackingRange.last_body >= low,
        )
    )
    if overlap:
        raise InvalidRange(_l("This range overlaps a range already recorded for the carrier."))
    rng = TrackingRange(account=account, first_body=low, last_body=high, next_body=low)
    db.session.add(rng)
    db.session.flush()
    return rng


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
