"""Security headers on every kind of response, cookie flags, and pages without inline script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reverse import create_app

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION = {
    "REVERSE_ENV": "production",
    "REVERSE_SECRET_KEY": "p" * 48,
    "REVERSE_DATABASE_URL": "postgresql://reverse@db.internal/reverse",
    "REVERSE_REDIS_URL": "redis://localhost:6379/15",
    "REVERSE_MAIL_BACKEND": "smtp",
}


def _directives(csp: str) -> dict[str, str]:
    return {
        part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
        for part in (p.strip() for p in csp.split(";"))
        if part
    }


@pytest.mark.parametrize(
    "path",
    [
        "/",  # a customer page
        "/staff/login",  # a staff page
        "/staff/rmas",  # a redirect to the login
        "/api/v1/openapi.json",  # the API's JSON
        "/api/v1/products",  # an API error (405 on GET)
        "/static/css/app.css",  # a static file
        "/no-such-page",  # an HTML error page
    ],
)
def test_every_kind_of_response_carries_the_security_headers(client, path):
    response = client.get(path)
    response.close()  # a static file's handle
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = _directives(response.headers["Content-Security-Policy"])
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    # Embedded (plain HTTP on 127.0.0.1): no HSTS, which would lock browsers out of it.
    assert "Strict-Transport-Security" not in response.headers


@pytest.fixture
def production_app(monkeypatch, tmp_path):
    monkeypatch.setenv("REVERSE_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("REVERSE_CONFIG", raising=False)
    for key, value in PRODUCTION.items():
        monkeypatch.setenv(key, value)
    return create_app()


def test_production_tells_browsers_to_use_https_only(production_app):
    response = production_app.test_client().get("/static/css/app.css")
    response.close()
    hsts = response.headers["Strict-Transport-Security"]
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains", hsts)
    assert int(hsts.split("=")[1].split(";")[0]) >= 180 * 24 * 3600


def test_production_session_cookie_is_secure_http_only_and_same_site(production_app):
    # The login page puts its CSRF token in the session: the first cookie a visitor gets.
    response = production_app.test_client().get("/staff/login")
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert "secure" in flags
    assert "httponly" in flags
    assert "samesite=lax" in flags


_TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
#: a <script> element with a body, an on…= handler, a javascript: URL or a style attribute
_INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>\s*\S|\son[a-z]+\s*=|javascript:|\sstyle\s*=", re.IGNORECASE
)


@pytest.mark.parametrize("template", _TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_or_style(template):
    """CSP allows only the app's own files: inline code would be blocked in the browser (and
    is what an injected <script> would look like)."""
    text = template.read_text(encoding="utf-8")
    found = [m.group(0).strip() for m in _INLINE.finditer(text)]
    assert found == []
