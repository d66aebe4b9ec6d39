"""Feeds of listed pre-owned items for other resale channels: JSON and CSV, changes since a time."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("feeds", __name__, url_prefix="/preowned/feed")
