"""Carrier CSVs open as their systems expect, and nothing is dropped silently."""

from __future__ import annotations

import csv
import io
from datetime import date

from reverse.shipping.constants import Payment
from reverse.shipping.exports import (
    B2_HEADER,
    CsvParty,
    CsvShipment,
    generic_csv,
    yamato_b2_csv,
)

CENTRE = CsvParty(
    "Reverse 市川返品センター",
    "272-0002",
    "千葉県市川市二俣新町17-2",
    "市川ロジスティクスセンター 3F",
    "047-000-0000",
    "御中",
)


def shipment(name: str = "髙橋 花子", payment: Payment = Payment.RECEIVER_PAYS) -> CsvShipment:
    customer = CsvParty(
        name, "150-0041", "東京都渋谷区神南1-2-3", "渋谷ハイツ 101", "090-1234-5678"
    )
    return CsvShipment(
        reference="R1234567890",
        carrier="yamato",
        payment=payment,
        tracking_number="123456789013",
        ship_date=date(2026, 11, 24),
        to=CENTRE,
        sender=customer,
        item_name="衣類（返品 R12345-67890）",
        shipper_code="0312345678",
    )


def parse(content: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode(encoding), newline="")))


def test_b2_is_shift_jis_with_crlf_a_header_and_the_slip_kind():
    export = yamato_b2_csv(
        [shipment(), shipment(payment=Payment.SENDER_PAYS)], today=date(2026, 11, 24)
    )
    assert export.problems == []
    assert b"\r\n" in export.content
    assert b"\n" not in export.content.replace(b"\r\n", b"")
    rows = parse(export.content, "cp932")
    header, first, second = rows
    assert tuple(header) == B2_HEADER
    assert len(first) == len(header) == 42
    by_name = dict(zip(header, first, strict=True))
    assert by_name["送り状種類"] == "5"  # 着払い
    assert dict(zip(header, second, strict=True))["送り状種類"] == "0"  # 発払い
    assert by_name["伝票番号"] == "123456789013"
    assert by_name["出荷予定日"] == "2026/11/24"
    assert by_name["お届け先名"] == "Reverse 市川返品センター"
    assert by_name["敬称"] == "御中"
    assert by_name["ご依頼主名"] == "髙橋 花子"  # 髙 is in Windows-31J
    assert by_name["ご依頼主郵便番号"] == "150-0041"
    assert by_name["請求先顧客コード"] == "0312345678"


def test_characters_shift_jis_cannot_hold_are_reported_not_dropped():
    export = yamato_b2_csv([shipment(name="𠮷田 花子😀")], today=date(2026, 11, 24))
    assert [(p.row, p.column, p.codepoint) for p in export.problems] == [
        (1, "ご依頼主名", "U+20BB7"),
        (1, "ご依頼主名", "U+1F600"),
    ]
    row = dict(zip(B2_HEADER, parse(export.content, "cp932")[1], strict=True))
    assert row["ご依頼主名"] == "〓田 花子〓"


def test_the_generic_layout_is_utf8_and_keeps_every_character():
    export = generic_csv([shipment(name="𠮷田 花子")], carrier="sagawa", today=date(2026, 11, 24))
    assert export.content.startswith(b"\xef\xbb\xbf")
    assert export.problems == []
    header, row = parse(export.content.removeprefix(b"\xef\xbb\xbf"), "utf-8")
    assert dict(zip(header, row, strict=True))["from_name"] == "𠮷田 花子"
    assert export.filename == "sagawa-shipments-20261124.csv"


def test_commas_and_quotes_stay_in_their_column_and_line_breaks_become_spaces():
    export = yamato_b2_csv([shipment(name='山田, "花子"\n様')], today=date(2026, 11, 24))
    rows = parse(export.content, "cp932")
    assert len(rows) == 2
    assert dict(zip(B2_HEADER, rows[1], strict=True))["ご依頼主名"] == '山田, "花子" 様'
