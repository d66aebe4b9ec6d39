"""Builds static/fonts/ReverseLabelSans-Bold.otf, the font labels are printed in.

It is Noto Sans CJK JP Bold (Debian's fonts-noto-cjk) cut down to the characters of Shift_JIS
(JIS X 0208 with the NEC and IBM extensions: kana, 6,800 kanji, full- and half-width forms)
plus Latin. WeasyPrint subsets every font it embeds, on every render; with HarfBuzz 6 that
costs about 30 ms for the 65,535-glyph system font and 2 ms for this 7,500-glyph one, and a
label is about 50 ms in all. Characters outside the set still print, from the system font
that label.css names next (slower: that font is then subset too).

    .venv/bin/python -m reverse.shipping.label_font [SOURCE.ttc]

Noto Sans CJK is under the SIL Open Font License 1.1 (static/fonts/OFL.txt), which allows
this modified version under another name: "Noto" is Google's trademark, so it is renamed.
"""

from __future__ import annotations

import sys
from pathlib import Path

FAMILY = "Reverse Label Sans"
STYLE = "Bold"
POSTSCRIPT_NAME = "ReverseLabelSans-Bold"
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
#: Noto Sans CJK JP is the first font of the collection.
SOURCE_INDEX = 0
TARGET = Path(__file__).resolve().parents[2] / "static" / "fonts" / f"{POSTSCRIPT_NAME}.otf"
#: Horizontal Japanese text needs no more; 'locl' and 'vert' would pull in thousands of
#: Chinese, Korean and vertical forms.
LAYOUT_FEATURES = ["ccmp", "kern", "liga", "calt", "palt", "halt", "mark", "mkmk"]


def characters() -> set[int]:
    """Every character of Shift_JIS (cp932), ASCII, Latin-1 and a few print marks."""
    chars = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    for lead in [*range(0x81, 0xA0), *range(0xE0, 0xFD)]:
        for trail in range(0x40, 0xFD):
            try:
                chars.update(map(ord, bytes([lead, trail]).decode("cp932")))
            except UnicodeDecodeError:
                continue
    chars.update(map(ord, bytes(range(0xA1, 0xE0)).decode("cp932")))  # half-width kana
    chars.update(map(ord, "〒℡№‐–—―‼⁉"))
    return chars


def build(source: Path = SOURCE, target: Path = TARGET) -> Path:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(source, fontNumber=SOURCE_INDEX, lazy=True)
    # Ideographic variation sequences (format 14) would keep every variant glyph.
    font["cmap"].tables = [table for table in font["cmap"].tables if table.format != 14]
    options = subset.Options()
    options.layout_features = LAYOUT_FEATURES
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=characters())
    subsetter.subset(font)
    names = {
        1: FAMILY,
        2: STYLE,
        3: f"{POSTSCRIPT_NAME};subset of NotoSansCJKjp-Bold",
        4: f"{FAMILY} {STYLE}",
        6: POSTSCRIPT_NAME,
        16: FAMILY,
        17: STYLE,
    }
    for record in font["name"].names:
        if record.nameID in names:
            record.string = names[record.nameID]
    font["CFF "].cff.fontNames = [POSTSCRIPT_NAME]
    font.recalcTimestamp = False  # the same source builds the same file
    target.parent.mkdir(parents=True, exist_ok=True)
    font.save(target)
    return target


if __name__ == "__main__":
    path = build(Path(sys.argv[1])) if len(sys.argv) > 1 else build()
    print(path)
