"""Printed and scanned identifiers: RMA numbers (Damm check digit), JAN codes, carrier numbers."""

from __future__ import annotations

import secrets

from reverse.core.normalise import code_text

# Damm's totally anti-symmetric quasigroup of order 10: catches every single-digit error and
# every swap of two adjacent digits, which is what people do when they copy a number.
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

RMA_PREFIX = "R"
RMA_BODY_DIGITS = 9


def damm_digit(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return interim


def new_rma_number() -> str:
    """A random RMA number: "R" + 9 digits + Damm check digit (canonical, unformatted)."""
    body = "".join(str(secrets.randbelow(10)) for _ in range(RMA_BODY_DIGITS))
    if body[0] == "0":
        body = str(secrets.randbelow(9) + 1) + body[1:]
    return f"{RMA_PREFIX}{body}{damm_digit(body)}"


def parse_rma_number(value: str | None) -> str | None:
    """The canonical RMA number from what someone typed or scanned, or None if it is not one.

    Accepts full-width characters, any dashes or spaces, and a missing or lower-case "R".
    """
    text = code_text(value).upper().replace("-", "").replace(" ", "")
    text = text.removeprefix(RMA_PREFIX)
    if len(text) != RMA_BODY_DIGITS + 1 or not text.isdigit():
        return None
    if damm_digit(text) != 0:
        return None
    return RMA_PREFIX + text


def format_rma_number(number: str) -> str:
    """ "R1234567890" → "R12345-67890": easier to read aloud over the phone."""
    digits = number.removeprefix(RMA_PREFIX)
    return f"{RMA_PREFIX}{digits[:5]}-{digits[5:]}"


def jan_check_digit(first12: str) -> int:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first12))
    return (10 - total % 10) % 10


def is_valid_jan(value: str) -> bool:
    """EAN-13 / JAN: 13 digits whose last is the weighted mod-10 check digit."""
    return len(value) == 13 and value.isdigit() and jan_check_digit(value[:12]) == int(value[12])


def tracking_check_digit(body: str) -> int:
    """Yamato / Sagawa / Japan Post: the 12th digit is the 11-digit body mod 7."""
    return int(body) % 7


def is_valid_tracking_number(value: str) -> bool:
    digits = code_text(value).replace("-", "").replace(" ", "")
    return (
        len(digits) == 12
        and digits.isdigit()
        and tracking_check_digit(digits[:11]) == int(digits[11])
    )
