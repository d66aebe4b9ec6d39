"""Template filters and globals shared by every page, PDF and email."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, request, url_for
from flask_babel import get_locale

from reverse.core.barcodes import code128_svg, qr_svg
from reverse.core.dates import TOKYO
from reverse.core.money import format_yen
from reverse.core.normalise import phone_display


def locale_code() -> str:
    return str(get_locale() or "ja")


def local_datetime(value: datetime | None, with_time: bool = True) -> str:
    if value is None:
        return ""
    local = value.astimezone(TOKYO)
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")


def yen(amount: int | None) -> str:
    return format_yen(amount, locale_code())


def url_with(**changes: Any) -> str:
    """The current URL with some query arguments changed (filters, pages)."""
    args = request.args.to_dict()
    args.update({k: v for k, v in changes.items() if v is not None})
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
    return url_for(request.endpoint or "portal.home", **(request.view_args or {}), **args)


def note_text(event: Any) -> str:
    """An event's note in the reader's language when it is a system message stored as its
    msgid (see core.i18n.N_); a person's own words as they wrote them."""
    from flask_babel import gettext

    data = event.data or {}
    if data.get("i18n"):
        return gettext(event.note, **data.get("params", {}))
    return event.note


def init_app(app: Flask) -> None:
    app.jinja_env.filters["localtime"] = local_datetime
    app.jinja_env.filters["yen"] = yen
    app.jinja_env.filters["note_text"] = note_text
    app.jinja_env.filters["phone"] = phone_display
    app.jinja_env.globals["locale_code"] = locale_code
    app.jinja_env.globals["url_with"] = url_with
    app.jinja_env.globals["code128_svg"] = code128_svg
    app.jinja_env.globals["qr_svg"] = qr_svg
