"""Staff pages of pre-owned stock: list, filters, bulk actions, an item, reservations, pricing,
shelf tags."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("resale", __name__, url_prefix="/resale")
