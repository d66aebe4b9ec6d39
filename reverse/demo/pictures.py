"""Small drawn pictures for the demo: store receipts, warranty cards and item photos.

They stand in for what customers photograph, so the verification queue has something to look
at. Drawn with Pillow in memory (JPEG bytes); Japanese text needs the Noto CJK fonts that
`make run` installs, and falls back to plain shapes without them.
"""

from __future__ import annotations

import io
from datetime import date
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

_FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto"))
_FONT_FILES = ("NotoSansCJK-Regular.ttc", "NotoSansCJKjp-Regular.otf")
PAPER = (250, 248, 242)
INK = (40, 40, 44)
FADED = (120, 120, 126)


@cache
def _font_path() -> Path | None:
    for folder in _FONT_DIRS:
        for name in _FONT_FILES:
            if (folder / name).is_file():
                return folder / name
    return None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = _font_path()
    if path is None:
        return ImageFont.load_default()
    return ImageFont.truetype(str(path), size, index=0)


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=82)
    return out.getvalue()


def _on_table(paper: Image.Image, angle: float) -> Image.Image:
    """The paper lying slightly askew on a wooden table, as phone photos of receipts are."""
    width, height = paper.size
    table = Image.new("RGB", (width + 160, height + 160), (156, 122, 92))
    grain = ImageDraw.Draw(table)
    for y in range(0, table.height, 9):
        shade = 140 + (y * 37 % 23)
        grain.line([(0, y), (table.width, y + 6)], fill=(shade, shade - 34, shade - 62), width=3)
    table = table.filter(ImageFilter.GaussianBlur(1.2))
    shadow = Image.new("RGBA", paper.size, (0, 0, 0, 90)).rotate(angle, expand=True)
    rotated = paper.convert("RGBA").rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    x, y = (table.width - rotated.width) // 2, (table.height - rotated.height) // 2
    table.paste(shadow, (x + 8, y + 10), shadow)
    table.paste(rotated, (x, y), rotated)
    return table


def receipt(
    store: str, address: str, bought: date, item: str, detail: str, price_yen: int, angle: float
) -> bytes:
    """A department-store till receipt for one item."""
    width, height = 460, 720
    paper = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(paper)
    big, body, small = _font(30), _font(21), _font(17)
    y = 34

    def centred(text: str, font: ImageFont.ImageFont, fill: tuple[int, int, int] = INK) -> None:
        nonlocal y
        box = draw.textbbox((0, 0), text, font=font)
        draw.text(((width - (box[2] - box[0])) / 2, y), text, font=font, fill=fill)
        y += box[3] - box[1] + 14

    def row(left: str, right: str = "", font: ImageFont.ImageFont = body) -> None:
        nonlocal y
        draw.text((36, y), left, font=font, fill=INK)
        if right:
            box = draw.textbbox((0, 0), right, font=font)
            draw.text((width - 36 - (box[2] - box[0]), y), right, font=font, fill=INK)
        y += 34 if font is not big else 48

    def rule() -> None:
        nonlocal y
        draw.line([(30, y + 6), (width - 30, y + 6)], fill=FADED, width=1)
        y += 20

    centred(store, big)
    centred(address, small, FADED)
    rule()
    row(f"{bought:%Y年%m月%d日}", "14:32", small)
    row("レジ 012", "No. 0483", small)
    rule()
    row("Reverse 売場", "", small)
    row(item)
    row(f"  {detail}", f"¥{price_yen:,}")
    rule()
    tax = price_yen - price_yen * 10 // 11
    row("小計", f"¥{price_yen:,}")
    row("（内消費税等 10%）", f"¥{tax:,}", small)
    row("合計", f"¥{price_yen:,}", big)
    row("クレジット", f"¥{price_yen:,}")
    rule()
    centred("お買い上げありがとうございます", small, FADED)
    for i in range(48):  # a barcode of the receipt number
        x = 60 + i * 7
        draw.rectangle([x, y + 6, x + (2 if i % 3 else 4), y + 60], fill=INK)
    return _jpeg(_on_table(paper, angle))


def warranty_card(store: str, bought: date, item: str, angle: float) -> bytes:
    """The brand's warranty card, stamped by the counter that sold the item."""
    width, height = 620, 400
    card = Image.new("RGB", (width, height), (246, 243, 234))
    draw = ImageDraw.Draw(card)
    draw.rectangle([14, 14, width - 14, height - 14], outline=(35, 57, 91), width=3)
    draw.text((40, 34), "保証書  WARRANTY", font=_font(30), fill=(35, 57, 91))
    draw.text((40, 92), "Reverse", font=_font(22), fill=FADED)
    lines = [("品名", item), ("お買い上げ日", f"{bought:%Y年%m月%d日}"), ("販売店", store)]
    for n, (label, value) in enumerate(lines):
        y = 150 + n * 56
        draw.text((40, y), label, font=_font(19), fill=FADED)
        draw.text((190, y - 3), value, font=_font(24), fill=INK)
        draw.line([(190, y + 34), (width - 40, y + 34)], fill=FADED, width=1)
    # the counter's red stamp
    draw.ellipse([width - 160, 40, width - 50, 150], outline=(190, 40, 40), width=4)
    stamp = store[:3]
    box = draw.textbbox((0, 0), stamp, font=_font(24))
    draw.text(
        (width - 105 - (box[2] - box[0]) / 2, 95 - (box[3] - box[1]) / 2 - box[1]),
        stamp,
        font=_font(24),
        fill=(190, 40, 40),
    )
    return _jpeg(_on_table(card, angle))


def item_photo(colour: tuple[int, int, int], label: str, angle: float) -> bytes:
    """A bag or garment on a plain background, with the fault circled in red."""
    width, height = 720, 540
    photo = Image.new("RGB", (width, height), (226, 223, 216))
    draw = ImageDraw.Draw(photo)
    draw.rectangle([0, 380, width, height], fill=(205, 200, 190))
    darker = tuple(max(0, c - 40) for c in colour)
    draw.polygon([(200, 170), (520, 170), (560, 470), (160, 470)], fill=colour, outline=darker)
    draw.arc([250, 40, 470, 300], start=180, end=360, fill=darker, width=18)
    for i in range(7):  # the frayed stitching
        draw.line(
            [(262 + i * 6, 160), (250 + i * 9, 190 + (i % 3) * 6)], fill=(240, 236, 228), width=2
        )
    draw.ellipse([215, 120, 325, 230], outline=(210, 30, 30), width=6)
    draw.text((340, 110), label, font=_font(26), fill=(210, 30, 30))
    photo = photo.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(226, 223, 216))
    return _jpeg(photo.filter(ImageFilter.GaussianBlur(0.6)))
