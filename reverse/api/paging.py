"""Cursor paging of API lists: rows in id order, a page continues after the last id it gave.

Ids only grow, so paging never skips or repeats a row, whatever is added or changed while a
client pages. The cursor is opaque to clients and names its list, so one list's cursor is
refused by another.
"""

from __future__ import annotations

import base64
import binascii

from flask_babel import lazy_gettext as _l

from reverse.core.errors import DomainError


class BadCursor(DomainError):
    code = "validation_error"


def encode_cursor(kind: str, last_id: int) -> str:
    return base64.urlsafe_b64encode(f"1|{kind}|{last_id}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, value: str | None) -> int | None:
    """The id a page continues after; None without a cursor. BadCursor for one this list
    did not give."""
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        version, named, last = raw.split("|")
        last_id = int(last)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        last_id, version, named = -1, "", ""
    if version != "1" or named != kind or last_id < 0:
        message = _l("This cursor was not given by this list: start again without it.")
        raise BadCursor(message, cursor=[message])
    return last_id
