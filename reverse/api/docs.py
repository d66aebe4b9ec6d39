"""The API's interactive documentation, served from the app (Swagger UI vendored under
static/vendor, no CDN)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__)


@bp.route("/api/v1/docs")
def docs() -> str:
    return render_template("api/docs.html")
