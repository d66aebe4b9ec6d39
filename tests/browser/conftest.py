"""A live server on a free port and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")

#: Chromium cancels requests for static files it no longer needs; the development server then
#: leaves that file's handle to the garbage collector, whose ResourceWarning lands in whatever
#: test runs next. Only static files, only in browser tests.
STATIC_FILES_LEFT_TO_GC = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <_io.FileIO name='[^']*/static/"
    r":pytest.PytestUnraisableExceptionWarning",
    r"ignore:unclosed file <_io.BufferedReader name='[^']*/static/:ResourceWarning",
)


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        from tests.conftest import service_unavailable

        service_unavailable("Debian's Chromium", "not installed", "make test installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    yield page
    context.close()


def wait_for_scan_focus(page) -> None:
    """Wait until the scan field has the focus its page gives it, as a scanner user does
    before pulling the trigger (a loaded machine can paint after the load event)."""
    page.wait_for_function(
        "document.activeElement && document.activeElement.matches('[data-scan-field]')"
    )
