"""Staff users and their login sessions (kept server-side so that logout really ends them)."""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.auth.constants import Role
from reverse.catalog.models import Location
from reverse.core.db import TimestampMixin, UTCDateTime, enum_type, utcnow
from reverse.extensions import db


class User(TimestampMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("role != 'store' OR location_id IS NOT NULL", name="store_has_location"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: lower-cased login email
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    #: argon2id hash
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    #: the store a store user works at; the site other roles work at, if any
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(sa.String(2), default="ja")
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    location: Mapped[Location | None] = relationship()

    # Flask-Login protocol; the session id, not the user id, is what the cookie carries.
    is_authenticated = True
    is_anonymous = False

    #: the raw token of the login this object was loaded for (set by the login loader)
    session_token = None

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        return self.session_token

    def sees_only_location(self) -> int | None:
        """The one location whose cases this user may see, or None for every location."""
        return self.location_id if self.role == Role.STORE else None

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles


class LoginSession(db.Model):
    """One login. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str] = mapped_column(sa.String(255), default="")

    user: Mapped[User] = relationship()

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
