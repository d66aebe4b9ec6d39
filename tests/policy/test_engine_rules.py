"""The return policy: channel defaults refined by rules, verdicts and money, by hand."""

from __future__ import annotations

from datetime import date

import pytest

from reverse.catalog.constants import Category, ChannelCode, WindowStart
from reverse.catalog.models import Channel
from reverse.extensions import db
from reverse.policy.engine import combine, judge_line, terms_for
from reverse.policy.models import PolicyRule
from reverse.rmas.constants import RmaType


@pytest.fixture
def web(ctx, create_channel) -> Channel:
    return db.session.merge(
        create_channel(
            ChannelCode.WEB,
            return_window_days=30,
            window_starts=WindowStart.DELIVERY,
            allowed_types=["return", "exchange", "repair"],
        )
    )


def rule(**fields) -> PolicyRule:
    r = PolicyRule(**fields)
    db.session.add(r)
    db.session.flush()
    return r


def test_the_channel_defaults_apply_without_rules(web):
    terms = terms_for(web, Category.TOPS, "changed_mind")
    assert terms.window_days == 30
    assert terms.allowed_types == ("return", "exchange", "repair")
    assert terms.return_shipping_fee_yen == 0


def test_more_specific_rules_override_only_what_they_set(web):
    rule(channel_code=ChannelCode.WEB, return_shipping_fee_yen=990, auto_approve=True)
    rule(category=Category.SHOES, window_days=14)
    rule(
        channel_code=ChannelCode.WEB,
        category=Category.SHOES,
        reason="defective",
        return_shipping_fee_yen=0,
    )
    rule(channel_code=ChannelCode.STORE, window_days=1)  # another channel: ignored
    rule(category=Category.SHOES, window_days=3, active=False)  # switched off: ignored

    tops = terms_for(web, Category.TOPS, "changed_mind")
    assert (tops.window_days, tops.return_shipping_fee_yen, tops.auto_approve) == (30, 990, True)
    shoes = terms_for(web, Category.SHOES, "changed_mind")
    assert (shoes.window_days, shoes.return_shipping_fee_yen) == (14, 990)
    defective_shoes = terms_for(web, Category.SHOES, "defective")
    assert (defective_shoes.window_days, defective_shoes.return_shipping_fee_yen) == (14, 0)


def test_the_window_counts_from_delivery_and_ends_on_its_last_day(web):
    terms = terms_for(web, Category.TOPS, "changed_mind")
    common = dict(
        rma_type=RmaType.RETURN,
        terms=terms,
        purchased_on=date(2026, 10, 28),
        delivered_on=date(2026, 11, 1),
    )
    last_day = judge_line(today=date(2026, 12, 1), **common)
    assert last_day.eligible
    assert last_day.window_ends == date(2026, 12, 1)
    too_late = judge_line(today=date(2026, 12, 2), **common)
    assert not too_late.eligible
    assert "2026-12-01" in str(too_late.problems[0])


def test_final_sale_not_returnable_and_quantity_left_are_refused(web):
    terms = terms_for(web, Category.TOPS, None)
    base = dict(
        rma_type=RmaType.RETURN,
        terms=terms,
        today=date(2026, 11, 2),
        purchased_on=date(2026, 11, 1),
    )
    assert not judge_line(final_sale=True, **base).eligible
    assert not judge_line(returnable=False, **base).eligible
    assert not judge_line(quantity=2, quantity_left=1, **base).eligible
    assert not judge_line(quantity=1, quantity_left=0, **base).eligible
    assert judge_line(quantity=1, quantity_left=1, **base).eligible


def test_a_type_the_channel_does_not_offer_is_refused(web):
    web.allowed_types = ["exchange"]
    terms = terms_for(web, None, None)
    verdict = judge_line(
        rma_type=RmaType.RETURN,
        terms=terms,
        today=date(2026, 11, 2),
        purchased_on=date(2026, 11, 1),
    )
    assert not verdict.eligible


def test_refund_estimate_is_paid_minus_restocking_and_shipping(web):
    rule(channel_code=ChannelCode.WEB, return_shipping_fee_yen=990, restocking_fee_percent=10)
    terms = terms_for(web, Category.TOPS, "changed_mind")
    base = dict(
        rma_type=RmaType.RETURN,
        terms=terms,
        today=date(2026, 11, 2),
        purchased_on=date(2026, 11, 1),
    )
    lines = [judge_line(paid_yen=8_900, **base), judge_line(paid_yen=4_455, **base)]
    outcome = combine(RmaType.RETURN, lines, [terms, terms], ["changed_mind", "size_too_small"])
    # restocking 10 %: 890 + 445 (floored); one shipping fee for the parcel: 990
    assert [line.restocking_fee_yen for line in lines] == [890, 445]
    assert outcome.return_shipping_fee_yen == 990
    assert outcome.refund_estimate_yen == 8_900 + 4_455 - 890 - 445 - 990


def test_no_shipping_fee_when_any_item_is_our_fault(web):
    rule(channel_code=ChannelCode.WEB, return_shipping_fee_yen=990)
    terms = terms_for(web, Category.TOPS, None)
    line = judge_line(
        rma_type=RmaType.RETURN,
        terms=terms,
        today=date(2026, 11, 2),
        purchased_on=date(2026, 11, 1),
        paid_yen=5_000,
    )
    outcome = combine(RmaType.RETURN, [line, line], [terms, terms], ["changed_mind", "defective"])
    assert outcome.return_shipping_fee_yen == 0
    assert outcome.refund_estimate_yen == 10_000


def test_a_declared_purchase_without_price_has_no_estimate(web):
    terms = terms_for(web, None, None)
    line = judge_line(
        rma_type=RmaType.RETURN,
        terms=terms,
        today=date(2026, 11, 2),
        purchased_on=date(2026, 11, 1),
        paid_yen=None,
    )
    assert combine(RmaType.RETURN, [line], [terms], [None]).refund_estimate_yen is None


def test_defect_repairs_within_warranty_are_free_and_wear_is_not(web):
    rule(channel_code=ChannelCode.WEB, warranty_days=365)
    terms = terms_for(web, Category.BAGS, None)
    base = dict(rma_type=RmaType.REPAIR, terms=terms, purchased_on=date(2025, 12, 1))
    assert judge_line(today=date(2026, 12, 1), reason="defective", **base).warranty
    assert not judge_line(today=date(2026, 12, 2), reason="defective", **base).warranty
    assert not judge_line(today=date(2026, 6, 1), reason="wear_and_tear", **base).warranty
    # repairs have no return window
    assert judge_line(today=date(2030, 1, 1), reason="wear_and_tear", **base).eligible
