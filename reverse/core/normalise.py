"""Input as people type it: NFKC, the many Japanese dashes, postal codes, phones and emails."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# Dash-like characters a Japanese keyboard or IME produces where a hyphen is meant.
_DASHES = "‐‑‒–—―−－﹣"
_DASH_RE = re.compile(f"[{_DASHES}]")
# The katakana long-vowel mark (ー) is a dash only inside numbers and codes: in names and
# addresses (サポート, エミリー) it is a letter and must stay.
_CODE_DASH_RE = re.compile(f"[{_DASHES}ー]")
_SPACES_RE = re.compile(r"\s+")
_POSTAL_RE = re.compile(r"^〒?\s*(\d{3})-?(\d{4})$")


class InvalidInput(ValueError):
    """A value that cannot be normalised; the message is a plain, untranslated key phrase."""


def nfkc(value: str | None) -> str:
    """NFKC-normalise, unify dashes to '-', collapse white space and trim."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", value)
    text = _DASH_RE.sub("-", text)
    return _SPACES_RE.sub(" ", text).strip()


def code_text(value: str | None) -> str:
    """`nfkc` for numbers and codes, where the IME's long-vowel mark is meant as a hyphen
    ("１２３ー４５６７" → "123-4567")."""
    return _CODE_DASH_RE.sub("-", nfkc(value))


def digits_and_dashes(value: str | None) -> str:
    """Normalised text with every dash and space removed ("１２３－４５６７" → "1234567")."""
    return code_text(value).replace("-", "").replace(" ", "")


def postal_code(value: str | None) -> str:
    """A Japanese postal code as "123-4567"; raises InvalidInput otherwise."""
    text = code_text(value).replace(" ", "")
    match = _POSTAL_RE.match(text)
    if not match:
        raise InvalidInput("postal_code")
    return f"{match.group(1)}-{match.group(2)}"


def phone(value: str | None) -> str:
    """A phone number in E.164 ("+819012345678"), read as Japanese unless it has a +country."""
    text = code_text(value)
    if not text:
        raise InvalidInput("phone")
    try:
        parsed = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput("phone") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidInput("phone")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_display(e164: str | None) -> str:
    """How a Japanese phone number is written at home ("090-1234-5678")."""
    if not e164:
        return ""
    parsed = phonenumbers.parse(e164, "JP")
    if parsed.country_code == 81:
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def email(value: str | None) -> str:
    """A syntactically valid email, lower-cased for matching; raises InvalidInput otherwise."""
    text = nfkc(value)
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput("email") from exc
    return result.normalized.lower()
