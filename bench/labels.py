"""How fast carrier labels render: the project's pipeline against plain WeasyPrint.

    .venv/bin/python bench/labels.py [--repeat N] [--profile single|batch|baseline]

Renders the same 20 varied labels three ways, after a warm-up, several times each:

- baseline: the straightforward approach — the label template rendered by Jinja with its
  barcodes as inline SVG (codabar_svg, code128_svg, qr_svg), the stylesheets linked from the
  page, and `weasyprint.HTML(string=...).write_pdf()` with WeasyPrint's defaults, so every
  render parses the CSS and loads the fonts afresh; one label per PDF;
- single: `render_label()`, one label per PDF;
- batch: `render_labels()`, all 20 in one PDF, per page;
- and, for information, the baseline again with the system's full Noto Sans CJK JP instead of
  the cut-down label font of label.css (reverse/shipping/label_font.py).

Prints the medians, and as its last line:
    labels: single_ms=… batch_ms_per_page=… baseline_single_ms=… speedup=…
Wall-clock time: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

from flask import current_app, render_template
from weasyprint import HTML

from reverse import create_app
from reverse.core.barcodes import codabar_svg, code128_svg, qr_svg
from reverse.core.codes import damm_digit, format_rma_number
from reverse.core.pdf import BASE_URL, PRINT_CSS, StaticOnlyFetcher
from reverse.shipping.labels import (
    LABEL_CSS,
    LABEL_TEMPLATE,
    LabelData,
    Party,
    render_label,
    render_labels,
)
from reverse.shipping.operations import tracking_number

CENTRES = [
    Party(
        "Reverse 市川返品センター",
        "御中",
        "272-0002",
        ("千葉県市川市二俣新町17-2", "市川ロジスティクスセンター 3F"),
        "047-000-0000",
    ),
    Party(
        "Reverse 修理センター",
        "御中",
        "530-0011",
        ("大阪府大阪市北区大深町4-20", "グランフロント大阪 タワーA 12F"),
        "06-0000-0000",
    ),
]
CUSTOMERS = [
    Party(
        "山田 花子",
        "様",
        "150-0041",
        ("東京都渋谷区神南1-14-5", "神南スクエア 1102号室"),
        "090-1234-5678",
    ),
    Party("佐藤 健太郎", "様", "060-0806", ("北海道札幌市北区北六条西4丁目",), "011-000-1234"),
    Party(
        "髙橋 美咲",
        "様",
        "812-0012",
        ("福岡県福岡市博多区博多駅中央街1-1", "博多シティ 9F"),
        "092-000-5678",
    ),
    Party(
        "長谷川 エリザベス 優子",
        "様",
        "980-0021",
        (
            "宮城県仙台市青葉区中央1丁目1-1 仙台駅前ビルディング",
            "東棟 2305号室 （宅配ボックス不可）",
        ),
        "080-0000-9999",
    ),
    Party(
        "株式会社 伊勢丹 新宿店 婦人服売場",
        "御中",
        "160-0022",
        ("東京都新宿区新宿3-14-1",),
        "03-0000-1111",
    ),
]
CARRIERS = ["yamato", "sagawa", "japan_post", "own"]
ITEMS = ["衣類", "衣類・服飾雑貨", "バッグ", "靴", "衣類（修理品）"]
NOTES = ["ワレモノ注意", "", "天地無用", "精密機器・水濡れ厳禁", "時間指定 午前中"]


def sample_labels(count: int = 20) -> list[LabelData]:
    """`count` labels varying carrier, payment, addresses, item, note, date and RMA."""
    labels = []
    for i in range(count):
        carrier = CARRIERS[i % len(CARRIERS)]
        body = f"{500000000 + 7919 * i:09d}"
        rma = f"R{body}{damm_digit(body)}" if i % 5 != 4 else None
        returning = i % 3 != 2
        customer, centre = CUSTOMERS[i % len(CUSTOMERS)], CENTRES[i % len(CENTRES)]
        labels.append(
            LabelData(
                carrier=carrier,
                tracking_number=(
                    f"{7700000000 + i:012d}"
                    if carrier == "own"
                    else tracking_number(31234567000 + i)
                ),
                payment="receiver_pays" if i % 2 == 0 else "sender_pays",
                to=centre if returning else customer,
                sender=customer if returning else centre,
                item_name=f"{ITEMS[i % len(ITEMS)]}（返品 {format_rma_number(rma)}）"
                if rma
                else ITEMS[i % len(ITEMS)],
                rma_number=rma,
                rma_display=format_rma_number(rma) if rma else None,
                shipper_code=f"0312345678{i % 100:02d}" if i % 4 else "",
                ship_date=date(2026, 11, 23 + i % 7) if i % 6 else None,
                note=NOTES[i % len(NOTES)],
            )
        )
    return labels


def baseline_label(label: LabelData, *, system_font: bool = False) -> bytes:
    """The straightforward render of the same template: barcodes as inline SVG, stylesheets
    linked from the page, WeasyPrint's defaults (fresh CSS parse, fresh font configuration).

    With `system_font`, label.css comes inline without its cut-down font, so the text is set
    in the system's full Noto Sans CJK JP as pdf.css has it."""
    html = render_template(
        LABEL_TEMPLATE,
        labels=[label],
        layout="thermal",
        nw7=codabar_svg,
        code128=code128_svg,
        qr=qr_svg,
    )
    static = current_app.static_folder or ""
    if system_font:
        css = (Path(static) / LABEL_CSS).read_text(encoding="utf-8")
        css = _FONT_FACE_RE.sub("", css).replace('"Reverse Label Sans", ', "")
        head = f'<link rel="stylesheet" href="/static/{PRINT_CSS}"><style>{css}</style>'
    else:
        head = "".join(
            f'<link rel="stylesheet" href="/static/{name}">' for name in (PRINT_CSS, LABEL_CSS)
        )
    html = html.replace("</head>", head + "</head>", 1)
    fetcher = StaticOnlyFetcher(static, current_app.static_url_path)
    return HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).write_pdf()


_FONT_FACE_RE = re.compile(r"@font-face\s*{[^}]*}")


def per_call(
    render: Callable[[LabelData], object], labels: list[LabelData], repeat: int
) -> list[float]:
    """Milliseconds of each call, over `repeat` passes after one warm-up pass."""
    for label in labels:
        render(label)
    times = []
    for _ in range(repeat):
        for label in labels:
            start = time.perf_counter()
            render(label)
            times.append((time.perf_counter() - start) * 1000)
    return times


def per_page(labels: list[LabelData], repeat: int) -> list[float]:
    """Milliseconds per page of one PDF of all `labels`, for each of `repeat` passes."""
    render_labels(labels)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        render_labels(labels)
        times.append((time.perf_counter() - start) * 1000 / len(labels))
    return times


def profile(run: Callable[[], object]) -> None:
    run()
    profiler = cProfile.Profile()
    profiler.runcall(run)
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed passes (default 5)")
    parser.add_argument(
        "--profile", choices=["single", "batch", "baseline"], help="cProfile it to stderr"
    )
    args = parser.parse_args()

    app = create_app({"DATABASE_URL": "sqlite://"})
    with app.test_request_context():
        labels = sample_labels()
        if args.profile == "single":
            profile(lambda: [render_label(label) for label in labels])
        elif args.profile == "batch":
            profile(lambda: render_labels(labels))
        elif args.profile == "baseline":
            profile(lambda: [baseline_label(label) for label in labels])
        times = {
            "baseline": per_call(baseline_label, labels, args.repeat),
            "single": per_call(render_label, labels, args.repeat),
            "batch": per_page(labels, args.repeat),
            "baseline, system font": per_call(
                partial(baseline_label, system_font=True), labels, max(1, args.repeat // 2)
            ),
        }
        median = {name: statistics.median(values) for name, values in times.items()}
        for name, values in times.items():
            unit = "ms/page" if name == "batch" else "ms/label"
            print(
                f"{name:21s} median {median[name]:6.1f} {unit:8s} "
                f"min {min(values):6.1f}  max {max(values):6.1f}  ({len(values)} timings)"
            )
        print(
            f"labels: single_ms={median['single']:.1f} "
            f"batch_ms_per_page={median['batch']:.1f} "
            f"baseline_single_ms={median['baseline']:.1f} "
            f"speedup={median['baseline'] / median['single']:.1f}"
        )


if __name__ == "__main__":
    main()
