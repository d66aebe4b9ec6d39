"""Carrier labels (送り状): 100×150 mm thermal slips, or four to an A4 sheet, as PDF.

A label carries what a Japanese carrier's own slip does — service wordmark, 着払い / 元払い,
お届け先, ご依頼主, 品名, 記事, the tracking number in digits and as NW-7 — plus the RMA number as
Code 128 and as a QR code for our receiving desk. Labels are printed in Japanese only: they are
read by the carrier's sorters and drivers, whatever language the customer chose.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import wraps

from markupsafe import Markup
from PIL import Image

from reverse.core.barcodes import codabar_svg, code128_svg, qr_svg
from reverse.core.codes import is_valid_tracking_number
from reverse.core.pdf import render_pdf
from reverse.shipping.constants import Carrier, Payment

LABEL_TEMPLATE = "pdf/label_sheet.html"
LABEL_CSS = "css/label.css"
LABEL_UA_CSS = "css/label_ua.css"
LAYOUTS = ("thermal", "a4")
#: Labels on one A4 sheet: 2 × 2 labels of 100 × 140 mm, with cut lines and crop marks.
A4_LABELS_PER_SHEET = 4

#: The carrier's wordmark (text only): the company, then the service in large type.
CARRIER_MARKS = {
    Carrier.YAMATO: ("ヤマト運輸", "宅急便"),
    Carrier.SAGAWA: ("佐川急便", "飛脚宅配便"),
    Carrier.JAPAN_POST: ("日本郵便", "ゆうパック"),
    Carrier.OWN: ("Reverse", "自社便"),
}

#: The payment mark as each carrier words it on its slips (Yamato says 発払い for 元払い).
PAYMENT_MARKS = {
    (Carrier.YAMATO, Payment.SENDER_PAYS): "発払い",
    (Carrier.SAGAWA, Payment.SENDER_PAYS): "元払い",
    (Carrier.JAPAN_POST, Payment.SENDER_PAYS): "元払い",
    (Carrier.OWN, Payment.SENDER_PAYS): "元払い",
}
RECEIVER_PAYS_MARK = "着払い"

HONORIFICS = ("様", "御中")


@dataclass(frozen=True)
class Party:
    """Someone a parcel goes to or comes from, as printed on the slip."""

    name: str  #: 山田 花子 / Reverse 市川返品センター
    honorific: str  #: "様" for people, "御中" for companies and locations
    postal_code: str  #: "123-4567"
    address_lines: tuple[str, ...]  #: prefecture + city + town + block, then the building
    phone: str  #: "047-000-0000"

    def __post_init__(self) -> None:
        if self.honorific not in HONORIFICS:
            raise ValueError(f"honorific must be one of {HONORIFICS}, not {self.honorific!r}")


@dataclass(frozen=True)
class LabelData:
    """One parcel's label. Refuses a tracking number the carrier would not accept."""

    carrier: str  #: a reverse.shipping.constants.Carrier value
    tracking_number: str  #: 12 digits with the mod-7 check digit (own courier: any digits)
    payment: str  #: "sender_pays" (元払い / 発払い) or "receiver_pays" (着払い)
    to: Party  #: お届け先
    sender: Party  #: ご依頼主
    item_name: str  #: 品名, e.g. "衣類（返品 R12345-67890）"
    rma_number: str | None  #: canonical "R1234567890", printed as Code 128 and QR
    rma_display: str | None  #: "R12345-67890", printed beside them
    shipper_code: str = ""  #: the carrier account's customer code
    ship_date: date | None = None
    note: str = ""  #: 記事欄: handling notes, e.g. "ワレモノ注意"

    def __post_init__(self) -> None:
        carrier = Carrier(self.carrier)
        Payment(self.payment)
        if not self.tracking_number.isascii() or not self.tracking_number.isdigit():
            raise ValueError(f"a tracking number is digits only, not {self.tracking_number!r}")
        if carrier != Carrier.OWN and not is_valid_tracking_number(self.tracking_number):
            raise ValueError(f"{self.tracking_number} is not a valid {carrier} tracking number")

    @property
    def company(self) -> str:
        return CARRIER_MARKS[Carrier(self.carrier)][0]

    @property
    def service(self) -> str:
        return CARRIER_MARKS[Carrier(self.carrier)][1]

    @property
    def receiver_pays(self) -> bool:
        return Payment(self.payment) == Payment.RECEIVER_PAYS

    @property
    def payment_mark(self) -> str:
        if self.receiver_pays:
            return RECEIVER_PAYS_MARK
        return PAYMENT_MARKS[(Carrier(self.carrier), Payment.SENDER_PAYS)]

    @property
    def tracking_display(self) -> str:
        """ "123456789013" → "1234-5678-9012", as carriers print it under the barcode."""
        digits = self.tracking_number
        return "-".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def render_label(data: LabelData) -> bytes:
    """One 100 × 150 mm thermal label, one page."""
    return render_labels([data])


def render_labels(labels: Sequence[LabelData], layout: str = "thermal") -> bytes:
    """All `labels` in one PDF: one 100 × 150 mm page each ("thermal"), or four 100 × 140 mm
    labels with cut lines and crop marks on each A4 sheet ("a4")."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    if not labels:
        raise ValueError("no labels to render")
    return render_pdf(
        LABEL_TEMPLATE,
        stylesheets=[LABEL_CSS],
        user_agent_stylesheet=LABEL_UA_CSS,
        # compressed: 3–4 ms more a label, but a third of the file (48 KB, not 125 KB)
        compress=True,
        labels=list(labels),
        layout=layout,
        per_sheet=A4_LABELS_PER_SHEET,
        nw7=as_image(codabar_svg),
        code128=as_image(code128_svg),
        qr=as_image(qr_svg),
    )


# ---------------------------------------------------------------- barcodes as images

_VIEWBOX_RE = re.compile(r'viewBox="0 0 (\d+) ([\d.]+)"')
_SIZE_RE = re.compile(r'width="([\d.]+)mm" height="([\d.]+)mm"')
_KIND_RE = re.compile(r'class="barcode barcode--(\w+)"')
_LABEL_RE = re.compile(r'aria-label="([^"]*)"')
_RUN_RE = re.compile(r"M(\d+) (\d+)h(\d+)v")
#: Pixels a side per QR module (see barcode_image).
QR_PIXELS_PER_MODULE = 4


def barcode_image(svg: str) -> Markup:
    """A barcode drawn by reverse.core.barcodes, as an `<img>` of a 1-bit PNG of its modules,
    the same size in millimetres, never smoothed when scaled (`image-rendering: pixelated`).

    WeasyPrint spends 2–6 ms per barcode reading and drawing an SVG path of a few hundred runs,
    and a label has three; an image costs a fraction of that and prints the same modules.
    A linear code is one row of pixels, one per module, stretched to its height: poppler (and
    so CUPS) never smooths an image enlarged four times or more in either direction. A QR code
    gets `QR_PIXELS_PER_MODULE` pixels a side per module, so that a renderer that smooths it
    anyway only softens the edges of its modules.
    """
    view_width, view_height = _match(_VIEWBOX_RE, svg).groups()
    width_mm, height_mm = _match(_SIZE_RE, svg).groups()
    kind = _match(_KIND_RE, svg).group(1)
    label = _match(_LABEL_RE, svg).group(1)
    rows = int(float(view_height)) if kind == "qr" else 1
    image = Image.new("1", (int(view_width), rows), 1)
    for x, y, length in _RUN_RE.findall(svg):
        row = int(y) if kind == "qr" else 0
        image.paste(0, (int(x), row, int(x) + int(length), row + 1))
    if kind == "qr":
        size = (image.width * QR_PIXELS_PER_MODULE, image.height * QR_PIXELS_PER_MODULE)
        image = image.resize(size, Image.Resampling.NEAREST)
    png = io.BytesIO()
    # a few hundred bytes either way: the fastest compression is as good as the best here
    image.save(png, "PNG", compress_level=1)
    data = base64.b64encode(png.getvalue()).decode("ascii")
    return Markup(
        '<img class="barcode barcode--{kind}" src="data:image/png;base64,{data}" '
        'style="width:{w}mm;height:{h}mm" alt="{label}">'
    ).format(kind=kind, data=data, w=width_mm, h=height_mm, label=html.unescape(label))


def as_image(draw: Callable[..., Markup]) -> Callable[..., Markup]:
    """`draw` (codabar_svg, code128_svg, qr_svg) returning the barcode as an image."""

    @wraps(draw)
    def drawn(*args: object, **kwargs: object) -> Markup:
        return barcode_image(draw(*args, **kwargs))

    return drawn


def _match(pattern: re.Pattern[str], svg: str) -> re.Match[str]:
    match = pattern.search(svg)
    if match is None:
        raise ValueError(f"not a barcode of reverse.core.barcodes: {svg[:80]!r}")
    return match
