"""The RMA aggregate: one case, its lines, and its append-only timeline; the state machine."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.catalog.models import Channel, Location, Variant
from reverse.core.actors import Actor, ActorKind, EventChannel
from reverse.core.codes import format_rma_number
from reverse.core.db import TimestampMixin, UTCDateTime, enum_type, utcnow
from reverse.core.errors import IllegalTransition
from reverse.core.uploads import StoredImage
from reverse.customers.models import Customer
from reverse.extensions import db
from reverse.orders.models import Order, OrderLine
from reverse.resolution.constants import Resolution
from reverse.rmas.constants import (
    INITIAL_STATUSES,
    STATUS_LABELS,
    TERMINAL_STATUSES,
    AttachmentKind,
    ProofStatus,
    PurchasePlace,
    ReturnMethod,
    RmaSource,
    RmaStatus,
    RmaType,
    moves_for,
)


class EventKind(enum.StrEnum):
    CREATED = "created"
    STATUS_CHANGED = "status_changed"
    NOTE = "note"
    #: a message between the customer and us, shown on the status page
    MESSAGE = "message"


class Rma(TimestampMixin, db.Model):
    """One case a customer (or staff on their behalf) opened: a return, exchange or repair."""

    __tablename__ = "rmas"
    __table_args__ = (
        sa.CheckConstraint(
            "declared_price_yen IS NULL OR declared_price_yen >= 0", name="declared_price_ok"
        ),
        sa.Index("ix_rmas_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "R" + 9 digits + Damm check digit; printed, typed and scanned
    number: Mapped[str] = mapped_column(sa.String(11), unique=True)
    #: SHA-256 of the customer's private link token; the token itself is only ever emailed
    access_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    type: Mapped[RmaType] = mapped_column(enum_type(RmaType), index=True)
    status: Mapped[RmaStatus] = mapped_column(enum_type(RmaStatus), index=True)
    #: how the request reached us (web form, store counter, call centre, API)
    source: Mapped[RmaSource] = mapped_column(enum_type(RmaSource))
    #: where the item was bought
    channel_id: Mapped[int] = mapped_column(sa.ForeignKey("channels.id"), index=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customers.id"), index=True)
    #: the known purchase, when the channel told us about it
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    #: the store or centre responsible for the case now (store staff see their store's cases)
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"), index=True)
    return_method: Mapped[ReturnMethod | None] = mapped_column(enum_type(ReturnMethod))
    #: a purchase unknown to Reverse, as the customer declared it (department store, gift …)
    declared_retailer: Mapped[str] = mapped_column(sa.String(120), default="")
    declared_purchase_date: Mapped[date | None] = mapped_column(sa.Date)
    declared_price_yen: Mapped[int | None]
    #: where the customer said they bought it
    purchase_place: Mapped[PurchasePlace | None] = mapped_column(enum_type(PurchasePlace))
    #: a declared purchase waits for staff to check its receipt
    proof_status: Mapped[ProofStatus] = mapped_column(
        enum_type(ProofStatus), default=ProofStatus.NOT_NEEDED, index=True
    )
    #: why we rejected the request or the proof, in words the customer sees
    decision_reason: Mapped[str] = mapped_column(sa.Text, default="")
    #: where a label or pickup goes from: name, 〒, prefecture, city, street, building
    ship_name: Mapped[str] = mapped_column(sa.String(120), default="")
    ship_postal_code: Mapped[str] = mapped_column(sa.String(8), default="")
    ship_prefecture: Mapped[str] = mapped_column(sa.String(8), default="")
    ship_city: Mapped[str] = mapped_column(sa.String(80), default="")
    ship_street: Mapped[str] = mapped_column(sa.String(120), default="")
    ship_building: Mapped[str] = mapped_column(sa.String(120), default="")
    #: what the policy promised when the customer submitted (fees, estimate, window)
    outcome: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: refund the customer was shown before submitting, yen (None: decided after checking)
    refund_estimate_yen: Mapped[int | None]
    #: how the case is settled (refund, store credit, exchange, rejected); None until decided
    resolution: Mapped[Resolution | None] = mapped_column(enum_type(Resolution))
    #: when the status last changed: the age that queues and filters measure
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: when `flask privacy anonymise` removed the personal data of this closed case
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: optimistic lock: an UPDATE from a stale read fails instead of overwriting
    version_id: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version_id}

    channel: Mapped[Channel] = relationship()
    customer: Mapped[Customer] = relationship()
    order: Mapped[Order | None] = relationship()
    location: Mapped[Location | None] = relationship()
    lines: Mapped[list[RmaLine]] = relationship(
        back_populates="rma", order_by="RmaLine.id", cascade="all, delete-orphan"
    )
    events: Mapped[list[RmaEvent]] = relationship(
        back_populates="rma", order_by="RmaEvent.id", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="rma", order_by="Attachment.id"
    )

    @property
    def ship_address_lines(self) -> list[str]:
        if not self.ship_postal_code:
            return []
        lines = [
            f"〒{self.ship_postal_code}",
            f"{self.ship_prefecture}{self.ship_city}{self.ship_street}",
        ]
        if self.ship_building:
            lines.append(self.ship_building)
        return lines

    @property
    def display_number(self) -> str:
        return format_rma_number(self.number)

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATUSES

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def next_statuses(self) -> list[RmaStatus]:
        allowed = moves_for(self.type).get(self.status, frozenset())
        return [s for s in RmaStatus if s in allowed]

    def start(self, status: RmaStatus, actor: Actor, *, note: str = "") -> RmaEvent:
        """Put a new RMA in its first status and record the `created` event."""
        if status not in INITIAL_STATUSES[self.type]:
            raise IllegalTransition(
                _l("A %(type)s request cannot start as %(status)s.", type=self.type, status=status)
            )
        self.status = status
        self.status_changed_at = utcnow()
        return self._record(EventKind.CREATED, None, status, actor, note=note, public=True)

    def transition(
        self,
        to: RmaStatus,
        actor: Actor,
        *,
        note: str = "",
        public: bool = True,
        data: dict[str, Any] | None = None,
    ) -> RmaEvent | None:
        """Move to `to` and record it; None when already there (a repeat changes nothing).

        Raises IllegalTransition for a move the lifecycle of this type does not allow.
        """
        if self.status == to:
            return None
        if to not in moves_for(self.type).get(self.status, frozenset()):
            raise IllegalTransition(
                _l(
                    "This request cannot move from “%(source)s” to “%(target)s”.",
                    source=STATUS_LABELS[self.status],
                    target=STATUS_LABELS[to],
                ),
                from_status=self.status.value,
                to_status=to.value,
            )
        source = self.status
        self.status = to
        self.status_changed_at = utcnow()
        return self._record(
            EventKind.STATUS_CHANGED, source, to, actor, note=note, public=public, data=data
        )

    def add_note(
        self,
        actor: Actor,
        note: str,
        *,
        public: bool = False,
        msgid: bool = False,
        params: dict[str, Any] | None = None,
    ) -> RmaEvent:
        """A note on the timeline; `msgid` when `note` is a system message marked with N_,
        translated for each reader when shown (with `params` filled into its placeholders)."""
        data: dict[str, Any] | None = None
        if msgid:
            data = {"i18n": True, "params": params} if params else {"i18n": True}
        return self._record(EventKind.NOTE, None, None, actor, note=note, public=public, data=data)

    def _record(
        self,
        kind: EventKind,
        source: RmaStatus | None,
        target: RmaStatus | None,
        actor: Actor,
        *,
        note: str = "",
        public: bool = True,
        data: dict[str, Any] | None = None,
    ) -> RmaEvent:
        event = RmaEvent(
            kind=kind,
            from_status=source,
            to_status=target,
            actor_kind=actor.kind,
            actor_user_id=actor.user_id,
            actor_label=actor.label,
            channel=actor.channel,
            note=note,
            public=public,
            data=data or {},
            created_at=utcnow(),
        )
        self.events.append(event)
        return event


class RmaLine(db.Model):
    """One item in a case: what comes back, why, and what the customer wants instead."""

    __tablename__ = "rma_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("variant_id IS NOT NULL OR description != ''", name="item_identified"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("rmas.id"), index=True)
    #: the catalogue item, when known; items bought elsewhere may only have a description
    variant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("variants.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order_lines.id"), index=True)
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    quantity: Mapped[int] = mapped_column(default=1)
    #: reason code from the list of the request type (rmas.constants.REASONS)
    reason: Mapped[str] = mapped_column(sa.String(40), default="")
    #: the customer's own words
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    #: for exchanges: the variant wanted instead
    wanted_variant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("variants.id"))
    #: for repairs: what is wrong
    symptom: Mapped[str] = mapped_column(sa.Text, default="")

    rma: Mapped[Rma] = relationship(back_populates="lines")
    variant: Mapped[Variant | None] = relationship(foreign_keys=[variant_id])
    wanted_variant: Mapped[Variant | None] = relationship(foreign_keys=[wanted_variant_id])
    order_line: Mapped[OrderLine | None] = relationship()

    def label(self, locale: str) -> str:
        return self.variant.label(locale) if self.variant else self.description


class RmaEvent(db.Model):
    """One change to a case. Rows are only ever added: the timeline is the case's history."""

    __tablename__ = "rma_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("rmas.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind))
    from_status: Mapped[RmaStatus | None] = mapped_column(enum_type(RmaStatus))
    to_status: Mapped[RmaStatus | None] = mapped_column(enum_type(RmaStatus))
    actor_kind: Mapped[ActorKind] = mapped_column(enum_type(ActorKind))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: the actor's name at the time, so the timeline survives a renamed or removed user
    actor_label: Mapped[str] = mapped_column(sa.String(120), default="")
    channel: Mapped[EventChannel] = mapped_column(enum_type(EventChannel))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    #: shown on the customer's status page
    public: Mapped[bool] = mapped_column(default=True)
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    rma: Mapped[Rma] = relationship(back_populates="events")


@sa.event.listens_for(RmaEvent, "before_update")
@sa.event.listens_for(RmaEvent, "before_delete")
def _events_are_append_only(_mapper: Any, _connection: Any, target: RmaEvent) -> None:
    raise RuntimeError(f"RMA event {target.id} is append-only")


class RmaAccessLink(db.Model):
    """A further private link to a case ("find my request" mails a fresh one)."""

    __tablename__ = "rma_access_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(sa.ForeignKey("rmas.id"), index=True)
    #: SHA-256 of the token; the token itself is only in the customer's mail
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attachment(db.Model):
    """A photo or receipt: first on a portal draft, then on the case it became."""

    __tablename__ = "attachments"
    __table_args__ = (
        sa.CheckConstraint(
            "rma_id IS NOT NULL OR draft_id IS NOT NULL OR unexpected_parcel_id IS NOT NULL",
            name="owned",
        ),
        sa.CheckConstraint("size_bytes > 0", name="not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rmas.id"), index=True)
    draft_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("portal_drafts.id", ondelete="SET NULL"), index=True
    )
    #: which line of the request it shows (its position); None for the whole request
    line_no: Mapped[int | None]
    #: the received unit an inspection photo shows
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("receipt_units.id"), index=True)
    #: a parcel that matched no case, photographed at the desk
    unexpected_parcel_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("unexpected_parcels.id"), index=True
    )
    kind: Mapped[AttachmentKind] = mapped_column(enum_type(AttachmentKind))
    #: "<sha256>.jpg" under the upload folder (core.uploads)
    stored_name: Mapped[str] = mapped_column(sa.String(80))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size_bytes: Mapped[int]
    width: Mapped[int] = mapped_column(default=0)
    height: Mapped[int] = mapped_column(default=0)
    #: who added it ("customer" or a staff name)
    added_by: Mapped[str] = mapped_column(sa.String(120), default="customer")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    rma: Mapped[Rma | None] = relationship(back_populates="attachments")

    @classmethod
    def of_image(cls, image: StoredImage, *, kind: AttachmentKind, **owner: Any) -> Attachment:
        """An attachment for a photo stored by core.uploads.save_image; `owner` says whose it
        is (rma, draft_id, unit_id, unexpected_parcel_id, line_no, added_by)."""
        return cls(
            kind=kind,
            stored_name=image.name,
            content_type=image.content_type,
            size_bytes=image.size,
            width=image.width,
            height=image.height,
            **owner,
        )


def replay_status(events: Iterable[RmaEvent]) -> RmaStatus | None:
    """The status a timeline leads to: what the current status must always equal."""
    status: RmaStatus | None = None
    for event in events:
        if event.kind == EventKind.CREATED:
            status = event.to_status
        elif event.kind == EventKind.STATUS_CHANGED:
            if event.from_status != status:
                raise ValueError(f"event {event.id} starts from {event.from_status}, not {status}")
            status = event.to_status
    return status
