"""The one PDF helper and the return slip, read back the way a printer, a scanner and a
customer would."""

from __future__ import annotations

import logging
import os
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from jinja2 import ChoiceLoader, DictLoader
from PIL import Image

from reverse.core import pdf as pdf_module
from reverse.core.pdf import BASE_URL, PdfResourceRefused, StaticOnlyFetcher, render_pdf
from reverse.rmas.constants import (
    REASON_LABELS,
    RETURN_METHOD_LABELS,
    TYPE_LABELS,
    ReturnMethod,
    RmaType,
)

STATUS_URL = "http://127.0.0.1:5000/r/Xk3v9QpL2mN8rT5wYb7cZd1fGh4jKs6a"
LABELS = {"type": TYPE_LABELS, "method": RETURN_METHOD_LABELS, "reason": REASON_LABELS}


@dataclass
class FakeLocation:
    name_ja: str
    name_en: str
    address_lines: list[str]
    phone: str

    def name(self, locale: str) -> str:
        return self.name_ja if locale == "ja" else self.name_en


@dataclass
class FakeLine:
    label_ja: str
    label_en: str
    quantity: int
    reason: str

    def label(self, locale: str) -> str:
        return self.label_ja if locale == "ja" else self.label_en


@dataclass
class FakeCustomer:
    name: str


@dataclass
class FakeRma:
    """What the slip template reads of an Rma."""

    number: str
    type: RmaType
    return_method: ReturnMethod | None
    lines: list[FakeLine]
    location: FakeLocation | None
    customer: FakeCustomer = field(default_factory=lambda: FakeCustomer("山田 花子"))
    created_at: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 1, 30, tzinfo=UTC))

    @property
    def display_number(self) -> str:
        return f"{self.number[:6]}-{self.number[6:]}"


SHIBUYA = FakeLocation(
    "Reverse 渋谷店",
    "Reverse Shibuya",
    ["〒150-0041", "東京都渋谷区神南1-14-5", "神南スクエア 1F"],
    "03-5456-1234",
)


def store_return() -> FakeRma:
    return FakeRma(
        number="R1234567890",
        type=RmaType.RETURN,
        return_method=ReturnMethod.STORE_DROP_OFF,
        lines=[
            FakeLine(
                "リネン ワイドシャツ／オフホワイト／M", "Linen shirt / M", 1, "size_too_large"
            ),
            FakeLine("ウール テーパードパンツ／チャコール／2", "Wool trousers / 2", 2, "other"),
        ],
        location=SHIBUYA,
    )


def render_slip(rma: FakeRma, locale: str = "ja") -> bytes:
    return render_pdf(
        "pdf/return_slip.html", rma=rma, status_url=STATUS_URL, locale=locale, labels=LABELS
    )


def poppler(command: list[str], pdf: bytes) -> bytes:
    """A poppler-utils tool reading the PDF from stdin."""
    return subprocess.run(command, input=pdf, capture_output=True, check=True).stdout


def pdf_text(pdf: bytes) -> str:
    return poppler(["pdftotext", "-layout", "-enc", "UTF-8", "-", "-"], pdf).decode()


def first_page(pdf: bytes, dpi: int = 200) -> Image.Image:
    png = poppler(["pdftoppm", "-png", "-r", str(dpi), "-singlefile"], pdf)
    return Image.open(BytesIO(png))


def page_count(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    line = next(li for li in info.decode().splitlines() if li.startswith("Pages:"))
    return int(line.split()[1])


@pytest.fixture
def templates(app, monkeypatch):
    """Add templates from strings for one test."""
    extra: dict[str, str] = {}
    loader = ChoiceLoader([DictLoader(extra), app.jinja_env.loader])
    monkeypatch.setattr(app.jinja_env, "loader", loader)
    return extra


# ---------------------------------------------------------------- the return slip


def test_slip_barcodes_scan_back_to_the_number_and_the_status_link(ctx):
    pdf = render_slip(store_return())
    assert pdf.startswith(b"%PDF-")
    results = zxingcpp.read_barcodes(first_page(pdf))
    code128 = [r.text for r in results if r.format == zxingcpp.BarcodeFormat.Code128]
    qr = {r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode}
    assert code128 == ["R1234567890"]
    assert qr == {STATUS_URL}


def test_slip_text_carries_number_customer_items_and_japanese_address(ctx):
    pdf = render_slip(store_return())
    text = pdf_text(pdf)
    for expected in (
        "R12345-67890",
        "山田 花子",
        "リネン ワイドシャツ",
        "〒150-0041",
        "東京都渋谷区神南1-14-5",
        "神南スクエア 1F",
        "Reverse 渋谷店",
        "03-5456-1234",
        "2026-11-23",  # 10:30 in Tokyo
    ):
        assert expected in text, expected
    assert page_count(pdf) == 1


def test_slip_embeds_its_japanese_fonts(ctx):
    pdf = render_slip(store_return())
    rows = poppler(["pdffonts", "-"], pdf).decode().splitlines()[2:]
    assert rows, "no fonts in the PDF"
    assert any("Noto-Sans-CJK-JP" in row for row in rows)
    for row in rows:
        # name, type …, encoding, emb, sub, uni, object, generation — emb is 5th from the end
        assert row.split()[-5] == "yes", row


def test_slip_is_printed_in_the_language_asked_for(ctx):
    repair_by_post = FakeRma(
        number="R5550001113",
        type=RmaType.REPAIR,
        return_method=ReturnMethod.CARRIAGE_FORWARD,
        lines=[FakeLine("レザー トートバッグ", "Leather tote bag", 1, "wear_and_tear")],
        location=None,
    )
    english = pdf_text(render_slip(repair_by_post, "en"))
    assert "Repair slip" in english
    assert "Leather tote bag" in english
    assert "Wear and tear" in english
    assert "carriage forward" in english
    japanese = pdf_text(render_slip(repair_by_post, "ja"))
    assert "レザー トートバッグ" in japanese
    assert "修理" in japanese  # the type label, translated already
    assert "Leather tote bag" not in japanese


@pytest.mark.parametrize("method", [*ReturnMethod, None])
def test_slip_renders_for_every_return_method_without_layout_warnings(ctx, method, caplog):
    rma = store_return()
    rma.return_method = method
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = render_slip(rma, "en")
    # WeasyPrint logs CSS it ignores and resources it could not load
    assert not [r.getMessage() for r in caplog.records if r.name == "weasyprint"]
    assert "R12345-67890" in pdf_text(pdf)
    assert page_count(pdf) == 1


# ---------------------------------------------------------------- what a PDF may load


def test_static_files_are_served(ctx, templates):
    templates["t.html"] = '<img src="/static/img/mark.svg" style="width:40mm">'
    image = first_page(render_pdf("t.html"), dpi=50).convert("RGB")
    # the mark is an indigo square: the page is no longer all white
    assert min(low for low, _high in image.getextrema()) < 100


@pytest.mark.parametrize(
    "markup",
    [
        '<img src="file:///etc/passwd">',
        '<link rel="stylesheet" href="file:///etc/passwd">',
        '<img src="http://example.com/x.png">',
        '<img src="https://example.com/x.png">',
        '<style>@import url("http://example.com/x.css");</style>',
        '<div style="background: url(http://example.com/x.png)">x</div>',
        "<style>@font-face { font-family: x; src: url(http://example.com/x.woff2); }"
        "</style><p style='font-family: x'>x</p>",
        '<img src="/static/../reverse/settings.py">',
        '<img src="/static/%2e%2e/reverse/settings.py">',
        '<img src="/static/img/no-such-file.svg">',
        '<img src="/etc/passwd">',
        '<img src="../../etc/passwd">',
    ],
)
def test_anything_but_static_files_stops_the_render(ctx, templates, markup):
    templates["t.html"] = f"<p>hello</p>{markup}"
    with pytest.raises(PdfResourceRefused, match="static folder"):
        render_pdf("t.html")


def test_data_urls_are_allowed(ctx, templates):
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8"
        "z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )
    templates["t.html"] = f'<img src="{pixel}" style="width:10mm">'
    assert render_pdf("t.html").startswith(b"%PDF-")


def test_a_symlink_out_of_the_static_folder_is_refused(tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    (static / "ok.css").write_text("p {}")
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    (static / "leak.css").symlink_to(secret)
    fetcher = StaticOnlyFetcher(str(static))
    assert fetcher.read_static(BASE_URL + "static/ok.css") == b"p {}"
    with pytest.raises(PdfResourceRefused):
        fetcher.read_static(BASE_URL + "static/leak.css")


def test_print_stylesheet_is_parsed_once_per_version(ctx, monkeypatch, tmp_path):
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    css = static / "css" / "pdf.css"
    css.write_text("p { color: red }")
    fetcher = StaticOnlyFetcher(str(static))
    monkeypatch.setattr(pdf_module, "_css_cache", {})
    first = pdf_module.print_stylesheet(fetcher)
    assert pdf_module.print_stylesheet(fetcher) is first
    css.write_text("p { color: blue }")
    stat = css.stat()
    # a later modification time, as an edit a second later would leave
    os.utime(css, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert pdf_module.print_stylesheet(fetcher) is not first


def test_fetcher_maps_only_its_own_origin(tmp_path):
    fetcher = StaticOnlyFetcher(str(Path(tmp_path)))
    for url in (
        "https://reverse.invalid.example.com/static/x.css",
        "https://evil.test/static/x.css",
        BASE_URL + "static/x.css?v=1",
    ):
        with pytest.raises(PdfResourceRefused):
            fetcher.static_path(url)
