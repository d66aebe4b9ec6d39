"""/api/v1/resale/items: the pre-owned feed's items behind an API key."""

from __future__ import annotations

from reverse.api.constants import Scope
from tests.fixtures.api import auth


def test_items_on_sale_are_listed_with_the_feeds_codes_and_paged(client, api_key, make_item):
    listed = [make_item(listed=True) for _ in range(3)]
    make_item()  # a draft: not offered
    key = api_key(Scope.RESALE_READ)
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/resale/items", query_string=query, headers=auth(key))
        assert page.status_code == 200, page.json
        seen += [item["id"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            break
    assert seen == [item.code for item in listed]
    feed = client.get("/preowned/feed.json").json
    api = client.get("/api/v1/resale/items", headers=auth(key)).json
    assert api["items"] == feed["items"]


def test_changes_since_and_bad_arguments(client, api_key, make_item):
    make_item(listed=True)
    key = api_key(Scope.RESALE_READ)
    later = client.get(
        "/api/v1/resale/items", query_string={"since": "2099-01-01T00:00:00Z"}, headers=auth(key)
    )
    assert later.json == {"items": [], "next_cursor": None}
    earlier = client.get(
        "/api/v1/resale/items",
        query_string={"since": "2020-01-01T09:00:00+09:00"},
        headers=auth(key),
    )
    assert len(earlier.json["items"]) == 1
    bad = client.get("/api/v1/resale/items", query_string={"since": "yesterday"}, headers=auth(key))
    assert bad.status_code == 422
    assert "since" in bad.json["error"]["details"]
    cursor = client.get("/api/v1/resale/items", query_string={"cursor": "x"}, headers=auth(key))
    assert cursor.status_code == 422
    assert client.get("/api/v1/resale/items").status_code == 401
    other = api_key(Scope.REFUNDS_READ)
    assert client.get("/api/v1/resale/items", headers=auth(other)).status_code == 403
