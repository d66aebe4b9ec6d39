"""Shipment CSVs for the carriers' own systems.

Yamato's B2 Cloud imports its standard layout: Shift_JIS (Windows-31J, as B2 reads it),
CRLF, a header row. We fill the first 42 columns (up to 運賃管理番号) — the ones a shipper
uses; B2 accepts rows that stop there. Sagawa and Japan Post get a documented generic
layout (UTF-8 with BOM) that their import tools map by header.

A character the target encoding cannot hold (𠮷, emoji, …) is written as 〓 — the mark
Japanese printing uses for a missing glyph — and reported, never dropped silently.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from reverse.shipping.constants import Payment

SHIFT_JIS = "cp932"
GETA = "〓"

#: B2 送り状種類: what kind of slip to print
B2_SLIP_SENDER_PAYS = "0"  # 発払い
B2_SLIP_RECEIVER_PAYS = "5"  # 着払い

B2_HEADER = (
    "お客様管理番号", "送り状種類", "クール区分", "伝票番号", "出荷予定日", "お届け予定日",
    "配達時間帯", "お届け先コード", "お届け先電話番号", "お届け先電話番号枝番",
    "お届け先郵便番号", "お届け先住所", "お届け先アパートマンション名", "お届け先会社・部門１",
    "お届け先会社・部門２", "お届け先名", "お届け先名(ｶﾅ)", "敬称", "ご依頼主コード",
    "ご依頼主電話番号", "ご依頼主電話番号枝番", "ご依頼主郵便番号", "ご依頼主住所",
    "ご依頼主アパートマンション", "ご依頼主名", "ご依頼主名(ｶﾅ)", "品名コード１", "品名１",
    "品名コード２", "品名２", "荷扱い１", "荷扱い２", "記事", "ｺﾚｸﾄ代金引換額（税込)",
    "内消費税額等", "止置き", "営業所コード", "発行枚数", "個数口表示フラグ", "請求先顧客コード",
    "請求先分類コード", "運賃管理番号",
)  # fmt: skip

GENERIC_HEADER = (
    "reference", "carrier", "payment", "tracking_number", "ship_date",
    "to_postal_code", "to_address", "to_building", "to_name", "to_honorific", "to_phone",
    "from_postal_code", "from_address", "from_building", "from_name", "from_phone",
    "item_name", "note", "shipper_code",
)  # fmt: skip


@dataclass(frozen=True)
class CsvParty:
    name: str
    postal_code: str
    address: str
    building: str
    phone: str
    honorific: str = "様"


@dataclass(frozen=True)
class CsvShipment:
    reference: str  # our RMA / shipment number: お客様管理番号
    carrier: str
    payment: Payment
    tracking_number: str
    ship_date: date
    to: CsvParty
    sender: CsvParty
    item_name: str
    note: str = ""
    shipper_code: str = ""  # 請求先顧客コード


@dataclass(frozen=True)
class Unencodable:
    """A character the file's encoding cannot carry: where it was and what it was."""

    row: int  # 1 = the first data row
    column: str
    character: str

    @property
    def codepoint(self) -> str:
        return f"U+{ord(self.character):04X}"


@dataclass
class CsvExport:
    content: bytes
    problems: list[Unencodable]
    filename: str
    content_type: str


def _b2_row(s: CsvShipment) -> list[str]:
    slip = B2_SLIP_RECEIVER_PAYS if s.payment == Payment.RECEIVER_PAYS else B2_SLIP_SENDER_PAYS
    return [
        s.reference, slip, "0", s.tracking_number, s.ship_date.strftime("%Y/%m/%d"), "", "",
        "", s.to.phone, "", s.to.postal_code, s.to.address, s.to.building, "", "", s.to.name,
        "", s.to.honorific, "", s.sender.phone, "", s.sender.postal_code, s.sender.address,
        s.sender.building, s.sender.name, "", "", s.item_name[:25], "", "", "", "",
        s.note[:22], "", "", "0", "", "1", "1", s.shipper_code, "", "01",
    ]  # fmt: skip


def _generic_row(s: CsvShipment) -> list[str]:
    return [
        s.reference, s.carrier, s.payment.value, s.tracking_number, s.ship_date.isoformat(),
        s.to.postal_code, s.to.address, s.to.building, s.to.name, s.to.honorific, s.to.phone,
        s.sender.postal_code, s.sender.address, s.sender.building, s.sender.name,
        s.sender.phone, s.item_name, s.note, s.shipper_code,
    ]  # fmt: skip


def _encodable(
    rows: Iterable[Sequence[str]], header: Sequence[str], encoding: str
) -> tuple[list[list[str]], list[Unencodable]]:
    problems: list[Unencodable] = []
    cleaned = []
    for row_no, row in enumerate(rows, start=1):
        out = []
        for column, value in zip(header, row, strict=True):
            chars = []
            # Carriers' importers read one shipment per line: no line breaks inside fields.
            for ch in " ".join(value.split()) if any(c in value for c in "\r\n\t") else value:
                try:
                    ch.encode(encoding)
                    chars.append(ch)
                except UnicodeEncodeError:
                    problems.append(Unencodable(row_no, column, ch))
                    chars.append(GETA)
            out.append("".join(chars))
        cleaned.append(out)
    return cleaned, problems


def _write(header: Sequence[str], rows: list[list[str]], encoding: str, bom: bool) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def yamato_b2_csv(shipments: Sequence[CsvShipment], *, today: date) -> CsvExport:
    rows, problems = _encodable((_b2_row(s) for s in shipments), B2_HEADER, SHIFT_JIS)
    return CsvExport(
        content=_write(B2_HEADER, rows, SHIFT_JIS, bom=False),
        problems=problems,
        filename=f"yamato-b2-{today:%Y%m%d}.csv",
        content_type="text/csv; charset=Shift_JIS",
    )


def generic_csv(shipments: Sequence[CsvShipment], *, carrier: str, today: date) -> CsvExport:
    rows, problems = _encodable((_generic_row(s) for s in shipments), GENERIC_HEADER, "utf-8")
    return CsvExport(
        content=_write(GENERIC_HEADER, rows, "utf-8", bom=True),
        problems=problems,
        filename=f"{carrier}-shipments-{today:%Y%m%d}.csv",
        content_type="text/csv; charset=utf-8",
    )
