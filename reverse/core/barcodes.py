"""Code 128, NW-7 (Codabar) and QR codes as inline SVG, sized in millimetres, for PDFs and pages.

The symbols are encoded by libraries (python-barcode for Code 128 and NW-7, segno for QR); this
module only draws their modules: one filled path per symbol, so no renderer leaves hairline gaps
between neighbouring modules, with the quiet zone each standard asks for.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from itertools import groupby

import segno
from barcode import Code128
from barcode.codabar import CODABAR
from markupsafe import Markup, escape

#: Code 128 asks for a quiet zone of at least 10 modules on each side.
CODE128_QUIET_MODULES = 10
#: QR asks for a quiet zone of 4 modules around the symbol.
QR_QUIET_MODULES = 4
#: NW-7 (JIS X 0503) asks for at least 10 narrow elements of quiet zone on each side.
CODABAR_QUIET_MODULES = 10
#: What NW-7 can carry between its start and stop characters.
CODABAR_DATA = frozenset("0123456789-$:/.+")


def code128_svg(value: str, *, height_mm: float = 12, module_mm: float = 0.33) -> Markup:
    """`value` (printable ASCII) as a Code 128 barcode, `module_mm` wide per module.

    The SVG is as wide as the symbol plus its quiet zones and `height_mm` high; the text is
    not drawn (print it beside the barcode in a readable size).
    """
    if not value or not value.isascii() or not value.isprintable():
        raise ValueError(f"Code 128 takes printable ASCII, not {value!r}")
    if height_mm <= 0 or module_mm <= 0:
        raise ValueError("height_mm and module_mm must be positive")
    pattern = Code128(value).build()[0]
    modules = len(pattern) + 2 * CODE128_QUIET_MODULES
    height = height_mm / module_mm
    bars = [module == "1" for module in pattern]
    runs = [(CODE128_QUIET_MODULES + start, 0, length) for start, length in _dark_runs(bars)]
    return _svg(
        runs,
        view_width=modules,
        view_height=height,
        width_mm=modules * module_mm,
        height_mm=height_mm,
        bar_height=height,
        label=value,
        kind="code128",
    )


def codabar_svg(
    value: str,
    *,
    start: str = "A",
    stop: str = "A",
    height_mm: float = 12,
    narrow_mm: float = 0.3,
    ratio: float = 2.5,
) -> Markup:
    """`value` (digits and `-$:/.+`) as an NW-7 (Codabar) barcode between the `start` and
    `stop` characters (A–D; Japanese carriers print tracking numbers as A…A).

    Narrow elements are `narrow_mm` wide, wide ones `ratio` times that (JIS X 0503 allows 2 to
    3); the SVG holds the symbol and its quiet zones, `height_mm` high, without the text.
    """
    if not value or not set(value) <= CODABAR_DATA:
        raise ValueError(f"NW-7 takes digits and -$:/.+, not {value!r}")
    if start not in "ABCD" or stop not in "ABCD" or len(start) != 1 or len(stop) != 1:
        raise ValueError(f"NW-7 start and stop characters are A, B, C or D, not {start!r}/{stop!r}")
    if height_mm <= 0 or narrow_mm <= 0:
        raise ValueError("height_mm and narrow_mm must be positive")
    if not 2 <= ratio <= 3:
        raise ValueError(f"the wide/narrow ratio of NW-7 is 2 to 3, not {ratio}")
    # Drawn in a unit that makes both element widths whole numbers (2.5 → narrow 2, wide 5).
    fraction = Fraction(ratio).limit_denominator(20)
    narrow, wide = fraction.denominator, fraction.numerator
    unit_mm = narrow_mm / narrow
    # python-barcode spells the symbol (with its inter-character gaps) as modules with narrow
    # elements 1 and wide ones 2 modules wide; bars and spaces alternate, so each run of equal
    # modules is one element.
    modules = CODABAR(f"{start}{value}{stop}", narrow=1, wide=2).build()[0]
    runs = []
    x = quiet = CODABAR_QUIET_MODULES * narrow
    for module, group in groupby(modules):
        width = wide if len(list(group)) == 2 else narrow
        if module == "1":
            runs.append((x, 0, width))
        x += width
    height = height_mm / unit_mm
    return _svg(
        runs,
        view_width=x + quiet,
        view_height=height,
        width_mm=(x + quiet) * unit_mm,
        height_mm=height_mm,
        bar_height=height,
        label=value,
        kind="nw7",
    )


def qr_svg(value: str, *, size_mm: float = 24) -> Markup:
    """`value` as a QR code (error correction M or better), `size_mm` square with its quiet
    zone included."""
    if not value:
        raise ValueError("a QR code needs a value")
    if size_mm <= 0:
        raise ValueError("size_mm must be positive")
    qr = segno.make_qr(value, error="m")
    rows = [[bool(module) for module in row] for row in qr.matrix_iter(border=QR_QUIET_MODULES)]
    runs = [(start, y, length) for y, row in enumerate(rows) for start, length in _dark_runs(row)]
    size = len(rows)
    return _svg(
        runs,
        view_width=size,
        view_height=size,
        width_mm=size_mm,
        height_mm=size_mm,
        bar_height=1,
        label=value,
        kind="qr",
    )


def _dark_runs(row: Sequence[bool]) -> Iterator[tuple[int, int]]:
    """(start, length) of each run of dark modules in a row."""
    start = None
    for index, dark in enumerate(row):
        if dark and start is None:
            start = index
        elif not dark and start is not None:
            yield start, index - start
            start = None
    if start is not None:
        yield start, len(row) - start


def _fmt(number: float) -> str:
    return f"{number:.3f}".rstrip("0").rstrip(".")


def _svg(
    runs: Iterable[tuple[int, int, int]],
    *,
    view_width: float,
    view_height: float,
    width_mm: float,
    height_mm: float,
    bar_height: float,
    label: str,
    kind: str,
) -> Markup:
    # Each run is a rectangle in module units; all of them in one path, filled together.
    h = _fmt(bar_height)
    path = "".join(f"M{x} {y}h{length}v{h}h-{length}z" for x, y, length in runs)
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="barcode barcode--{kind}" '
        'width="{w}mm" height="{hh}mm" viewBox="0 0 {vw} {vh}" shape-rendering="crispEdges" '
        'role="img" aria-label="{label}">'
        '<rect width="{vw}" height="{vh}" fill="#fff"/>'
        '<path fill="#000" d="{path}"/></svg>'
    ).format(
        kind=kind,
        w=_fmt(width_mm),
        hh=_fmt(height_mm),
        vw=_fmt(view_width),
        vh=_fmt(view_height),
        label=escape(label),
        path=path,
    )
