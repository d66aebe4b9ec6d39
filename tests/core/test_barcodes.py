"""Barcodes as the warehouse scanner and a phone camera see them once printed."""

from __future__ import annotations

import re
import subprocess
from io import BytesIO

import pytest
import zxingcpp
from PIL import Image
from weasyprint import HTML

from reverse.core.barcodes import CODE128_QUIET_MODULES, QR_QUIET_MODULES, code128_svg, qr_svg


def printed(svg: str, dpi: int = 200) -> Image.Image:
    """The SVG printed on a page by WeasyPrint and scanned back at `dpi`."""
    pdf = HTML(string=f"<body style='margin:10mm'>{svg}</body>").write_pdf()
    png = subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-singlefile"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout
    return Image.open(BytesIO(png))


def decoded(image: Image.Image, fmt: zxingcpp.BarcodeFormat) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image) if r.format == fmt]


@pytest.mark.parametrize(
    "value",
    ["R1234567890", "R0000000018", "0123456789", "12345", "ab-CD/ 09.x", "A"],
)
def test_code128_scans_back_to_its_value(value):
    image = printed(code128_svg(value))
    assert decoded(image, zxingcpp.BarcodeFormat.Code128) == [value]


@pytest.mark.parametrize(
    "value",
    [
        "http://127.0.0.1:5000/r/Xk3v9QpL2mN8rT5wYb7cZd1fGh4jKs6a",
        "R12345-67890",
        "返品 R12345-67890 渋谷店",
    ],
)
def test_qr_scans_back_to_its_value(value):
    image = printed(qr_svg(value, size_mm=24))
    assert decoded(image, zxingcpp.BarcodeFormat.QRCode) == [value]


def test_code128_is_sized_in_mm_with_its_quiet_zone():
    svg = code128_svg("R1234567890", height_mm=12, module_mm=0.33)
    view_width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))
    width_mm = float(re.search(r'width="([\d.]+)mm"', svg).group(1))
    assert 'height="12mm"' in svg
    assert width_mm == pytest.approx(view_width * 0.33)
    assert 'shape-rendering="crispEdges"' in svg
    xs = [int(x) for x in re.findall(r"M(\d+) 0h", svg)]
    bar_ends = [int(x) + int(w) for x, w in re.findall(r"M(\d+) 0h(\d+)", svg)]
    assert min(xs) == CODE128_QUIET_MODULES
    assert view_width - max(bar_ends) == CODE128_QUIET_MODULES


def test_qr_is_square_in_mm_with_its_quiet_zone():
    svg = qr_svg("https://example.jp/r/abc", size_mm=24)
    assert 'width="24mm" height="24mm"' in svg
    assert 'shape-rendering="crispEdges"' in svg
    size = int(re.search(r'viewBox="0 0 (\d+) (\d+)"', svg).group(1))
    runs = re.findall(r"M(\d+) (\d+)h(\d+)", svg)
    assert min(int(x) for x, _, _ in runs) == QR_QUIET_MODULES
    assert min(int(y) for _, y, _ in runs) == QR_QUIET_MODULES
    assert size - max(int(x) + int(w) for x, _, w in runs) == QR_QUIET_MODULES


def test_values_are_escaped_in_the_svg():
    svg = qr_svg('"><script>alert(1)</script>')
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg


@pytest.mark.parametrize("value", ["", "返品", "R123\n45", "caf\u00e9"])
def test_code128_refuses_what_it_cannot_encode(value):
    with pytest.raises(ValueError, match="Code 128"):
        code128_svg(value)


def test_barcodes_are_jinja_globals(app):
    with app.app_context():
        html = app.jinja_env.from_string("{{ code128_svg('R1') }}{{ qr_svg('x') }}").render()
    assert html.count("<svg") == 2
    assert "&lt;svg" not in html
