"""Carrier labels, read back the way a warehouse scanner, a sorter and a driver would: printed
at 300 dpi, every barcode decoded, the text extracted."""

from __future__ import annotations

import base64
import logging
import re
import subprocess
from dataclasses import replace
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
import zxingcpp
from flask import render_template
from PIL import Image
from weasyprint import HTML

from reverse.core.barcodes import CODABAR_QUIET_MODULES, codabar_svg, code128_svg, qr_svg
from reverse.core.codes import is_valid_tracking_number
from reverse.shipping.labels import (
    LABEL_TEMPLATE,
    LabelData,
    Party,
    as_image,
    barcode_image,
    render_label,
    render_labels,
)
from reverse.shipping.operations import tracking_number

NW7 = zxingcpp.BarcodeFormat.Codabar
CODE128 = zxingcpp.BarcodeFormat.Code128
QR = zxingcpp.BarcodeFormat.QRCode

CENTRE = Party(
    "Reverse 市川返品センター",
    "御中",
    "272-0002",
    ("千葉県市川市二俣新町17-2", "市川ロジスティクスセンター 3F"),
    "047-000-0000",
)
HANAKO = Party(
    "山田 花子",
    "様",
    "150-0041",
    ("東京都渋谷区神南1-14-5", "神南スクエア 1102号室"),
    "090-1234-5678",
)


def make_label(carrier: str = "yamato", payment: str = "receiver_pays", n: int = 0, **changes):
    data = LabelData(
        carrier=carrier,
        tracking_number=f"{900000000100 + n}"
        if carrier == "own"
        else tracking_number(31234567890 + n),
        payment=payment,
        to=CENTRE,
        sender=HANAKO,
        item_name="衣類（返品 R12345-67890）",
        rma_number="R1234567890",
        rma_display="R12345-67890",
        shipper_code="031234567801",
        ship_date=date(2026, 11, 23),
        note="ワレモノ注意",
    )
    return replace(data, **changes)


def pages(pdf: bytes, tmp_path: Path, dpi: int = 300) -> list[Image.Image]:
    """Every page as the printer and then the scanner see it."""
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-", str(tmp_path / "page")], input=pdf, check=True
    )
    return [Image.open(path) for path in sorted(tmp_path.glob("page-*.png"))]


def scanned(image: Image.Image) -> dict[zxingcpp.BarcodeFormat, list[str]]:
    found: dict[zxingcpp.BarcodeFormat, list[str]] = {NW7: [], CODE128: [], QR: []}
    for result in zxingcpp.read_barcodes(image, formats=[NW7, CODE128, QR]):
        found[result.format].append(result.text)
    return found


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def page_info(pdf: bytes) -> dict[str, str]:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    return dict(line.split(":", 1) for line in info.decode().splitlines() if ":" in line)


def page_count(pdf: bytes) -> int:
    return int(page_info(pdf)["Pages"])


def fonts(pdf: bytes) -> list[str]:
    rows = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout
    return rows.decode().splitlines()[2:]


# ---------------------------------------------------------------- one label per carrier


@pytest.mark.parametrize("payment", ["receiver_pays", "sender_pays"])
@pytest.mark.parametrize("carrier", ["yamato", "sagawa", "japan_post", "own"])
def test_label_scans_back_to_tracking_and_rma_numbers(ctx, tmp_path, carrier, payment):
    label = make_label(carrier, payment)
    pdf = render_label(label)
    assert page_count(pdf) == 1
    assert page_info(pdf)["Page size"].split()[:3] == ["283.465", "x", "425.197"]  # 100×150 mm
    [page] = pages(pdf, tmp_path)
    found = scanned(page)
    # NW-7 with start and stop A around the 12 digits
    assert found[NW7] == [f"A{label.tracking_number}A"]
    if carrier != "own":
        assert is_valid_tracking_number(found[NW7][0][1:-1])
    assert found[CODE128] == ["R1234567890"]
    # The QR carries the RMA number, not the customer's private status link: a parcel label
    # is read by everyone who handles the parcel.
    assert found[QR] == ["R1234567890"]


@pytest.mark.parametrize(
    ("carrier", "payment", "mark", "not_mark"),
    [
        ("yamato", "receiver_pays", "着払い", "発払い"),
        ("yamato", "sender_pays", "発払い", "着払い"),
        ("sagawa", "receiver_pays", "着払い", "元払い"),
        ("sagawa", "sender_pays", "元払い", "着払い"),
        ("japan_post", "receiver_pays", "着払い", "元払い"),
        ("japan_post", "sender_pays", "元払い", "着払い"),
        ("own", "receiver_pays", "着払い", "元払い"),
        ("own", "sender_pays", "元払い", "着払い"),
    ],
)
def test_label_text_says_who_pays_and_where_it_goes(ctx, carrier, payment, mark, not_mark):
    label = make_label(carrier, payment)
    text = pdf_text(render_label(label))
    assert mark in text
    assert not_mark not in text
    for expected in (
        label.service,
        label.company,
        "お届け先",
        "〒272-0002",
        "千葉県市川市二俣新町17-2",
        "市川ロジスティクスセンター 3F",
        "Reverse 市川返品センター",
        "御中",
        "047-000-0000",
        "ご依頼主",
        "〒150-0041",
        "東京都渋谷区神南1-14-5",
        "神南スクエア 1102号室",
        "山田 花子",
        "090-1234-5678",
        "衣類（返品 R12345-67890）",
        "ワレモノ注意",
        "2026/11/23",
        "R12345-67890",
        "031234567801",
        label.tracking_display,
    ):
        assert expected in text, expected


def test_tracking_number_is_printed_in_groups_of_four(ctx):
    label = make_label(tracking_number="123456789013")
    assert label.tracking_display == "1234-5678-9013"
    assert "1234-5678-9013" in pdf_text(render_label(label))


def test_label_embeds_only_its_one_japanese_font(ctx):
    rows = fonts(render_label(make_label()))
    assert len(rows) == 1, rows
    assert "Reverse-Label-Sans-Bold" in rows[0]
    assert rows[0].split()[-5:-2] == ["yes", "yes", "yes"]  # embedded, subset, unicode


def test_characters_outside_the_label_font_come_from_the_system_font(ctx):
    # 𠮷 (tsuchi-yoshi) and 𩸽 (hokke) are not in Shift_JIS; people's names use them.
    label = make_label(to=replace(HANAKO, name="𠮷田 𩸽子"))
    pdf = render_label(label)
    assert "𠮷田 𩸽子" in pdf_text(pdf)
    rows = fonts(pdf)
    assert any("Noto-Sans-CJK-JP" in row for row in rows), rows
    assert all(row.split()[-5] == "yes" for row in rows), rows


def test_label_without_rma_date_or_note_still_scans(ctx, tmp_path):
    label = make_label(rma_number=None, rma_display=None, ship_date=None, note="", shipper_code="")
    pdf = render_label(label)
    [page] = pages(pdf, tmp_path)
    assert scanned(page) == {NW7: [f"A{label.tracking_number}A"], CODE128: [], QR: []}
    assert "返品受付番号" not in pdf_text(pdf)


def test_long_names_and_addresses_stay_on_one_label(ctx, tmp_path):
    long_party = Party(
        "株式会社 伊勢丹 新宿店 婦人服売場 返品係",
        "御中",
        "160-0022",
        (
            "東京都新宿区新宿3丁目14番1号 伊勢丹新宿店本館",
            "搬入口 地下2階 荷受場 （平日 9:00〜17:00）",
        ),
        "03-0000-1111",
    )
    labels = [make_label(to=long_party, n=1), make_label(sender=long_party, n=2)]
    pdf = render_labels(labels)
    assert page_count(pdf) == 2
    text = pdf_text(pdf)
    assert "株式会社 伊勢丹 新宿店 婦人服売場 返品係" in text.replace("\n", "")
    for page, label in zip(pages(pdf, tmp_path), labels, strict=True):
        assert scanned(page)[NW7] == [f"A{label.tracking_number}A"]


def test_labels_render_without_layout_warnings(ctx, caplog):
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        render_labels([make_label(c, p) for c in ("yamato", "own") for p in ("sender_pays",)])
        render_labels([make_label()], layout="a4")
    assert not [r.getMessage() for r in caplog.records if r.name == "weasyprint"]


# ---------------------------------------------------------------- many labels


def test_five_thermal_labels_are_one_pdf_of_five_pages_in_order(ctx, tmp_path):
    labels = [make_label(c, "receiver_pays", n) for n, c in enumerate(["yamato", "sagawa"] * 2)]
    labels.append(make_label("japan_post", "sender_pays", 9, rma_number="R5550001113"))
    pdf = render_labels(labels)
    assert page_count(pdf) == 5
    for page, label in zip(pages(pdf, tmp_path), labels, strict=True):
        found = scanned(page)
        assert found[NW7] == [f"A{label.tracking_number}A"]
        assert found[CODE128] == [label.rma_number]


def test_a4_sheets_hold_four_labels_and_every_barcode_scans(ctx, tmp_path):
    labels = [
        make_label(carrier, payment, n, rma_number=rma)
        for n, (carrier, payment, rma) in enumerate(
            [
                ("yamato", "receiver_pays", "R1234567890"),
                ("sagawa", "sender_pays", "R5550001113"),
                ("japan_post", "receiver_pays", "R0000000018"),
                ("own", "sender_pays", "R9876543216"),
                ("yamato", "sender_pays", "R1111111116"),
            ]
        )
    ]
    pdf = render_labels(labels, layout="a4")
    assert page_count(pdf) == 2
    assert "A4" in page_info(pdf)["Page size"]
    first, second = pages(pdf, tmp_path)
    on_first = scanned(first)
    assert sorted(on_first[NW7]) == sorted(f"A{label.tracking_number}A" for label in labels[:4])
    assert sorted(on_first[CODE128]) == sorted(label.rma_number for label in labels[:4])
    assert sorted(on_first[QR]) == sorted(label.rma_number for label in labels[:4])
    assert scanned(second) == {
        NW7: [f"A{labels[4].tracking_number}A"],
        CODE128: ["R1111111116"],
        QR: ["R1111111116"],
    }


def test_a4_sheet_has_crop_marks_in_its_margins(ctx, tmp_path):
    [sheet] = pages(render_labels([make_label()], layout="a4"), tmp_path, dpi=100)
    gray = sheet.convert("L")
    # the vertical cut line at 105 mm, marked in the top margin (2–7 mm), is dark there
    x = round(105 / 25.4 * 100)
    column = [gray.getpixel((x + dx, y)) for dx in (-1, 0, 1) for y in range(10, 26)]
    assert min(column) < 128


def test_unknown_layout_and_empty_batches_are_refused(ctx):
    with pytest.raises(ValueError, match="layout"):
        render_labels([make_label()], layout="letter")
    with pytest.raises(ValueError, match="no labels"):
        render_labels([])


# ---------------------------------------------------------------- what a label refuses


def test_markup_in_names_and_addresses_is_printed_as_text(ctx, tmp_path):
    # An <img> that was interpreted would make the render fail (its URL is refused); a
    # <script> would vanish from the text. Both must print as typed.
    hostile = Party(
        '<script>alert("x")</script>',
        "様",
        "150-0041",
        ('<img src="http://example.com/x.png">東京都渋谷区', "<b>神南</b> & 1-14-5"),
        "090-1234-5678",
    )
    label = make_label(sender=hostile, note="<style>*{display:none}</style>", item_name="衣類 <i>")
    pdf = render_label(label)
    text = pdf_text(pdf).replace("\n", "")
    for typed in (
        '<script>alert("x")</script>',
        '<img src="http://example.com/x.png">東京都渋谷区',
        "<b>神南</b> & 1-14-5",
        "<style>*{display:none}</style>",
        "衣類 <i>",
    ):
        assert typed in text, typed
    [page] = pages(pdf, tmp_path)
    assert scanned(page)[NW7] == [f"A{label.tracking_number}A"]


def test_template_escapes_every_field(ctx):
    html = render_template(
        LABEL_TEMPLATE,
        labels=[make_label(to=replace(CENTRE, name="<b>x</b>"), note='"><i>')],
        layout="thermal",
        nw7=codabar_svg,
        code128=code128_svg,
        qr=qr_svg,
    )
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "&#34;&gt;&lt;i&gt;" in html


@pytest.mark.parametrize(
    "number", ["123456789012", "12345678901", "1234567890123", "1234-5678-9013"]
)
def test_a_carrier_label_refuses_a_number_the_carrier_would_not_accept(number):
    with pytest.raises(ValueError, match="tracking number"):
        make_label("sagawa", tracking_number=number)


def test_own_courier_takes_any_digits_but_only_digits():
    assert make_label("own", tracking_number="77").tracking_display == "77"
    with pytest.raises(ValueError, match="digits"):
        make_label("own", tracking_number="77A")


def test_carrier_payment_and_honorific_must_be_known():
    with pytest.raises(ValueError, match="not a valid Carrier"):
        make_label("fedex")
    with pytest.raises(ValueError, match="not a valid Payment"):
        make_label(payment="cod")
    with pytest.raises(ValueError, match="honorific"):
        replace(HANAKO, honorific="さん")


# ---------------------------------------------------------------- NW-7 and barcode images


def printed(markup: str, dpi: int = 300) -> Image.Image:
    pdf = HTML(string=f"<body style='margin:10mm'>{markup}</body>").write_pdf()
    png = subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), "-singlefile"],
        input=pdf,
        capture_output=True,
        check=True,
    ).stdout
    return Image.open(BytesIO(png))


@pytest.mark.parametrize(
    ("value", "start", "stop", "ratio"),
    [
        ("123456789013", "A", "A", 2.5),
        ("000000000000", "A", "A", 2.0),
        ("0-1$2:3/4.5+6", "B", "D", 3.0),
        ("31234567893", "C", "C", 2.25),
        ("76", "D", "A", 2.5),  # zxing reads no NW-7 shorter than 4 characters
    ],
)
def test_codabar_scans_back_with_its_start_and_stop(value, start, stop, ratio):
    image = printed(codabar_svg(value, start=start, stop=stop, ratio=ratio))
    assert scanned(image)[NW7] == [f"{start}{value}{stop}"]


def test_codabar_is_sized_in_mm_with_its_quiet_zone():
    svg = codabar_svg("123456789013", height_mm=12, narrow_mm=0.3, ratio=2.5)
    view_width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))
    width_mm = float(re.search(r'width="([\d.]+)mm"', svg).group(1))
    assert 'height="12mm"' in svg
    assert 'shape-rendering="crispEdges"' in svg
    # a 2.5 ratio is drawn in half-narrow units: narrow bars 2, wide bars 5
    assert width_mm == pytest.approx(view_width * 0.15)
    widths = {int(w) for w in re.findall(r"M\d+ 0h(\d+)", svg)}
    assert widths == {2, 5}
    starts = [int(x) for x in re.findall(r"M(\d+) 0h", svg)]
    ends = [int(x) + int(w) for x, w in re.findall(r"M(\d+) 0h(\d+)", svg)]
    assert min(starts) == CODABAR_QUIET_MODULES * 2
    assert view_width - max(ends) == CODABAR_QUIET_MODULES * 2
    # 12 digits of 10 narrow widths, start and stop A of 11.5, 13 narrow gaps: 156 narrow
    assert max(ends) - min(starts) == 156 * 2


@pytest.mark.parametrize(
    ("value", "kwargs"),
    [
        ("", {}),
        ("12A34", {}),
        ("１２３", {}),
        ("123", {"start": "E"}),
        ("123", {"stop": "AB"}),
        ("123", {"stop": ""}),
        ("123", {"ratio": 1.5}),
        ("123", {"ratio": 3.5}),
        ("123", {"height_mm": 0}),
    ],
)
def test_codabar_refuses_what_it_cannot_draw(value, kwargs):
    with pytest.raises(ValueError, match=r"NW-7|must be positive"):
        codabar_svg(value, **kwargs)


def png_of(img: str) -> Image.Image:
    return Image.open(BytesIO(base64.b64decode(re.search(r"base64,([^\"]+)", img).group(1))))


def test_barcode_images_keep_every_module():
    svg = codabar_svg("123456789013")
    img = barcode_image(svg)
    assert 'style="width:52.8mm;height:12mm"' in img
    assert 'alt="123456789013"' in img
    png = png_of(img)
    view_width = int(re.search(r'viewBox="0 0 (\d+) ', svg).group(1))
    assert png.size == (view_width, 1)
    dark = [x for x in range(png.width) if png.convert("L").getpixel((x, 0)) < 128]
    bars = {
        x
        for start, w in re.findall(r"M(\d+) 0h(\d+)", svg)
        for x in range(int(start), int(start) + int(w))
    }
    assert set(dark) == bars
    assert scanned(printed(img))[NW7] == ["A123456789013A"]


def test_barcode_image_alt_text_is_escaped():
    img = as_image(qr_svg)('"><script>x</script>', size_mm=20)
    assert "<script>" not in img
    assert scanned(printed(img))[QR] == ['"><script>x</script>']


def test_qr_image_is_drawn_four_pixels_a_module():
    img = barcode_image(qr_svg("R1234567890", size_mm=19))
    png = png_of(img)
    size = int(re.search(r'viewBox="0 0 (\d+) ', str(qr_svg("R1234567890"))).group(1))
    assert png.size == (size * 4, size * 4)
    assert scanned(png.convert("L"))[QR] == ["R1234567890"]
