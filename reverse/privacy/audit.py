"""Writing the audit log: what staff changed, who logged in and out, whose history a support
agent opened, and what data left the system.

Views say what is worth recording with `note()`; every other form a staff member sends is
recorded as a change, and every file download from a staff page as an export, by the
after-request hook `register()` installs. The entry is written after the view has committed,
in its own small transaction: the log never holds what the action did not keep.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, request
from flask_login import current_user

from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.privacy.models import AuditAction, AuditEntry

log = logging.getLogger(__name__)

#: form fields that are never named in the log (they say nothing about the action)
UNLOGGED_FIELDS = frozenset({"csrf_token", "submit"})
#: the methods that change something
CHANGING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: the longest query-string value kept for an export (filters, not free text)
ARG_MAX = 40


def user_label(user: Any) -> str:
    return f"{user.name} <{user.email}>"


def note(action: AuditAction, *, target: str = "", user: Any = None, **detail: Any) -> None:
    """Record `action` for this request once its response is ready. `user` is for the moments
    the current user is not the actor (a logout, after which nobody is logged in)."""
    g.audit = {"action": action, "target": target, "user": user, "detail": detail}


def entry(
    action: AuditAction,
    *,
    user: Any = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
    endpoint: str = "",
) -> AuditEntry:
    """An audit entry outside a request (the command line); the caller adds and commits it."""
    return AuditEntry(
        created_at=utcnow(),
        user_id=user.id if user is not None else None,
        user_label=user_label(user) if user is not None else "",
        role=str(user.role) if user is not None else "",
        action=action,
        endpoint=endpoint,
        target=target[:120],
        detail=detail or {},
    )


def _target(view_args: dict[str, Any]) -> str:
    """What a staff URL is about: the case number when it names one, else its ids."""
    if "number" in view_args:
        return str(view_args["number"])
    return " ".join(f"{key}={value}" for key, value in sorted(view_args.items()))


def _implicit(response: Response) -> dict[str, Any] | None:
    """The entry a staff request gets without asking: forms sent, files downloaded."""
    if not (request.blueprint or "").startswith("staff") or not current_user.is_authenticated:
        return None
    view_args = request.view_args or {}
    disposition = response.headers.get("Content-Disposition", "")
    if disposition.startswith("attachment"):
        args = {key: value[:ARG_MAX] for key, value in request.args.items()}
        return {
            "action": AuditAction.EXPORT,
            "target": disposition.partition("filename=")[2].strip('"')[:120],
            "detail": {"args": args} if args else {},
        }
    if request.method in CHANGING_METHODS:
        fields = sorted(set(request.form) - UNLOGGED_FIELDS)
        detail: dict[str, Any] = {"fields": fields} if fields else {}
        files = sum(1 for key in request.files for f in request.files.getlist(key) if f.filename)
        if files:
            detail["files"] = files
        return {"action": AuditAction.CHANGE, "target": _target(view_args), "detail": detail}
    return None


def _write(response: Response) -> Response:
    wanted = g.pop("audit", None) or _implicit(response)
    if wanted is None:
        return response
    user = wanted.get("user")
    if user is None and current_user.is_authenticated:
        user = current_user._get_current_object()
    record = entry(
        wanted["action"],
        user=user,
        target=wanted.get("target", ""),
        detail=wanted.get("detail") or {},
        endpoint=request.endpoint or "",
    )
    record.method = request.method
    record.path = request.path[:300]
    record.status_code = response.status_code
    record.ip = (request.remote_addr or "")[:45]
    # The view has committed what it keeps; whatever it left uncommitted is not kept (the
    # request's session is rolled back at teardown anyway) and must not ride along here.
    db.session.rollback()
    try:
        db.session.add(record)
        db.session.commit()
    except Exception:  # the action is done: a lost log line is reported, not turned into a 500
        db.session.rollback()
        log.exception("could not write the audit entry for %s %s", request.method, request.path)
    return response


def register(app: Flask) -> None:
    app.after_request(_write)
