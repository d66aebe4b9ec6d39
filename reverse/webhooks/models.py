"""Webhook subscriptions of integrations and each delivery of an event to one of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reverse.api.models import Integration
from reverse.core.db import TimestampMixin, UTCDateTime, enum_type, utcnow
from reverse.extensions import db
from reverse.webhooks.constants import DeliveryState


class WebhookSubscription(TimestampMixin, db.Model):
    """Where an integration wants to hear about events, and the secret it checks them with."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    integration_id: Mapped[int] = mapped_column(sa.ForeignKey("integrations.id"), index=True)
    #: the URL the events are POSTed to (https; plain http only outside production)
    url: Mapped[str] = mapped_column(sa.String(500))
    #: values of webhooks.constants.WebhookEvent
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: HMAC-SHA256 key of the signature; the receiver holds the same value
    secret: Mapped[str] = mapped_column(sa.String(80))
    active: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str] = mapped_column(sa.String(200), default="")

    integration: Mapped[Integration] = relationship()


class WebhookDelivery(db.Model):
    """One event sent (or to be sent) to one subscription; a replay is a new row."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.Index("ix_webhook_deliveries_subscription_created", "subscription_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_subscriptions.id"))
    #: the event's id, the same in a replay: receivers drop an id they have already seen
    event_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    event_type: Mapped[str] = mapped_column(sa.String(40))
    #: the JSON body sent, fixed when the event happened
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    state: Mapped[DeliveryState] = mapped_column(
        enum_type(DeliveryState), default=DeliveryState.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the delivery this one replays
    replay_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("webhook_deliveries.id"))
    #: the outbox job that sends it: its attempts tell the job's last try from the others
    outbox_message_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox_messages.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    subscription: Mapped[WebhookSubscription] = relationship()
