"""Carrier accounts admin (being built: this module is replaced by its owner)."""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("carriers", __name__, url_prefix="/carriers")


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    abort(404)
