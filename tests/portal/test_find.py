"""“Find my request”: a new link by email when number and contact match, the same answer
either way, and not endlessly."""

from __future__ import annotations

import re

import pytest

from reverse.core.codes import damm_digit
from tests.conftest import csrf_token


def ask(client, number: str, contact: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client.get("/find").text)
    return client.post("/find", data={"csrf_token": token, "number": number, "contact": contact})


def full_width(text: str) -> str:
    return text.translate(str.maketrans("0123456789R-", "０１２３４５６７８９Ｒ－"))


def another_number(number: str) -> str:
    """A well-formed number (right check digit) of no case."""
    body = f"{(int(number[1:10]) + 1) % 10**9:09d}"
    return f"R{body}{damm_digit(body)}"


@pytest.fixture
def customer_case(app, create_customer, create_rma):  # type: ignore[no-untyped-def]
    customer = create_customer(email="hanako@example.jp", phone="+819012345678")
    rma = create_rma(customer=customer)
    return rma


def test_a_match_gets_a_new_working_link_by_email(app, client, customer_case, mailbox):
    response = ask(client, full_width(customer_case.display_number), "Hanako@Example.jp")
    assert response.status_code == 302
    assert response.headers["Location"] == "/find/sent"
    [mail] = mailbox.messages()
    assert mail["To"] == "hanako@example.jp"
    link = re.search(r"/r/[\w-]+", mail.get_content()).group(0)
    page = client.get(link)
    assert page.status_code == 200
    assert customer_case.display_number in page.text


def test_the_number_can_be_typed_without_its_r_and_dash_and_the_phone_used(
    client, customer_case, mailbox
):
    ask(client, customer_case.number[1:], "０９０－１２３４－５６７８")
    assert len(mailbox.messages()) == 1


@pytest.mark.parametrize("which", ["number", "contact"])
def test_a_mismatch_sends_nothing_and_answers_the_same(client, customer_case, mailbox, which):
    right = ask(client, customer_case.number, "hanako@example.jp")
    mailbox_after_right = len(mailbox.messages())
    if which == "number":
        wrong = ask(client, another_number(customer_case.number), "hanako@example.jp")
    else:
        wrong = ask(client, customer_case.number, "someone@example.jp")
    assert len(mailbox.messages()) == mailbox_after_right == 1
    assert (wrong.status_code, wrong.headers["Location"]) == (
        right.status_code,
        right.headers["Location"],
    )
    page = client.get("/find/sent").text
    assert customer_case.display_number not in page
    assert "hanako" not in page


def test_the_number_must_look_like_one(client):
    client.get("/lang/en?next=/")
    response = ask(client, "12345", "hanako@example.jp")
    assert response.status_code == 422
    assert "This is not a request number. It looks like R12345-67890." in response.text
    assert 'value="12345"' in response.text


def test_asking_is_rate_limited(client, customer_case, mailbox):
    for _ in range(5):
        assert ask(client, customer_case.number, "nobody@example.jp").status_code == 302
    assert ask(client, customer_case.number, "hanako@example.jp").status_code == 429
    assert mailbox.messages() == []
    assert client.get("/find").status_code == 200  # only asking is limited


def test_the_front_page_leads_to_the_form_and_to_find_my_request(client):
    page = client.get("/").text
    assert 'href="/request"' in page
    assert 'href="/find"' in page
