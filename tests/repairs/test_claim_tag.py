"""The claim tag of a counter repair, read back as the counter and the repair centre would: the
text extracted, page 1 printed at 300 dpi and its codes scanned."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import zxingcpp
from PIL import Image

from reverse.extensions import db
from reverse.repairs.claim_tag import render_claim_tag
from reverse.rmas.models import Rma

QR = zxingcpp.BarcodeFormat.QRCode
CODE128 = zxingcpp.BarcodeFormat.Code128


def pdf_text(pdf: bytes) -> str:
    """The text in reading order, without the line breaks and spaces that wrapping and
    letter-spacing add (so "山田 花子" reads "山田花子")."""
    text = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    return "".join(text.split())


def page_count(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in info.decode().splitlines() if ":" in line)
    return int(fields["Pages"])


def first_page(pdf: bytes, tmp_path: Path, dpi: int = 300) -> Image.Image:
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(dpi),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            "-",
            str(tmp_path / "page"),
        ],
        input=pdf,
        check=True,
    )
    with Image.open(tmp_path / "page.png") as image:
        return image.copy()


def scanned(image: Image.Image) -> dict[zxingcpp.BarcodeFormat, list[str]]:
    found: dict[zxingcpp.BarcodeFormat, list[str]] = {QR: [], CODE128: []}
    for result in zxingcpp.read_barcodes(image, formats=[QR, CODE128]):
        found[result.format].append(result.text)
    return found


def claim_tag(app, rma: Rma) -> bytes:
    with app.test_request_context():
        pdf = render_claim_tag(db.session.get(Rma, rma.id))
        db.session.remove()
    if os.environ.get("CLAIM_TAG_OUT"):  # to look at it: CLAIM_TAG_OUT=/tmp/tag.pdf pytest …
        Path(os.environ["CLAIM_TAG_OUT"]).write_bytes(pdf)
    return pdf


def test_the_tag_has_both_copies_and_the_item_strip_on_one_page(app, make_repair):
    rma = make_repair()

    pdf = claim_tag(app, rma)

    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) == 1
    text = pdf_text(pdf)
    for words in ("お預かり票", "お客様控え", "店舗控え", "品物タグ", "お客様署名"):
        assert words in text
    assert rma.display_number in text
    assert "山田花子" in text
    assert "レザートートバッグ（黒）" in text
    assert "持ち手の付け根がほつれている" in text
    assert "伊勢丹新宿店" in text  # where it was bought, on the store's copy
    assert "¥5,000〜¥12,000" in text  # bought 800 days ago: paid, the estimate applies
    assert "店舗スタッフ" in text  # who took it in
    assert "お引き取りの際は本票をご提示ください" in text
    assert "hanako@example.jp" in text  # the status link went there


def test_every_part_carries_the_number_as_a_qr_code_the_desks_scan(app, make_repair, tmp_path):
    rma = make_repair()

    codes = scanned(first_page(claim_tag(app, rma), tmp_path))

    assert codes[QR] == [rma.number] * 3
    assert rma.number in codes[CODE128]


def test_a_warranty_repair_says_it_is_free(app, make_repair):
    rma = make_repair(warranty=True)

    text = pdf_text(claim_tag(app, rma))

    assert "保証修理（無料）" in text
    assert "¥5,000" not in text


def test_without_an_email_the_tag_says_how_to_follow_the_repair(app, make_repair):
    rma = make_repair(email="")

    text = pdf_text(claim_tag(app, rma))

    assert "お電話でお問い合わせください" in text
    assert "/find" in text
