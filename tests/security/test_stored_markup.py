"""Markup typed anywhere is shown as text everywhere: the demo data set with a script in every
column people type into, and every page of the staff side, the customer side and the shop
fetched with it."""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.routing import Rule

from reverse.demo.loader import load_demo
from reverse.extensions import db
from reverse.portal.operations import new_access_link
from reverse.resale.constants import ResaleState
from reverse.resale.models import ResaleItem
from reverse.rmas.models import Rma
from tests.fixtures.auth import login
from tests.fixtures.catalog import in_context

PAYLOAD = '<script>alert("x")</script>'
#: text columns that are not typed by people, or whose format the code relies on
MACHINE_COLUMNS = {
    "access_token_hash", "token_hash", "key_hash", "password_hash", "fingerprint", "secret",
    "stored_name", "content_type", "label_path", "task", "prefix", "response_body", "url",
    "email", "phone", "number", "code", "sku", "jan", "style_code", "tracking_number",
    "postal_code", "ship_postal_code", "customer_code", "event_id", "event_type", "key",
    "user_agent", "reason", "locale", "status", "first_number", "last_number",
}  # fmt: skip


def _human_text_columns() -> list[tuple[sa.Table, sa.Column]]:
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if not isinstance(column.type, sa.String) or isinstance(column.type, sa.Enum):
                continue
            length = getattr(column.type, "length", None)
            if column.name in MACHINE_COLUMNS or column.unique or column.foreign_keys:
                continue
            if length is not None and length < len(PAYLOAD):
                continue
            found.append((table, column))
    return found


@pytest.fixture
def hostile_demo(app: Flask) -> dict[str, list[str]]:
    """The demo data with PAYLOAD in every human-typed text column; some case numbers,
    private links and shop items to visit."""
    with in_context(app):
        load_demo()
        db.session.commit()  # the demo's jobs stay pending: only the pages are looked at
        for table, column in _human_text_columns():
            db.session.execute(sa.update(table).values({column.name: PAYLOAD}))
        db.session.commit()
        rng = random.Random(7)
        rmas = db.session.scalars(sa.select(Rma).order_by(Rma.id)).all()
        sample = {}
        for rma in rmas:  # one case of each type in each status
            sample.setdefault((rma.type, rma.status), rma)
        chosen = rng.sample(sorted(sample.values(), key=lambda r: r.id), k=min(12, len(sample)))
        links = [f"/r/{new_access_link(rma)}" for rma in chosen]
        listed = sa.select(ResaleItem).where(ResaleItem.state == ResaleState.LISTED).limit(3)
        items = [item.code for item in db.session.scalars(listed)]
        db.session.commit()
        return {"numbers": [r.number for r in chosen], "links": links, "items": list(items)}


def _get_rules(app: Flask, prefix: str) -> list[Rule]:
    return [
        r
        for r in app.url_map.iter_rules()
        if r.rule.startswith(prefix) and "GET" in (r.methods or ()) and r.endpoint != "static"
    ]


def _check(response, path: str, problems: list) -> None:  # type: ignore[no-untyped-def]
    if response.status_code >= 500:
        problems.append((path, response.status_code))
    elif response.mimetype == "text/html" and PAYLOAD in response.get_data(as_text=True):
        problems.append((path, "unescaped"))


def test_markup_typed_anywhere_is_shown_as_text_on_every_page(app, create_user, hostile_demo):
    problems: list = []
    visited = 0
    staff = app.test_client()
    assert login(staff, create_user().email).status_code == 302
    for rule in _get_rules(app, "/staff"):
        if rule.arguments - {"number"} - set(rule.defaults or {}):
            continue  # pages of one photo, one item … are reached from the case pages
        numbers = hostile_demo["numbers"] if "number" in rule.arguments else [None]
        for number in numbers:
            path = rule.build({**(rule.defaults or {}), "number": number} if number else {})[1]
            response = staff.get(path)
            visited += 1
            _check(response, path, problems)
            response.close()
    public = app.test_client()
    for path in [
        "/",
        "/request",
        "/preowned/",
        *hostile_demo["links"],
        *(f"/preowned/{code}" for code in hostile_demo["items"]),
    ]:
        response = public.get(path)
        visited += 1
        assert response.status_code == 200, path
        _check(response, path, problems)
    assert visited > 100
    assert problems == []
