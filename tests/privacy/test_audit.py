"""The audit log: logins, changes, customer look-ups and downloads by staff are recorded —
never what was typed — and only admins read it; nobody can change it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from reverse.auth.constants import Role
from reverse.core.dates import today_in_japan
from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.privacy.models import AuditAction, AuditEntry
from reverse.rmas.constants import RmaStatus, RmaType
from tests.conftest import csrf_token
from tests.fixtures.auth import PASSWORD, login
from tests.fixtures.catalog import in_context


def entries(app) -> list[AuditEntry]:
    with in_context(app):
        rows = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)).all()
        db.session.expunge_all()
        return list(rows)


def stored_text(app) -> str:
    """Every value of every audit entry, as one string to search."""
    return " ".join(
        f"{e.user_label} {e.target} {e.endpoint} {e.path} {e.detail} {e.ip}" for e in entries(app)
    )


@pytest.mark.databases
def test_logins_failed_logins_and_logouts_are_recorded_without_the_password(
    app, client, create_user
):
    user = create_user(Role.WAREHOUSE)

    login(client, user.email, "wrong-password-123")
    login(client, "nobody@example.jp", "another-secret-456")
    login(client, user.email)
    client.post("/staff/logout", data={"csrf_token": csrf_token(client.get("/staff/rmas").text)})

    log = entries(app)
    assert [(e.action, e.user_id) for e in log] == [
        (AuditAction.LOGIN_FAILED, user.id),
        (AuditAction.LOGIN_FAILED, None),
        (AuditAction.LOGIN, user.id),
        (AuditAction.LOGOUT, user.id),
    ]
    assert log[2].role == "warehouse"
    assert user.email in log[2].user_label
    assert log[0].status_code == 422
    text = stored_text(app)
    for secret in ("wrong-password-123", "another-secret-456", PASSWORD, "nobody@example.jp"):
        assert secret not in text


@pytest.mark.databases
def test_a_form_sent_is_recorded_with_its_field_names_not_what_was_typed(
    app, client, logged_in, create_rma
):
    user = logged_in(Role.SUPPORT)
    rma = create_rma(RmaType.RETURN, RmaStatus.SUBMITTED)
    page = client.get(f"/staff/rmas/{rma.number}")

    sent = client.post(
        f"/staff/rmas/{rma.number}/notes",
        data={"note-text": "お客様の電話番号は090-1111-2222", "csrf_token": csrf_token(page.text)},
    )

    assert sent.status_code == 302
    change = entries(app)[-1]
    assert change.action == AuditAction.CHANGE
    assert (change.user_id, change.target, change.status_code) == (user.id, rma.number, 302)
    assert change.detail == {"fields": ["note-text"]}
    assert change.path == f"/staff/rmas/{rma.number}/notes"
    assert "090-1111-2222" not in stored_text(app)


def test_a_refused_change_is_recorded_with_its_answer(app, client, logged_in, create_rma):
    logged_in(Role.WAREHOUSE)
    page = client.get("/staff/rmas")

    refused = client.post("/staff/jobs/1/retry", data={"csrf_token": csrf_token(page.text)})

    assert refused.status_code == 403
    last = entries(app)[-1]
    assert (last.action, last.status_code, last.target) == (AuditAction.CHANGE, 403, "message_id=1")


def test_opening_a_customer_and_downloading_files_are_recorded(
    app, client, logged_in, create_rma, create_customer
):
    user = logged_in(Role.SUPPORT)
    customer = create_customer()
    create_rma(RmaType.RETURN, RmaStatus.SUBMITTED, customer=customer)

    assert client.get(f"/staff/support/customers/{customer.id}").status_code == 200
    export = client.get(f"/staff/support/customers/{customer.id}/export.zip")
    export.close()
    report = client.get("/staff/repairs/overdue.csv")
    report.close()
    client.get("/staff/rmas")  # reading a list is not recorded

    log = entries(app)[1:]  # after the login
    assert [(e.action, e.target) for e in log] == [
        (AuditAction.VIEW_CUSTOMER, f"customer {customer.id}"),
        (AuditAction.EXPORT, f"customer {customer.id}"),
        # the file is named by the date in Japan
        (AuditAction.EXPORT, f"repairs-overdue-{today_in_japan(utcnow()):%Y%m%d}.csv"),
    ]
    assert all(e.user_id == user.id for e in log)


@pytest.mark.databases
def test_nobody_can_change_or_remove_an_entry(app, client, create_user):
    user = create_user(Role.ADMIN)
    login(client, user.email)
    with in_context(app):
        entry = db.session.scalars(sa.select(AuditEntry)).one()
        entry.target = "rewritten"
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalars(sa.select(AuditEntry)).one())
        with pytest.raises(RuntimeError, match="append-only"):
            db.session.flush()
        db.session.rollback()
        if db.engine.dialect.name == "postgresql":
            # nor can anyone with a database connection, around the application
            for statement in ("UPDATE audit_entries SET target = 'x'", "DELETE FROM audit_entries"):
                with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                    db.session.execute(sa.text(statement))
                db.session.rollback()
        assert db.session.scalars(sa.select(AuditEntry.target)).all() == [""]


def test_admins_read_and_filter_the_log_in_their_language(app, client, create_user, create_rma):
    admin = create_user(Role.ADMIN)
    clerk = create_user(Role.WAREHOUSE)
    rma = create_rma(RmaType.RETURN, RmaStatus.SUBMITTED)
    login(client, clerk.email, "not-the-password-9")
    login(client, clerk.email)
    page = client.get(f"/staff/rmas/{rma.number}")
    client.post(
        f"/staff/rmas/{rma.number}/notes",
        data={"note-text": "確認済み", "csrf_token": csrf_token(page.text)},
    )
    client.post("/staff/logout", data={"csrf_token": csrf_token(page.text)})
    login(client, admin.email)

    log = client.get("/staff/audit/")
    assert log.status_code == 200
    assert "監査ログ" in log.text
    assert "ログイン失敗" in log.text
    assert clerk.email in log.text

    # the case number as typed on a Japanese keyboard finds the change made to it
    typed = rma.display_number.translate(str.maketrans("0123456789-R", "０１２３４５６７８９－Ｒ"))
    found = client.get("/staff/audit/", query_string={"target": typed})
    assert found.text.count('data-audit="') == 1
    assert "note-text" in found.text
    by_action = client.get(
        "/staff/audit/", query_string={"action": "login_failed", "user": str(clerk.id)}
    )
    assert by_action.text.count('data-audit="') == 1
    wrong = client.get(
        "/staff/audit/", query_string={"date_from": "2026-12-31", "date_to": "2026-01-01"}
    )
    assert wrong.status_code == 422
    assert "終了日が開始日より前になっています。" in wrong.text

    client.get("/lang/en")
    english = client.get("/staff/audit/")
    assert "Audit log" in english.text
    assert "Login failed" in english.text


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.WAREHOUSE, Role.STORE, Role.TECHNICIAN])
def test_only_admins_open_the_log(client, logged_in, role, create_location):
    kw = {"location": create_location()} if role == Role.STORE else {}
    logged_in(role, **kw)
    assert client.get("/staff/audit/").status_code == 403
