"""Staff login and logout."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from reverse.auth.forms import LoginForm
from reverse.auth.operations import authenticate, end_session, start_session, user_by_email
from reverse.core.db import commit
from reverse.core.urls import local_path
from reverse.extensions import db, limiter
from reverse.privacy import audit
from reverse.privacy.models import AuditAction

bp = Blueprint("auth", __name__, url_prefix="/staff")


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _safe_next(target: str | None) -> str:
    return local_path(target) or url_for("staff.rma_list")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("staff.rma_list"))
    form = LoginForm()
    if form.validate_on_submit():
        account = user_by_email(form.email.data)
        user = authenticate(account, form.password.data)
        if user is None:
            db.session.rollback()
            # the account tried, when there is one: never the email or password typed
            audit.note(AuditAction.LOGIN_FAILED, user=account)
            form.password.errors.append(_l("The email or password is not right."))
        else:
            target = _safe_next(request.args.get("next"))
            start_session(
                user,
                current_app.config["PERMANENT_SESSION_LIFETIME"],
                request.headers.get("User-Agent", ""),
            )
            lang = session.get("lang")
            session.clear()  # a new session at login: nothing from before carries over
            if lang:
                session["lang"] = lang
            session.permanent = True
            login_user(user)
            commit()
            audit.note(AuditAction.LOGIN)
            return redirect(target)
    failed = request.method == "POST"
    return render_template("auth/login.html", form=form), 422 if failed else 200


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        audit.note(AuditAction.LOGOUT, user=current_user._get_current_object())
        if current_user.session_token:
            end_session(current_user.session_token)
            commit()
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_l("You have logged out."), "info")
    return redirect(url_for("auth.login"))
