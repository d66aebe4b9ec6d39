"""Who may open which staff page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from reverse.auth.constants import Role


def staff_required(*roles: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Login required; with roles given, only those roles (admin always passes)."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if roles and not current_user.has_role(Role.ADMIN, *roles):
                abort(403)
            return view(*args, **kwargs)

        # Read by the access-control tests, which check every staff route against it.
        wrapped.staff_roles = frozenset(roles)  # type: ignore[attr-defined]
        return wrapped

    return decorator
