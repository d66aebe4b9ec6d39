"""A customer sees their own case through its private link, and nothing else."""

import secrets

from reverse.core.actors import Actor
from reverse.extensions import db
from reverse.rmas.constants import RmaStatus, RmaType
from reverse.rmas.models import Rma


def test_the_private_link_shows_the_case_in_plain_words(client, create_rma):
    client.get("/lang/ja")
    rma = create_rma(RmaType.RETURN, RmaStatus.APPROVED)
    response = client.get(f"/r/{rma.token}")
    assert response.status_code == 200
    assert rma.display_number in response.text
    assert "お申し込みを承りました。" in response.text
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_guessed_or_other_link_shows_nothing(client, create_rma):
    first = create_rma()
    second = create_rma()
    assert client.get(f"/r/{secrets.token_urlsafe(32)}").status_code == 404
    assert client.get(f"/r/{first.number}").status_code == 404
    assert client.get("/r/" + "a" * 500).status_code == 404
    assert first.display_number not in client.get(f"/r/{second.token}").text


def test_staff_only_notes_stay_off_the_customer_page(app, client, create_rma):
    rma = create_rma()
    with app.app_context():
        stored = db.session.get(Rma, rma.id)
        stored.add_note(Actor.system("support"), "顧客は常連。返金は慎重に", public=False)
        stored.add_note(Actor.system("support"), "写真を確認しました", public=True)
        db.session.commit()
    page = client.get(f"/r/{rma.token}").text
    assert "写真を確認しました" in page
    assert "顧客は常連" not in page


def test_the_front_page_is_japanese_with_an_english_switch(app):
    client = app.test_client()
    japanese = client.get("/")
    assert japanese.status_code == 200
    assert 'lang="ja"' in japanese.text
    client.get("/lang/en?next=/")
    assert 'lang="en"' in client.get("/").text


def test_the_language_switch_only_redirects_within_the_site(client):
    assert client.get("/lang/en?next=https://evil.example/").headers["Location"] == "/"
    assert client.get("/lang/en?next=//evil.example/").headers["Location"] == "/"
    assert client.get("/lang/xx").status_code == 404
