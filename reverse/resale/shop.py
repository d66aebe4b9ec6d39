"""The pre-owned shop: public pages to browse graded items and reserve or buy one."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("shop", __name__, url_prefix="/preowned")
