"""Who did something and through which channel: passed into every operation explicitly."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l


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


ACTOR_KIND_LABELS = {
    ActorKind.CUSTOMER: _l("Customer"),
    ActorKind.STAFF: _l("Staff"),
    ActorKind.SYSTEM: _l("System"),
    ActorKind.INTEGRATION: _l("Integration"),
}

EVENT_CHANNEL_LABELS = {
    EventChannel.WEB: _l("Web"),
    EventChannel.STORE: _l("Store"),
    EventChannel.CALL_CENTRE: _l("Call centre"),
    EventChannel.WAREHOUSE: _l("Returns centre"),
    EventChannel.REPAIR_CENTRE: _l("Repair centre"),
    EventChannel.BACK_OFFICE: _l("Back office"),
    EventChannel.API: _l("API"),
    EventChannel.CARRIER: _l("Carrier"),
    EventChannel.SYSTEM: _l("System"),
}


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
