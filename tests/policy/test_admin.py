"""Policy admin pages: rules change what customers are offered; bad input writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.catalog.constants import Category, ChannelCode, LocationKind, WindowStart
from reverse.catalog.models import Channel
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.policy.engine import return_terms_text, terms_for
from reverse.policy.models import PolicyRule, ReturnTerms
from reverse.portal.operations import assess
from tests.conftest import csrf_token

RULE = {
    "channel_code": "",
    "category": "",
    "reason": "",
    "window_days": "",
    "window_start": "",
    "allowed_types": "",
    "proof_required": "",
    "return_shipping_fee_yen": "",
    "restocking_fee_percent": "",
    "warranty_days": "",
    "auto_approve": "",
    "note": "",
}


@pytest.fixture
def web(create_channel):
    return create_channel(
        ChannelCode.WEB,
        return_window_days=30,
        window_starts=WindowStart.DELIVERY,
        allowed_types=["return", "exchange", "repair"],
    )


def post_rule(client, fields, url="/staff/policy/rules/new"):
    page = client.get(url)
    return client.post(url, data=RULE | fields | {"csrf_token": csrf_token(page.text)})


def rules(app) -> list[PolicyRule]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(PolicyRule).order_by(PolicyRule.id)))
        db.session.expunge_all()
        return found


def shoe_return(order_line_id: int, order_id: int) -> dict:
    return {
        "type": "return",
        "place": "web",
        "order_id": order_id,
        "lines": [{"order_line_id": order_line_id, "quantity": 1, "reason": "changed_mind"}],
    }


@pytest.mark.databases
def test_a_rule_made_on_the_page_changes_what_customers_get(
    app, client, logged_in, web, create_variant, create_order
):
    shoes = create_variant(Category.SHOES, price_yen=20_000)
    order = create_order(
        ChannelCode.WEB,
        lines=[(shoes, 1)],
        ordered_at=utcnow() - timedelta(days=12),
        delivered_days=2,
    )
    with app.app_context():
        draft = shoe_return(db.session.merge(order).lines[0].id, order.id)
        before = assess(draft)
        assert before.eligible
        assert before.refund_estimate_yen == 20_000
    logged_in(Role.ADMIN)

    response = post_rule(
        client,
        {
            "channel_code": "web",
            "category": "shoes",
            "window_days": "７",  # typed full-width, as people do
            "return_shipping_fee_yen": "990",
            "note": "靴は7日",
        },
    )
    assert response.status_code == 302

    with app.app_context():
        channel = db.session.merge(web)
        terms = terms_for(channel, Category.SHOES, "changed_mind")
        assert (terms.window_days, terms.return_shipping_fee_yen) == (7, 990)
        assert terms_for(channel, Category.TOPS, "changed_mind").window_days == 30
        after = assess(draft)
        assert not after.eligible  # delivered 10 days ago: past the 7-day window
    preview = client.get("/staff/policy?channel=web&category=shoes&reason=changed_mind")
    assert preview.status_code == 200
    assert "#1" in preview.text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"window_days": "400"}, "window_days"),
        ({"window_days": "-1"}, "window_days"),
        ({"restocking_fee_percent": "150"}, "restocking_fee_percent"),
        ({"return_shipping_fee_yen": "-990"}, "return_shipping_fee_yen"),
        ({"return_shipping_fee_yen": "abc"}, "return_shipping_fee_yen"),
        ({"warranty_days": "1.5"}, "warranty_days"),
        ({"channel_code": "moon", "window_days": "7"}, "channel_code"),
        ({"reason": "bored", "window_days": "7"}, "reason"),
        ({"allowed_types": "return+flying", "window_days": "7"}, "allowed_types"),
        ({"channel_code": "web"}, "window_days"),  # a rule that sets nothing
        ({"note": "x" * 201, "window_days": "7"}, "note"),
    ],
)
def test_invalid_rules_give_field_errors_and_write_nothing(
    app, client, logged_in, web, fields, field
):
    logged_in(Role.ADMIN)
    response = post_rule(client, fields)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert rules(app) == []


def test_a_second_active_rule_for_the_same_match_is_refused(app, client, logged_in, web):
    logged_in(Role.ADMIN)
    same = {"channel_code": "web", "category": "shoes"}
    assert post_rule(client, same | {"window_days": "14"}).status_code == 302
    clash = post_rule(client, same | {"restocking_fee_percent": "10"})
    assert clash.status_code == 422
    assert 'id="channel_code-error"' in clash.text
    assert len(rules(app)) == 1
    # A different match is fine.
    assert post_rule(client, same | {"category": "bags", "window_days": "7"}).status_code == 302
    assert len(rules(app)) == 2


def test_editing_and_switching_off_a_rule(app, client, logged_in, web):
    logged_in(Role.ADMIN)
    post_rule(client, {"channel_code": "web", "return_shipping_fee_yen": "990"})
    rule_id = rules(app)[0].id
    url = f"/staff/policy/rules/{rule_id}"
    edit = client.get(url)
    assert edit.status_code == 200
    assert 'value="990"' in edit.text
    changed = post_rule(
        client,
        {"channel_code": "web", "return_shipping_fee_yen": "550", "auto_approve": "yes"},
        url,
    )
    assert changed.status_code == 302
    with app.app_context():
        terms = terms_for(db.session.merge(web), Category.TOPS, None)
        assert (terms.return_shipping_fee_yen, terms.auto_approve) == (550, True)

    page = client.get("/staff/policy")
    off = client.post(f"{url}/active", data={"active": "0", "csrf_token": csrf_token(page.text)})
    assert off.status_code == 302
    with app.app_context():
        assert terms_for(db.session.merge(web), Category.TOPS, None).return_shipping_fee_yen == 0
    # With the first one off, a new rule for the same match is allowed — and then the old
    # one cannot come back on top of it.
    post_rule(client, {"channel_code": "web", "window_days": "20"})
    again = client.post(f"{url}/active", data={"active": "1", "csrf_token": csrf_token(page.text)})
    assert again.status_code == 302
    assert [r.active for r in rules(app)] == [False, True]


def test_channel_defaults_are_checked_and_saved(app, client, logged_in, web):
    logged_in(Role.ADMIN)
    page = client.get("/staff/policy/channels")
    assert page.status_code == 200
    token = csrf_token(page.text)
    bad = client.post(
        "/staff/policy/channels/web",
        data={
            "web-return_window_days": "366",
            "web-window_starts": "delivery",
            "web-allowed_types": ["return"],
            "csrf_token": token,
        },
    )
    assert bad.status_code == 422
    assert 'id="web-return_window_days-error"' in bad.text
    good = client.post(
        "/staff/policy/channels/web",
        data={
            "web-return_window_days": "14",
            "web-window_starts": "purchase",
            "web-allowed_types": ["exchange", "return"],
            "web-proof_required": "y",
            "csrf_token": token,
        },
    )
    assert good.status_code == 302
    with app.app_context():
        channel = db.session.scalar(sa.select(Channel).where(Channel.code == ChannelCode.WEB))
        assert channel.return_window_days == 14
        assert channel.window_starts == WindowStart.PURCHASE
        assert channel.allowed_types == ["return", "exchange"]
        assert channel.proof_required is True
    assert client.post("/staff/policy/channels/moon", data={"csrf_token": token}).status_code == 404


def test_return_terms_are_saved_with_who_changed_them(app, client, logged_in):
    admin = logged_in(Role.ADMIN)
    page = client.get("/staff/policy/terms")
    token = csrf_token(page.text)
    too_long = client.post(
        "/staff/policy/terms/ja", data={"ja-body": "あ" * 10_001, "csrf_token": token}
    )
    assert too_long.status_code == 422
    with app.app_context():
        assert db.session.get(ReturnTerms, "ja") is None
    body = "返品は商品到着後30日以内にお申し込みください。"
    assert (
        client.post(
            "/staff/policy/terms/ja", data={"ja-body": body, "csrf_token": token}
        ).status_code
        == 302
    )
    with app.app_context():
        terms = db.session.get(ReturnTerms, "ja")
        assert (terms.body, terms.updated_by) == (body, admin.name)
        assert return_terms_text("en") == body  # English falls back to Japanese
    assert (
        client.post(
            "/staff/policy/terms/fr", data={"fr-body": "x", "csrf_token": token}
        ).status_code
        == 404
    )


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.STORE, Role.WAREHOUSE, Role.TECHNICIAN])
def test_only_admins_open_the_policy_pages(app, client, logged_in, create_location, role, web):
    extra = {"location": create_location(LocationKind.STORE)} if role == Role.STORE else {}
    logged_in(role, **extra)
    for url in (
        "/staff/policy",
        "/staff/policy/channels",
        "/staff/policy/terms",
        "/staff/policy/rules/new",
    ):
        assert client.get(url).status_code == 403, url
    page = client.get("/staff/rmas")
    response = client.post(
        "/staff/policy/rules/new",
        data=RULE | {"window_days": "1", "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 403
    assert rules(app) == []
    assert "/staff/policy" not in page.text
