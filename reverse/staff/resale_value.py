"""Recovered value: what resold units brought back against their original price."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("resale_value", __name__, url_prefix="/recovered-value")
