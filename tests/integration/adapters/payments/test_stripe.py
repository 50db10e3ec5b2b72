"""The Stripe adapter against a loopback server that answers like Stripe's API.

The answers are shaped like Stripe's documented PaymentIntent, Refund and error objects;
webhooks are signed here the way Stripe documents it (``t=<unix time>,v1=<hex HMAC-SHA256
of "<t>.<body>">``), without the adapter's or the SDK's help. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from saldo.adapters.payments.stripe import StripeProvider
from saldo.domain import money
from saldo.domain.money import Money
from saldo.services.ports.payments import (
    InvalidWebhook,
    PaymentRefused,
    PaymentStatus,
    PaymentTimedOut,
)
from tests.processor_api import FakeApi, fake_api

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
API_KEY = "sk_test_saldo"
WEBHOOK_SECRET = "whsec_test_saldo"


# -- a loopback Stripe ------------------------------------------------------------------------


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    with fake_api(monkeypatch, headers={"Request-Id": "req_test"}) as fake:
        yield fake


def provider(api: FakeApi, *, timeout_seconds: float = 5.0) -> StripeProvider:
    return StripeProvider(
        api_key=API_KEY,
        webhook_secret=WEBHOOK_SECRET,
        api_base=api.url,
        timeout_seconds=timeout_seconds,
    )


@pytest.fixture
def stripe(api: FakeApi) -> StripeProvider:
    return provider(api)


def intent(status: str, **fields: Any) -> dict[str, Any]:
    """A PaymentIntent as Stripe returns it, with ``latest_charge`` expanded."""
    return {
        "id": "pi_3QdSaldo000001",
        "object": "payment_intent",
        "amount": 150000,
        "amount_received": 150000 if status == "succeeded" else 0,
        "currency": "ars",
        "status": status,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "confirmation_method": "automatic",
        "created": 1795100000,
        "description": "Plan 5 GB for 1122334455",
        "last_payment_error": None,
        "latest_charge": {
            "id": "ch_3QdSaldo000001",
            "object": "charge",
            "amount": 150000,
            "currency": "ars",
            "paid": status == "succeeded",
            "payment_method_details": {
                "type": "card",
                "card": {"brand": "visa", "exp_month": 12, "exp_year": 2030, "last4": "4242"},
            },
            "status": "succeeded" if status == "succeeded" else "failed",
        },
        "livemode": False,
        "metadata": {"order_reference": "ord_1"},
        "payment_method": "pm_card_visa",
        "payment_method_types": ["card"],
        **fields,
    }


def declined_card_error() -> dict[str, Any]:
    """Stripe's 402 answer to a declined confirmation: the intent is inside the error."""
    last_error = {
        "type": "card_error",
        "code": "card_declined",
        "decline_code": "insufficient_funds",
        "message": "Your card has insufficient funds.",
    }
    return {
        "error": {
            **last_error,
            "charge": "ch_3QdSaldo000001",
            "payment_intent": intent(
                "requires_payment_method", last_payment_error=last_error, latest_charge="ch_3Qd"
            ),
            "request_log_url": "https://dashboard.stripe.com/test/logs/req_test",
        }
    }


ARS_1500 = Money(150000, "ARS")


def pay(stripe: StripeProvider, amount: Money = ARS_1500) -> Any:
    return stripe.create_payment(
        amount=amount,
        source="pm_card_visa",
        description="Plan 5 GB for 1122334455",
        order_reference="ord_1",
        idempotency_key="order-ord_1",
    )


# -- payments ---------------------------------------------------------------------------------


def test_a_succeeded_intent_is_a_succeeded_payment_with_the_last_four_digits(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(200, intent("succeeded"))

    result = pay(stripe)

    assert (result.reference, result.status, result.amount) == (
        "pi_3QdSaldo000001",
        PaymentStatus.SUCCEEDED,
        ARS_1500,
    )
    assert (result.decline_code, result.card_last4) == (None, "4242")


def test_the_payment_request_confirms_the_amount_in_minor_units_with_the_idempotency_key(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(200, intent("succeeded"))

    pay(stripe)

    [sent] = api.requests
    assert (sent.method, sent.path) == ("POST", "/v1/payment_intents")
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.headers["idempotency-key"] == "order-ord_1"
    assert sent.form() == {
        "amount": "150000",
        "currency": "ars",
        "payment_method": "pm_card_visa",
        "confirm": "true",
        "automatic_payment_methods[enabled]": "true",
        "automatic_payment_methods[allow_redirects]": "never",
        "description": "Plan 5 GB for 1122334455",
        "metadata[order_reference]": "ord_1",
        "expand[0]": "latest_charge",
    }


def test_a_zero_decimal_currency_is_sent_in_whole_units(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(200, intent("succeeded", amount=5000, currency="clp"))

    result = pay(stripe, Money(5000, "CLP"))

    assert api.requests[0].form()["amount"] == "5000"
    assert result.amount == Money(5000, "CLP")


def test_a_declined_card_is_a_failed_payment_with_the_decline_code(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(402, declined_card_error())

    result = pay(stripe)

    assert (result.reference, result.status) == ("pi_3QdSaldo000001", PaymentStatus.FAILED)
    assert (result.decline_code, result.card_last4) == ("insufficient_funds", None)


def test_a_decline_that_names_no_payment_intent_is_refused(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(402, {"error": {"type": "card_error", "code": "card_declined"}})

    with pytest.raises(PaymentRefused, match="card_declined"):
        pay(stripe)


@pytest.mark.parametrize(
    ("stripe_status", "status"),
    [
        ("succeeded", PaymentStatus.SUCCEEDED),
        ("processing", PaymentStatus.PENDING),
        ("requires_action", PaymentStatus.PENDING),
        ("requires_confirmation", PaymentStatus.PENDING),
        ("requires_capture", PaymentStatus.PENDING),
        ("requires_payment_method", PaymentStatus.FAILED),
        ("canceled", PaymentStatus.FAILED),
    ],
)
def test_every_intent_status_maps_onto_pending_succeeded_or_failed(
    api: FakeApi, stripe: StripeProvider, stripe_status: str, status: PaymentStatus
) -> None:
    api.answer(200, intent(stripe_status))

    result = stripe.fetch_payment("pi_3QdSaldo000001")

    assert result.status is status
    assert api.requests[0].method == "GET"
    assert api.requests[0].path.startswith("/v1/payment_intents/pi_3QdSaldo000001?")
    assert api.requests[0].form() == {"expand[0]": "latest_charge"}


def test_a_failed_intent_without_a_decline_code_reads_the_error_code(
    api: FakeApi, stripe: StripeProvider
) -> None:
    error = {"type": "card_error", "code": "expired_card", "decline_code": None}
    api.answer(200, intent("requires_payment_method", last_payment_error=error))

    assert stripe.fetch_payment("pi_3QdSaldo000001").decline_code == "expired_card"


def test_a_payment_stripe_does_not_know_is_refused(api: FakeApi, stripe: StripeProvider) -> None:
    api.answer(
        404,
        {
            "error": {
                "type": "invalid_request_error",
                "code": "resource_missing",
                "param": "intent",
                "message": "No such payment_intent: 'pi_nope'",
            }
        },
    )

    with pytest.raises(PaymentRefused, match="resource_missing"):
        stripe.fetch_payment("pi_nope")


def test_a_wrong_api_key_is_refused_without_quoting_it(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(
        401,
        {
            "error": {
                "type": "invalid_request_error",
                "message": "Invalid API Key provided: sk_test_****aldo",
            }
        },
    )

    with pytest.raises(PaymentRefused, match="HTTP 401") as refused:
        pay(stripe)

    assert "sk_test" not in str(refused.value)


def test_a_server_error_leaves_the_outcome_unknown(api: FakeApi, stripe: StripeProvider) -> None:
    api.answer(500, {"error": {"type": "api_error", "message": "Something went wrong"}})

    with pytest.raises(PaymentTimedOut, match="HTTP 500"):
        pay(stripe)


def test_a_server_that_does_not_answer_in_time_is_a_timeout(api: FakeApi) -> None:
    impatient = provider(api, timeout_seconds=0.2)
    api.stall = True

    with pytest.raises(PaymentTimedOut, match="APIConnectionError, ReadTimeout"):
        pay(impatient)


@pytest.mark.parametrize(("currency", "iso_exponent"), [("ISK", 0), ("MGA", 2)])
def test_a_currency_stripe_counts_in_other_minor_units_is_refused_before_any_request(
    api: FakeApi,
    stripe: StripeProvider,
    monkeypatch: pytest.MonkeyPatch,
    currency: str,
    iso_exponent: int,
) -> None:
    # Saldo keeps neither currency today; the adapter must refuse them once it does.
    monkeypatch.setitem(money.MINOR_UNIT_EXPONENTS, currency, iso_exponent)

    with pytest.raises(PaymentRefused, match=currency):
        pay(stripe, Money(1000, currency))

    assert api.requests == []


# -- finding a payment whose answer was lost ---------------------------------------------------


def search_result(*intents: dict[str, Any], next_page: str | None = None) -> dict[str, Any]:
    """A page of Stripe's PaymentIntent search, as Stripe returns it."""
    return {
        "object": "search_result",
        "url": "/v1/payment_intents/search",
        "has_more": next_page is not None,
        "next_page": next_page,
        "data": list(intents),
    }


def find(stripe: StripeProvider, order_reference: str = "ord_1") -> Any:
    return stripe.find_payment(idempotency_key="order-ord_1", order_reference=order_reference)


def test_a_payment_is_found_by_the_order_reference_in_its_metadata(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(200, search_result(intent("succeeded")))

    result = find(stripe)

    assert result is not None
    assert (result.reference, result.status, result.amount, result.card_last4) == (
        "pi_3QdSaldo000001",
        PaymentStatus.SUCCEEDED,
        ARS_1500,
        "4242",
    )


def test_the_search_asks_for_the_order_reference_with_the_charges_expanded(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(200, search_result())

    find(stripe)

    [sent] = api.requests
    assert sent.method == "GET"
    assert sent.path.startswith("/v1/payment_intents/search?")
    assert sent.headers["authorization"] == f"Bearer {API_KEY}"
    assert sent.form() == {
        "query": "metadata['order_reference']:'ord_1'",
        "limit": "100",
        "expand[0]": "data.latest_charge",
    }


def test_quotes_and_backslashes_in_the_order_reference_are_escaped_in_the_query(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(200, search_result())

    find(stripe, "ord_1' OR status:'succeeded\\")

    assert api.requests[0].form()["query"] == (
        "metadata['order_reference']:'ord_1\\' OR status:\\'succeeded\\\\'"
    )


def test_no_intent_for_the_order_reference_is_none(api: FakeApi, stripe: StripeProvider) -> None:
    api.answer(200, search_result())

    assert find(stripe) is None


def test_an_intent_whose_metadata_is_not_exactly_the_reference_is_not_the_payment(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(200, search_result(intent("succeeded", metadata={"order_reference": "ord_10"})))

    assert find(stripe) is None


def test_of_several_intents_for_the_order_the_first_created_is_the_payment(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(
        200,
        search_result(
            intent("succeeded", id="pi_later", created=1795100060),
            intent("canceled", id="pi_other_order", created=1795099000, metadata={}),
            intent("requires_payment_method", id="pi_first", created=1795100000),
        ),
    )

    result = find(stripe)

    assert result is not None
    assert (result.reference, result.status) == ("pi_first", PaymentStatus.FAILED)


def test_every_page_of_the_search_is_read(api: FakeApi, stripe: StripeProvider) -> None:
    api.answer(
        200, search_result(intent("succeeded", id="pi_later", created=1795100060), next_page="p2")
    )
    api.answer(200, search_result(intent("succeeded", id="pi_first", created=1795100000)))

    result = find(stripe)

    assert result is not None and result.reference == "pi_first"
    assert api.requests[1].form() == {
        "query": "metadata['order_reference']:'ord_1'",
        "limit": "100",
        "expand[0]": "data.latest_charge",
        "page": "p2",
    }


def test_a_search_that_gets_no_answer_in_time_is_a_timeout(api: FakeApi) -> None:
    impatient = provider(api, timeout_seconds=0.2)
    api.stall = True

    with pytest.raises(PaymentTimedOut, match="APIConnectionError, ReadTimeout"):
        find(impatient)


def test_a_rate_limited_search_leaves_the_outcome_unknown(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(429, {"error": {"type": "invalid_request_error", "code": "rate_limit"}})

    with pytest.raises(PaymentTimedOut, match="HTTP 429"):
        find(stripe)


def test_a_search_stripe_refuses_is_refused(api: FakeApi, stripe: StripeProvider) -> None:
    api.answer(
        403,
        {"error": {"type": "invalid_request_error", "message": "This key cannot read intents"}},
    )

    with pytest.raises(PaymentRefused, match="HTTP 403"):
        find(stripe)


# -- refunds ----------------------------------------------------------------------------------


def refund_object(status: str) -> dict[str, Any]:
    return {
        "id": "re_3QdSaldo000001",
        "object": "refund",
        "amount": 50000,
        "currency": "ars",
        "payment_intent": "pi_3QdSaldo000001",
        "charge": "ch_3QdSaldo000001",
        "status": status,
        "failure_reason": "expired_or_canceled_card" if status == "failed" else None,
        "created": 1795100100,
    }


def test_a_refund_sends_the_intent_and_the_amount_with_the_idempotency_key(
    api: FakeApi, stripe: StripeProvider
) -> None:
    api.answer(200, refund_object("succeeded"))

    stripe.refund("pi_3QdSaldo000001", amount=Money(50000, "ARS"), idempotency_key="refund-1")

    [sent] = api.requests
    assert (sent.method, sent.path) == ("POST", "/v1/refunds")
    assert sent.headers["idempotency-key"] == "refund-1"
    assert sent.form() == {"payment_intent": "pi_3QdSaldo000001", "amount": "50000"}


def test_a_refund_stripe_reports_failed_is_refused(api: FakeApi, stripe: StripeProvider) -> None:
    api.answer(200, refund_object("failed"))

    with pytest.raises(PaymentRefused, match="expired_or_canceled_card"):
        stripe.refund("pi_3QdSaldo000001", amount=Money(50000, "ARS"), idempotency_key="r-2")


# -- webhooks ---------------------------------------------------------------------------------


def event_body(event_type: str, status: str, **fields: Any) -> bytes:
    event = {
        "id": "evt_3QdSaldo000001",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(NOW.timestamp()) - 5,
        "data": {"object": intent(status, latest_charge="ch_3QdSaldo000001")},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": "req_test", "idempotency_key": "order-ord_1"},
        "type": event_type,
        **fields,
    }
    return json.dumps(event).encode()


def signed(body: bytes, *, at: datetime = NOW, secret: str = WEBHOOK_SECRET) -> dict[str, str]:
    timestamp = int(at.timestamp())
    signature = hmac.new(
        secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return {"stripe-signature": f"t={timestamp},v1={signature}"}


def test_a_signed_succeeded_event_is_read_with_its_intent_and_time(
    stripe: StripeProvider,
) -> None:
    body = event_body("payment_intent.succeeded", "succeeded")

    event = stripe.parse_webhook(body=body, headers=signed(body), now=NOW)

    assert (event.event_id, event.reference, event.status) == (
        "evt_3QdSaldo000001",
        "pi_3QdSaldo000001",
        PaymentStatus.SUCCEEDED,
    )
    assert event.occurred_at == NOW - timedelta(seconds=5)
    assert event.amount == Money(150000, "ARS")  # compared with Saldo's payment before use


@pytest.mark.parametrize(
    ("event_type", "intent_status", "status"),
    [
        ("payment_intent.succeeded", "succeeded", PaymentStatus.SUCCEEDED),
        ("payment_intent.payment_failed", "requires_payment_method", PaymentStatus.FAILED),
        ("payment_intent.canceled", "canceled", PaymentStatus.FAILED),
        ("payment_intent.processing", "processing", PaymentStatus.PENDING),
        ("payment_intent.requires_action", "requires_action", PaymentStatus.PENDING),
        ("payment_intent.created", "requires_confirmation", PaymentStatus.PENDING),
        ("payment_intent.amount_capturable_updated", "requires_capture", PaymentStatus.PENDING),
        ("payment_intent.partially_funded", "a_status_stripe_added_later", None),
    ],
)
def test_an_event_reads_the_status_of_the_intent_it_carries(
    stripe: StripeProvider, event_type: str, intent_status: str, status: PaymentStatus | None
) -> None:
    body = event_body(event_type, intent_status)

    assert stripe.parse_webhook(body=body, headers=signed(body), now=NOW).status is status


def test_a_replayed_event_reads_the_same_event_id(stripe: StripeProvider) -> None:
    body = event_body("payment_intent.succeeded", "succeeded")
    first = stripe.parse_webhook(body=body, headers=signed(body), now=NOW)

    again = stripe.parse_webhook(body=body, headers=signed(body), now=NOW + timedelta(minutes=1))

    assert again.event_id == first.event_id


def test_a_signature_with_another_secret_is_refused(stripe: StripeProvider) -> None:
    body = event_body("payment_intent.succeeded", "succeeded")

    with pytest.raises(InvalidWebhook, match="does not verify"):
        stripe.parse_webhook(body=body, headers=signed(body, secret="whsec_other"), now=NOW)


def test_a_missing_signature_header_is_refused(stripe: StripeProvider) -> None:
    body = event_body("payment_intent.succeeded", "succeeded")

    with pytest.raises(InvalidWebhook, match="missing"):
        stripe.parse_webhook(body=body, headers={}, now=NOW)


def test_a_tampered_body_is_refused(stripe: StripeProvider) -> None:
    body = event_body("payment_intent.payment_failed", "requires_payment_method")
    headers = signed(body)
    tampered = body.replace(b'"requires_payment_method"', b'"succeeded"')

    with pytest.raises(InvalidWebhook, match="does not verify"):
        stripe.parse_webhook(body=tampered, headers=headers, now=NOW)


def test_a_signature_older_than_the_tolerance_at_now_is_refused(stripe: StripeProvider) -> None:
    body = event_body("payment_intent.succeeded", "succeeded")
    headers = signed(body, at=NOW - timedelta(seconds=301))

    with pytest.raises(InvalidWebhook, match="older than 300 s"):
        stripe.parse_webhook(body=body, headers=headers, now=NOW)


def test_the_age_is_measured_at_the_given_now_not_the_wall_clock(
    stripe: StripeProvider,
) -> None:
    long_ago = datetime(2020, 1, 1, 12, 0, tzinfo=UTC)
    body = event_body("payment_intent.succeeded", "succeeded")
    headers = signed(body, at=long_ago - timedelta(seconds=300))

    event = stripe.parse_webhook(body=body, headers=headers, now=long_ago)

    assert event.status is PaymentStatus.SUCCEEDED


def test_an_event_about_something_else_than_a_payment_intent_is_refused(
    stripe: StripeProvider,
) -> None:
    body = event_body(
        "customer.created",
        "succeeded",
        data={"object": {"id": "cus_1", "object": "customer"}},
    )

    with pytest.raises(InvalidWebhook, match="not about a payment intent"):
        stripe.parse_webhook(body=body, headers=signed(body), now=NOW)


def test_a_signed_event_with_a_creation_time_no_date_can_hold_is_refused(
    stripe: StripeProvider,
) -> None:
    body = event_body("payment_intent.succeeded", "succeeded", created=10**30)

    with pytest.raises(InvalidWebhook, match="no readable creation time"):
        stripe.parse_webhook(body=body, headers=signed(body), now=NOW)
