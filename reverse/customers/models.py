"""Customers: no password, identified by a normalised email and/or phone number."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from reverse.core.db import TimestampMixin, UTCDateTime
from reverse.extensions import db


class Customer(TimestampMixin, db.Model):
    __tablename__ = "customers"
    __table_args__ = (
        sa.CheckConstraint(
            "email IS NOT NULL OR phone IS NOT NULL OR anonymised_at IS NOT NULL",
            name="reachable",
        ),
        sa.CheckConstraint("locale IN ('ja', 'en')", name="locale_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: lower-cased, validated email (normalise.email)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    #: E.164 ("+819012345678", normalise.phone)
    phone: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    #: reading in katakana, as Japanese forms ask for it
    name_kana: Mapped[str] = mapped_column(sa.String(120), default="")
    #: language of the emails we send
    locale: Mapped[str] = mapped_column(sa.String(2), default="ja")
    #: when `flask privacy anonymise` removed name, email and phone (the row stays, so that
    #: orders and cases keep their figures)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
