"""Redirect targets from user input: only paths on this site."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_path(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None — so a crafted `next=` link
    cannot send someone to another site after they log in or switch language."""
    if not target or not target.startswith("/") or "\\" in target:
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target
