"""CSV downloads as Excel in Japan opens them (UTF-8 with a BOM, CRLF, a header row), with
text that a spreadsheet would run as a formula made inert."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from flask import Response

#: a cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """Text that would start a formula (a customer named "=HYPERLINK(…)") gets a leading
    apostrophe, which spreadsheets show as text; numbers, negative ones too, stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def excel_csv(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([cell(str(h)) for h in header])
    writer.writerows([cell(value) for value in row] for row in rows)
    return b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")


def csv_download(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
