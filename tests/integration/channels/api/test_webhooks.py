"""``POST /webhooks/payments/{provider}`` with the sandbox processor, on SQLite and PostgreSQL:
signatures checked, each event applied once, events in any order, and a webhook racing the
reconciliation job for the same payment fulfilling the order once."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from saldo.adapters.clock import FixedClock
from saldo.adapters.db import tables as t
from saldo.adapters.payments import sandbox as cards
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.lines import Channel
from saldo.domain.orders import OrderState
from saldo.services.audit import audit_ledger
from saldo.services.lines import NewLine, add_line
from saldo.services.order_payment import pay_order
from saldo.services.orders import PlacedBy, create_order, order_details
from saldo.services.reconciliation import handle_webhook, reconcile_payments

LINE = "+5491155551234"  # movistar-ar


@pytest.fixture
def pending(saldo: Saldo, clock: FixedClock) -> tuple[Saldo, int, str]:
    """An order paid with the "settles later" card, now settled at the processor."""
    add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=clock.now())
    placed = create_order(
        saldo.uow(), msisdn=LINE, plan_code="pack-mensual-1m", pay_in="ARS", method="card",
        email=None, channel=Channel.WEB, placed_by=PlacedBy.SUBSCRIBER, idempotency_key="o-1",
        max_rate_age=timedelta(hours=1), now=clock.now(),
    )  # fmt: skip
    pay_order(
        saldo.uow(), saldo.payment_providers(), order_id=placed.id, provider="sandbox",
        source=cards.SETTLE_LATER, idempotency_key="p-1", now=clock.now(),
    )  # fmt: skip
    reference = order_details(saldo.uow(), order_id=placed.id).payments[0].reference
    assert reference is not None
    clock.advance(timedelta(minutes=3))
    return saldo, placed.id, reference


def sandbox(saldo: Saldo) -> cards.SandboxProvider:
    provider = saldo.payment_providers()["sandbox"]
    assert isinstance(provider, cards.SandboxProvider)
    return provider


def post(saldo: Saldo, body: bytes, headers: dict[str, str], provider: str = "sandbox"):  # type: ignore[no-untyped-def]
    client = TestClient(create_app(saldo))
    return client.post(f"/webhooks/payments/{provider}", content=body, headers=headers)


def state(saldo: Saldo, order_id: int) -> OrderState:
    return order_details(saldo.uow(), order_id=order_id).order.state


def test_a_signed_webhook_settles_and_fulfils_the_order(pending: tuple[Saldo, int, str]) -> None:
    saldo, order_id, reference = pending

    response = post(saldo, *sandbox(saldo).webhook_for(reference))

    assert (response.status_code, response.json()) == (200, {"status": "applied"})
    assert state(saldo, order_id) is OrderState.FULFILLED
    assert audit_ledger(saldo.uow()).clean


def test_a_replayed_event_is_applied_once(pending: tuple[Saldo, int, str]) -> None:
    saldo, order_id, reference = pending
    body, headers = sandbox(saldo).webhook_for(reference, event_id="evt_1")

    first = post(saldo, body, headers)
    second = post(saldo, body, headers)

    assert first.json() == {"status": "applied"}
    assert (second.status_code, second.json()) == (200, {"status": "duplicate"})
    with saldo.engine.connect() as connection:
        fulfilments = connection.execute(
            select(func.count()).where(
                t.ledger_transactions.c.event_type == "order",
                t.ledger_transactions.c.event_id == order_id,
            )
        ).scalar_one()
    assert fulfilments == 1


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda body, headers: (body, {}), id="no signature"),
        pytest.param(
            lambda body, headers: (body.replace(b"succeeded", b"failed"), headers),
            id="tampered body",
        ),
        pytest.param(
            lambda body, headers: (
                body,
                {
                    cards.SIGNATURE_HEADER: cards.sign(
                        body,
                        secret=b"not the secret",
                        timestamp=int(headers[cards.SIGNATURE_HEADER][2:12]),
                    )
                },
            ),
            id="wrong secret",
        ),
    ],
)
def test_a_webhook_that_does_not_verify_is_refused_and_changes_nothing(
    pending: tuple[Saldo, int, str], tamper
) -> None:  # type: ignore[no-untyped-def]
    saldo, order_id, reference = pending
    body, headers = tamper(*sandbox(saldo).webhook_for(reference))

    response = post(saldo, body, headers)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_webhook"
    assert state(saldo, order_id) is OrderState.AWAITING_PAYMENT


def test_a_webhook_signed_too_long_ago_is_refused(
    pending: tuple[Saldo, int, str], clock: FixedClock
) -> None:
    saldo, order_id, reference = pending
    body, headers = sandbox(saldo).webhook_for(reference)

    clock.advance(timedelta(minutes=6))
    response = post(saldo, body, headers)

    assert response.status_code == 400
    assert state(saldo, order_id) is OrderState.AWAITING_PAYMENT


def test_an_older_event_arriving_after_a_newer_one_changes_nothing(
    pending: tuple[Saldo, int, str],
) -> None:
    saldo, order_id, reference = pending
    provider = sandbox(saldo)
    settled_body, settled_headers = provider.webhook_for(reference, event_id="evt_2")
    event = json.loads(settled_body)
    event.update(id="evt_1", created=event["created"] - 170)
    event["data"]["status"] = "pending"
    older = json.dumps(event).encode()
    older_headers = {
        cards.SIGNATURE_HEADER: cards.sign(
            older, secret=saldo.sandbox_webhook_secret, timestamp=event["created"] + 170
        )
    }

    assert post(saldo, settled_body, settled_headers).json() == {"status": "applied"}
    assert post(saldo, older, older_headers).json() == {"status": "applied"}

    assert state(saldo, order_id) is OrderState.FULFILLED
    assert order_details(saldo.uow(), order_id=order_id).payments[0].status == "succeeded"


def test_an_event_about_an_unknown_payment_is_asked_again_later(
    pending: tuple[Saldo, int, str],
) -> None:
    saldo, _, _ = pending
    body = json.dumps(
        {
            "id": "evt_x",
            "created": 1795000000,
            "data": {"reference": "sbx_x", "status": "succeeded"},
        }
    ).encode()
    headers = {
        cards.SIGNATURE_HEADER: cards.sign(
            body, secret=saldo.sandbox_webhook_secret, timestamp=int(saldo.clock.now().timestamp())
        )
    }

    response = post(saldo, body, headers)

    assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_payment")


def test_an_unknown_provider_is_not_found(pending: tuple[Saldo, int, str]) -> None:
    saldo, _, _ = pending

    response = post(saldo, b"{}", {}, provider="paypal")

    assert (response.status_code, response.json()["error"]["code"]) == (
        404,
        "unknown_payment_provider",
    )


@pytest.mark.parametrize("round_", range(5))
def test_a_webhook_and_a_poll_racing_for_one_payment_fulfil_the_order_once(
    pending: tuple[Saldo, int, str], clock: FixedClock, round_: int
) -> None:
    saldo, order_id, reference = pending
    providers = saldo.payment_providers()
    body, headers = sandbox(saldo).webhook_for(reference)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def webhook() -> None:
        start.wait()
        try:
            handle_webhook(
                saldo.uow(), providers, provider="sandbox", body=body, headers=headers,
                now=clock.now(),
            )  # fmt: skip
        except BaseException as error:  # reported below
            errors.append(error)

    def poll() -> None:
        start.wait()
        try:
            reconcile_payments(saldo.uow(), providers, now=clock.now())
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=webhook), threading.Thread(target=poll)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert state(saldo, order_id) is OrderState.FULFILLED
    with saldo.engine.connect() as connection:
        fulfilments = connection.execute(
            select(func.count()).where(
                t.ledger_transactions.c.event_type == "order",
                t.ledger_transactions.c.event_id == order_id,
            )
        ).scalar_one()
    assert fulfilments == 1
    assert audit_ledger(saldo.uow()).clean


def test_a_webhook_reporting_another_amount_is_never_applied(
    pending: tuple[Saldo, int, str], clock: FixedClock
) -> None:
    saldo, order_id, reference = pending
    body, _ = sandbox(saldo).webhook_for(reference, event_id="evt_other_amount")
    event = json.loads(body)
    event["data"]["amount"] -= 100  # a processor that took a peso less than was quoted
    tampered = json.dumps(event).encode()
    headers = {
        cards.SIGNATURE_HEADER: cards.sign(
            tampered,
            secret=saldo.sandbox_webhook_secret,
            timestamp=int(clock.now().timestamp()),
        )
    }

    response = post(saldo, tampered, headers)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "payment_mismatch"
    assert state(saldo, order_id) is not OrderState.FULFILLED
    assert audit_ledger(saldo.uow()).clean
