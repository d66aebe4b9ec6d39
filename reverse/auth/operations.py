"""Staff accounts and their logins. No commits here; the caller commits."""

from __future__ import annotations

import secrets
from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

from reverse.auth.constants import Role
from reverse.auth.models import LoginSession, User
from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location
from reverse.core.db import utcnow
from reverse.core.errors import DomainError
from reverse.core.normalise import InvalidInput, nfkc
from reverse.core.normalise import email as normalise_email
from reverse.extensions import db

MIN_PASSWORD_LENGTH = 10
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class InvalidUser(DomainError):
    code = "invalid_user"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    email: str,
    name: str,
    password: str,
    role: Role | str,
    location: Location | None = None,
) -> User:
    errors: dict[str, str] = {}
    try:
        address = normalise_email(email)
    except InvalidInput:
        address = ""
        errors["email"] = str(_l("Enter a valid email address."))
    name = nfkc(name)
    if not name:
        errors["name"] = str(_l("Enter a name."))
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = str(_l("Use at least %(n)d characters.", n=MIN_PASSWORD_LENGTH))
    try:
        role = Role(role)
    except ValueError:
        errors["role"] = str(_l("Unknown role."))
    if role == Role.STORE and (
        location is None
        or location.kind not in (LocationKind.STORE, LocationKind.DEPARTMENT_STORE_COUNTER)
    ):
        errors["location"] = str(_l("Store staff must belong to a store or counter."))
    if address and db.session.scalar(sa.select(User.id).where(User.email == address)):
        errors["email"] = str(_l("A user with this email already exists."))
    if errors:
        raise InvalidUser(_l("The user could not be created."), **errors)
    user = User(
        email=address,
        name=name,
        password_hash=hash_password(password),
        role=Role(role),
        location=location,
    )
    db.session.add(user)
    db.session.flush()
    return user


def user_by_email(email: str) -> User | None:
    """The account with this email (as typed: normalised here), active or not."""
    try:
        address = normalise_email(email)
    except InvalidInput:
        return None
    return db.session.scalar(sa.select(User).where(User.email == address))


def authenticate(user: User | None, password: str) -> User | None:
    """`user` (the account `user_by_email` found, or None) when it is active and the password
    is right, else None (same cost either way)."""
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_session(user: User, lifetime: timedelta, user_agent: str = "") -> str:
    """Record a new login; returns the token the cookie will carry."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        LoginSession(
            token_hash=LoginSession.hash_token(token),
            user=user,
            created_at=now,
            expires_at=now + lifetime,
            user_agent=user_agent[:255],
        )
    )
    user.last_login_at = now
    user.session_token = token
    db.session.flush()
    return token


#: the user of a live login, built once: it runs on every staff request
_LIVE_LOGIN = (
    sa.select(User)
    .join(LoginSession, LoginSession.user_id == User.id)
    .where(
        LoginSession.token_hash == sa.bindparam("token_hash"),
        LoginSession.ended_at.is_(None),
        LoginSession.expires_at > sa.bindparam("now"),
        User.active,
    )
)


def user_for_token(token: str) -> User | None:
    """The user of a live login, or None when it ended, expired or never existed."""
    if not token:
        return None
    # One query for the session and its user.
    user = db.session.scalar(
        _LIVE_LOGIN, {"token_hash": LoginSession.hash_token(token), "now": utcnow()}
    )
    if user is None:
        return None
    user.session_token = token
    return user


def end_session(token: str) -> None:
    db.session.execute(
        sa.update(LoginSession)
        .where(LoginSession.token_hash == LoginSession.hash_token(token))
        .where(LoginSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
