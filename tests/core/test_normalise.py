"""Input as people type it on Japanese keyboards."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reverse.core.codes import (
    damm_digit,
    format_rma_number,
    is_valid_jan,
    is_valid_tracking_number,
    new_rma_number,
    parse_rma_number,
)
from reverse.core.normalise import InvalidInput, email, nfkc, phone, postal_code

FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")


@pytest.mark.parametrize(
    "typed",
    ["123-4567", "1234567", "〒123-4567", "１２３－４５６７", "１２３ー４５６７", "〒 123‐4567"],
)
def test_postal_codes_as_people_type_them(typed):
    assert postal_code(typed) == "123-4567"


@pytest.mark.parametrize("typed", ["12-34567", "123-456", "abc-defg", "", "1234-567"])
def test_wrong_postal_codes_are_refused(typed):
    with pytest.raises(InvalidInput):
        postal_code(typed)


@pytest.mark.parametrize(
    "typed", ["090-1234-5678", "０９０ー１２３４ー５６７８", "+81 90 1234 5678"]
)
def test_japanese_mobile_numbers(typed):
    assert phone(typed) == "+819012345678"


def test_a_landline_and_a_foreign_number():
    assert phone("03-1234-5678") == "+81312345678"
    assert phone("+44 20 7946 0958") == "+442079460958"
    with pytest.raises(InvalidInput):
        phone("12345")


def test_emails_are_lower_cased_and_full_width_is_folded():
    assert email("Ｈａｎａｋｏ@Example.JP") == "hanako@example.jp"
    with pytest.raises(InvalidInput):
        email("hanako@")


def test_katakana_long_vowels_in_names_survive():
    assert nfkc("サポート　太郎") == "サポート 太郎"
    assert nfkc("ｴﾐﾘｰ") == "エミリー"


@given(st.integers(min_value=0, max_value=999_999_999))
def test_every_rma_number_survives_full_width_typing_and_any_dash(body):
    digits = f"{body:09d}"
    number = f"R{digits}{damm_digit(digits)}"
    shown = format_rma_number(number)
    assert parse_rma_number(shown) == number
    assert parse_rma_number(shown.translate(FULL_WIDTH).lower()) == number
    assert parse_rma_number(shown.replace("-", "ー")) == number


@given(st.integers(min_value=0, max_value=999_999_999), st.integers(0, 9), st.integers(1, 9))
def test_one_wrong_digit_in_an_rma_number_is_caught(body, position, delta):
    digits = f"{body:09d}"
    number = digits + str(damm_digit(digits))
    wrong = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert parse_rma_number("R" + wrong) is None


def test_new_rma_numbers_parse_back():
    for _ in range(100):
        number = new_rma_number()
        assert parse_rma_number(number) == number


def test_tracking_number_check_digit_is_body_mod_7():
    assert is_valid_tracking_number("123456789013")
    assert is_valid_tracking_number("１２３４－５６７８－９０１３")
    assert not is_valid_tracking_number("123456789014")
    assert not is_valid_tracking_number("123456789017")


def test_jan_check_digit():
    assert is_valid_jan("4901234567894")
    assert not is_valid_jan("4901234567890")
