"""The application factory: configure, register extensions, blueprints, errors and commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request, session
from flask_login import current_user

from reverse.core.errors import register_error_handlers
from reverse.extensions import babel, csrf, db, limiter, login_manager, migrate
from reverse.settings import PRODUCTION, load_config

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | type | None = None) -> Flask:
    app = Flask(
        "reverse",
        instance_path=os.environ.get("REVERSE_INSTANCE_PATH") or str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    load_config(app, config)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def select_locale() -> str:
    """The visitor's choice from the switcher; Japanese otherwise (and outside requests,
    where jobs choose the customer's language with `force_locale`). The JSON API speaks
    English."""
    if has_request_context():
        if request.path.startswith("/api/"):
            return "en"  # other systems read the API's messages; they get one language
        lang = session.get("lang")
        if lang in ("ja", "en"):
            return lang
    return "ja"


def register_extensions(app: Flask) -> None:
    import reverse.models  # noqa: F401 - registers every mapper before the first query
    from reverse.core.db import configure_engine
    from reverse.webhooks import operations  # noqa: F401 - its listener emits rma.* webhooks

    db.init_app(app)
    with app.app_context():
        # Creating the engine does not connect; the listeners run on each new connection.
        configure_engine(db.engine)
    migrate.init_app(
        app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True
    )
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    from reverse.auth.operations import user_for_token

    login_manager.user_loader(user_for_token)


def register_blueprints(app: Flask) -> None:
    from reverse.auth.views import bp as auth_bp
    from reverse.portal.views import bp as portal_bp
    from reverse.resale.feeds import bp as feeds_bp
    from reverse.resale.shop import bp as shop_bp
    from reverse.staff.views import bp as staff_bp

    app.register_blueprint(portal_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(shop_bp)
    app.register_blueprint(feeds_bp)

    from reverse.api.blueprint import register_api
    from reverse.privacy import audit

    register_api(app)
    audit.register(app)


def register_template_helpers(app: Flask) -> None:
    from reverse.core import templating

    templating.init_app(app)

    hsts = (
        f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
        if app.config["ENV"] == PRODUCTION and app.config["HSTS_SECONDS"]
        else ""
    )

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # Older browsers that ignore CSP frame-ancestors still refuse to frame a page.
        response.headers.setdefault("X-Frame-Options", "DENY")
        if hsts:
            # Production is served over HTTPS only: browsers must never fall back to HTTP.
            response.headers.setdefault("Strict-Transport-Security", hsts)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        )
        if current_user.is_authenticated or request.path.startswith("/staff"):
            response.headers["Cache-Control"] = "no-store"
        return response


def register_commands(app: Flask) -> None:
    from reverse.analytics.cli import analytics_group
    from reverse.api.cli import api_group
    from reverse.auth.cli import users_group
    from reverse.demo.cli import demo_group
    from reverse.jobs.cli import outbox_group, serve_command, worker_command
    from reverse.orders.cli import orders_group
    from reverse.privacy.cli import privacy_group
    from reverse.resale.cli import resale_group
    from reverse.shipping.cli import shipping_group

    app.cli.add_command(analytics_group)
    app.cli.add_command(api_group)
    app.cli.add_command(users_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(outbox_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(shipping_group)
    app.cli.add_command(resale_group)
    app.cli.add_command(orders_group)
    app.cli.add_command(privacy_group)
