"""Importing sales from POS and department-store CSV files: decoding, column mapping, checking
and a set-based upsert of orders and their lines (a few queries per file, not per row).

One order is the rows sharing an order number. An order with any bad row is skipped whole;
the rest is written (by reverse.orders.operations, which the API shares). Importing the same
file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reverse.catalog.models import Channel, Location, Variant
from reverse.core.dates import TOKYO
from reverse.core.normalise import InvalidInput, code_text, nfkc
from reverse.core.normalise import email as normalise_email
from reverse.core.normalise import phone as normalise_phone
from reverse.extensions import db
from reverse.orders.operations import Written, lookup, match_customers, write_orders

#: our fields, in the order the mapping page lists them
FIELDS: tuple[str, ...] = (
    "order_number",
    "ordered_at",
    "line_no",
    "sku",
    "jan",
    "quantity",
    "unit_price_yen",
    "discount_yen",
    "final_sale",
    "location_code",
    "customer_email",
    "customer_phone",
    "customer_name",
    "delivered_at",
)
#: needed in every mapping (and one of sku / jan)
REQUIRED: tuple[str, ...] = ("order_number", "ordered_at", "quantity", "unit_price_yen")

FIELD_LABELS = {
    "order_number": _l("Order number"),
    "ordered_at": _l("Date of sale"),
    "line_no": _l("Line number"),
    "sku": _l("SKU"),
    "jan": _l("JAN"),
    "quantity": _l("Quantity"),
    "unit_price_yen": _l("Unit price (yen)"),
    "discount_yen": _l("Discount (yen)"),
    "final_sale": _l("Final sale"),
    "location_code": _l("Store / counter code"),
    "customer_email": _l("Customer email"),
    "customer_phone": _l("Customer phone"),
    "customer_name": _l("Customer name"),
    "delivered_at": _l("Delivered at"),
}

#: the headers our own POS and the department stores' sales reports print
PRESETS: dict[str, dict[str, str]] = {
    "pos": {
        "order_number": "レシート番号",
        "ordered_at": "販売日時",
        "location_code": "店舗コード",
        "line_no": "行番号",
        "jan": "JANコード",
        "sku": "品番",
        "quantity": "数量",
        "unit_price_yen": "単価",
        "discount_yen": "値引",
        "final_sale": "最終セール",
        "customer_email": "会員メール",
        "customer_phone": "会員電話",
        "customer_name": "会員氏名",
    },
    "department_store": {
        "order_number": "伝票番号",
        "ordered_at": "売上日",
        "location_code": "売場コード",
        "line_no": "行No",
        "jan": "JAN",
        "quantity": "数量",
        "unit_price_yen": "売価",
        "discount_yen": "値引額",
        "customer_name": "顧客名",
        "customer_phone": "顧客電話",
        "customer_email": "顧客メール",
        "delivered_at": "お渡し日",
    },
}
PRESET_LABELS = {"pos": _l("Store POS"), "department_store": _l("Department-store sales report")}

_TRUE = {"1", "true", "yes", "y", "はい", "○", "〇", "◯", "*", "対象", "final"}
_FALSE = {"", "0", "false", "no", "n", "いいえ", "-", "×", "対象外"}
_DATE_RE = re.compile(
    r"^(\d{4})[/\-.年](\d{1,2})[/\-.月](\d{1,2})日?(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?$")
_MONEY_JUNK = str.maketrans("", "", "¥￥,円 \\")


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """A problem with one row (or the header, line 1) of the file."""

    line: int
    #: the file's column header the problem is in; "" for the whole row
    column: str
    message: Any
    order_number: str = ""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: orders not written because of an error in one of their rows
    skipped: int = 0
    lines_written: int = 0
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ImportFileError(ValueError):
    """The file as a whole cannot be read as CSV (encoding, no header, binary content)."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


# -- reading the file --------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Shift_JIS as Windows writes it (CP932)."""
    if b"\x00" in data[:4096]:
        raise ImportFileError(_l("This is not a CSV file (it contains binary data)."))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _l("The file is neither UTF-8 nor Shift_JIS text. Save it as CSV and try again.")
        ) from exc


def read_rows(data: bytes | str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank record, the header first."""
    text = decode(data) if isinstance(data, bytes) else data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                yield start, cells
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(
            _l("Line %(line)s cannot be read as CSV.", line=reader.line_num)
        ) from exc


def header_key(name: str) -> str:
    """Headers match whatever their width and spacing ("ＪＡＮ" is "JAN")."""
    return nfkc(name).replace(" ", "").lower()


def sniff(data: bytes | str, limit: int = 10) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the first `limit` rows, for the mapping page's preview."""
    rows = read_rows(data)
    try:
        _, header = next(rows)
    except StopIteration:
        raise ImportFileError(_l("The file is empty.")) from None
    header = [nfkc(h) for h in header]
    if len(header) < 2:
        raise ImportFileError(
            _l("The first line should name the columns, separated by commas. Is this a CSV file?")
        )
    preview = []
    for line, cells in rows:
        preview.append((line, cells))
        if len(preview) >= limit:
            break
    return header, preview


def preset_for(name: str, header: Sequence[str]) -> dict[str, str]:
    """A preset with the columns this file lacks left out (optional columns often are)."""
    keys = {header_key(h) for h in header}
    preset = PRESETS[name]
    return {f: h for f, h in preset.items() if header_key(h) in keys or f in REQUIRED}


# -- values --------------------------------------------------------------------------------------


class BadValue(ValueError):
    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def _code(raw: str) -> str:
    """`code_text`, skipped for plain ASCII (most cells), where it would only trim."""
    return raw.strip() if raw.isascii() else code_text(raw)


def parse_int(raw: str, *, minimum: int = 0) -> int:
    text = _code(raw).translate(_MONEY_JUNK)
    negative = text.startswith(("-", "△", "▲"))
    text = text.lstrip("-△▲+")
    if not text.isdigit():
        raise BadValue(_l("“%(value)s” is not a whole number.", value=raw))
    value = -int(text) if negative else int(text)
    if value < minimum:
        raise BadValue(_l("%(value)s is below %(minimum)s.", value=value, minimum=minimum))
    return value


def parse_when(raw: str) -> datetime:
    """A Japanese date or date-time (2026/11/23, 2026-11-23 10:15, 20261123) as UTC."""
    text = _code(raw)
    match = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
    if not match:
        raise BadValue(_l("“%(value)s” is not a date like 2026/11/23 10:15.", value=raw))
    y, mo, d, h, mi, s = (int(g) if g else 0 for g in match.groups())
    try:
        local = datetime(y, mo, d, h, mi, s, tzinfo=TOKYO)
    except ValueError as exc:
        raise BadValue(_l("“%(value)s” is not a real date.", value=raw)) from exc
    return local.astimezone(UTC)


def parse_flag(raw: str) -> bool:
    text = nfkc(raw).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise BadValue(_l("“%(value)s” is neither yes (1) nor no (0).", value=raw))


# -- the import ------------------------------------------------------------------------------


@dataclass
class _Row:
    line: int
    line_no: int | None
    variant_key: tuple[str, str]
    quantity: int
    unit_price_yen: int
    discount_yen: int
    final_sale: bool
    variant_id: int = 0


@dataclass
class _Order:
    number: str
    line: int
    ordered_at: datetime
    delivered_at: datetime | None
    location_code: str
    email: str | None
    phone: str | None
    name: str
    rows: list[_Row] = field(default_factory=list)
    bad: bool = False
    customer_id: int | None = None
    location_id: int | None = None

    def line_values(self) -> list[tuple]:
        ordered = sorted(self.rows, key=lambda r: (r.line_no is None, r.line_no or 0, r.line))
        return [
            (r.variant_id, r.quantity, r.unit_price_yen, r.discount_yen, r.final_sale)
            for r in ordered
        ]


def resolve_mapping(
    mapping: dict[str, str] | str, header: Sequence[str]
) -> tuple[dict[str, int], dict[str, str], list[RowError]]:
    """Our field → column index; our field → the file's header; errors for missing columns."""
    if isinstance(mapping, str):
        if mapping not in PRESETS:
            raise ValueError(f"unknown preset {mapping!r}")
        mapping = preset_for(mapping, header)
    index = {header_key(h): i for i, h in enumerate(header)}
    columns: dict[str, int] = {}
    names: dict[str, str] = {}
    errors = []
    unknown = set(mapping) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    for our, theirs in mapping.items():
        if not theirs:
            continue
        names[our] = theirs
        position = index.get(header_key(theirs))
        if position is None:
            errors.append(RowError(1, theirs, _l("This column is not in the file.")))
        else:
            columns[our] = position
    for our in REQUIRED:
        if our not in mapping or not mapping[our]:
            errors.append(
                RowError(1, "", _l("No column chosen for “%(field)s”.", field=FIELD_LABELS[our]))
            )
    if not (mapping.get("sku") or mapping.get("jan")):
        errors.append(RowError(1, "", _l("Choose the column of the SKU or of the JAN.")))
    return columns, names, errors


def import_orders(
    rows: bytes | str,
    mapping: dict[str, str] | str,
    channel: Channel,
    *,
    location: Location | None = None,
) -> ImportResult:
    """Create or update the orders of a sales CSV (bytes as sent, or text) in `channel`.

    `mapping` is a preset name ("pos", "department_store") or {our field: the file's header}.
    `location` is the store or counter of rows that name none. Flushes; never commits.
    """
    result = ImportResult()
    records = read_rows(rows)
    try:
        _, header = next(records)
    except StopIteration:
        raise ImportFileError(_l("The file is empty.")) from None
    header = [nfkc(h) for h in header]
    columns, names, errors = resolve_mapping(mapping, header)
    if errors:
        result.errors = errors
        return result

    orders = _parse(records, columns, names, location, result)
    db.session.flush()
    _resolve_variants(orders, names, result)
    _resolve_locations(orders, names, result)
    good = [o for o in orders.values() if not o.bad]
    result.skipped = len(orders) - len(good)
    match_customers(good)
    written = write_orders(good, channel)
    for order, outcome in zip(good, written.outcomes, strict=True):
        if outcome == Written.HELD:
            result.errors.append(
                RowError(
                    order.line,
                    "",
                    _l(
                        "Order %(number)s has return or repair requests on its lines: its"
                        " lines were not replaced.",
                        number=order.number,
                    ),
                    order.number,
                )
            )
            result.skipped += 1
        else:
            setattr(result, outcome.value, getattr(result, outcome.value) + 1)
    result.lines_written = written.lines_written
    db.session.expire_all()
    result.errors.sort(key=lambda e: e.line)
    return result


_MISSING = object()
_INVALID = "\x00invalid"


def _positive(raw: str) -> int:
    return parse_int(raw, minimum=1)


def _signed(raw: str) -> int:
    return parse_int(raw, minimum=-(10**12))


class _Cells:
    """One record of the file and the problems found in it."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.cells: list[str] = []
        self.line = 0
        self.number = ""
        self.problems: list[RowError] = []
        self.cache: dict[tuple[Any, str], Any] = {}

    def start(self, line: int, cells: list[str], width: int) -> None:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        self.line, self.cells, self.problems = line, cells, []

    def bad(self, our: str, message: Any) -> None:
        self.problems.append(RowError(self.line, self.names.get(our, ""), message, self.number))

    def value(self, our: str, column: int | None, parse: Any, default: Any = None) -> Any:
        """The parsed cell; `default` when the column is not mapped or the cell is blank
        (blank is a problem when the default is _MISSING)."""
        if column is None:
            return default
        raw = self.cells[column]
        if not raw.strip():
            if default is _MISSING:
                self.bad(our, _l("This value is missing."))
                return None
            return default
        # a file repeats its dates, prices and quantities: parse each text once
        key = (parse, raw)
        parsed = self.cache.get(key, _MISSING)
        if parsed is _MISSING:
            try:
                parsed = parse(raw)
            except BadValue as exc:
                parsed = exc
            self.cache[key] = parsed
        if isinstance(parsed, BadValue):
            self.bad(our, parsed.message)
            return None
        return parsed

    def contact(
        self, our: str, column: int | None, cache: dict[tuple[str, str], str | None]
    ) -> str | None:
        """A normalised email or phone (None when blank or wrong, wrong being a problem)."""
        if column is None:
            return None
        raw = self.cells[column]
        key = (our, raw)
        if key not in cache:
            try:
                cache[key] = _CONTACT_PARSERS[our](raw) if raw.strip() else None
            except InvalidInput:
                cache[key] = _INVALID
        value = cache[key]
        if value is _INVALID:
            self.bad(our, _contact_error(our, raw))
            return None
        return value


_CONTACT_PARSERS = {"customer_email": normalise_email, "customer_phone": normalise_phone}


def _contact_error(our: str, raw: str) -> Any:
    if our == "customer_email":
        return _l("“%(value)s” is not an email address.", value=raw)
    return _l("“%(value)s” is not a phone number.", value=raw)


def _parse(
    records: Iterable[tuple[int, list[str]]],
    columns: dict[str, int],
    names: dict[str, str],
    location: Location | None,
    result: ImportResult,
) -> dict[str, _Order]:
    orders: dict[str, _Order] = {}
    width = max(columns.values()) + 1
    get = columns.get
    c_number, c_at = columns["order_number"], columns["ordered_at"]
    c_qty, c_price = columns["quantity"], columns["unit_price_yen"]
    c_sku, c_jan, c_disc = get("sku"), get("jan"), get("discount_yen")
    c_line, c_final, c_delivered = get("line_no"), get("final_sale"), get("delivered_at")
    c_loc, c_email = get("location_code"), get("customer_email")
    c_phone, c_name = get("customer_phone"), get("customer_name")
    default_location = location.code.upper() if location is not None else ""
    row = _Cells(names)
    # every line of an order repeats its customer: normalise each address once
    contacts: dict[tuple[str, str], str | None] = {}

    for line, cells in records:
        result.rows += 1
        row.start(line, cells, width)
        cells = row.cells
        number = row.number = _code(cells[c_number])
        if not number:
            row.bad("order_number", _l("The order number is missing."))
        elif len(number) > 40:
            row.bad("order_number", _l("The order number is longer than 40 characters."))

        ordered_at = row.value("ordered_at", c_at, parse_when, _MISSING)
        quantity = row.value("quantity", c_qty, _positive, _MISSING)
        price = row.value("unit_price_yen", c_price, parse_int, _MISSING)
        # POS files print discounts as negative amounts (-500, △500): the size is what counts
        discount = abs(row.value("discount_yen", c_disc, _signed, 0) or 0)
        final_sale = row.value("final_sale", c_final, parse_flag, False)
        line_no = row.value("line_no", c_line, parse_int)
        delivered_at = row.value("delivered_at", c_delivered, parse_when)

        jan = _code(cells[c_jan]).replace("-", "").replace(" ", "") if c_jan is not None else ""
        sku = _code(cells[c_sku]) if c_sku is not None else ""
        if jan:
            variant_key = ("jan", jan)
        elif sku:
            variant_key = ("sku", sku)
        else:
            variant_key = ("", "")
            row.bad("jan" if c_jan is not None else "sku", _l("The JAN or SKU is missing."))
        if quantity is not None and price is not None and discount > quantity * price:
            row.bad("discount_yen", _l("The discount is larger than the line’s price."))

        email = row.contact("customer_email", c_email, contacts)
        phone = row.contact("customer_phone", c_phone, contacts)

        order = orders.get(number)
        if order is None:
            loc = code_text(cells[c_loc]).upper() if c_loc is not None else ""
            order = orders[number] = _Order(
                number=number,
                line=line,
                ordered_at=ordered_at,
                delivered_at=delivered_at,
                location_code=loc or default_location,
                email=email,
                phone=phone,
                name=nfkc(cells[c_name])[:120] if c_name is not None else "",
            )
        if row.problems:
            order.bad = True
            result.errors.extend(row.problems)
            continue
        order.rows.append(_Row(line, line_no, variant_key, quantity, price, discount, final_sale))
    return orders


def _resolve_variants(
    orders: dict[str, _Order], names: dict[str, str], result: ImportResult
) -> None:
    jans = {r.variant_key[1] for o in orders.values() for r in o.rows if r.variant_key[0] == "jan"}
    skus = {r.variant_key[1] for o in orders.values() for r in o.rows if r.variant_key[0] == "sku"}
    ids: dict[tuple[str, str], int] = {}
    for jan, vid in lookup(Variant.jan, jans, Variant.jan, Variant.id):
        ids[("jan", jan)] = vid
    for sku, vid in lookup(Variant.sku, skus, Variant.sku, Variant.id):
        ids[("sku", sku)] = vid
    for order in orders.values():
        for row in order.rows:
            vid = ids.get(row.variant_key)
            if vid is None:
                kind, code = row.variant_key
                message = (
                    _l("No product has the JAN %(code)s.", code=code)
                    if kind == "jan"
                    else _l("No product has the SKU %(code)s.", code=code)
                )
                result.errors.append(RowError(row.line, names.get(kind, ""), message, order.number))
                order.bad = True
            else:
                row.variant_id = vid


def _resolve_locations(
    orders: dict[str, _Order], names: dict[str, str], result: ImportResult
) -> None:
    codes = {o.location_code for o in orders.values() if o.location_code}
    if not codes:
        return
    ids = {
        code.upper(): lid
        for code, lid in db.session.execute(sa.select(Location.code, Location.id)).all()
    }
    for order in orders.values():
        if not order.location_code:
            continue
        order.location_id = ids.get(order.location_code)
        if order.location_id is None:
            result.errors.append(
                RowError(
                    order.line,
                    names.get("location_code", ""),
                    _l("No store or counter has the code %(code)s.", code=order.location_code),
                    order.number,
                )
            )
            order.bad = True
