"""Yen amounts: whole yen, tax included (税込), never floats."""

from __future__ import annotations


def format_yen(amount: int | None, locale: str = "ja") -> str:
    if amount is None:
        return "—"
    if locale == "ja":
        return f"{amount:,}円"
    return f"¥{amount:,}"
