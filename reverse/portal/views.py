"""Customer pages: the front page, the language switch, and a case's private status page."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from reverse.rmas.constants import CUSTOMER_STATUS_TEXT, STATUS_TONES, TYPE_LABELS
from reverse.rmas.operations import rma_by_token

bp = Blueprint("portal", __name__)


@bp.route("/")
def home():
    return render_template("portal/home.html")


@bp.route("/lang/<code>")
def set_language(code: str):
    if code not in ("ja", "en"):
        abort(404)
    session["lang"] = code
    target = request.args.get("next", "")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or "\\" in target:
        target = url_for("portal.home")
    return redirect(target)


@bp.route("/r/<token>")
def status(token: str):
    rma = rma_by_token(token)
    if rma is None:
        abort(404)
    events = [e for e in rma.events if e.public]
    return (
        render_template(
            "portal/status.html",
            rma=rma,
            events=reversed(events),
            status_text=CUSTOMER_STATUS_TEXT,
            tones=STATUS_TONES,
            type_labels=TYPE_LABELS,
        ),
        200,
        {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"},
    )
