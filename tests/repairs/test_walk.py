"""The fixture's walk is the lifecycle: every status of a repair reached by the operations."""

from __future__ import annotations

import pytest

from reverse.repairs.constants import Handback
from reverse.rmas.constants import RmaStatus
from reverse.rmas.models import replay_status
from tests.fixtures.repairs import WALK


@pytest.mark.parametrize("status", WALK)
def test_every_repair_status_is_reached_by_the_operations(make_repair, status):
    rma = make_repair(status)
    assert rma.status == status
    assert replay_status(rma.events) == status


def test_a_warranty_repair_skips_the_quote(make_repair):
    rma = make_repair(RmaStatus.IN_REPAIR, warranty=True)
    statuses = [e.to_status for e in rma.events if e.to_status]
    assert RmaStatus.QUOTED not in statuses
    assert rma.repair.warranty


def test_a_delivered_repair_is_ready_after_its_check(make_repair):
    rma = make_repair(RmaStatus.READY, handback=Handback.SHIP)
    assert rma.status == RmaStatus.READY
    assert RmaStatus.RETURNING not in [e.to_status for e in rma.events]
