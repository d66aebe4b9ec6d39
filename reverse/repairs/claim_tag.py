"""The claim tag (お預かり票) of a repair taken in at a counter, as an A4 PDF: the customer's
copy, the store's copy with the customer's signature, and a strip to tie to the item — each
with the RMA number as a QR code and Code 128, the code the store and repair desks scan.

Printed in Japanese only, like carrier labels: it is handed over at a Japanese counter and
read by the store and the repair centre.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app, url_for
from flask_babel import force_locale

from reverse.core.dates import TOKYO, today_in_japan
from reverse.core.normalise import phone_display
from reverse.core.pdf import render_pdf
from reverse.repairs.constants import Handback
from reverse.repairs.models import RepairOrder
from reverse.repairs.operations import repair_of
from reverse.rmas.constants import PURCHASE_PLACE_LABELS, REASON_LABELS, ProofStatus
from reverse.rmas.models import EventKind, Rma

CLAIM_TAG_TEMPLATE = "pdf/claim_tag.html"
CLAIM_TAG_CSS = "css/claim_tag.css"
WEEKDAYS = "月火水木金土日"
#: days after the "ready" notice within which the customer collects the item (printed)
COLLECT_WITHIN_DAYS = 90
#: what fits in the boxes of the tag (a line is about 50 characters; the symptom may take
#: two): the case page has the full text
ITEM_CHARS = 48
SYMPTOM_CHARS = 88
CONDITION_CHARS = 48
ACCESSORIES_CHARS = 20
NAME_CHARS = 24
STRIP_NAME_CHARS = 14
SHOP_CHARS = 16


@dataclass(frozen=True)
class ClaimTag:
    """What the claim tag prints, as text."""

    number: str  #: canonical "R1234567890": in the QR code and the Code 128
    display_number: str  #: "R12345-67890", printed large
    store_name: str
    store_address: tuple[str, ...]
    store_phone: str
    customer_name: str
    strip_name: str  #: the name as the item's strip has room for it
    customer_phone: str
    customer_email: str
    received_on: str  #: 受付日, e.g. 2026年11月23日（月）
    received_at: str  #: with the time, for the store's copy
    promised_on: str  #: お渡し予定日
    promised_short: str  #: 11/23（月）, for the item strip
    item: str
    codes: str  #: SKU · JAN of a catalogue item, else ""
    reason: str
    symptom: str
    condition: str
    accessories: str
    warranty: bool
    estimate: str  #: the range in yen, or what replaces it
    handback: str  #: 店頭受取（店名） / 配送
    ship_address: tuple[str, ...]
    purchase: str  #: where and when it was bought, as declared or known
    proof: str  #: receipt seen or not, for the store's copy
    staff: str  #: who took the item in
    emailed: bool
    find_url: str
    collect_days: int = COLLECT_WITHIN_DAYS


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def japanese_date(day: date | None, *, short: bool = False) -> str:
    """2026年11月23日（月）, or 11/23（月） when short; "" for no date."""
    if day is None:
        return ""
    weekday = WEEKDAYS[day.weekday()]
    if short:
        return f"{day.month}/{day.day}（{weekday}）"
    return f"{day.year}年{day.month}月{day.day}日（{weekday}）"


def _yen(amount: int) -> str:
    return f"¥{amount:,}"


def estimate_text(repair: RepairOrder) -> str:
    if repair.warranty:
        return "保証修理（無料）"
    low, high = repair.estimate_min_yen, repair.estimate_max_yen
    if low is not None and high is not None:
        if low == high:
            return f"{_yen(low)}（税込）"
        return f"{_yen(low)} 〜 {_yen(high)}（税込）"
    if low is not None:
        return f"{_yen(low)} 〜（税込）"
    if high is not None:
        return f"〜 {_yen(high)}（税込）"
    return "点検後にお見積りをご連絡します"


def _purchase_text(rma: Rma) -> str:
    if rma.order is not None:
        return f"ご注文 {rma.order.number}（{japanese_date(today_in_japan(rma.order.ordered_at))}）"
    place = PURCHASE_PLACE_LABELS.get(rma.purchase_place) if rma.purchase_place else None
    with_place = _clip(rma.declared_retailer, SHOP_CHARS) or (str(place) if place else "")
    when = japanese_date(rma.declared_purchase_date)
    parts = [p for p in (with_place, f"{when}購入" if when else "") if p]
    if rma.declared_price_yen is not None:
        parts.append(_yen(rma.declared_price_yen))
    return "・".join(parts) or "不明"


PROOF_TEXT = {
    ProofStatus.ACCEPTED: "レシート・保証書 確認済",
    ProofStatus.PENDING: "レシート・保証書 未確認",
    ProofStatus.REJECTED: "レシート・保証書 不可",
    ProofStatus.NOT_NEEDED: "確認不要",
}


def _local(moment: datetime) -> datetime:
    return moment.astimezone(TOKYO)


def claim_tag_for(rma: Rma, repair: RepairOrder) -> ClaimTag:
    store = repair.intake_location or rma.location
    line = rma.lines[0] if rma.lines else None
    created = next((e for e in rma.events if e.kind == EventKind.CREATED), None)
    name = rma.customer.name or rma.ship_name
    received = _local(repair.received_at or rma.created_at)
    if repair.handback == Handback.STORE_PICKUP and repair.pickup_location is not None:
        handback = f"店頭受取（{repair.pickup_location.name_ja}）"
    else:
        handback = "ご自宅へ配送"
    variant = line.variant if line else None
    reason = str(REASON_LABELS.get(line.reason, line.reason)) if line and line.reason else ""
    return ClaimTag(
        number=rma.number,
        display_number=rma.display_number,
        store_name=store.name_ja if store else "",
        store_address=tuple(store.address_lines) if store else (),
        store_phone=store.phone if store else "",
        customer_name=_clip(name, NAME_CHARS),
        strip_name=_clip(name, STRIP_NAME_CHARS),
        customer_phone=phone_display(rma.customer.phone),
        customer_email=rma.customer.email or "",
        received_on=japanese_date(received.date()),
        received_at=f"{japanese_date(received.date())} {received:%H:%M}",
        promised_on=japanese_date(repair.promised_on) or "追ってご連絡します",
        promised_short=japanese_date(repair.promised_on, short=True) or "—",
        item=_clip(line.label("ja"), ITEM_CHARS) if line else "",
        codes=f"{variant.sku}・JAN {variant.jan}" if variant else "",
        reason=reason,
        symptom=_clip(line.symptom, SYMPTOM_CHARS) if line else "",
        condition=_clip(repair.condition_notes, CONDITION_CHARS),
        accessories=_clip(repair.accessories, ACCESSORIES_CHARS),
        warranty=repair.warranty,
        estimate=estimate_text(repair),
        handback=handback,
        ship_address=tuple(rma.ship_address_lines) if repair.handback == Handback.SHIP else (),
        purchase=_purchase_text(rma),
        proof=PROOF_TEXT[rma.proof_status],
        staff=created.actor_label if created else "",
        emailed=bool(rma.customer.email),
        find_url=current_app.config["PUBLIC_BASE_URL"] + url_for("portal.find"),
    )


def render_claim_tag(rma: Rma, repair: RepairOrder | None = None) -> bytes:
    """The claim tag of a repair case, one A4 page. Needs an app context (and a request
    context or SERVER_NAME for the /find address)."""
    # the labels taken from the enums are lazy: read them in Japanese, whatever the language
    # of the page the tag is printed from
    with force_locale("ja"):
        tag = claim_tag_for(rma, repair or repair_of(rma))
    return render_pdf(CLAIM_TAG_TEMPLATE, stylesheets=[CLAIM_TAG_CSS], locale="ja", tag=tag)
