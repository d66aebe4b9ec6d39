"""Return policy as admins set it: rules per channel × category × reason, and the shop's terms."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reverse.catalog.constants import Category, ChannelCode, WindowStart
from reverse.core.db import TimestampMixin, UTCDateTime, enum_type, utcnow
from reverse.extensions import db


class PolicyRule(TimestampMixin, db.Model):
    """A refinement of the channel's defaults. Empty match fields match anything; empty
    setting fields keep what a less specific rule (or the channel) said."""

    __tablename__ = "policy_rules"
    __table_args__ = (
        sa.CheckConstraint("window_days IS NULL OR window_days >= 0", name="window_ok"),
        sa.CheckConstraint(
            "return_shipping_fee_yen IS NULL OR return_shipping_fee_yen >= 0", name="fee_ok"
        ),
        sa.CheckConstraint(
            "restocking_fee_percent IS NULL OR restocking_fee_percent BETWEEN 0 AND 100",
            name="restocking_ok",
        ),
        sa.CheckConstraint("warranty_days IS NULL OR warranty_days >= 0", name="warranty_ok"),
        sa.CheckConstraint(
            "repair_decline_fee_yen IS NULL OR repair_decline_fee_yen >= 0",
            name="decline_fee_ok",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: match: where it was bought (None = any channel)
    channel_code: Mapped[ChannelCode | None] = mapped_column(enum_type(ChannelCode))
    #: match: product category (None = any)
    category: Mapped[Category | None] = mapped_column(enum_type(Category))
    #: match: reason code (None = any)
    reason: Mapped[str | None] = mapped_column(sa.String(40))
    #: days to start a return or exchange
    window_days: Mapped[int | None]
    window_start: Mapped[WindowStart | None] = mapped_column(enum_type(WindowStart))
    #: request types offered, e.g. ["return", "exchange"]
    allowed_types: Mapped[list[str] | None] = mapped_column(sa.JSON)
    #: a receipt or warranty card must be shown
    proof_required: Mapped[bool | None]
    #: deducted from a refund, unless the reason is our fault (defective, damaged, wrong item)
    return_shipping_fee_yen: Mapped[int | None]
    restocking_fee_percent: Mapped[int | None]
    #: repairs within this many days of purchase are free for defects
    warranty_days: Mapped[int | None]
    #: charged when a customer declines a repair quote (diagnosis and return), yen
    repair_decline_fee_yen: Mapped[int | None]
    #: approve without a person when nothing needs checking
    auto_approve: Mapped[bool | None]
    active: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(sa.String(200), default="")

    @property
    def specificity(self) -> int:
        return sum(x is not None for x in (self.channel_code, self.category, self.reason))


class ReturnTerms(db.Model):
    """The shop's stated return policy (返品特約) in one language, shown on the form and on
    the final confirmation screen as the mail-order law asks."""

    __tablename__ = "return_terms"

    locale: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    body: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(120), default="")
