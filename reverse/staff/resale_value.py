"""Recovered value: what resold units brought back against their original price.

Admins, the warehouse and support read every location; store staff read the sales made at
their own location (and the stock kept there). Filters are GET: a report changes nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import Optional, ValidationError

from reverse.auth.constants import Role
from reverse.auth.policies import staff_required
from reverse.catalog.constants import CATEGORY_LABELS, CHANNEL_LABELS
from reverse.catalog.models import Location
from reverse.core.dates import today_in_japan
from reverse.core.spreadsheet import csv_download, excel_csv
from reverse.core.templating import locale_code
from reverse.extensions import db
from reverse.intake.constants import DISPOSITION_LABELS
from reverse.portal.forms import PurchaseDateField, select_choices
from reverse.resale.constants import SALE_CHANNEL_LABELS
from reverse.resale.reports import (
    DEFAULT_DAYS,
    DIMENSION_LABELS,
    MAX_RANGE_DAYS,
    Dimension,
    ValueFilters,
    ValueReport,
    ValueRow,
    default_range,
    recovered_value,
)
from reverse.staff.common import LABELS

bp = Blueprint("resale_value", __name__, url_prefix="/recovered-value")

READERS = (Role.WAREHOUSE, Role.SUPPORT, Role.STORE)

#: the label of each group value, per dimension (grades and SKUs are shown as they are)
GROUP_LABELS: dict[Dimension, dict[Any, Any]] = {
    Dimension.DISPOSITION: DISPOSITION_LABELS,
    Dimension.CATEGORY: CATEGORY_LABELS,
    Dimension.CHANNEL: CHANNEL_LABELS,
    Dimension.SALE_CHANNEL: SALE_CHANNEL_LABELS,
}


#: the table's heading for each dimension
TABLE_TITLES = {
    Dimension.GRADE: _l("By grade"),
    Dimension.DISPOSITION: _l("By disposition"),
    Dimension.SKU: _l("By SKU"),
    Dimension.CATEGORY: _l("By category"),
    Dimension.CHANNEL: _l("By original purchase channel"),
    Dimension.SALE_CHANNEL: _l("By resale channel"),
}


class ValueFilterForm(FlaskForm):
    """GET filters of the report; not a state change, so no CSRF token. Dates may be typed
    with full-width digits (２０２６／０１／３１) or picked."""

    class Meta:
        csrf = False

    date_from = PurchaseDateField(_l("Sold from"))
    date_to = PurchaseDateField(_l("Sold until"))
    group = SelectField(
        _l("Group by"),
        choices=select_choices((d.value, label) for d, label in DIMENSION_LABELS.items()),
        default=Dimension.GRADE.value,
        validators=[Optional()],
    )
    location = SelectField(_l("Sold at"), validators=[Optional()])

    def fill_choices(self, locations: list[Location], locale: str, *, fixed: bool) -> None:
        sites = [(str(loc.id), loc.name(locale)) for loc in locations]
        self.location.choices = select_choices(
            sites if fixed else [("", _l("All locations")), *sites]
        )

    def validate_date_to(self, field: PurchaseDateField) -> None:
        start, end = self.date_from.data, field.data
        if start and end and start > end:
            raise ValidationError(_l("The end date is before the start date."))
        if start and end and (end - start).days >= MAX_RANGE_DAYS:
            raise ValidationError(_l("Choose a range of at most three years."))


def _locations() -> list[Location]:
    stmt = sa.select(Location).where(Location.active).order_by(Location.kind, Location.code)
    if current_user.role == Role.STORE:
        stmt = sa.select(Location).where(Location.id == current_user.location_id)
    return list(db.session.scalars(stmt))


def _filters() -> tuple[ValueFilterForm, ValueFilters | None]:
    """The form as typed, and the filters it asks for (None when it is invalid). Missing
    dates default to the last 90 days; store staff always get their own location."""
    store = current_user.role == Role.STORE
    if store and current_user.location_id is None:
        abort(403)
    form = ValueFilterForm(formdata=request.args)
    form.fill_choices(_locations(), locale_code(), fixed=store)
    if store:
        form.location.data = str(current_user.location_id)
    if not form.validate():
        return form, None
    date_from, date_to = form.date_from.data, form.date_to.data
    if date_from is None and date_to is None:
        date_from, date_to = default_range(today_in_japan())
    elif date_to is None:
        date_to = max(date_from, today_in_japan())
    elif date_from is None:
        date_from = date_to - timedelta(days=DEFAULT_DAYS - 1)
    form.date_from.data, form.date_to.data = date_from, date_to
    form.date_from.raw_data = form.date_to.raw_data = None  # show the dates as read
    filters = ValueFilters(
        date_from=date_from,
        date_to=date_to,
        dimension=Dimension(form.group.data or Dimension.GRADE.value),
        location_id=int(form.location.data) if form.location.data else None,
    )
    return form, filters


def group_label(dimension: Dimension, row: ValueRow) -> str:
    """A group's name in the reader's language."""
    if row.key is None:
        return _("Not sold yet") if dimension == Dimension.SALE_CHANNEL else "—"
    if dimension == Dimension.GRADE:
        return _("Grade %(grade)s", grade=row.key)
    if dimension == Dimension.SKU:
        return row.name(locale_code()) or row.key
    labels = GROUP_LABELS[dimension]
    for value, label in labels.items():
        if value == row.key:
            return str(label)
    return row.key


def _query_args(filters: ValueFilters) -> dict[str, str]:
    args = {
        "date_from": filters.date_from.isoformat(),
        "date_to": filters.date_to.isoformat(),
        "group": filters.dimension.value,
    }
    if filters.location_id is not None and current_user.role != Role.STORE:
        args["location"] = str(filters.location_id)
    return args


@bp.route("/")
@staff_required(*READERS)
def index():
    form, filters = _filters()
    report = recovered_value(filters) if filters is not None else None
    return render_template(
        "staff/recovered_value.html",
        form=form,
        filters=filters,
        report=report,
        dimension_labels=DIMENSION_LABELS,
        table_titles=TABLE_TITLES,
        group_label=group_label,
        export_url=url_for(".export", **_query_args(filters)) if filters else None,
        store_view=current_user.role == Role.STORE,
        labels=LABELS,
    ), (200 if filters is not None else 422)


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def report_csv(report: ValueReport) -> bytes:
    """The report's table as Excel in Japan opens it: UTF-8 with a BOM, CRLF, a header row,
    one row per group then the totals (an empty group column)."""
    dimension = report.filters.dimension
    header = [
        str(DIMENSION_LABELS[dimension]),
        _("Group name"),
        _("Units sold"),
        _("Original price total (yen)"),
        _("Recovered (yen)"),
        _("Recovery rate (%)"),
        _("Average days to sale"),
        _("Median days to sale"),
        _("Still to sell (units)"),
        _("Still to sell (yen)"),
    ]
    rows = []
    for row in [*report.rows, report.totals]:
        rate = row.recovery_rate
        rows.append(
            [
                row.key or "",
                group_label(dimension, row) if row is not report.totals else _("Total"),
                row.units_sold,
                row.original_yen,
                row.recovered_yen,
                "" if rate is None else str(rate),
                _days(row.avg_days),
                _days(row.median_days),
                row.stock_units,
                row.stock_value_yen,
            ]
        )
    return excel_csv(header, rows)


def _filename(filters: ValueFilters) -> str:
    day = date.strftime
    return (
        f"recovered-value-{filters.dimension.value}-"
        f"{day(filters.date_from, '%Y%m%d')}-{day(filters.date_to, '%Y%m%d')}.csv"
    )


@bp.route("/export.csv")
@staff_required(*READERS)
def export():
    _form, filters = _filters()
    if filters is None:
        return index()
    return csv_download(report_csv(recovered_value(filters)), _filename(filters))
