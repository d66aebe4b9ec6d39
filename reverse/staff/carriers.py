"""Carrier accounts admin (/staff/carriers): each location's contracts with carriers, the
tracking-number ranges they issued and how much of each is left. Admins only; the
`flask shipping` commands call the same operations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, Optional, ValidationError

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location
from reverse.core.db import commit
from reverse.core.errors import DomainError
from reverse.core.forms import attach_errors
from reverse.core.templating import locale_code
from reverse.extensions import db
from reverse.shipping.constants import CARRIER_LABELS, Carrier
from reverse.shipping.labels import CARRIER_MARKS
from reverse.shipping.models import CarrierAccount, Shipment
from reverse.shipping.operations import (
    InvalidAccount,
    add_carrier_account,
    add_range,
    set_account_active,
    shipper_code,
    tracking_number,
)

bp = Blueprint("carriers", __name__, url_prefix="/carriers")

#: an account is running low below this many numbers left …
LOW_NUMBERS = 500
#: … or below this share of its ranges that are not used up yet
LOW_SHARE = 0.10
#: locations in the order an admin thinks of them: centres first
KIND_ORDER = (
    LocationKind.RETURNS_CENTRE,
    LocationKind.REPAIR_CENTRE,
    LocationKind.STORE,
    LocationKind.DEPARTMENT_STORE_COUNTER,
)


# -- forms -------------------------------------------------------------------------------------


def _number_field(label: Any, required: bool) -> StringField:
    first = DataRequired(_l("Enter the number.")) if required else Optional()
    return StringField(label, validators=[first, Length(max=40)])


class AccountForm(FlaskForm):
    """A new account; the first range the carrier issued may come with it."""

    location = SelectField(_l("Location"), validators=[DataRequired(_l("Choose a location."))])
    carrier = SelectField(
        _l("Carrier"),
        choices=[SelectChoice(c.value, label) for c, label in CARRIER_LABELS.items()],
        validators=[DataRequired(_l("Choose a carrier."))],
    )
    customer_code = StringField(
        _l("Shipper code"),
        validators=[DataRequired(_l("Enter the shipper code.")), Length(max=40)],
    )
    name = StringField(_l("Contract name"), validators=[Optional(), Length(max=120)])
    active = BooleanField(_l("Active: labels may be issued under it"), default=True)
    first = _number_field(_l("First number"), required=False)
    last = _number_field(_l("Last number"), required=False)

    def fill_locations(self, locale: str) -> None:
        locations = sorted(
            db.session.scalars(sa.select(Location).where(Location.active)),
            key=lambda loc: (KIND_ORDER.index(loc.kind), loc.code),
        )
        self.location.choices = [
            SelectChoice("", _l("Choose…")),
            *[SelectChoice(str(loc.id), f"{loc.name(locale)} ({loc.code})") for loc in locations],
        ]

    def validate_customer_code(self, field: StringField) -> None:
        """Checked here too, so a wrong code shows together with the form's other mistakes."""
        try:
            shipper_code(field.data or "")
        except InvalidAccount as exc:
            raise ValidationError(exc.message) from exc

    def validate(self, extra_validators: Any = None) -> bool:
        """A range needs both ends; neither end means no range yet."""
        valid = super().validate(extra_validators)
        if bool(self.first.data) != bool(self.last.data):
            missing = self.last if self.first.data else self.first
            missing.errors = [*missing.errors, _l("Give both the first and the last number.")]
            return False
        return valid


class RangeForm(FlaskForm):
    first = _number_field(_l("First number"), required=True)
    last = _number_field(_l("Last number"), required=True)


class ActiveForm(FlaskForm):
    active = HiddenField(validators=[AnyOf(("0", "1"))])


def _range_form(account_id: int, formdata: Any = None) -> RangeForm:
    # One form per account on the page: the prefix keeps names and element ids apart.
    return RangeForm(formdata=formdata, prefix=f"range-{account_id}")


# -- what the page shows -----------------------------------------------------------------------


@dataclass
class AccountRow:
    account: CarrierAccount
    labels_issued: int
    range_form: RangeForm
    #: labels from the location use this one when no carrier is asked for
    is_default: bool = False

    @property
    def left(self) -> int:
        return sum(r.remaining for r in self.account.ranges)

    @property
    def current_range_id(self) -> int | None:
        """The range numbers are taken from now (allocation goes by range id)."""
        return next((r.id for r in self.account.ranges if r.remaining), None)

    @property
    def state(self) -> str:
        """ "empty" (no numbers: no labels), "low" (add a range soon) or "ok"."""
        open_size = sum(r.last_body + 1 - r.first_body for r in self.account.ranges if r.remaining)
        if self.left == 0:
            return "empty"
        if self.left < LOW_NUMBERS or self.left < LOW_SHARE * open_size:
            return "low"
        return "ok"


@dataclass
class LocationGroup:
    location: Location
    accounts: list[AccountRow] = field(default_factory=list)

    @property
    def has_active(self) -> bool:
        return any(row.account.active for row in self.accounts)


def _groups(failed: tuple[int, RangeForm] | None) -> list[LocationGroup]:
    accounts = db.session.scalars(
        sa.select(CarrierAccount).options(
            sa.orm.joinedload(CarrierAccount.location),
            sa.orm.selectinload(CarrierAccount.ranges),
        )
    ).all()
    issued = dict(
        db.session.execute(
            sa.select(Shipment.account_id, sa.func.count(Shipment.id))
            .where(Shipment.account_id.is_not(None))
            .group_by(Shipment.account_id)
        ).all()
    )
    groups: dict[int, LocationGroup] = {}
    for account in sorted(accounts, key=lambda a: a.id):
        group = groups.setdefault(account.location_id, LocationGroup(account.location))
        form = failed[1] if failed and failed[0] == account.id else _range_form(account.id)
        row = AccountRow(account, issued.get(account.id, 0), form)
        # carrier_account_for(location) without a carrier: the first active account by id
        row.is_default = account.active and not group.has_active
        group.accounts.append(row)
    return sorted(
        groups.values(), key=lambda g: (KIND_ORDER.index(g.location.kind), g.location.code)
    )


def _page(
    account_form: AccountForm | None = None,
    failed_range: tuple[int, RangeForm] | None = None,
    status: int = 200,
):
    locale = locale_code()
    if account_form is None:
        account_form = AccountForm(formdata=None)
        wanted = request.args.get("location", "")
        account_form.location.data = wanted if wanted.isdigit() else ""
    account_form.fill_locations(locale)
    groups = _groups(failed_range)
    with_accounts = {g.location.id for g in groups}
    bare = sorted(
        (
            loc
            for loc in db.session.scalars(sa.select(Location).where(Location.active))
            if loc.id not in with_accounts
        ),
        key=lambda loc: (KIND_ORDER.index(loc.kind), loc.code),
    )
    rows = [row for g in groups for row in g.accounts if row.account.active]
    return (
        render_template(
            "staff/carriers.html",
            groups=groups,
            bare_locations=bare,
            attention=[row for row in rows if row.state != "ok"],
            account_form=account_form,
            active_form=ActiveForm(formdata=None),
            carriers=CARRIER_LABELS,
            marks={c: CARRIER_MARKS[c][1] for c in Carrier},
            number=_display_number,
            locale=locale,
        ),
        status,
    )


def _display_number(body: int) -> str:
    """A body as the full tracking number, grouped like the slip prints it (4-4-4)."""
    digits = tracking_number(body)
    return "-".join(digits[i : i + 4] for i in range(0, len(digits), 4))


# -- views -------------------------------------------------------------------------------------


@bp.route("/")
@staff_required(Role.ADMIN)
def index():
    return _page()


@bp.route("/accounts", methods=["POST"])
@staff_required(Role.ADMIN)
def add_account():
    form = AccountForm()
    form.fill_locations(locale_code())
    if not form.validate_on_submit():
        return _page(form, status=422)
    location = db.session.get(Location, int(form.location.data))
    if location is None or not location.active:
        form.location.errors = [_l("Choose a location.")]
        return _page(form, status=422)
    try:
        account = add_carrier_account(
            location,
            Carrier(form.carrier.data),
            form.customer_code.data,
            name=form.name.data or "",
            active=form.active.data,
        )
        rng = add_range(account, form.first.data, form.last.data) if form.first.data else None
    except DomainError as exc:
        # The account and its first range are written together or not at all.
        db.session.rollback()
        attach_errors(form, exc)
        return _page(form, status=422)
    commit()
    if rng is None:
        flash(
            _l(
                "Account %(code)s added. Add the range the carrier issued.",
                code=account.customer_code,
            ),
            "success",
        )
    else:
        flash(
            _l(
                "Account %(code)s added with %(num)s numbers.",
                code=account.customer_code,
                num=f"{rng.remaining:,}",
            ),
            "success",
        )
    return redirect(url_for("staff.carriers.index", _anchor=f"account-{account.id}"))


@bp.route("/accounts/<int:account_id>/ranges", methods=["POST"])
@staff_required(Role.ADMIN)
def add_account_range(account_id: int):
    account = db.session.get(CarrierAccount, account_id) or abort(404)
    form = _range_form(account_id, request.form)
    if not form.validate_on_submit():
        return _page(failed_range=(account_id, form), status=422)
    try:
        rng = add_range(account, form.first.data, form.last.data)
    except DomainError as exc:
        db.session.rollback()
        attach_errors(form, exc)
        return _page(failed_range=(account_id, form), status=422)
    commit()
    flash(
        _l(
            "Range %(first)s – %(last)s added: %(num)s numbers.",
            first=_display_number(rng.first_body),
            last=_display_number(rng.last_body),
            num=f"{rng.remaining:,}",
        ),
        "success",
    )
    return redirect(url_for("staff.carriers.index", _anchor=f"account-{account_id}"))


@bp.route("/accounts/<int:account_id>/active", methods=["POST"])
@staff_required(Role.ADMIN)
def account_active(account_id: int):
    account = db.session.get(CarrierAccount, account_id) or abort(404)
    form = ActiveForm()
    if not form.validate_on_submit():
        abort(400)
    changed = set_account_active(account, form.active.data == "1")
    commit()
    if changed and account.active:
        flash(_l("Account %(code)s is active again.", code=account.customer_code), "success")
    elif changed:
        flash(
            _l(
                "Account %(code)s is switched off: no new labels are issued under it.",
                code=account.customer_code,
            ),
            "success",
        )
    return redirect(url_for("staff.carriers.index", _anchor=f"account-{account_id}"))
