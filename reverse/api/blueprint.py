"""Registers the API's resources with flask-smorest, its docs page, and per-key limits."""

from __future__ import annotations

import hashlib

from flask import Flask, current_app
from flask_limiter.util import get_remote_address

from reverse.extensions import api, csrf, limiter


def api_rate_key() -> str:
    """Rate limits count per API key (its hash), or per address for calls without one."""
    from reverse.api.auth import presented_key

    raw = presented_key()
    return "key:" + hashlib.sha256(raw.encode()).hexdigest() if raw else get_remote_address()


def _api_limit() -> str:
    return current_app.config["API_RATE_LIMIT"]


def register_api(app: Flask) -> None:
    from reverse.api.docs import bp as docs_bp
    from reverse.api.intake import blp as intake_blp
    from reverse.api.orders import blp as orders_blp
    from reverse.api.products import blp as products_blp
    from reverse.api.refunds import blp as refunds_blp
    from reverse.api.resale import blp as resale_blp
    from reverse.api.rmas import blp as rmas_blp
    from reverse.api.tracking import blp as tracking_blp

    api.init_app(app)
    api.spec.components.security_scheme(
        "ApiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"}
    )
    api.spec.components.security_scheme("Bearer", {"type": "http", "scheme": "bearer"})
    api.spec.components.security_scheme(
        "CarrierSignature",
        {
            "type": "apiKey",
            "in": "header",
            "name": "X-Reverse-Signature",
            "description": 't=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body> with the '
            "carriers' shared secret (tracking events only)",
        },
    )
    for blp in (
        products_blp,
        orders_blp,
        rmas_blp,
        intake_blp,
        tracking_blp,
        resale_blp,
        refunds_blp,
    ):
        csrf.exempt(blp)  # machine-to-machine: authenticated by API key, not a cookie
        if not getattr(blp, "_rate_limited", False):
            # The limiter is unbound and shared by every app of the process (tests make
            # several): a blueprint's limit is declared to it once.
            limiter.limit(_api_limit, key_func=api_rate_key)(blp)
            blp._rate_limited = True  # type: ignore[attr-defined]
        api.register_blueprint(blp)
    app.register_blueprint(docs_bp)
