"""CSV downloads: what Excel in Japan opens, and text a spreadsheet would run kept as text."""

from __future__ import annotations

import csv
import io

import pytest

from reverse.core.spreadsheet import excel_csv


def _rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))


@pytest.mark.parametrize(
    "typed",
    ['=HYPERLINK("http://evil.example","開く")', "+81 3-1234", "-2+3", "@SUM(A1)", "\t=1+1"],
)
def test_text_that_starts_a_formula_is_kept_as_text(typed):
    [_header, row] = _rows(excel_csv(["name"], [[typed]]))
    assert row == ["'" + typed]


def test_numbers_and_ordinary_text_are_untouched():
    data = excel_csv(["名前", "金額", "差額"], [["山田 花子", 12_900, -500], ["a=b", 0, None]])
    assert _rows(data) == [
        ["名前", "金額", "差額"],
        ["山田 花子", "12900", "-500"],
        ["a=b", "0", ""],
    ]
    assert data.endswith(b"\r\n")


def test_a_formula_in_a_condition_note_reaches_the_feed_as_text(client, make_item):
    make_item("B", listed=True, notes="=1+1 袖口にほつれ")
    response = client.get("/preowned/feed.csv")
    rows = _rows(response.data)
    note = rows[1][rows[0].index("condition_notes")]
    assert note == "'=1+1 袖口にほつれ"
