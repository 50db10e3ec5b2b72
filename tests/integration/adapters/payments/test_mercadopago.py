"""The Mercado Pago adapter against a loopback server that answers like Mercado Pago's API.

The answers are shaped like the documented payment, refund and error objects; notifications
are signed here the way Mercado Pago documents it (``x-signature: ts=<unix seconds>,v1=<hex
HMAC-SHA256 of "id:<data.id>;request-id:<x-request-id>;ts:<ts>;">``), without the adapter's
or the SDK's help. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from saldo.adapters.payments.mercadopago import MercadoPagoProvider
from saldo.domain.money import Money
from saldo.services.ports.payments import (
    InvalidWebhook,
    PaymentRefused,
    PaymentResult,
    PaymentStatus,
    PaymentTimedOut,
)
from tests.processor_api import FakeApi, fake_api

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
ACCESS_TOKEN = "TEST-0000000000000000-112215-saldo"
WEBHOOK_SECRET = "mp-webhook-secret-for-tests"
CARD_TOKEN = "ff8080814c11e237014c1ff593b57b4d"


# -- a loopback Mercado Pago ------------------------------------------------------------------


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeApi]:
    with fake_api(monkeypatch) as fake:
        yield fake


def provider(api: FakeApi, *, timeout_seconds: float = 5.0) -> MercadoPagoProvider:
    return MercadoPagoProvider(
        access_token=ACCESS_TOKEN,
        webhook_secret=WEBHOOK_SECRET,
        api_base=api.url,
        timeout_seconds=timeout_seconds,
    )


@pytest.fixture
def mercadopago(api: FakeApi) -> MercadoPagoProvider:
    return provider(api)


def payment(status: str, status_detail: str, **fields: Any) -> dict[str, Any]:
    """A payment as Mercado Pago returns it (the fields Saldo reads, and some it does not)."""
    return {
        "id": 1316782340,
        "date_created": "2026-11-22T12:00:00.000-03:00",
        "date_approved": "2026-11-22T12:00:01.000-03:00" if status == "approved" else None,
        "operation_type": "regular_payment",
        "payment_method_id": "visa",
        "payment_type_id": "credit_card",
        "status": status,
        "status_detail": status_detail,
        "currency_id": "ARS",
        "description": "Plan 5 GB for 1122334455",
        "live_mode": False,
        "external_reference": "ord_1",
        "transaction_amount": 1500.5,
        "transaction_amount_refunded": 0,
        "installments": 1,
        "card": {
            "id": None,
            "first_six_digits": "450995",
            "last_four_digits": "3704",
            "expiration_month": 11,
            "expiration_year": 2030,
            "cardholder": {"name": "APRO"},
        },
        **fields,
    }


ARS_1500_50 = Money(150050, "ARS")


def pay(
    mercadopago: MercadoPagoProvider,
    amount: Money = ARS_1500_50,
    key: str = "order-ord_1",
    source: str = CARD_TOKEN,
    payer_email: str | None = None,
) -> PaymentResult:
    return mercadopago.create_payment(
        amount=amount,
        source=source,
        description="Plan 5 GB for 1122334455",
        order_reference="ord_1",
        idempotency_key=key,
        payer_email=payer_email,
    )


# -- payments ---------------------------------------------------------------------------------


def test_an_approved_payment_is_succeeded_with_the_last_four_digits(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(201, payment("approved", "accredited"))

    result = pay(mercadopago)

    assert (result.reference, result.status, result.amount) == (
        "1316782340",
        PaymentStatus.SUCCEEDED,
        ARS_1500_50,
    )
    assert (result.decline_code, result.card_last4) == (None, "3704")


def test_the_payment_request_carries_the_amount_in_major_units_and_the_idempotency_key(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(201, payment("approved", "accredited"))

    pay(mercadopago)

    [sent] = api.requests
    assert (sent.method, sent.path) == ("POST", "/v1/payments")
    assert sent.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert sent.headers["x-idempotency-key"] == "order-ord_1"
    assert b'"transaction_amount": 1500.5,' in sent.body
    assert sent.json() == {
        "transaction_amount": 1500.5,
        "token": CARD_TOKEN,
        "description": "Plan 5 GB for 1122334455",
        "external_reference": "ord_1",
        "installments": 1,
    }


def test_a_source_naming_its_payment_method_sends_the_method_with_the_token(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(201, payment("approved", "accredited"))

    pay(mercadopago, source=f"visa:{CARD_TOKEN}")

    sent = api.requests[0].json()
    assert (sent["payment_method_id"], sent["token"]) == ("visa", CARD_TOKEN)


def test_the_payer_s_email_goes_as_payer_email(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(201, payment("approved", "accredited"))

    pay(mercadopago, payer_email="ana@example.org")

    assert api.requests[0].json()["payer"] == {"email": "ana@example.org"}


def test_a_bare_token_is_sent_without_a_payment_method(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(201, payment("approved", "accredited"))

    pay(mercadopago, source=CARD_TOKEN)

    sent = api.requests[0].json()
    assert sent["token"] == CARD_TOKEN
    assert "payment_method_id" not in sent


@pytest.mark.parametrize("source", [f":{CARD_TOKEN}", "visa:"])
def test_a_source_with_an_empty_method_or_token_is_refused_before_any_request(
    api: FakeApi, mercadopago: MercadoPagoProvider, source: str
) -> None:
    with pytest.raises(PaymentRefused, match="payment_method_id"):
        pay(mercadopago, source=source)

    assert api.requests == []


@pytest.mark.parametrize(
    ("amount", "sent"),
    [
        (Money(5000, "CLP"), b'"transaction_amount": 5000,'),
        (Money(5_000_000, "COP"), b'"transaction_amount": 50000,'),
        (Money(1999, "BRL"), b'"transaction_amount": 19.99,'),
        (Money(123456789012, "ARS"), b'"transaction_amount": 1234567890.12,'),
    ],
)
def test_an_amount_is_written_exactly_in_major_units(
    api: FakeApi, mercadopago: MercadoPagoProvider, amount: Money, sent: bytes
) -> None:
    api.answer(201, payment("approved", "accredited", transaction_amount=1, currency_id="ARS"))

    pay(mercadopago, amount)

    assert sent in api.requests[0].body


def test_a_cop_amount_with_centavos_is_refused_before_any_request(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    with pytest.raises(PaymentRefused, match="whole units"):
        pay(mercadopago, Money(5_000_050, "COP"))

    assert api.requests == []


def test_a_key_longer_than_mercado_pago_takes_is_sent_as_its_sha256(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    key = "order:" + "k" * 100
    api.answer(201, payment("approved", "accredited"))

    pay(mercadopago, key=key)

    assert api.requests[0].headers["x-idempotency-key"] == hashlib.sha256(key.encode()).hexdigest()


def test_a_rejected_payment_is_failed_with_the_status_detail(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(201, payment("rejected", "cc_rejected_insufficient_amount"))

    result = pay(mercadopago)

    assert (result.status, result.decline_code) == (
        PaymentStatus.FAILED,
        "cc_rejected_insufficient_amount",
    )


@pytest.mark.parametrize(
    ("mp_status", "status_detail", "status"),
    [
        ("approved", "accredited", PaymentStatus.SUCCEEDED),
        ("pending", "pending_contingency", PaymentStatus.PENDING),
        ("in_process", "pending_review_manual", PaymentStatus.PENDING),
        ("authorized", "pending_capture", PaymentStatus.PENDING),
        ("in_mediation", "in_mediation", PaymentStatus.PENDING),
        ("rejected", "cc_rejected_other_reason", PaymentStatus.FAILED),
        ("cancelled", "expired", PaymentStatus.FAILED),
        ("refunded", "refunded", PaymentStatus.FAILED),
        ("charged_back", "settled", PaymentStatus.FAILED),
    ],
)
def test_every_payment_status_maps_onto_pending_succeeded_or_failed(
    api: FakeApi,
    mercadopago: MercadoPagoProvider,
    mp_status: str,
    status_detail: str,
    status: PaymentStatus,
) -> None:
    api.answer(200, payment(mp_status, status_detail))

    result = mercadopago.fetch_payment("1316782340")

    assert result.status is status
    assert result.decline_code == (status_detail if status is PaymentStatus.FAILED else None)
    assert (api.requests[0].method, api.requests[0].path) == ("GET", "/v1/payments/1316782340")


def test_a_payment_mercado_pago_does_not_know_is_refused(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(404, {"message": "Payment not found", "error": "not_found", "status": 404})

    with pytest.raises(PaymentRefused, match="HTTP 404 not_found"):
        mercadopago.fetch_payment("1")


def test_a_wrong_access_token_is_refused(api: FakeApi, mercadopago: MercadoPagoProvider) -> None:
    api.answer(
        401,
        {"message": "invalid access token", "error": "unauthorized", "status": 401, "cause": []},
    )

    with pytest.raises(PaymentRefused, match="HTTP 401 unauthorized"):
        pay(mercadopago)


@pytest.mark.parametrize("http_status", [500, 503, 423, 429])
def test_a_server_error_or_a_busy_key_leaves_the_outcome_unknown(
    api: FakeApi, mercadopago: MercadoPagoProvider, http_status: int
) -> None:
    api.answer(http_status, {"message": "try again", "error": "internal_error"})

    with pytest.raises(PaymentTimedOut, match=f"HTTP {http_status}"):
        pay(mercadopago)


def test_a_server_that_does_not_answer_in_time_is_a_timeout(api: FakeApi) -> None:
    impatient = provider(api, timeout_seconds=0.2)
    api.stall = True

    with pytest.raises(PaymentTimedOut, match="ReadTimeout"):
        pay(impatient)


# -- finding a payment whose answer was lost ---------------------------------------------------


def search_result(*payments: dict[str, Any]) -> dict[str, Any]:
    """A page of Mercado Pago's payment search, as Mercado Pago returns it."""
    return {
        "paging": {"total": len(payments), "limit": 30, "offset": 0},
        "results": list(payments),
    }


def find(mercadopago: MercadoPagoProvider) -> PaymentResult | None:
    return mercadopago.find_payment(idempotency_key="order-ord_1", order_reference="ord_1")


def test_a_payment_is_found_by_its_external_reference(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(200, search_result(payment("approved", "accredited")))

    result = find(mercadopago)

    assert result is not None
    assert (result.reference, result.status, result.amount, result.card_last4) == (
        "1316782340",
        PaymentStatus.SUCCEEDED,
        ARS_1500_50,
        "3704",
    )


def test_the_search_filters_on_the_order_reference_oldest_first(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(200, search_result())

    find(mercadopago)

    [sent] = api.requests
    assert (sent.method, urlsplit(sent.path).path) == ("GET", "/v1/payments/search")
    assert sent.headers["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert sent.query() == {
        "external_reference": "ord_1",
        "sort": "date_created",
        "criteria": "asc",
    }


def test_no_payment_for_the_order_reference_is_none(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(200, search_result())

    assert find(mercadopago) is None


def test_a_payment_with_another_external_reference_is_not_the_payment(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(200, search_result(payment("approved", "accredited", external_reference="ord_10")))

    assert find(mercadopago) is None


def test_of_several_payments_for_the_order_the_earliest_created_is_the_payment(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(
        200,
        search_result(
            payment("approved", "accredited", id=3, date_created="2026-11-22T12:00:30.000-03:00"),
            payment("approved", "accredited", id=2, external_reference="other", date_created=None),
            # Earlier than the first, though its clock reads later: another offset.
            payment(
                "rejected",
                "cc_rejected_other_reason",
                id=1,
                date_created="2026-11-22T15:00:10.000Z",
            ),
        ),
    )

    result = find(mercadopago)

    assert result is not None
    assert (result.reference, result.status) == ("1", PaymentStatus.FAILED)


def test_a_search_answer_without_results_leaves_the_outcome_unknown(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(200, {"paging": {"total": 0}})

    with pytest.raises(PaymentTimedOut, match="without a list of results"):
        find(mercadopago)


def test_a_search_that_gets_no_answer_in_time_is_a_timeout(api: FakeApi) -> None:
    impatient = provider(api, timeout_seconds=0.2)
    api.stall = True

    with pytest.raises(PaymentTimedOut, match="ReadTimeout"):
        find(impatient)


def test_a_search_with_a_wrong_access_token_is_refused(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(401, {"message": "invalid access token", "error": "unauthorized", "status": 401})

    with pytest.raises(PaymentRefused, match="HTTP 401 unauthorized"):
        find(mercadopago)


# -- refunds ----------------------------------------------------------------------------------


def refund_object(status: str) -> dict[str, Any]:
    return {
        "id": 1245233701,
        "payment_id": 1316782340,
        "amount": 500.25,
        "source": {"id": "1003", "name": "Saldo", "type": "collector"},
        "date_created": "2026-11-22T12:05:00.000-03:00",
        "status": status,
        "refund_mode": "standard",
    }


def test_a_refund_sends_the_amount_in_major_units_with_the_idempotency_key(
    api: FakeApi, mercadopago: MercadoPagoProvider
) -> None:
    api.answer(201, refund_object("approved"))

    mercadopago.refund("1316782340", amount=Money(50025, "ARS"), idempotency_key="refund-1")

    [sent] = api.requests
    assert (sent.method, sent.path) == ("POST", "/v1/payments/1316782340/refunds")
    assert sent.headers["x-idempotency-key"] == "refund-1"
    assert sent.json() == {"amount": 500.25}


def test_a_rejected_refund_is_refused(api: FakeApi, mercadopago: MercadoPagoProvider) -> None:
    api.answer(201, refund_object("rejected"))

    with pytest.raises(PaymentRefused, match="rejected"):
        mercadopago.refund("1316782340", amount=Money(50025, "ARS"), idempotency_key="r-2")


# -- webhooks ---------------------------------------------------------------------------------

REQUEST_ID = "bb56a2f1-6aae-46ac-982e-9dcd3581d08e"


def notification(data_id: str = "1316782340", **fields: Any) -> bytes:
    body = {
        "id": 12345678901,
        "live_mode": True,
        "type": "payment",
        "date_created": "2026-11-22T11:59:55.000-03:00",
        "user_id": 44444,
        "api_version": "v1",
        "action": "payment.updated",
        "data": {"id": data_id},
        **fields,
    }
    return json.dumps(body).encode()


def signed(
    data_id: str = "1316782340", *, at: datetime = NOW, secret: str = WEBHOOK_SECRET
) -> dict[str, str]:
    ts = int(at.timestamp())
    manifest = f"id:{data_id};request-id:{REQUEST_ID};ts:{ts};"
    v1 = hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    return {"x-signature": f"ts={ts},v1={v1}", "x-request-id": REQUEST_ID}


def test_a_signed_payment_notification_is_read_without_a_status(
    mercadopago: MercadoPagoProvider,
) -> None:
    event = mercadopago.parse_webhook(body=notification(), headers=signed(), now=NOW)

    assert (event.event_id, event.reference, event.status) == ("12345678901", "1316782340", None)
    assert event.occurred_at == datetime(2026, 11, 22, 14, 59, 55, tzinfo=UTC)


def test_a_replayed_notification_reads_the_same_event_id(
    mercadopago: MercadoPagoProvider,
) -> None:
    first = mercadopago.parse_webhook(body=notification(), headers=signed(), now=NOW)

    again = mercadopago.parse_webhook(
        body=notification(), headers=signed(), now=NOW + timedelta(seconds=30)
    )

    assert again.event_id == first.event_id


def test_an_alphanumeric_data_id_is_signed_in_lower_case(
    mercadopago: MercadoPagoProvider,
) -> None:
    event = mercadopago.parse_webhook(
        body=notification("ORD123ABC"), headers=signed("ord123abc"), now=NOW
    )

    assert event.reference == "ORD123ABC"


def test_a_signature_with_another_secret_is_refused(mercadopago: MercadoPagoProvider) -> None:
    with pytest.raises(InvalidWebhook, match="SignatureMismatch"):
        mercadopago.parse_webhook(
            body=notification(), headers=signed(secret="another-secret"), now=NOW
        )


def test_a_missing_signature_header_is_refused(mercadopago: MercadoPagoProvider) -> None:
    with pytest.raises(InvalidWebhook, match="MissingSignatureHeader"):
        mercadopago.parse_webhook(
            body=notification(), headers={"x-request-id": REQUEST_ID}, now=NOW
        )


def test_a_body_about_another_payment_is_refused(mercadopago: MercadoPagoProvider) -> None:
    with pytest.raises(InvalidWebhook, match="SignatureMismatch"):
        mercadopago.parse_webhook(body=notification("999"), headers=signed(), now=NOW)


@pytest.mark.parametrize("offset", [timedelta(seconds=-301), timedelta(seconds=301)])
def test_a_signature_time_further_from_now_than_the_tolerance_is_refused(
    mercadopago: MercadoPagoProvider, offset: timedelta
) -> None:
    with pytest.raises(InvalidWebhook, match="TimestampOutOfTolerance"):
        mercadopago.parse_webhook(body=notification(), headers=signed(at=NOW + offset), now=NOW)


def test_the_tolerance_is_measured_at_the_given_now_not_the_wall_clock(
    mercadopago: MercadoPagoProvider,
) -> None:
    long_ago = datetime(2020, 1, 1, 12, 0, tzinfo=UTC)

    event = mercadopago.parse_webhook(
        body=notification(), headers=signed(at=long_ago - timedelta(seconds=300)), now=long_ago
    )

    assert event.reference == "1316782340"


def test_a_notification_that_is_not_about_a_payment_is_refused(
    mercadopago: MercadoPagoProvider,
) -> None:
    body = notification(type="merchant_order", action="merchant_order.updated")

    with pytest.raises(InvalidWebhook, match="merchant_order"):
        mercadopago.parse_webhook(body=body, headers=signed(), now=NOW)


def test_a_body_that_is_not_json_is_refused(mercadopago: MercadoPagoProvider) -> None:
    with pytest.raises(InvalidWebhook, match="not JSON"):
        mercadopago.parse_webhook(body=b"id=1&topic=payment", headers=signed(), now=NOW)
