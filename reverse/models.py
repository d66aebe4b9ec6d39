"""Every model, imported in one place so that mappers, migrations and create_all see them all."""

from reverse.analytics.models import CaseFact, LineFact, Refresh, ReturnDay, SalesDay
from reverse.api.models import ApiKey, IdempotencyRecord, Integration
from reverse.auth.models import LoginSession, User
from reverse.catalog.models import Channel, Location, Product, StockLevel, Variant
from reverse.customers.models import Customer
from reverse.intake.models import (
    DispositionRule,
    Inspection,
    Receipt,
    ReceiptUnit,
    UnexpectedParcel,
)
from reverse.jobs.models import OutboxMessage
from reverse.orders.models import Order, OrderLine
from reverse.policy.models import PolicyRule, ReturnTerms
from reverse.portal.models import PortalDraft
from reverse.privacy.models import AuditEntry
from reverse.repairs.models import (
    PriceListItem,
    RepairOrder,
    RepairQuote,
    RepairQuoteLine,
    RepairWorkEntry,
)
from reverse.resale.models import ResaleEvent, ResaleItem, ResalePriceRule, ResaleReservation
from reverse.resolution.models import Refund, StockReservation
from reverse.rmas.models import Attachment, Rma, RmaAccessLink, RmaEvent, RmaLine
from reverse.shipping.models import CarrierAccount, Shipment, TrackingEvent, TrackingRange
from reverse.webhooks.models import WebhookDelivery, WebhookSubscription

__all__ = [
    "ApiKey",
    "Attachment",
    "AuditEntry",
    "CarrierAccount",
    "CaseFact",
    "Channel",
    "Customer",
    "DispositionRule",
    "IdempotencyRecord",
    "Inspection",
    "Integration",
    "LineFact",
    "Location",
    "LoginSession",
    "Order",
    "OrderLine",
    "OutboxMessage",
    "PolicyRule",
    "PortalDraft",
    "PriceListItem",
    "Product",
    "Receipt",
    "ReceiptUnit",
    "Refresh",
    "Refund",
    "RepairOrder",
    "RepairQuote",
    "RepairQuoteLine",
    "RepairWorkEntry",
    "ResaleEvent",
    "ResaleItem",
    "ResalePriceRule",
    "ResaleReservation",
    "ReturnDay",
    "ReturnTerms",
    "Rma",
    "RmaAccessLink",
    "RmaEvent",
    "RmaLine",
    "SalesDay",
    "Shipment",
    "StockLevel",
    "StockReservation",
    "TrackingEvent",
    "TrackingRange",
    "UnexpectedParcel",
    "User",
    "Variant",
    "WebhookDelivery",
    "WebhookSubscription",
]
