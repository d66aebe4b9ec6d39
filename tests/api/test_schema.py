"""schemathesis against the app's own OpenAPI document, in-process: for generated requests to
every operation, no 5xx, every status documented and every response as the schema says.

A little demo-like data (channels, centres, a product with stock, an order, a case, a refund,
a pre-owned item) so paths with real numbers exist; some generated path parameters are
swapped for those. An API key holding every scope travels with every request. Bounded:
a few dozen examples per operation.

The operations are walked with hypothesis directly rather than through schemathesis'
pytest plugin, whose fixture-based loader does not run under pytest 9.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from reverse.core.db import utcnow
from reverse.extensions import db
from reverse.resolution.constants import RefundKind, RefundState
from reverse.resolution.models import Refund
from reverse.rmas.constants import RmaStatus, RmaType
from tests.fixtures.catalog import in_context

#: generated requests per operation (positive and negative data together)
EXAMPLES = 30
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


@pytest.fixture
def seeded(app, shop, shop_product, shop_order, create_rma, make_item, api_key) -> dict[str, Any]:
    sizes = shop_product()
    order = shop_order([(sizes["M"], 2), (sizes["L"], 1)])
    rma = create_rma(RmaType.RETURN, RmaStatus.AWAITING_ITEM)
    resolved = create_rma(RmaType.RETURN, RmaStatus.RESOLVED)
    with in_context(app):
        refund = Refund(
            rma_id=resolved.id,
            kind=RefundKind.REFUND,
            amount_yen=8900,
            state=RefundState.RELEASED,
            released_at=utcnow(),
        )
        db.session.add(refund)
        db.session.commit()
        refund_id = refund.id
    make_item(listed=True)
    return {
        "key": api_key(),
        "path": {
            "channel": "web",
            "number": order["number"],
            "rma": rma.number,
            "refund_id": refund_id,
        },
    }


def _use_real_ids(case: Any, seeded: dict[str, Any]) -> None:
    """Half the cases (by the generated value's parity) address the seeded records."""
    params = case.path_parameters or {}
    real = seeded["path"]
    for name, value in params.items():
        if len(str(value)) % 2:
            continue
        if name == "number":
            params[name] = real["rma"] if "/rmas/" in case.path else real["number"]
        elif name in real:
            params[name] = real[name]


def _check(operation: Any, seeded: dict[str, Any]) -> None:
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def run(case: Any) -> None:
        _use_real_ids(case, seeded)
        response = case.call(headers={"X-API-Key": seeded["key"]})
        case.validate_response(response, checks=CHECKS)

    run()


def test_the_api_keeps_to_its_openapi_document(app, seeded):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12
    failures = []
    for operation in operations:
        try:
            _check(operation, seeded)
        except Exception as exc:  # every operation's failure is reported at once
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
