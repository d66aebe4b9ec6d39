"""Who did something and through which channel: passed into every operation explicitly."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class ActorKind(enum.StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"
    INTEGRATION = "integration"


class EventChannel(enum.StrEnum):
    """Where a change was made."""

    WEB = "web"
    STORE = "store"
    CALL_CENTRE = "call_centre"
    WAREHOUSE = "warehouse"
    REPAIR_CENTRE = "repair_centre"
    BACK_OFFICE = "back_office"
    API = "api"
    CARRIER = "carrier"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    channel: EventChannel
    user_id: int | None = None
    #: display name kept on the event, so the timeline survives a renamed or removed user
    label: str = ""

    @classmethod
    def staff(cls, user: Any, channel: EventChannel = EventChannel.BACK_OFFICE) -> Actor:
        return cls(ActorKind.STAFF, channel, user.id, user.name)

    @classmethod
    def customer(cls, channel: EventChannel = EventChannel.WEB) -> Actor:
        return cls(ActorKind.CUSTOMER, channel)

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(ActorKind.SYSTEM, EventChannel.SYSTEM, label=label)
