"""Card payments through Mercado Pago's Payments API, with the official ``mercadopago`` SDK.

A payment is one ``POST /v1/payments`` with a card token as ``source`` (made by Mercado Pago's
card form; Saldo never sees the card), in one installment, with the order reference as its
``external_reference``: a payment whose answer was lost is searched by it. The idempotency
key goes in ``X-Idempotency-Key``, which takes 1 to 64 characters; a longer key (Saldo's may
have 128) is sent as its SHA-256 in hex, the same on every retry.

``transaction_amount`` is in major units, a JSON number. The SDK encodes with ``json``, which
takes no Decimal: a whole amount goes as an int, any other as the float whose shortest text
(what ``json`` writes) is exactly the amount, and one without such a float is refused.
Mercado Pago takes COP in whole pesos only, though ISO 4217 gives it two decimals: a COP
amount with centavos is refused, never rounded.

The SDK has no setting for the API's address: ``api_base`` (a test server) is honoured by a
subclass of its HttpClient. Its retries are off, as retries inside one call multiply the
caller's timeout. A 2xx answer is read; any other 4xx means no payment exists
(PaymentRefused), except 408, 423 (a request with the same key is still running), 424 and
429, which like 5xx, timeouts and lost connections leave the outcome unknown
(PaymentTimedOut). Mercado Pago's error texts stay out of Saldo's messages; its HTTP status
and error code do not.

Webhooks: Mercado Pago signs ``id:<data.id>;request-id:<x-request-id>;ts:<ts>;`` with
HMAC-SHA256. The SDK's ``WebhookSignatureValidator`` compares it in constant time and checks
``ts`` (seconds since the epoch) against the caller's ``now``, either way. ``data.id`` is
taken from the body (Mercado Pago sends the same value as the ``data.id`` query parameter)
and lower-cased when alphanumeric, as Mercado Pago says. Only that id is signed, not the
notification's id, type or date; a notification carries no status (the caller fetches the
payment), so a doctored one can at most cause a fetch.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Final

# The SDK ships no type information; everything taken from it is Any here.
import mercadopago  # type: ignore[import-untyped]
import mercadopago.webhook  # type: ignore[import-untyped]

from saldo.domain.money import WHOLE_UNITS_ONLY, InvalidAmount, Money
from saldo.services.ports.payments import (
    InvalidWebhook,
    PaymentEvent,
    PaymentRefused,
    PaymentResult,
    PaymentStatus,
    PaymentTimedOut,
)

log = logging.getLogger(__name__)

_STATUSES: Final[Mapping[str, PaymentStatus]] = {
    "approved": PaymentStatus.SUCCEEDED,
    "pending": PaymentStatus.PENDING,
    "in_process": PaymentStatus.PENDING,
    "authorized": PaymentStatus.PENDING,
    "in_mediation": PaymentStatus.PENDING,
    "rejected": PaymentStatus.FAILED,
    "cancelled": PaymentStatus.FAILED,
    "refunded": PaymentStatus.FAILED,
    "charged_back": PaymentStatus.FAILED,
}
_RETRY_LATER: Final = frozenset({408, 423, 424, 429})
_MAX_KEY_LENGTH: Final = 64
_SDK_ADDRESS: Final[str] = mercadopago.config.Config().api_base_url


class MercadoPagoProvider:
    """A ``PaymentProvider`` that charges card tokens through Mercado Pago.

    ``access_token``: the seller's access token (``APP_USR-...``, ``TEST-...``);
    ``webhook_secret``: the secret signature of the application's webhooks; ``api_base``:
    another address for the API (a test server); ``timeout_seconds``: how long one request
    may take before its outcome counts as unknown; ``webhook_tolerance_seconds``: how far a
    webhook's signature time may be from ``now``. Raises ValueError when the token or the
    secret is empty.
    """

    def __init__(
        self,
        *,
        access_token: str,
        webhook_secret: str,
        api_base: str | None = None,
        timeout_seconds: float = 20.0,
        webhook_tolerance_seconds: int = 300,
    ) -> None:
        if not access_token.strip() or not webhook_secret.strip():
            raise ValueError("Mercado Pago needs an access token and a webhook secret")
        self._access_token = access_token
        self._timeout = float(timeout_seconds)
        self._sdk = mercadopago.SDK(
            access_token,
            http_client=None if api_base is None else _HttpClientAt(api_base),
            request_options=self._options(),
        )
        self._webhook_secret = webhook_secret
        self._webhook_tolerance = timedelta(seconds=webhook_tolerance_seconds)

    @property
    def name(self) -> str:
        return "mercadopago"

    def create_payment(
        self,
        *,
        amount: Money,
        source: str,
        description: str,
        order_reference: str,
        idempotency_key: str,
        payer_email: str | None = None,
    ) -> PaymentResult:
        """Charge ``amount`` to the card token ``source`` in one installment.

        ``source`` is ``<payment_method_id>:<card token>``
        (``visa:ff8080814c11e237014c1ff593b57b4d``): Mercado Pago's card form gives both, and
        its API wants the method with the token. A bare token (no colon) is sent without
        ``payment_method_id``. ``payer_email`` goes as ``payer.email``, which Mercado Pago
        asks of card payments.

        The same ``idempotency_key`` gets Mercado Pago's first answer again. A rejection is a
        ``failed`` result whose decline code is Mercado Pago's ``status_detail``
        (``cc_rejected_insufficient_amount``).

        Raises PaymentRefused for a ``source`` with an empty method or token, an amount
        Mercado Pago cannot take exactly, or a request it refuses (a bad token, a wrong access
        token); PaymentTimedOut when the outcome is unknown.
        """
        payment_method_id, colon, token = source.partition(":")
        if not colon:
            payment_method_id, token = "", source
        elif not payment_method_id or not token:
            raise PaymentRefused("a Mercado Pago source is <payment_method_id>:<card token>")
        payment: dict[str, Any] = {
            "transaction_amount": _major_units(amount),
            "token": token,
            "description": description,
            "external_reference": order_reference,
            "installments": 1,
        }
        if payment_method_id:
            payment["payment_method_id"] = payment_method_id
        if payer_email:
            payment["payer"] = {"email": payer_email}
        options = self._options(idempotency_key)
        answer = self._call(
            f"the payment for order {order_reference}",
            lambda: self._sdk.payment().create(payment, options),
        )
        result = _result(answer)
        log.info(
            "mercadopago payment %s for order %s: %s",
            result.reference,
            order_reference,
            result.status,
        )
        return result

    def fetch_payment(self, reference: str) -> PaymentResult:
        """The payment ``reference`` as it is now. Raises PaymentRefused for a payment Mercado
        Pago does not know (or one in a currency Saldo cannot hold); PaymentTimedOut when
        Mercado Pago does not answer."""
        options = self._options()
        answer = self._call(
            f"payment {reference}", lambda: self._sdk.payment().get(reference, options)
        )
        return _result(answer)

    def find_payment(self, *, idempotency_key: str, order_reference: str) -> PaymentResult | None:
        """The earliest created payment whose ``external_reference`` is ``order_reference``,
        found with Mercado Pago's payment search; None when there is none.

        Mercado Pago offers no look-up by idempotency key, so ``idempotency_key`` is not sent:
        every payment ``create_payment`` makes carries its order reference, and Saldo uses one
        key per order reference. The search is sorted by creation, oldest first, so the first
        page holds the earliest; several matching payments (which one order should never have)
        are logged.

        Raises PaymentTimedOut when Mercado Pago does not answer or answers without a list of
        results; PaymentRefused when it refuses the search (a wrong access token).
        """
        what = f"the search for order {order_reference}"
        filters = {"external_reference": order_reference, "sort": "date_created", "criteria": "asc"}
        options = self._options()
        answer = self._call(what, lambda: self._sdk.payment().search(filters, options))
        results = answer.get("results")
        if not isinstance(results, list):
            log.warning("mercadopago answered %s without results", what)
            raise PaymentTimedOut(f"Mercado Pago answered {what} without a list of results")
        # Whatever the search matched, only an exact match here makes a payment this order's.
        matching = [
            payment
            for payment in results
            if isinstance(payment, dict) and payment.get("external_reference") == order_reference
        ]
        if not matching:
            return None
        if len(matching) > 1:
            log.warning(
                "mercadopago has %d payments for order %s: %s",
                len(matching),
                order_reference,
                ", ".join(str(payment.get("id")) for payment in matching),
            )
        return _result(min(matching, key=_created_at))

    def refund(self, reference: str, *, amount: Money, idempotency_key: str) -> None:
        """Refund ``amount`` (in the payment's own currency) of payment ``reference``, once per
        ``idempotency_key``. Raises PaymentRefused when Mercado Pago refuses or rejects the
        refund; PaymentTimedOut when the outcome is unknown."""
        what = f"a refund of {amount} on {reference}"
        refund = {"amount": _major_units(amount)}
        options = self._options(idempotency_key)
        answer = self._call(what, lambda: self._sdk.refund().create(reference, refund, options))
        if answer.get("status") == "rejected":
            raise PaymentRefused(f"Mercado Pago rejected {what}")
        log.info(
            "mercadopago refund %s on %s: %s", answer.get("id"), reference, answer.get("status")
        )

    def parse_webhook(
        self, *, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> PaymentEvent:
        """Verify the ``x-signature`` of a Mercado Pago notification and read it.

        The event id is the notification's ``id``; the reference is ``data.id``; the status
        is None (notifications carry none: fetch the payment); ``occurred_at`` is the
        notification's ``date_created``.

        Raises InvalidWebhook when the signature is missing or does not match, its time is
        further from ``now`` than the tolerance, or the body is not a ``payment``
        notification.
        """
        notification = _json_object(body)
        data = notification.get("data")
        data_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(data_id, str | int) or isinstance(data_id, bool):
            raise InvalidWebhook("the Mercado Pago notification has no data.id")
        signed_id = str(data_id).lower() if str(data_id).isalnum() else str(data_id)
        now_ms = round(now.timestamp() * 1000)
        try:
            mercadopago.webhook.WebhookSignatureValidator.validate(
                headers.get("x-signature"),
                headers.get("x-request-id"),
                signed_id,
                self._webhook_secret,
                tolerance_seconds=self._webhook_tolerance.total_seconds(),
                now=lambda: now_ms,
            )
        except mercadopago.webhook.InvalidWebhookSignatureError as error:
            raise InvalidWebhook(
                f"the Mercado Pago signature does not verify: {error.reason.value}"
            ) from None
        if notification.get("type") != "payment":
            raise InvalidWebhook(
                f"Mercado Pago notification of type {notification.get('type')!r}, not payment"
            )
        event_id = notification.get("id")
        if not isinstance(event_id, str | int) or isinstance(event_id, bool):
            raise InvalidWebhook("the Mercado Pago notification has no id")
        return PaymentEvent(
            event_id=str(event_id),
            reference=str(data_id),
            status=None,
            occurred_at=_instant(notification.get("date_created")),
        )

    def _options(self, idempotency_key: str | None = None) -> Any:
        """The SDK's request options: token, timeout, no retries, and the idempotency key."""
        headers = None
        if idempotency_key is not None:
            headers = {"x-idempotency-key": _mercadopago_key(idempotency_key)}
        return mercadopago.config.RequestOptions(
            access_token=self._access_token,
            connection_timeout=self._timeout,
            custom_headers=headers,
            max_retries=0,
            retry_on=[],
        )

    def _call(self, what: str, request: Callable[[], Any]) -> dict[str, Any]:
        """The JSON object of a 2xx answer; raises PaymentTimedOut or PaymentRefused."""
        try:
            answer = request()
        except OSError as error:  # requests' errors (timeouts, refused connections) are OSErrors
            log.warning("mercadopago did not answer for %s: %s", what, type(error).__name__)
            raise PaymentTimedOut(
                f"Mercado Pago did not answer for {what}: {type(error).__name__}"
            ) from None
        except mercadopago.MercadoPagoError as error:  # the SDK's: an answer that is not JSON
            answer = {"status": error.status_code, "response": None}
        status, body = answer.get("status"), answer.get("response")
        if isinstance(status, int) and 200 <= status < 300 and isinstance(body, dict):
            return body
        code = body.get("error") if isinstance(body, dict) else None
        detail = f"HTTP {status}" + (f" {code}" if code else "")
        if isinstance(status, int) and 400 <= status < 500 and status not in _RETRY_LATER:
            log.warning("mercadopago refused %s: %s", what, detail)
            raise PaymentRefused(f"Mercado Pago refused {what}: {detail}")
        log.warning("mercadopago gave no usable answer for %s: %s", what, detail)
        raise PaymentTimedOut(f"Mercado Pago gave no usable answer for {what}: {detail}")


class _HttpClientAt(mercadopago.http.HttpClient):  # type: ignore[misc]
    """The SDK's HttpClient, sending to ``api_base`` instead of Mercado Pago's address."""

    def __init__(self, api_base: str) -> None:
        super().__init__()
        self._api_base = api_base.rstrip("/")

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        return super().request(method, self._api_base + url.removeprefix(_SDK_ADDRESS), **kwargs)


def _mercadopago_key(key: str) -> str:
    if len(key) <= _MAX_KEY_LENGTH:
        return key
    return hashlib.sha256(key.encode()).hexdigest()


def _major_units(amount: Money) -> int | float:
    """``amount`` as the JSON number Mercado Pago takes; raises PaymentRefused when that
    number cannot say the amount exactly."""
    value = amount.to_decimal()
    if value == value.to_integral_value():
        return int(value)
    if amount.currency in WHOLE_UNITS_ONLY:
        raise PaymentRefused(f"Mercado Pago takes {amount.currency} in whole units, not {amount}")
    number = float(value)
    if Decimal(repr(number)) != value:
        raise PaymentRefused(f"{amount} cannot be sent to Mercado Pago exactly")
    return number


def _result(payment: Mapping[str, Any]) -> PaymentResult:
    """The result a Mercado Pago payment object reports."""
    status = _STATUSES.get(str(payment.get("status")))
    if status is None:
        log.warning("mercadopago payment %s: unknown status, taken as pending", payment.get("id"))
        status = PaymentStatus.PENDING
    card = payment.get("card") or {}
    last4 = card.get("last_four_digits") if isinstance(card, dict) else None
    detail = payment.get("status_detail")
    return PaymentResult(
        reference=str(payment["id"]),
        status=status,
        amount=_money(payment.get("transaction_amount"), payment.get("currency_id")),
        decline_code=str(detail) if status is PaymentStatus.FAILED and detail else None,
        card_last4=last4 if isinstance(last4, str) else None,
    )


def _created_at(payment: Mapping[str, Any]) -> datetime:
    """When the payment was created; the end of time when it does not say (it sorts last)."""
    try:
        moment = datetime.fromisoformat(str(payment.get("date_created")))
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo is not None else datetime.max.replace(tzinfo=UTC)


def _money(major: object, currency: object) -> Money:
    # The JSON number was parsed as a float; its shortest text is the number Mercado Pago wrote.
    try:
        if not isinstance(major, int | float) or isinstance(major, bool):
            raise InvalidAmount(f"{major!r} is not an amount")
        return Money.of(Decimal(repr(major)), str(currency))
    except InvalidAmount as error:
        raise PaymentRefused(
            f"Mercado Pago reported an amount Saldo cannot hold: {error}"
        ) from None


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        raise InvalidWebhook("the Mercado Pago notification is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidWebhook("the Mercado Pago notification is not a JSON object")
    return value


def _instant(text: object) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise InvalidWebhook(f"the notification's date_created {text!r} is not a time") from None
    if moment.tzinfo is None:
        raise InvalidWebhook(f"the notification's date_created {text!r} has no offset")
    return moment.astimezone(UTC)
