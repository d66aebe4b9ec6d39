"""Geometry of the dashboard's server-side SVG charts: plain numbers the templates draw as
SVG attributes (the CSP allows neither scripts from elsewhere nor inline styles)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 14, 30


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `value` (an axis' top)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    label: str
    #: the value as printed above the column and read by screen readers ("" = unknown)
    text: str
    known: bool


@dataclass(frozen=True)
class Tick:
    y: float
    text: str


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    left: int
    bottom: float
    columns: list[Column]
    ticks: list[Tick]
    #: print each column's value above it (only when they fit)
    show_values: bool
    #: print every n-th label under the axis
    label_every: int


def column_chart(
    starts: Sequence[date], values: Sequence[Decimal | None], *, monthly: bool
) -> ColumnChart:
    """Columns of percentages (None: unknown, drawn as a hatch-less gap with "—")."""
    known = [float(v) for v in values if v is not None]
    top = nice_ceiling(max(known, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(values), 1)
    slot = plot_w / n
    bar = slot * 0.7
    columns = []
    for k, (start, value) in enumerate(zip(starts, values, strict=True)):
        h = 0.0 if value is None else plot_h * float(value) / top
        columns.append(
            Column(
                x=round(LEFT + k * slot + (slot - bar) / 2, 1),
                y=round(TOP + plot_h - h, 1),
                width=round(bar, 1),
                height=round(h, 1),
                label=start.strftime("%Y/%m") if monthly else start.strftime("%m/%d"),
                text="—" if value is None else f"{value}%",
                known=value is not None,
            )
        )
    ticks = [
        Tick(round(TOP + plot_h - plot_h * f, 1), _percent(top * f))
        for f in (0, 0.25, 0.5, 0.75, 1)
    ]
    return ColumnChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        bottom=TOP + plot_h,
        columns=columns,
        ticks=ticks,
        show_values=n <= 16,
        label_every=max(1, math.ceil(n / 8)),
    )


def _percent(value: float) -> str:
    return f"{value:g}%"


@dataclass(frozen=True)
class Segment:
    key: str
    x: float
    width: float
    colour: str


def stacked(parts: Sequence[tuple[str, int, str]]) -> list[Segment]:
    """One 100-wide bar split by (key, amount, colour); empty parts take no room."""
    total = sum(amount for _key, amount, _colour in parts)
    segments, x = [], 0.0
    if total <= 0:
        return segments
    for key, amount, colour in parts:
        if amount <= 0:
            continue
        width = 100 * amount / total
        segments.append(Segment(key, round(x, 2), round(width, 2), colour))
        x += width
    return segments
