"""Customer pages: the front page, the language switch, the request form step by step, the
private status page of a case, and "find my request".

Everything works without JavaScript: each step is a plain form posted to the server, which
keeps the draft (the browser holds only its key in the session) and answers with the next
page, or the same page with every error beside its field.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from reverse.catalog.constants import LocationKind
from reverse.catalog.models import Location, Variant
from reverse.core.actors import Actor
from reverse.core.dates import today_in_japan
from reverse.core.db import commit, utcnow
from reverse.core.errors import DomainError
from reverse.core.normalise import phone_display
from reverse.core.templating import locale_code
from reverse.core.uploads import (
    UploadRejected,
    save_image,
    save_images,
    send_photo,
    upload_path,
)
from reverse.core.urls import local_path
from reverse.extensions import db, limiter
from reverse.policy.engine import return_terms_text
from reverse.portal import operations as ops
from reverse.portal.forms import (
    OTHER_RETAILER,
    CancelForm,
    ChooseItemForm,
    ContactForm,
    DeclaredPurchaseForm,
    DescribeItemForm,
    FindForm,
    ItemDetailsForm,
    ItemSearchForm,
    MessageForm,
    MethodForm,
    OrderLinesForm,
    OrderLookupForm,
    PhotosForm,
    QuoteApproveForm,
    QuoteDeclineForm,
    RemoveForm,
    ReviewForm,
    ScanTagForm,
    StartForm,
    TagPhotoForm,
    select_choices,
)
from reverse.portal.models import PortalDraft
from reverse.repairs.constants import Handback
from reverse.repairs.models import RepairQuote
from reverse.repairs.operations import answer_quote
from reverse.resolution.operations import return_to_customer_shipment
from reverse.resolution.summary import customer_outcome
from reverse.rmas.constants import (
    CUSTOMER_STATUS_TEXT,
    PHOTO_REQUIRED_REASONS,
    PROOF_STATUS_LABELS,
    PURCHASE_PLACE_LABELS,
    REASON_LABELS,
    REASONS,
    RETURN_METHOD_LABELS,
    STATUS_TONES,
    TYPE_LABELS,
    AttachmentKind,
    PurchasePlace,
    ReturnMethod,
    RmaStatus,
    RmaType,
)
from reverse.rmas.models import Attachment, EventKind, Rma
from reverse.rmas.operations import rma_by_token
from reverse.shipping.constants import CARRIER_LABELS
from reverse.shipping.operations import return_shipment
from reverse.shipping.tasks import issued_label

bp = Blueprint("portal", __name__)

STEP_ENDPOINTS = {
    "start": "portal.request_start",
    "purchase": "portal.request_purchase",
    "items": "portal.request_items",
    "method": "portal.request_method",
    "contact": "portal.request_contact",
    "review": "portal.request_review",
}
STEP_TITLES = {
    "start": _l("What happened"),
    "purchase": _l("Your purchase"),
    "items": _l("Items"),
    "method": _l("Sending the item"),
    "contact": _l("Your details"),
    "review": _l("Check and send"),
}
LABELS = {
    "type": TYPE_LABELS,
    "place": PURCHASE_PLACE_LABELS,
    "reason": REASON_LABELS,
    "method": RETURN_METHOD_LABELS,
    "status": CUSTOMER_STATUS_TEXT,
    "tone": STATUS_TONES,
    "proof": PROOF_STATUS_LABELS,
}
#: the neutral answer to a wrong order number or a wrong email / phone: it never says which
NOT_FOUND = _l(
    "We could not find an order with these details. Please check the number and the email "
    "address or phone number, or ask us for help."
)
FIND_RATE_LIMIT = "5 per minute; 30 per hour"


@bp.context_processor
def portal_labels() -> dict[str, Any]:
    return {"labels": LABELS}


@bp.after_request
def private_pages(response):  # type: ignore[no-untyped-def]
    # The form, the status page and their photos are one person's data: never kept by a
    # shared cache or the browser's back-forward cache, never sent on in a Referer.
    if request.endpoint not in ("portal.home", "portal.set_language", "static"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/")
def home():
    return render_template("portal/home.html")


@bp.route("/lang/<code>")
def set_language(code: str):
    if code not in ("ja", "en"):
        abort(404)
    session["lang"] = code
    return redirect(local_path(request.args.get("next")) or url_for("portal.home"))


# -- the request form --------------------------------------------------------------------------


def _current_draft() -> PortalDraft | None:
    return ops.draft_for_key(session.get("draft"))


def draft_step(step: str) -> Callable:
    """The view of one step: needs the visitor's draft and every earlier step done."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(**kwargs: Any):
            draft = _current_draft()
            if draft is None:
                # A second click on "send" after the first went through: show its result.
                if step == "review" and session.get("done"):
                    return redirect(url_for("portal.request_done"))
                return redirect(url_for("portal.request_start"))
            missing = ops.missing_step(draft)
            if missing is not None and ops.STEPS.index(missing) < ops.STEPS.index(step):
                return redirect(url_for(STEP_ENDPOINTS[missing]))
            return view(draft, **kwargs)

        return wrapper

    return decorator


def _step(template: str, step: str, draft: PortalDraft | None, status: int = 200, **context):
    data = draft.data if draft else {}
    index = ops.STEPS.index(step)
    previous = STEP_ENDPOINTS[ops.STEPS[index - 1]] if index else None
    return (
        render_template(
            template,
            step=step,
            step_no=index + 1,
            step_count=len(ops.STEPS),
            step_title=STEP_TITLES[step],
            back_url=url_for(previous) if previous else url_for("portal.home"),
            data=data,
            rma_type=data.get("type"),
            place=data.get("place"),
            **context,
        ),
        status,
    )


def _terms() -> str | None:
    return return_terms_text(locale_code())


@bp.route("/request", methods=["GET", "POST"])
def request_start():
    draft = _current_draft()
    form = StartForm(
        data={"type": draft.data.get("type"), "place": draft.data.get("place")} if draft else None
    )
    if form.validate_on_submit() and _offered(form):
        draft, key = ops.start_draft(draft, RmaType(form.type.data), PurchasePlace(form.place.data))
        commit()
        if key:
            session["draft"] = key
        session.pop("done", None)
        return redirect(url_for("portal.request_purchase"))
    return _step(
        "portal/request_start.html",
        "start",
        draft,
        422 if form.errors else 200,
        form=form,
        terms=_terms(),
    )


def _offered(form: StartForm) -> bool:
    place, rma_type = PurchasePlace(form.place.data), RmaType(form.type.data)
    if ops.type_offered(place, rma_type):
        return True
    form.type.errors = [
        _l(
            "%(type)s is not offered for items from there. Please choose another option, "
            "or ask us for help.",
            type=TYPE_LABELS[rma_type],
        )
    ]
    return False


@bp.route("/request/purchase", methods=["GET", "POST"])
@draft_step("purchase")
def request_purchase(draft: PortalDraft):
    place = PurchasePlace(draft.data["place"])
    if place in ops.OWN_PLACES:
        return _order_page(draft, place)
    if place in (PurchasePlace.GIFT, PurchasePlace.UNKNOWN):
        return _gift_page(draft)
    return _declared_page(draft, place)


def _order_page(draft: PortalDraft, place: PurchasePlace):
    order = ops.draft_order(draft)
    if order is not None:
        if request.method == "POST":
            return redirect(url_for("portal.request_purchase"))
        choices = ops.order_line_choices(draft.data, order)
        chosen = {line["order_line_id"]: line["quantity"] for line in draft.data.get("lines", [])}
        form = OrderLinesForm(
            data={
                "lines": [
                    {
                        "order_line_id": str(c.order_line.id),
                        "selected": c.order_line.id in chosen,
                        "quantity": chosen.get(c.order_line.id, 1),
                    }
                    for c in choices
                ]
            }
        )
        return _lines_page(draft, order, choices, form)
    form = OrderLookupForm()
    if place == PurchasePlace.STORE:
        form.number.label.text = _l("Receipt number")
    if form.validate_on_submit():
        found = ops.find_order(place, form.number.data, form.contact.data)
        if found is not None:
            ops.use_order(draft, found)
            commit()
            return redirect(url_for("portal.request_purchase"))
        form.form_errors.append(NOT_FOUND)
    return _step(
        "portal/request_order.html",
        "purchase",
        draft,
        422 if form.errors else 200,
        form=form,
    )


def _lines_page(draft, order, choices, form, status=200):
    for entry, choice in zip(form.lines, choices, strict=False):
        entry.quantity.choices = select_choices(
            (n, str(n)) for n in range(1, max(choice.quantity_left, 1) + 1)
        )
    return _step(
        "portal/request_lines.html",
        "purchase",
        draft,
        status,
        order=order,
        rows=list(zip(form.lines, choices, strict=False)),
        form=form,
        locale=locale_code(),
    )


@bp.route("/request/purchase/lines", methods=["POST"])
@draft_step("purchase")
def request_lines(draft: PortalDraft):
    order = ops.draft_order(draft)
    if order is None:
        return redirect(url_for("portal.request_purchase"))
    choices = ops.order_line_choices(draft.data, order)
    form = OrderLinesForm()
    picked = None
    if form.validate_on_submit():
        picked = form.selection({c.order_line.id: c for c in choices})
    if picked is None:
        return _lines_page(draft, order, choices, form, 422)
    ops.choose_order_lines(draft, picked)
    commit()
    return redirect(url_for("portal.request_items"))


@bp.route("/request/purchase/other-order", methods=["POST"])
@draft_step("purchase")
def request_other_order(draft: PortalDraft):
    if RemoveForm().validate_on_submit():
        ops.forget_order(draft)
        commit()
    return redirect(url_for("portal.request_purchase"))


def _declared_page(draft: PortalDraft, place: PurchasePlace):
    data = draft.data
    department_store = place == PurchasePlace.DEPARTMENT_STORE
    counters = ops.counter_retailers() if department_store else []
    known = {c.retailer for c in counters}
    retailer = data.get("retailer") or ""
    form = DeclaredPurchaseForm(
        data={
            "retailer": (retailer if retailer in known else OTHER_RETAILER) if retailer else "",
            "retailer_other": retailer if retailer and retailer not in known else "",
            "purchase_date": date.fromisoformat(data["purchase_date"])
            if data.get("purchase_date")
            else None,
            "price": str(data["price_yen"]) if data.get("price_yen") is not None else "",
        }
        if request.method == "GET"
        else None
    )
    locale = locale_code()
    form.retailer.choices = select_choices(
        [
            ("", _l("Choose")),
            *[(c.retailer, _counter_label(c, locale)) for c in counters],
            (OTHER_RETAILER, _l("Another department store")),
        ]
    )
    form.department_store = department_store
    form.today = today_in_japan(utcnow())
    proof = ops.proof_required(place)
    upload_error = None
    if request.method == "POST" and form.receipt_file is not None:
        try:
            ops.attach_to_draft(
                draft, save_image(form.receipt_file), AttachmentKind.RECEIPT, replace=True
            )
        except UploadRejected as exc:
            upload_error = exc.message
    receipts = [a for a in ops.draft_attachments(draft) if a.kind == AttachmentKind.RECEIPT]
    form.receipt_needed = proof and not receipts and upload_error is None
    valid = form.validate_on_submit()
    if upload_error is not None:
        form.receipt.errors = [*form.receipt.errors, upload_error]
        valid = False
    if valid:
        ops.declare_purchase(draft, form.retailer_name, form.purchase_date.data, form.price_yen)
        commit()
        return redirect(url_for("portal.request_items"))
    if request.method == "POST":
        commit()  # a receipt that was accepted stays, whatever else needs fixing
    return _step(
        "portal/request_declared.html",
        "purchase",
        draft,
        422 if request.method == "POST" else 200,
        form=form,
        proof=proof,
        receipts=receipts,
        department_store=department_store,
        max_date=form.today.isoformat(),
    )


def _counter_label(location: Any, locale: str) -> str:
    """The department store as the customer knows it: its own name in Japanese, the name of
    our counter there in English."""
    return location.retailer if locale == "ja" else location.name_en


def _gift_page(draft: PortalDraft):
    form = TagPhotoForm()
    if form.validate_on_submit():
        if form.tag_file is not None:
            try:
                stored = save_image(form.tag_file)
            except UploadRejected as exc:
                form.tag.errors = [exc.message]
                return _gift_render(draft, form, 422)
            if _add_item_from_tag(draft, stored) is None:
                ops.attach_to_draft(draft, stored, AttachmentKind.TAG, replace=True)
                flash(
                    _l(
                        "We could not read one of our barcodes on the photo. We keep it for "
                        "our staff; please find the item on this page."
                    ),
                    "info",
                )
        commit()
        return redirect(url_for("portal.request_items"))
    return _gift_render(draft, form, 422 if form.errors else 200)


def _gift_render(draft, form, status):
    tags = [a for a in ops.draft_attachments(draft) if a.kind == AttachmentKind.TAG]
    return _step(
        "portal/request_gift.html",
        "purchase",
        draft,
        status,
        form=form,
        tags=tags,
    )


def _add_item_from_tag(draft: PortalDraft, stored: Any) -> Variant | None:
    """Read the JAN on a tag photo; a known product becomes an item with the photo on it."""
    jan = ops.jan_from_photo(upload_path(stored.name))
    variant = ops.variant_by_jan(jan) if jan else None
    if variant is None:
        return None
    index = ops.add_draft_line(draft, variant=variant)
    ops.attach_to_draft(draft, stored, AttachmentKind.TAG, index)
    return variant


@bp.route("/request/items", methods=["GET", "POST"])
@draft_step("items")
def request_items(draft: PortalDraft):
    lines = draft.data.get("lines", [])
    if not lines:
        return redirect(url_for("portal.request_find_item"))
    rma_type = draft.data["type"]
    resolved = ops.draft_lines(draft.data)
    options = [
        ops.exchange_options(line.variant)
        if rma_type == RmaType.EXCHANGE and line.variant is not None
        else []
        for line in resolved
    ]
    if request.method == "POST":
        form = ItemDetailsForm()
    else:
        form = ItemDetailsForm(
            data={
                "lines": [
                    {
                        "reason": line.get("reason") or None,
                        "comment": line.get("comment", ""),
                        "wanted": str(line["wanted_variant_id"])
                        if line.get("wanted_variant_id")
                        else None,
                        "symptom": line.get("symptom", ""),
                    }
                    for line in lines
                ]
            }
        )
    if len(form.lines) != len(lines):
        return redirect(url_for("portal.request_items"))  # a page from before a change
    form.prepare(rma_type, lines, options)
    if request.method == "POST":
        counts = _photo_counts(draft, len(lines))
        valid = form.validate_on_submit()
        valid = (
            form.check(rma_type, options, counts, _needs_photo, ops.MAX_PHOTOS_PER_LINE) and valid
        )
        # Accepted photos are kept even when something else needs fixing: a file input
        # cannot be filled in again for the customer.
        for index, entry in enumerate(form.lines):
            if entry.photos.errors:
                continue  # too many: none of them is kept
            for file in entry.form.photo_files:
                try:
                    ops.attach_to_draft(draft, save_image(file), AttachmentKind.PHOTO, index)
                except (UploadRejected, ops.PortalError) as exc:
                    entry.photos.errors = [*entry.photos.errors, exc.message]
                    valid = False
        if valid:
            for index, entry in enumerate(form.lines):
                ops.set_line_details(
                    draft,
                    index,
                    reason=entry.reason.data,
                    comment=entry.comment.data or "",
                    wanted_variant_id=int(entry.wanted.data)
                    if rma_type == RmaType.EXCHANGE and entry.wanted.data
                    else None,
                    symptom=entry.symptom.data or "",
                )
            commit()
            return redirect(url_for("portal.request_method"))
        commit()
    return _items_render(draft, form, resolved, options, 422 if request.method == "POST" else 200)


def _by_colour(options: list[ops.ExchangeOption], locale: str) -> list[tuple[str, list]]:
    """Exchange options as the shop shows them: one row of sizes per colour."""
    groups: dict[str, list[ops.ExchangeOption]] = {}
    for option in options:
        groups.setdefault(option.variant.colour(locale), []).append(option)
    return list(groups.items())


def _by_product(variants: list[Variant]) -> list[tuple[Any, list[Variant]]]:
    """Search results as products, each with its colours and sizes to choose from."""
    groups: dict[int, tuple[Any, list[Variant]]] = {}
    for variant in variants:
        groups.setdefault(variant.product_id, (variant.product, []))[1].append(variant)
    return list(groups.values())


def _needs_photo(reason: str | None) -> bool:
    return reason in PHOTO_REQUIRED_REASONS


def _photo_counts(draft: PortalDraft, n: int) -> list[int]:
    counts = [0] * n
    for attachment in ops.draft_attachments(draft):
        line_no = attachment.line_no
        if attachment.kind == AttachmentKind.PHOTO and line_no is not None and 0 <= line_no < n:
            counts[line_no] += 1
    return counts


def _items_render(draft, form, resolved, options, status):
    attachments = ops.draft_attachments(draft)
    photos: dict[int, list[Attachment]] = {}
    for attachment in attachments:
        if attachment.line_no is not None:
            photos.setdefault(attachment.line_no, []).append(attachment)
    return _step(
        "portal/request_items.html",
        "items",
        draft,
        status,
        form=form,
        rows=[
            (entry, line, line_options, _by_colour(line_options, locale_code()))
            for entry, line, line_options in zip(form.lines, resolved, options, strict=False)
        ],
        photos=photos,
        can_add=draft.data.get("order_id") is None,
        photo_reasons=[
            REASON_LABELS[r] for r in REASONS[RmaType(draft.data["type"])] if _needs_photo(r)
        ],
        max_photos=ops.MAX_PHOTOS_PER_LINE,
        locale=locale_code(),
    )


@bp.route("/request/items/find")
@draft_step("items")
def request_find_item(draft: PortalDraft):
    if draft.data.get("order_id"):
        return redirect(url_for("portal.request_items"))
    search = ItemSearchForm(request.args)
    results = (
        _by_product(ops.search_variants(search.q.data, limit=60))
        if search.validate() and search.q.data
        else None
    )
    return _find_item_render(draft, search, results)


def _find_item_render(draft, search, results, scan=None, describe=None, status=200, **extra):
    return _step(
        "portal/request_find_item.html",
        "items",
        draft,
        status,
        search=search,
        results=results,
        scan=scan or ScanTagForm(formdata=None),
        describe=describe or DescribeItemForm(formdata=None),
        can_describe=draft.data.get("type") == RmaType.REPAIR,
        has_lines=bool(draft.data.get("lines")),
        locale=locale_code(),
        **extra,
    )


@bp.route("/request/items/choose", methods=["POST"])
@draft_step("items")
def request_choose_item(draft: PortalDraft):
    form = ChooseItemForm()
    variant = None
    if form.validate_on_submit() and (form.variant_id.data or "").isdigit():
        variant = db.session.get(Variant, int(form.variant_id.data))
    if variant is None or draft.data.get("order_id"):
        return redirect(url_for("portal.request_find_item"))
    ops.add_draft_line(draft, variant=variant)
    commit()
    return redirect(url_for("portal.request_items"))


@bp.route("/request/items/scan", methods=["POST"])
@draft_step("items")
def request_scan_item(draft: PortalDraft):
    form = ScanTagForm()
    if form.validate_on_submit():
        try:
            stored = save_image(form.tag_file)
        except UploadRejected as exc:
            form.tag.errors = [exc.message]
        else:
            if _add_item_from_tag(draft, stored) is not None:
                commit()
                return redirect(url_for("portal.request_items"))
            form.tag.errors = [
                _l(
                    "We could not find one of our products from this photo. Please search "
                    "by name, or take the photo again closer to the barcode."
                )
            ]
    return _find_item_render(draft, ItemSearchForm(formdata=None), None, scan=form, status=422)


@bp.route("/request/items/describe", methods=["POST"])
@draft_step("items")
def request_describe_item(draft: PortalDraft):
    if draft.data.get("type") != RmaType.REPAIR:
        abort(404)
    form = DescribeItemForm()
    if form.validate_on_submit():
        ops.add_draft_line(draft, description=form.description.data)
        commit()
        return redirect(url_for("portal.request_items"))
    return _find_item_render(draft, ItemSearchForm(formdata=None), None, describe=form, status=422)


@bp.route("/request/items/<int:index>/remove", methods=["POST"])
@draft_step("items")
def request_remove_item(draft: PortalDraft, index: int):
    if RemoveForm().validate_on_submit() and not draft.data.get("order_id"):
        ops.remove_draft_line(draft, index)
        commit()
    return redirect(url_for("portal.request_items"))


@bp.route("/request/photos/<int:attachment_id>")
def draft_photo(attachment_id: int):
    draft = _current_draft()
    attachment = ops.draft_attachment(draft, attachment_id) if draft else None
    if attachment is None:
        abort(404)
    return _send_photo(attachment)


@bp.route("/request/photos/<int:attachment_id>/remove", methods=["POST"])
def draft_photo_remove(attachment_id: int):
    draft = _current_draft()
    if draft is None:
        return redirect(url_for("portal.request_start"))
    if RemoveForm().validate_on_submit():
        ops.remove_draft_attachment(draft, attachment_id)
        commit()
    target = request.form.get("next", "")
    if target not in ("purchase", "items"):
        target = "items"
    return redirect(url_for(STEP_ENDPOINTS[target]))


@bp.route("/request/method", methods=["GET", "POST"])
@draft_step("method")
def request_method(draft: PortalDraft):
    data = draft.data
    rma_type = RmaType(data["type"])
    locations = ops.drop_off_locations()
    form = MethodForm(
        data={
            "method": data.get("method"),
            "location": str(data["drop_off_location_id"])
            if data.get("drop_off_location_id")
            else None,
        }
        if request.method == "GET"
        else None
    )
    form.method.choices = select_choices(
        (m.value, RETURN_METHOD_LABELS[m]) for m in ops.METHODS[rma_type]
    )
    form.location.choices = select_choices(
        (str(loc.id), loc.name(locale_code())) for loc in locations
    )
    if form.validate_on_submit():
        method = ReturnMethod(form.method.data)
        location_id = int(form.location.data) if method == ReturnMethod.STORE_DROP_OFF else None
        ops.set_method(draft, method, location_id)
        commit()
        return redirect(url_for("portal.request_contact"))
    stores = [loc for loc in locations if loc.kind == LocationKind.STORE]
    counters = [loc for loc in locations if loc.kind != LocationKind.STORE]
    return _step(
        "portal/request_method.html",
        "method",
        draft,
        422 if form.errors else 200,
        form=form,
        stores=stores,
        counters=counters,
        centre=ops.centre(
            LocationKind.REPAIR_CENTRE
            if rma_type == RmaType.REPAIR
            else LocationKind.RETURNS_CENTRE
        ),
        locale=locale_code(),
    )


@bp.route("/request/contact", methods=["GET", "POST"])
@draft_step("contact")
def request_contact(draft: PortalDraft):
    if request.method == "GET":
        contact = ops.contact_defaults(draft)
        contact["phone"] = phone_display(contact.get("phone")) if contact.get("phone") else ""
        form = ContactForm(data=contact)
    else:
        form = ContactForm()
    form.address_needed = ops.address_required(draft.data)
    if form.validate_on_submit():
        ops.set_contact(draft, form.normalised(locale_code()))
        commit()
        return redirect(url_for("portal.request_review"))
    return _step(
        "portal/request_contact.html",
        "contact",
        draft,
        422 if form.errors else 200,
        form=form,
        address_needed=form.address_needed,
    )


@bp.route("/request/review", methods=["GET", "POST"])
@draft_step("review")
def request_review(draft: PortalDraft):
    missing = ops.missing_step(draft)
    if missing is not None:
        return redirect(url_for(STEP_ENDPOINTS[missing]))
    form = ReviewForm(data={"refund_choice": draft.data.get("refund_choice") or "refund"})
    error = None
    if form.validate_on_submit():
        # The mails about the case go out in the language the customer is reading now.
        ops.update_draft(draft, contact={**draft.data["contact"], "locale": locale_code()})
        ops.update_draft(draft, refund_choice=form.refund_choice.data)
        try:
            _rma, token = ops.submit_draft(draft, Actor.customer())
        except ops.PortalError as exc:
            db.session.rollback()
            draft = _current_draft()
            error = exc.message
        else:
            commit()
            session.pop("draft", None)
            session["done"] = token
            return redirect(url_for("portal.request_done"))
    return _review_render(draft, form, error, 422 if form.errors or error else 200)


def _review_render(draft, form, error, status):
    data = draft.data
    attachments = ops.draft_attachments(draft)
    photos: dict[int, list[Attachment]] = {}
    for attachment in attachments:
        if attachment.line_no is not None:
            photos.setdefault(attachment.line_no, []).append(attachment)
    location = (
        db.session.get(Location, data["drop_off_location_id"])
        if data.get("drop_off_location_id")
        else None
    )
    place = PurchasePlace(data["place"])
    outcome = ops.assess(data)
    return _step(
        "portal/request_review.html",
        "review",
        draft,
        status,
        form=form,
        error=error,
        outcome=outcome,
        lines=ops.draft_lines(data),
        photos=photos,
        receipts=[a for a in attachments if a.kind == AttachmentKind.RECEIPT],
        tags=[a for a in attachments if a.kind == AttachmentKind.TAG and a.line_no is None],
        order=ops.draft_order(draft),
        location=location,
        proof_check=place not in ops.OWN_PLACES and outcome.proof_required,
        terms=_terms(),
        contact=data.get("contact", {}),
        locale=locale_code(),
        credit_bonus_percent=ops.channel_for(place).store_credit_bonus_percent,
    )


@bp.route("/request/done")
def request_done():
    token = session.get("done")
    rma = rma_by_token(token) if token else None
    if rma is None:
        return redirect(url_for("portal.request_start"))
    status_url = url_for("portal.status", token=token)
    return render_template(
        "portal/request_done.html",
        rma=rma,
        status_url=status_url,
        absolute_url=current_app.config["PUBLIC_BASE_URL"] + status_url,
        locale=locale_code(),
    )


# -- find my request ---------------------------------------------------------------------------


def _find_limit() -> str:
    return current_app.config.get("PORTAL_FIND_RATE_LIMIT", FIND_RATE_LIMIT)


@bp.route("/find", methods=["GET", "POST"])
@limiter.limit(_find_limit, methods=["POST"])
def find():
    form = FindForm()
    if form.validate_on_submit():
        ops.request_access_link(form.number.data, form.contact.data)
        commit()
        return redirect(url_for("portal.find_sent"))
    return render_template("portal/find.html", form=form), 422 if form.errors else 200


@bp.route("/find/sent")
def find_sent():
    return render_template("portal/find_sent.html")


# -- the status page ---------------------------------------------------------------------------


def _rma_or_404(token: str) -> Rma:
    rma = rma_by_token(token)
    if rma is None:
        abort(404)
    return rma


def _status_render(rma: Rma, token: str, status: int = 200, **forms: Any):
    events = [e for e in rma.events if e.public]
    return (
        render_template(
            "portal/status.html",
            rma=rma,
            token=token,
            events=list(reversed(events)),
            status_text=CUSTOMER_STATUS_TEXT,
            tones=STATUS_TONES,
            type_labels=TYPE_LABELS,
            photos=ops.customer_photos(rma),
            can_cancel=rma.status in ops.CUSTOMER_CANCELLABLE,
            message_form=forms.get("message_form") or MessageForm(formdata=None),
            photos_form=forms.get("photos_form") or PhotosForm(formdata=None),
            max_photos=ops.MAX_PHOTOS_PER_RMA,
            message_kind=EventKind.MESSAGE,
            locale=locale_code(),
            return_label=return_shipment(rma),
            outcome=customer_outcome(rma),
            **_repair_context(rma, forms),
        ),
        status,
    )


def _repair_context(rma: Rma, forms: dict[str, Any]) -> dict[str, Any]:
    """What the repair panel shows: the order, the quote waiting for an answer (with its
    buttons), the quotes before it, and the parcel home of a delivered repair."""
    repair = rma.repair if rma.type == RmaType.REPAIR else None
    if repair is None:
        return {"repair": None}
    open_quote = repair.open_quote if rma.status == RmaStatus.QUOTED else None
    decline_form = forms.get("decline_form") or QuoteDeclineForm(formdata=None)
    return {
        "repair": repair,
        "open_quote": open_quote,
        "past_quotes": [q for q in reversed(repair.quotes) if q is not open_quote],
        "quote_error": forms.get("quote_error"),
        "approve_form": QuoteApproveForm(formdata=None),
        "decline_form": decline_form,
        "decline_open": bool(decline_form.errors or forms.get("decline_open")),
        "pickup": repair.pickup_location if repair.handback == Handback.STORE_PICKUP else None,
        "home_parcel": (
            return_to_customer_shipment(rma) if repair.handback == Handback.SHIP else None
        ),
        "carrier_labels": CARRIER_LABELS,
    }


@bp.route("/r/<token>/label.pdf")
def status_label(token: str):
    rma = _rma_or_404(token)
    shipment = return_shipment(rma)
    path = issued_label(shipment) if shipment else None
    if path is None:
        abort(404)
    response = send_file(path, mimetype="application/pdf", download_name=f"label-{rma.number}.pdf")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/r/<token>")
def status(token: str):
    return _status_render(_rma_or_404(token), token)


@bp.route("/r/<token>/messages", methods=["POST"])
def status_message(token: str):
    rma = _rma_or_404(token)
    form = MessageForm()
    if not form.validate_on_submit():
        return _status_render(rma, token, 422, message_form=form)
    ops.add_customer_message(rma, form.body.data, Actor.customer())
    commit()
    flash(_l("Thank you. We have your message and will reply by email."), "success")
    return redirect(url_for("portal.status", token=token) + "#messages")


@bp.route("/r/<token>/photos", methods=["POST"])
def status_photos(token: str):
    rma = _rma_or_404(token)
    form = PhotosForm()
    if form.validate_on_submit():
        try:
            images = save_images(form.photo_files)
            ops.add_customer_photos(rma, images, Actor.customer())
        except (UploadRejected, ops.PortalError) as exc:
            form.photos.errors = [exc.message]
        else:
            commit()
            flash(_l("Thank you. Your photos were added."), "success")
            return redirect(url_for("portal.status", token=token) + "#photos")
    return _status_render(rma, token, 422, photos_form=form)


@bp.route("/r/<token>/photos/<int:attachment_id>")
def status_photo(token: str, attachment_id: int):
    rma = _rma_or_404(token)
    attachment = ops.rma_photo(rma, attachment_id)
    if attachment is None:
        abort(404)
    return _send_photo(attachment)


def _send_photo(attachment: Attachment):
    return send_photo(attachment.stored_name, attachment.content_type)


@bp.route("/r/<token>/cancel", methods=["GET", "POST"])
def status_cancel(token: str):
    rma = _rma_or_404(token)
    form = CancelForm()
    if rma.status not in ops.CUSTOMER_CANCELLABLE:
        flash(
            _l("This request can no longer be cancelled here. Please send us a message."), "error"
        )
        return redirect(url_for("portal.status", token=token))
    if form.validate_on_submit():
        ops.cancel_by_customer(rma, Actor.customer())
        commit()
        flash(_l("Your request is cancelled."), "success")
        return redirect(url_for("portal.status", token=token))
    return render_template("portal/cancel.html", rma=rma, token=token, form=form)


# -- the repair quote -------------------------------------------------------------------------


def _quote_or_404(rma: Rma, quote_id: int) -> RepairQuote:
    """A quote of this case's repair; any other quote is as unknown as a wrong link."""
    repair = rma.repair if rma.type == RmaType.REPAIR else None
    quote = db.session.get(RepairQuote, quote_id) if repair is not None else None
    if quote is None or quote.repair_id != repair.id:
        abort(404)
    return quote


def _answer(token: str, quote_id: int, approve: bool, form: FlaskForm):
    rma = _rma_or_404(token)
    quote = _quote_or_404(rma, quote_id)
    # The confirmation only matters while the quote waits: otherwise the operation says why
    # nothing can change (or that it already has this answer).
    waiting = rma.status == RmaStatus.QUOTED and quote is rma.repair.open_quote
    if not form.validate_on_submit() and waiting:
        return _status_render(rma, token, 422, decline_form=form)
    try:
        changed = answer_quote(rma, quote.id, approve, Actor.customer())
    except DomainError as exc:
        db.session.rollback()
        # The quote was replaced or the case moved on since the page was loaded.
        return _status_render(rma, token, 409, quote_error=exc.message)
    commit()
    if not changed:
        flash(_l("Your answer was already recorded. Nothing was changed."), "info")
    elif approve:
        flash(_l("Thank you. We will start the repair and email you when it is ready."), "success")
    else:
        flash(_l("Thank you for your answer. We will return the item unrepaired."), "success")
    return redirect(url_for("portal.status", token=token))


@bp.route("/r/<token>/quote/<int:quote_id>/approve", methods=["POST"])
def quote_approve(token: str, quote_id: int):
    return _answer(token, quote_id, True, QuoteApproveForm())


@bp.route("/r/<token>/quote/<int:quote_id>/decline", methods=["GET", "POST"])
def quote_decline(token: str, quote_id: int):
    if request.method == "GET":
        # The confirmation (the fee, "returned unrepaired") is the status page's, opened.
        rma = _rma_or_404(token)
        _quote_or_404(rma, quote_id)
        return _status_render(rma, token, decline_open=True)
    return _answer(token, quote_id, False, QuoteDeclineForm())


@bp.route("/r/<token>/slip.pdf")
def status_slip(token: str):
    from reverse.core.pdf import render_pdf

    rma = _rma_or_404(token)
    status_url = current_app.config["PUBLIC_BASE_URL"] + url_for("portal.status", token=token)
    pdf = render_pdf(
        "pdf/return_slip.html",
        rma=rma,
        status_url=status_url,
        locale=locale_code(),
        labels={"type": TYPE_LABELS, "method": RETURN_METHOD_LABELS, "reason": REASON_LABELS},
    )
    response = current_app.response_class(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{rma.display_number}.pdf"'
    return response
