"""Summary tables of the dashboard: one row per case, per case line and per day of sales,
rebuilt together by `refresh` (a job and a CLI command), and the log of those refreshes.

They hold copies, never the truth: a refresh deletes and rebuilds them in one transaction, so
a reader sees either the previous set or the new one, never half of each."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reverse.core.db import UTCDateTime, utcnow
from reverse.extensions import db


class CaseFact(db.Model):
    """One return, exchange or repair: when it reached each stage, how it was settled, and
    the seconds each stage took (computed by the database at refresh time)."""

    __tablename__ = "analytics_case_facts"
    __table_args__ = (sa.Index("ix_analytics_case_facts_day_channel", "day", "channel_code"),)

    rma_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(sa.String(20))
    #: the case's status at the refresh
    status: Mapped[str] = mapped_column(sa.String(20))
    channel_code: Mapped[str] = mapped_column(sa.String(20))
    location_id: Mapped[int | None] = mapped_column(index=True)
    #: the Japan calendar day the case was filed: every date filter of the dashboard reads it
    day: Mapped[date] = mapped_column(sa.Date)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: first move to awaiting_item (the parcel's SLA starts), received, inspected, resolved
    awaiting_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: seconds submitted → received → inspected → resolved, and awaiting → received
    to_receive_s: Mapped[int | None]
    to_inspect_s: Mapped[int | None]
    to_resolve_s: Mapped[int | None]
    total_s: Mapped[int | None]
    receipt_wait_s: Mapped[int | None]
    #: refund, store_credit, exchange or rejected; None while undecided
    resolution: Mapped[str | None] = mapped_column(sa.String(20))
    #: the refund or credit recorded for the case (bonus excluded), in yen
    refund_yen: Mapped[int] = mapped_column(default=0)
    #: what the returned units were worth (paid price, else declared, else list price)
    value_yen: Mapped[int] = mapped_column(default=0)


class LineFact(db.Model):
    """One line of a return or exchange with what the dashboard groups it by."""

    __tablename__ = "analytics_line_facts"
    __table_args__ = (sa.Index("ix_analytics_line_facts_day_channel", "day", "channel_code"),)

    line_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    rma_id: Mapped[int] = mapped_column(index=True)
    day: Mapped[date] = mapped_column(sa.Date)
    channel_code: Mapped[str] = mapped_column(sa.String(20))
    location_id: Mapped[int | None] = mapped_column(index=True)
    #: the department store (or other shop) the item was bought at; "" for our own channels
    retailer: Mapped[str] = mapped_column(sa.String(120), default="")
    reason: Mapped[str] = mapped_column(sa.String(40), default="")
    variant_id: Mapped[int | None]
    product_id: Mapped[int | None]
    category: Mapped[str | None] = mapped_column(sa.String(20))
    quantity: Mapped[int] = mapped_column(default=1)


class SalesDay(db.Model):
    """Units sold (order lines known to us) per Japan day, channel, location and product: the
    denominator of every return rate."""

    __tablename__ = "analytics_sales_days"
    __table_args__ = (sa.Index("ix_analytics_sales_days_day_channel", "day", "channel_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date)
    channel_code: Mapped[str] = mapped_column(sa.String(20))
    location_id: Mapped[int | None]
    retailer: Mapped[str] = mapped_column(sa.String(120), default="")
    product_id: Mapped[int]
    category: Mapped[str] = mapped_column(sa.String(20))
    units: Mapped[int]


class ReturnDay(db.Model):
    """Units returned and sold per Japan day, channel and location, for one grouping
    (`dimension`: total, reason, product, category, channel, retailer) and its `key`: what
    every return-rate figure sums, a few thousand rows a year for all but products. Returned
    and sold units of one key may sit in separate rows (both are summed)."""

    __tablename__ = "analytics_return_days"
    __table_args__ = (
        sa.Index("ix_analytics_return_days_dimension_day", "dimension", "day", "channel_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dimension: Mapped[str] = mapped_column(sa.String(20))
    key: Mapped[str] = mapped_column(sa.String(120), default="")
    day: Mapped[date] = mapped_column(sa.Date)
    channel_code: Mapped[str] = mapped_column(sa.String(20))
    location_id: Mapped[int | None]
    returned: Mapped[int] = mapped_column(default=0)
    sold: Mapped[int] = mapped_column(default=0)
    #: cases behind `returned` (total rows only: a case counts once whatever its lines)
    cases: Mapped[int] = mapped_column(default=0)


class Refresh(db.Model):
    """One rebuild of the summary tables: the dashboard's "figures as of"."""

    __tablename__ = "analytics_refreshes"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the moment the copied data was read: later changes are not in the figures
    as_of: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    duration_ms: Mapped[int] = mapped_column(default=0)
    cases: Mapped[int] = mapped_column(default=0)
    lines: Mapped[int] = mapped_column(default=0)
    sales_rows: Mapped[int] = mapped_column(default=0)
