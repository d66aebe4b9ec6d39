"""Disposition rules admin (being built: this module is replaced by its owner)."""

from __future__ import annotations

from flask import Blueprint, abort

bp = Blueprint("dispositions", __name__, url_prefix="/dispositions")


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    abort(404)
