"""The one PDF helper: a Jinja template from templates/ rendered to PDF bytes by WeasyPrint.

Templates may load files from the app's static folder (`/static/...`) and `data:` URLs;
every other resource — `file://`, the network, a path out of the static folder — is refused
and the render fails with `PdfResourceRefused`, so a PDF never reads the server's files or
depends on (or leaks to) another host.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse
from werkzeug.security import safe_join

#: Root-relative links (`/static/css/pdf.css`) resolve against this origin. The `.invalid`
#: top-level domain never resolves (RFC 2606), and the fetcher never goes to the network:
#: it only maps this origin's static path onto the static folder.
BASE_URL = "https://reverse.invalid/"

#: The print stylesheet every PDF gets (page size, fonts, shared parts), under static/.
PRINT_CSS = "css/pdf.css"

_CONTENT_TYPES = {
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".otf": "font/otf",
    ".ttf": "font/ttf",
}

# The parsed print stylesheet by path, with the mtime it was parsed at: a parsed CSS is
# read-only and the same for every request and language; parsing it per render is wasted work.
_css_cache: dict[str, tuple[int, CSS]] = {}
_css_lock = threading.Lock()

# Per thread: one font configuration for every render (a fresh one per render means loading
# and shaping the fonts cold each time, which costs a Japanese page more than its layout),
# and the extra stylesheets parsed with it (their @font-face rules are registered in it).
_local = threading.local()


class PdfResourceRefused(RuntimeError):
    """A template referenced a resource outside the static folder, or a missing one."""


class StaticOnlyFetcher(URLFetcher):
    """Serves files under `static_folder` for `BASE_URL/static/...` and `data:` URLs;
    refuses everything else."""

    def __init__(self, static_folder: str, static_url_path: str = "/static") -> None:
        # fail_on_errors: a refused or missing resource stops the render instead of being
        # left out with a log line.
        super().__init__(fail_on_errors=True, allowed_protocols=("data",))
        self.static_folder = Path(static_folder).resolve()
        self.prefix = BASE_URL.rstrip("/") + static_url_path.rstrip("/") + "/"

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        return URLFetcherResponse(url, body=self.read_static(url), headers=self._headers(url))

    def static_path(self, url: str) -> Path:
        """The file a static URL stands for; PdfResourceRefused for anything else."""
        if not url.startswith(self.prefix):
            raise PdfResourceRefused(f"PDF resources must come from the static folder: {url}")
        parts = urlsplit(url)
        if parts.query or parts.fragment:
            raise PdfResourceRefused(f"PDF resource URLs take no query or fragment: {url}")
        relative = unquote(url[len(self.prefix) :])
        joined = safe_join(str(self.static_folder), relative)
        if joined is None:
            raise PdfResourceRefused(f"PDF resource outside the static folder: {url}")
        path = Path(joined).resolve()
        # A symlink in the static folder must not lead out of it either.
        if not path.is_relative_to(self.static_folder) or not path.is_file():
            raise PdfResourceRefused(f"PDF resource not found in the static folder: {url}")
        return path

    def read_static(self, url: str) -> bytes:
        return self.static_path(url).read_bytes()

    def _headers(self, url: str) -> dict[str, str]:
        suffix = Path(urlsplit(url).path).suffix.lower()
        return {"Content-Type": _CONTENT_TYPES.get(suffix, "application/octet-stream")}


class _HTMLWithOwnUserAgent(HTML):
    """An HTML document styled by a given user-agent stylesheet instead of WeasyPrint's."""

    def __init__(self, *args: Any, user_agent_css: CSS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._user_agent_css = user_agent_css

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return [self._user_agent_css]

    def _ph_stylesheets(self) -> list[CSS]:
        # presentational hints are off in write_pdf unless asked for; nothing to match
        return []


def render_pdf(
    template_name: str,
    *,
    stylesheets: Sequence[str] = (),
    user_agent_stylesheet: str | None = None,
    compress: bool = True,
    **context: Any,
) -> bytes:
    """Render `template_name` with `context` and return the PDF.

    Needs an app context. When the context has a `locale` ("ja" / "en"), the template is
    rendered in that language — jobs print in the customer's language, not the worker's.
    `stylesheets` are more files under static/ ("css/label.css") applied after the print
    stylesheet, parsed once per file version instead of on every render as a `<link>` would be.
    `user_agent_stylesheet` (a file under static/) replaces WeasyPrint's HTML user-agent
    stylesheet *and* the print stylesheet, for documents of a few known elements that render
    often (labels): it carries what they need of both; and
    `compress=False` leaves the PDF's streams uncompressed, a few milliseconds less for a
    slightly larger file.
    Raises PdfResourceRefused when the template references a resource it may not load.
    """
    locale = context.get("locale")
    if locale:
        with force_locale(locale):
            html = render_template(template_name, **context)
    else:
        html = render_template(template_name, **context)
    fetcher = StaticOnlyFetcher(current_app.static_folder or "", current_app.static_url_path)
    try:
        font_config = _font_config()
        options: dict[str, Any] = {"base_url": BASE_URL, "url_fetcher": fetcher}
        if user_agent_stylesheet is None:
            document = HTML(string=html, media_type="print", **options)
        else:
            ua_css = _extra_stylesheet(fetcher, font_config, user_agent_stylesheet)
            document = _HTMLWithOwnUserAgent(
                string=html, media_type="print", user_agent_css=ua_css, **options
            )
        sheets = [print_stylesheet(fetcher)] if user_agent_stylesheet is None else []
        sheets += [_extra_stylesheet(fetcher, font_config, name) for name in stylesheets]
        return document.write_pdf(
            stylesheets=sheets, font_config=font_config, uncompressed_pdf=not compress
        )
    except FatalURLFetchingError as exc:
        cause = exc.__cause__
        if isinstance(cause, PdfResourceRefused):
            raise PdfResourceRefused(str(cause)) from cause
        raise PdfResourceRefused(str(exc)) from cause


def print_stylesheet(fetcher: StaticOnlyFetcher) -> CSS:
    """The shared print stylesheet, parsed once per version of the file (an edited file is
    parsed again and replaces the old entry)."""
    url = fetcher.prefix + PRINT_CSS
    path = fetcher.static_path(url)
    mtime = path.stat().st_mtime_ns
    with _css_lock:
        cached = _css_cache.get(str(path))
        if cached is not None and cached[0] == mtime:
            return cached[1]
        css = CSS(string=path.read_text(encoding="utf-8"), base_url=url, url_fetcher=fetcher)
        _css_cache[str(path)] = (mtime, css)
    return css


def _font_config() -> FontConfiguration:
    font_config = getattr(_local, "font_config", None)
    if font_config is None:
        font_config = _local.font_config = FontConfiguration()
        _local.stylesheets = {}
    return font_config


def _extra_stylesheet(fetcher: StaticOnlyFetcher, font_config: FontConfiguration, name: str) -> CSS:
    """A static stylesheet, parsed once per thread and version of the file."""
    url = fetcher.prefix + name
    path = fetcher.static_path(url)
    mtime = path.stat().st_mtime_ns
    cache: dict[str, tuple[int, CSS]] = _local.stylesheets
    cached = cache.get(str(path))
    if cached is not None and cached[0] == mtime:
        return cached[1]
    css = CSS(
        string=path.read_text(encoding="utf-8"),
        base_url=url,
        url_fetcher=fetcher,
        font_config=font_config,
    )
    cache[str(path)] = (mtime, css)
    return css
