"""Integrations and their API keys: create, issue a key (shown once), revoke, authenticate."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.api.constants import KEY_PREFIX, Scope
from reverse.api.models import ApiKey, Integration
from reverse.core.actors import Actor
from reverse.core.db import utcnow
from reverse.core.errors import DomainError
from reverse.extensions import db

#: last_used_at is written at most this often per key, not on every request
LAST_USED_EVERY = timedelta(minutes=5)


class IntegrationError(DomainError):
    code = "integration_error"


def create_integration(name: str, description: str = "") -> Integration:
    name = " ".join(name.split())
    if not name:
        raise IntegrationError(_l("Give the integration a name."), field="name")
    if len(name) > 80:
        raise IntegrationError(_l("At most 80 characters."), field="name")
    taken = db.session.scalar(sa.select(sa.exists().where(Integration.name == name)))
    if taken:
        raise IntegrationError(_l("An integration with this name already exists."), field="name")
    integration = Integration(name=name, description=description.strip())
    db.session.add(integration)
    db.session.flush()
    return integration


def set_integration_active(integration: Integration, active: bool) -> bool:
    """Switch an integration on or off; returns whether anything changed."""
    if integration.active == active:
        return False
    integration.active = active
    db.session.flush()
    return True


def _scopes(scopes: Iterable[str]) -> list[str]:
    chosen = set()
    for scope in scopes:
        try:
            chosen.add(Scope(scope))
        except ValueError:
            raise IntegrationError(
                _l("Unknown scope: %(scope)s", scope=scope), field="scopes"
            ) from None
    if not chosen:
        raise IntegrationError(_l("Choose at least one scope."), field="scopes")
    return [s.value for s in Scope if s in chosen]


def issue_key(
    integration: Integration, scopes: Iterable[str], actor: Actor, label: str = ""
) -> tuple[ApiKey, str]:
    """A new key for `integration`; returns it and the key itself, which is never stored."""
    visible = KEY_PREFIX + secrets.token_urlsafe(6)
    raw = f"{visible}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        integration=integration,
        prefix=visible,
        key_hash=ApiKey.hash_key(raw),
        scopes=_scopes(scopes),
        label=" ".join(label.split())[:80],
        created_at=utcnow(),
        created_by_label=actor.label,
    )
    db.session.add(key)
    db.session.flush()
    return key, raw


def revoke_key(key: ApiKey, actor: Actor) -> bool:
    """Revoke a key at once; returns False when it already was (a repeat changes nothing)."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    key.revoked_by_label = actor.label
    db.session.flush()
    return True


def key_for(raw: str) -> ApiKey | None:
    """The active key `raw` is, or None (unknown, revoked, or its integration switched off)."""
    if not raw.startswith(KEY_PREFIX) or len(raw) > 100:
        return None
    key = db.session.scalar(
        sa.select(ApiKey)
        .join(Integration)
        .where(ApiKey.key_hash == ApiKey.hash_key(raw), ApiKey.revoked_at.is_(None))
        .where(Integration.active.is_(True))
    )
    return key


def touch(key: ApiKey) -> bool:
    """Note that the key was used, at most every LAST_USED_EVERY (one conditional UPDATE);
    returns whether it wrote."""
    now = utcnow()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_EVERY:
        return False
    db.session.execute(
        sa.update(ApiKey)
        .where(ApiKey.id == key.id)
        .where(sa.or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_EVERY))
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return True


def integration_actor(key: ApiKey) -> Actor:
    """The actor of a change made through the API: the integration, by name."""
    from reverse.core.actors import ActorKind, EventChannel

    return Actor(ActorKind.INTEGRATION, EventChannel.API, label=key.integration.name)
