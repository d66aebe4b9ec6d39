"""The unified stock view: what each variant has available at each store and centre — the
stock exchanges are promised from. Stock is not secret: every staff member sees every site."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Blueprint, current_app, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_sqlalchemy.pagination import Pagination
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import Length, Optional

from reverse.auth.policies import staff_required
from reverse.catalog.constants import CATEGORY_LABELS, Category, LocationKind
from reverse.catalog.models import Location, Product, StockLevel, Variant
from reverse.core.normalise import code_text, nfkc
from reverse.core.templating import locale_code
from reverse.extensions import db
from reverse.staff.common import LABELS

bp = Blueprint("stock", __name__, url_prefix="/stock")

#: the order of the columns after the viewer's own site
KIND_ORDER = (
    LocationKind.RETURNS_CENTRE,
    LocationKind.STORE,
    LocationKind.DEPARTMENT_STORE_COUNTER,
    LocationKind.REPAIR_CENTRE,
)


class StockFilterForm(FlaskForm):
    """GET filters of the stock view; not a state change, so no CSRF token."""

    class Meta:
        csrf = False

    q = StringField(_l("Name, SKU or JAN"), validators=[Optional(), Length(max=80)])
    category = SelectField(_l("Category"), validators=[Optional()])
    location = SelectField(_l("Location"), validators=[Optional()])
    in_stock = BooleanField(_l("Only items with stock available"))
    page = IntegerField(validators=[Optional()])

    def fill_choices(self, locations: list[Location], locale: str) -> None:
        self.category.choices = [
            ("", _l("All")),
            *[(c.value, label) for c, label in CATEGORY_LABELS.items()],
        ]
        self.location.choices = [
            ("", _l("All locations")),
            *[(str(loc.id), loc.name(locale)) for loc in locations],
        ]


@dataclass
class Cell:
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass
class StockRow:
    variant: Variant
    #: location id → its stock; a site with no row for the variant holds none
    cells: dict[int, Cell] = field(default_factory=dict)

    def available(self, location_ids: list[int]) -> int:
        return sum(self.cells[i].available for i in location_ids if i in self.cells)


def stock_locations(own_id: int | None) -> list[Location]:
    """The columns: active sites that hold any stock, and the viewer's own site; theirs first."""
    holds_stock = sa.exists().where(StockLevel.location_id == Location.id)
    wanted = holds_stock if own_id is None else sa.or_(holds_stock, Location.id == own_id)
    sites = list(db.session.scalars(sa.select(Location).where(Location.active, wanted)))
    return sorted(
        sites,
        key=lambda loc: (loc.id != own_id, KIND_ORDER.index(loc.kind), loc.code),
    )


def search_variants(query: str) -> sa.ColumnElement[bool]:
    """A match on the product name (ja / en), style code, SKU or JAN, however it was typed:
    full-width letters and digits, Japanese dashes and spaces inside a JAN are all fine."""
    text = nfkc(query)
    code = code_text(query)
    conditions = [
        Product.name_ja.icontains(text, autoescape=True),
        Product.name_en.icontains(text, autoescape=True),
        Product.style_code.icontains(code, autoescape=True),
        Variant.sku.icontains(code, autoescape=True),
    ]
    digits = code.replace("-", "").replace(" ", "")
    if digits.isdigit():
        conditions.append(Variant.jan.startswith(digits, autoescape=True))
    return sa.or_(*conditions)


def variants_statement(
    *,
    query: str = "",
    category: Category | None = None,
    location_ids: list[int] | None = None,
    in_stock: bool = False,
) -> sa.Select[tuple[Variant]]:
    """Variants matching the filters, by style then variant; `in_stock` keeps those with
    something available at one of `location_ids`."""
    stmt = (
        sa.select(Variant)
        .join(Product, Product.id == Variant.product_id)
        .options(sa.orm.contains_eager(Variant.product))
        .order_by(Product.style_code, Variant.id)
    )
    if query.strip():
        stmt = stmt.where(search_variants(query))
    if category is not None:
        stmt = stmt.where(Product.category == category)
    if in_stock:
        available = sa.exists().where(
            StockLevel.variant_id == Variant.id,
            StockLevel.on_hand > StockLevel.reserved,
        )
        if location_ids is not None:
            available = available.where(StockLevel.location_id.in_(location_ids))
        stmt = stmt.where(available)
    return stmt


def stock_rows(variants: list[Variant], location_ids: list[int]) -> list[StockRow]:
    """The page's variants with their stock at the shown sites, in one query."""
    rows = {v.id: StockRow(v) for v in variants}
    if rows and location_ids:
        levels = db.session.execute(
            sa.select(
                StockLevel.variant_id,
                StockLevel.location_id,
                StockLevel.on_hand,
                StockLevel.reserved,
            ).where(
                StockLevel.variant_id.in_(list(rows)),
                StockLevel.location_id.in_(location_ids),
            )
        )
        for variant_id, location_id, on_hand, reserved in levels:
            rows[variant_id].cells[location_id] = Cell(on_hand, reserved)
    return list(rows.values())


@bp.route("/")
@staff_required()
def index():
    locale = locale_code()
    own_id = current_user.location_id
    sites = stock_locations(own_id)
    form = StockFilterForm(formdata=request.args)
    form.fill_choices(sites, locale)
    valid = form.validate()
    columns = sites
    if valid and form.location.data:
        columns = [s for s in sites if str(s.id) == form.location.data]
    column_ids = [s.id for s in columns]
    stmt = variants_statement(
        query=(form.q.data or "") if valid else "",
        category=Category(form.category.data) if valid and form.category.data else None,
        location_ids=column_ids,
        in_stock=bool(valid and form.in_stock.data),
    )
    page: Pagination = db.paginate(
        stmt,
        page=max((form.page.data or 1) if valid else 1, 1),
        per_page=current_app.config["STAFF_PAGE_SIZE"],
        error_out=False,
    )
    return render_template(
        "staff/stock.html",
        form=form,
        pagination=page,
        rows=stock_rows(list(page.items), column_ids),
        columns=columns,
        column_ids=column_ids,
        own_id=own_id,
        labels=LABELS,
    )
