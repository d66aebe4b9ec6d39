"""Policy admin pages under /staff/policy: rules with a preview, channel defaults, terms.

The blueprint is nested in the staff blueprint, so its endpoints are `staff.policy.*`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.constants import Category, ChannelCode, WindowStart
from reverse.catalog.models import Channel
from reverse.core.db import commit
from reverse.core.forms import attach_errors
from reverse.core.templating import locale_code
from reverse.extensions import db
from reverse.policy.engine import channel_terms, matching_rules, terms_for
from reverse.policy.forms import (
    WINDOW_START_LABELS,
    ChannelDefaultsForm,
    PreviewForm,
    ReturnTermsForm,
    RuleActiveForm,
    RuleForm,
    type_set_label,
)
from reverse.policy.models import PolicyRule, ReturnTerms
from reverse.policy.operations import (
    TERMS_LOCALES,
    PolicyInvalid,
    RuleValues,
    create_rule,
    save_return_terms,
    set_rule_active,
    update_channel_defaults,
    update_rule,
)
from reverse.resolution.constants import RefundRelease

bp = Blueprint("policy", __name__, url_prefix="/policy")


@bp.context_processor
def policy_helpers() -> dict[str, Any]:
    return {"type_set_label": type_set_label, "window_start_labels": WINDOW_START_LABELS}


# -- rules and the preview ---------------------------------------------------------------------


def _channels() -> dict[ChannelCode, Channel]:
    return {c.code: c for c in db.session.scalars(sa.select(Channel).order_by(Channel.id))}


def _preview(form: PreviewForm, channels: dict[ChannelCode, Channel]) -> dict[str, Any] | None:
    if not channels:
        return None
    if not form.channel.data:
        form.channel.data = (
            ChannelCode.WEB.value if ChannelCode.WEB in channels else next(iter(channels)).value
        )
    if not form.validate():
        return None
    channel = channels.get(ChannelCode(form.channel.data))
    if channel is None:
        form.channel.errors = [_l("This channel is not set up yet.")]
        return None
    category = Category(form.category.data) if form.category.data else None
    reason = form.reason.data or None
    return {
        "channel": channel,
        "defaults": channel_terms(channel),
        "terms": terms_for(channel, category, reason),
        "rules": matching_rules(channel, category, reason),
    }


@bp.route("")
@staff_required(Role.ADMIN)
def index():
    channels = _channels()
    rules = sorted(
        db.session.scalars(sa.select(PolicyRule)),
        key=lambda r: (
            not r.active,
            r.specificity,
            r.channel_code or "",
            r.category or "",
            r.reason or "",
            r.id,
        ),
    )
    preview_form = PreviewForm(formdata=request.args)
    return render_template(
        "staff/policy_rules.html",
        rules=rules,
        preview_form=preview_form,
        preview=_preview(preview_form, channels),
        active_form=RuleActiveForm(),
    )


def _rule_page(form: RuleForm, rule: PolicyRule | None, status: int = 200):
    return render_template("staff/policy_rule_form.html", form=form, rule=rule), status


@bp.route("/rules/new", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def rule_new():
    form = RuleForm()
    if not form.is_submitted():
        return _rule_page(form, None)
    if not form.validate():
        return _rule_page(form, None, 422)
    try:
        rule = create_rule(form.values())
    except PolicyInvalid as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _rule_page(form, None, 422)
    commit()
    flash(_l("Rule #%(id)d saved.", id=rule.id), "success")
    return redirect(url_for("staff.policy.index"))


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
@staff_required(Role.ADMIN)
def rule_edit(rule_id: int):
    rule = db.session.get(PolicyRule, rule_id) or abort(404)
    form = RuleForm()
    if not form.is_submitted():
        form.fill(RuleValues.of(rule))
        return _rule_page(form, rule)
    if not form.validate():
        return _rule_page(form, rule, 422)
    try:
        update_rule(rule, form.values())
    except PolicyInvalid as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _rule_page(form, db.session.get(PolicyRule, rule_id), 422)
    commit()
    flash(_l("Rule #%(id)d saved.", id=rule.id), "success")
    return redirect(url_for("staff.policy.index"))


@bp.route("/rules/<int:rule_id>/active", methods=["POST"])
@staff_required(Role.ADMIN)
def rule_active(rule_id: int):
    rule = db.session.get(PolicyRule, rule_id) or abort(404)
    form = RuleActiveForm()
    if not form.validate_on_submit() or form.active.data not in ("0", "1"):
        abort(400)
    try:
        set_rule_active(rule, form.active.data == "1")
    except PolicyInvalid as exc:
        db.session.rollback()
        for message in list(exc.details.values()) or [exc.message]:
            flash(message, "error")
        return redirect(url_for("staff.policy.index"))
    commit()
    if rule.active:
        flash(_l("Rule #%(id)d is active again.", id=rule.id), "success")
    else:
        flash(_l("Rule #%(id)d is switched off.", id=rule.id), "success")
    return redirect(url_for("staff.policy.index"))


# -- channel defaults --------------------------------------------------------------------------


def _channel_form(channel: Channel, formdata: Any = None) -> ChannelDefaultsForm:
    form = ChannelDefaultsForm(
        formdata=formdata,
        prefix=channel.code.value,
        data={
            "refund_release": channel.refund_release.value,
            "store_credit_bonus_percent": channel.store_credit_bonus_percent,
        },
    )
    if formdata is None:
        form.return_window_days.data = channel.return_window_days
        form.window_starts.data = channel.window_starts.value
        form.allowed_types.data = list(channel.allowed_types or [])
        form.proof_required.data = channel.proof_required
    return form


def _channels_page(forms: dict[ChannelCode, ChannelDefaultsForm], status: int = 200):
    return render_template("staff/policy_channels.html", forms=forms, channels=_channels()), status


@bp.route("/channels")
@staff_required(Role.ADMIN)
def channels():
    forms = {code: _channel_form(c) for code, c in _channels().items()}
    return _channels_page(forms)


@bp.route("/channels/<code>", methods=["POST"])
@staff_required(Role.ADMIN)
def channel_save(code: str):
    all_channels = _channels()
    try:
        channel = all_channels[ChannelCode(code)]
    except (ValueError, KeyError):
        abort(404)
    form = _channel_form(channel, request.form)
    forms = {
        c: (form if c == channel.code else _channel_form(ch)) for c, ch in all_channels.items()
    }
    if not form.validate_on_submit():
        return _channels_page(forms, 422)
    try:
        update_channel_defaults(
            channel,
            return_window_days=form.return_window_days.data,
            window_starts=WindowStart(form.window_starts.data),
            allowed_types=form.allowed_types.data or [],
            proof_required=form.proof_required.data,
            refund_release=RefundRelease(form.refund_release.data),
            store_credit_bonus_percent=form.store_credit_bonus_percent.data,
        )
    except PolicyInvalid as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _channels_page(forms, 422)
    commit()
    flash(_l("Defaults of “%(channel)s” saved.", channel=channel.name(locale_code())), "success")
    return redirect(url_for("staff.policy.channels", _anchor=f"channel-{channel.code.value}"))


# -- the shop's return terms -------------------------------------------------------------------


def _terms_form(locale: str, formdata: Any = None) -> ReturnTermsForm:
    form = ReturnTermsForm(formdata=formdata, prefix=locale)
    if formdata is None:
        terms = db.session.get(ReturnTerms, locale)
        form.body.data = terms.body if terms else ""
    return form


def _terms_page(forms: dict[str, ReturnTermsForm], status: int = 200):
    stored = {locale: db.session.get(ReturnTerms, locale) for locale in TERMS_LOCALES}
    return render_template("staff/policy_terms.html", forms=forms, stored=stored), status


@bp.route("/terms")
@staff_required(Role.ADMIN)
def terms():
    return _terms_page({locale: _terms_form(locale) for locale in TERMS_LOCALES})


@bp.route("/terms/<locale>", methods=["POST"])
@staff_required(Role.ADMIN)
def terms_save(locale: str):
    if locale not in TERMS_LOCALES:
        abort(404)
    form = _terms_form(locale, request.form)
    forms = {other: form if other == locale else _terms_form(other) for other in TERMS_LOCALES}
    if not form.validate_on_submit():
        return _terms_page(forms, 422)
    try:
        save_return_terms(locale, form.body.data, current_user.name)
    except PolicyInvalid as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _terms_page(forms, 422)
    commit()
    flash(_l("Return terms saved."), "success")
    return redirect(url_for("staff.policy.terms", _anchor=f"terms-{locale}"))
