"""Which cases a staff member may see and act on."""

from __future__ import annotations

from typing import Any

from reverse.auth.constants import Role
from reverse.auth.models import User
from reverse.core.actors import Actor, EventChannel
from reverse.rmas.constants import RmaType
from reverse.rmas.models import Rma

#: where a staff member's changes are made, by role
ROLE_CHANNELS = {
    Role.ADMIN: EventChannel.BACK_OFFICE,
    Role.SUPPORT: EventChannel.CALL_CENTRE,
    Role.WAREHOUSE: EventChannel.WAREHOUSE,
    Role.STORE: EventChannel.STORE,
    Role.TECHNICIAN: EventChannel.REPAIR_CENTRE,
}


def staff_actor(user: User) -> Actor:
    return Actor.staff(user, ROLE_CHANNELS[user.role])


def scope_rmas(stmt: Any, user: User) -> Any:
    """Limit a query on Rma to the cases this user may see."""
    if user.role == Role.STORE:
        return stmt.where(Rma.location_id == user.location_id)
    if user.role == Role.TECHNICIAN:
        return stmt.where(Rma.type == RmaType.REPAIR)
    if user.role == Role.WAREHOUSE:
        return stmt.where(Rma.type.in_([RmaType.RETURN, RmaType.EXCHANGE]))
    return stmt


def can_see(user: User, rma: Rma) -> bool:
    if user.role == Role.STORE:
        return rma.location_id is not None and rma.location_id == user.location_id
    if user.role == Role.TECHNICIAN:
        return rma.type == RmaType.REPAIR
    if user.role == Role.WAREHOUSE:
        return rma.type in (RmaType.RETURN, RmaType.EXCHANGE)
    return True
