"""Integrations admin (/staff/integrations): the brand's other systems, their API keys
(shown once, revocable), their webhook subscriptions and the log of every delivery, with
replay. Admins only; `flask api …` calls the same operations."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from reverse.api.constants import SCOPE_LABELS, Scope
from reverse.api.models import ApiKey, Integration
from reverse.api.operations import create_integration, issue_key, revoke_key, set_integration_active
from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.core.actors import Actor
from reverse.core.db import commit
from reverse.core.errors import DomainError
from reverse.core.forms import attach_errors, strip
from reverse.extensions import db
from reverse.webhooks.constants import (
    DELIVERY_STATE_LABELS,
    EVENT_LABELS,
    DeliveryState,
    WebhookEvent,
)
from reverse.webhooks.models import WebhookDelivery, WebhookSubscription
from reverse.webhooks.operations import (
    add_subscription,
    check_url,
    replay,
    set_subscription_active,
)

bp = Blueprint("integrations", __name__, url_prefix="/integrations")

#: deliveries shown on an integration's page; the log has the rest
RECENT_DELIVERIES = 8
STATE_TONES = {
    DeliveryState.PENDING: "warn",
    DeliveryState.DELIVERED: "good",
    DeliveryState.FAILED: "bad",
}


# -- forms -------------------------------------------------------------------------------------


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class IntegrationForm(FlaskForm):
    name = StringField(
        lazy_pgettext("integration", "Name"),
        filters=[strip],
        validators=[DataRequired(_l("Give the integration a name.")), Length(max=80)],
    )
    description = TextAreaField(
        _l("What it is (optional)"), filters=[strip], validators=[Optional(), Length(max=500)]
    )


class KeyForm(FlaskForm):
    label = StringField(_l("Label (optional)"), filters=[strip], validators=[Length(max=80)])
    scopes = MultiCheckboxField(
        _l("What the key may do"),
        choices=[SelectChoice(s.value, SCOPE_LABELS[s]) for s in Scope],
        validators=[DataRequired(_l("Choose at least one scope."))],
    )


class SubscriptionForm(FlaskForm):
    url = StringField(
        _l("Receiver URL"),
        filters=[strip],
        validators=[DataRequired(_l("Enter the address events are sent to.")), Length(max=500)],
    )
    events = MultiCheckboxField(
        _l("Events"),
        choices=[SelectChoice(e.value, EVENT_LABELS[e]) for e in WebhookEvent],
        validators=[DataRequired(_l("Choose at least one event."))],
    )
    description = StringField(
        _l("Note (optional)"), filters=[strip], validators=[Optional(), Length(max=200)]
    )

    def validate_url(self, field: StringField) -> None:
        """Checked here too, so a wrong address shows together with the form's other mistakes."""
        try:
            check_url(field.data or "")
        except DomainError as exc:
            raise ValidationError(exc.message) from exc


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(("0", "1"))])


class ConfirmForm(FlaskForm):
    """Only the CSRF token."""


# -- helpers -----------------------------------------------------------------------------------


def _integration(integration_id: int) -> Integration:
    return db.session.get(Integration, integration_id) or abort(404)


def _actor() -> Actor:
    return Actor.staff(current_user)


def _subscriptions(integration: Integration) -> list[WebhookSubscription]:
    return list(
        db.session.scalars(
            sa.select(WebhookSubscription)
            .where(WebhookSubscription.integration_id == integration.id)
            .order_by(WebhookSubscription.active.desc(), WebhookSubscription.id)
        )
    )


def _deliveries_of(integration: Integration) -> sa.Select:
    return (
        sa.select(WebhookDelivery)
        .join(WebhookSubscription)
        .where(WebhookSubscription.integration_id == integration.id)
        .order_by(WebhookDelivery.id.desc())
    )


def _detail(
    integration: Integration,
    key_form: KeyForm | None = None,
    subscription_form: SubscriptionForm | None = None,
    status: int = 200,
):
    counts = dict(
        db.session.execute(
            sa.select(WebhookDelivery.state, sa.func.count())
            .join(WebhookSubscription)
            .where(WebhookSubscription.integration_id == integration.id)
            .group_by(WebhookDelivery.state)
        ).all()
    )
    return (
        render_template(
            "staff/integration.html",
            integration=integration,
            keys=sorted(integration.keys, key=lambda k: (k.revoked_at is not None, -k.id)),
            subscriptions=_subscriptions(integration),
            recent=db.session.scalars(_deliveries_of(integration).limit(RECENT_DELIVERIES)).all(),
            counts={state: counts.get(state, 0) for state in DeliveryState},
            key_form=key_form or KeyForm(formdata=None),
            subscription_form=subscription_form or SubscriptionForm(formdata=None),
            active_form=ActiveForm(formdata=None),
            confirm_form=ConfirmForm(formdata=None),
            scope_labels=SCOPE_LABELS,
            event_labels=EVENT_LABELS,
            state_labels=DELIVERY_STATE_LABELS,
            state_tones=STATE_TONES,
        ),
        status,
    )


# -- integrations ------------------------------------------------------------------------------


def _index_page(form: IntegrationForm | None = None, status: int = 200):
    integrations = db.session.scalars(
        sa.select(Integration).order_by(Integration.active.desc(), Integration.name)
    ).all()
    active_keys = dict(
        db.session.execute(
            sa.select(ApiKey.integration_id, sa.func.count())
            .where(ApiKey.revoked_at.is_(None))
            .group_by(ApiKey.integration_id)
        ).all()
    )
    subscriptions = dict(
        db.session.execute(
            sa.select(WebhookSubscription.integration_id, sa.func.count())
            .where(WebhookSubscription.active.is_(True))
            .group_by(WebhookSubscription.integration_id)
        ).all()
    )
    failed = dict(
        db.session.execute(
            sa.select(WebhookSubscription.integration_id, sa.func.count())
            .join(WebhookDelivery)
            .where(WebhookDelivery.state == DeliveryState.FAILED)
            .group_by(WebhookSubscription.integration_id)
        ).all()
    )
    return (
        render_template(
            "staff/integrations.html",
            integrations=integrations,
            active_keys=active_keys,
            subscriptions=subscriptions,
            failed=failed,
            form=form or IntegrationForm(formdata=None),
        ),
        status,
    )


@bp.route("/")
@staff_required(Role.ADMIN)
def index():
    return _index_page()


@bp.route("/", methods=["POST"])
@staff_required(Role.ADMIN)
def create():
    form = IntegrationForm()
    if not form.validate_on_submit():
        return _index_page(form, status=422)
    try:
        integration = create_integration(form.name.data, form.description.data or "")
    except DomainError as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _index_page(form, status=422)
    commit()
    flash(
        _l("%(name)s added. Issue it an API key or subscribe it to events.", name=integration.name),
        "success",
    )
    return redirect(url_for("staff.integrations.detail", integration_id=integration.id))


@bp.route("/<int:integration_id>")
@staff_required(Role.ADMIN)
def detail(integration_id: int):
    return _detail(_integration(integration_id))


@bp.route("/<int:integration_id>/active", methods=["POST"])
@staff_required(Role.ADMIN)
def integration_active(integration_id: int):
    integration = _integration(integration_id)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    changed = set_integration_active(integration, form.active.data == "1")
    commit()
    if changed and integration.active:
        flash(_l("%(name)s is switched on again.", name=integration.name), "success")
    elif changed:
        flash(
            _l(
                "%(name)s is switched off: its keys are refused and no events are sent to it.",
                name=integration.name,
            ),
            "success",
        )
    return redirect(url_for("staff.integrations.detail", integration_id=integration.id))


# -- API keys ----------------------------------------------------------------------------------


@bp.route("/<int:integration_id>/keys", methods=["POST"])
@staff_required(Role.ADMIN)
def add_key(integration_id: int):
    integration = _integration(integration_id)
    form = KeyForm()
    if not form.validate_on_submit():
        return _detail(integration, key_form=form, status=422)
    try:
        key, raw = issue_key(integration, form.scopes.data, _actor(), form.label.data or "")
    except DomainError as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _detail(integration, key_form=form, status=422)
    commit()
    # Shown in this answer only (never stored, never in a redirect or the session cookie).
    return render_template(
        "staff/integration_secret.html",
        integration=integration,
        kind="key",
        secret=raw,
        key=key,
        scope_labels=SCOPE_LABELS,
    )


@bp.route("/<int:integration_id>/keys/<int:key_id>/revoke", methods=["POST"])
@staff_required(Role.ADMIN)
def revoke(integration_id: int, key_id: int):
    key = db.session.get(ApiKey, key_id)
    if key is None or key.integration_id != integration_id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    changed = revoke_key(key, _actor())
    commit()
    if changed:
        flash(
            _l("Key %(prefix)s is revoked: calls with it are refused.", prefix=key.prefix),
            "success",
        )
    else:
        flash(_l("Key %(prefix)s was already revoked.", prefix=key.prefix), "info")
    return redirect(
        url_for("staff.integrations.detail", integration_id=integration_id, _anchor="keys")
    )


# -- webhook subscriptions ---------------------------------------------------------------------


@bp.route("/<int:integration_id>/webhooks", methods=["POST"])
@staff_required(Role.ADMIN)
def add_webhook(integration_id: int):
    integration = _integration(integration_id)
    form = SubscriptionForm()
    if not form.validate_on_submit():
        return _detail(integration, subscription_form=form, status=422)
    try:
        subscription = add_subscription(
            integration, form.url.data, form.events.data, form.description.data or ""
        )
    except DomainError as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _detail(integration, subscription_form=form, status=422)
    commit()
    return render_template(
        "staff/integration_secret.html",
        integration=integration,
        kind="webhook",
        secret=subscription.secret,
        subscription=subscription,
        event_labels=EVENT_LABELS,
    )


@bp.route("/<int:integration_id>/webhooks/<int:subscription_id>/active", methods=["POST"])
@staff_required(Role.ADMIN)
def webhook_active(integration_id: int, subscription_id: int):
    subscription = db.session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.integration_id != integration_id:
        abort(404)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    changed = set_subscription_active(subscription, form.active.data == "1")
    commit()
    if changed and subscription.active:
        flash(_l("Events are sent to %(url)s again.", url=subscription.url), "success")
    elif changed:
        flash(_l("No more events are sent to %(url)s.", url=subscription.url), "success")
    return redirect(
        url_for("staff.integrations.detail", integration_id=integration_id, _anchor="webhooks")
    )


# -- the delivery log --------------------------------------------------------------------------


def _choice(value: str, allowed: Any) -> str:
    return value if value in {str(a) for a in allowed} else ""


@bp.route("/<int:integration_id>/deliveries")
@staff_required(Role.ADMIN)
def deliveries(integration_id: int):
    integration = _integration(integration_id)
    state = _choice(request.args.get("state", ""), DeliveryState)
    event = _choice(request.args.get("event", ""), WebhookEvent)
    stmt = _deliveries_of(integration)
    if state:
        stmt = stmt.where(WebhookDelivery.state == DeliveryState(state))
    if event:
        stmt = stmt.where(WebhookDelivery.event_type == event)
    pagination = db.paginate(stmt, per_page=current_app.config["STAFF_PAGE_SIZE"], error_out=False)
    return render_template(
        "staff/integration_deliveries.html",
        integration=integration,
        pagination=pagination,
        state=state,
        event=event,
        state_labels=DELIVERY_STATE_LABELS,
        state_tones=STATE_TONES,
        event_labels=EVENT_LABELS,
        confirm_form=ConfirmForm(formdata=None),
        pretty=_pretty,
    )


def _pretty(payload: dict[str, Any]) -> str:
    """A payload as people read it: indented, Japanese as itself."""
    return json.dumps(payload, ensure_ascii=False, indent=2)


@bp.route("/<int:integration_id>/deliveries/<int:delivery_id>/replay", methods=["POST"])
@staff_required(Role.ADMIN)
def replay_delivery(integration_id: int, delivery_id: int):
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription.integration_id != integration_id:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        again = replay(delivery, _actor())
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        commit()
        flash(
            _l(
                "Event %(event)s is sent again as delivery #%(id)d.",
                event=delivery.event_id,
                id=again.id,
            ),
            "success",
        )
    return redirect(url_for("staff.integrations.deliveries", integration_id=integration_id))
