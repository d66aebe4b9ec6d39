"""Every model, imported in one place so that mappers, migrations and create_all see them all."""

from reverse.auth.models import LoginSession, User
from reverse.catalog.models import Channel, Location, Product, Variant
from reverse.customers.models import Customer
from reverse.jobs.models import OutboxMessage
from reverse.orders.models import Order, OrderLine
from reverse.rmas.models import Rma, RmaEvent, RmaLine
from reverse.shipping.models import Shipment

__all__ = [
    "Channel",
    "Customer",
    "Location",
    "LoginSession",
    "Order",
    "OrderLine",
    "OutboxMessage",
    "Product",
    "Rma",
    "RmaEvent",
    "RmaLine",
    "Shipment",
    "User",
    "Variant",
]
