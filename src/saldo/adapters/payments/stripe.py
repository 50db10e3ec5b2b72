"""Card payments through Stripe's PaymentIntents, with the official ``stripe`` SDK.

Each provider has a ``stripe.StripeClient`` of its own (the module-wide ``stripe.api_key`` is
never set, so two operators' accounts never share a key). A payment is one PaymentIntent,
created and confirmed in one request with a saved PaymentMethod (``pm_...``) as ``source``;
redirect-based methods are off, so a card whose bank asks for 3-D Secure stays
``requires_action`` (pending) until a webhook says how it ended.

Stripe's minor unit is not always ISO 4217's: Stripe counts ISK in hundredths (ISO: none)
and MGA in whole units (ISO: two). The same integer would be another amount of money, so an
amount in such a currency is refused, never sent. For the currencies Saldo keeps, they agree.

Webhooks are verified with the SDK's signature check (``WebhookSignature.verify_header``) but
not its age check, which reads ``time.time()``: the age is checked against the caller's
``now``, with Stripe's rule (older than the tolerance is refused, a future time is not).

A timeout, a lost connection, a rate limit or a 5xx leaves the outcome unknown
(PaymentTimedOut): the caller asks again with the same idempotency key and Stripe repeats its
first answer. The SDK does not retry by itself: retries inside one call would multiply the
caller's timeout. Stripe's error texts stay out of Saldo's messages, as they can quote the
request; the error class, HTTP status, Stripe's code and request id find the request in
Stripe's dashboard.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import stripe
from stripe.params import PaymentIntentSearchParams

from saldo.domain.money import InvalidAmount, Money
from saldo.services.ports.payments import (
    InvalidWebhook,
    PaymentError,
    PaymentEvent,
    PaymentRefused,
    PaymentResult,
    PaymentStatus,
    PaymentTimedOut,
)

log = logging.getLogger(__name__)

SIGNATURE_HEADER: Final = "stripe-signature"

# Stripe's minor-unit exponent where it is not 2 (docs.stripe.com/currencies). ISK is not
# here on purpose: Stripe takes it with two decimals (multiples of 100), ISO with none.
_STRIPE_EXPONENTS: Final[Mapping[str, int]] = {
    **{code: 0 for code in ("BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA")},
    **{code: 0 for code in ("PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF")},
    **{code: 3 for code in ("BHD", "JOD", "KWD", "OMR", "TND")},
}

# A confirmed intent that is back at ``requires_payment_method`` failed; Saldo never confirms
# the same intent again (a new order makes a new intent), so for Saldo that failure is final.
_STATUSES: Final[Mapping[str, PaymentStatus]] = {
    "succeeded": PaymentStatus.SUCCEEDED,
    "processing": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.PENDING,
    "requires_confirmation": PaymentStatus.PENDING,
    "requires_capture": PaymentStatus.PENDING,
    "requires_payment_method": PaymentStatus.FAILED,
    "canceled": PaymentStatus.FAILED,
}

# Errors after which Stripe may or may not have acted: ask again with the same key.
_OUTCOME_UNKNOWN: Final = (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError)


class StripeProvider:
    """A ``PaymentProvider`` that charges saved PaymentMethods through Stripe.

    ``api_key``: a secret or restricted key allowed to write PaymentIntents and Refunds;
    ``webhook_secret``: the webhook endpoint's signing secret (``whsec_...``); ``api_base``:
    another address for Stripe's API (a test server); ``timeout_seconds``: how long one
    request may take before its outcome counts as unknown; ``webhook_tolerance_seconds``: how
    old a webhook's signature may be (Stripe's default, 300). Raises ValueError when the key
    or the secret is empty.
    """

    def __init__(
        self,
        *,
        api_key: str,
        webhook_secret: str,
        api_base: str | None = None,
        timeout_seconds: float = 20.0,
        webhook_tolerance_seconds: int = 300,
    ) -> None:
        if not api_key.strip() or not webhook_secret.strip():
            raise ValueError("Stripe needs an API key and a webhook signing secret")
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base is not None else None,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
            max_network_retries=0,
        )
        self._webhook_secret = webhook_secret
        self._webhook_tolerance = timedelta(seconds=webhook_tolerance_seconds)

    @property
    def name(self) -> str:
        return "stripe"

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
        """Create and confirm a PaymentIntent for ``amount`` with the PaymentMethod ``source``.

        ``idempotency_key`` is Stripe's ``Idempotency-Key``: Stripe answers a repeated request
        with its first answer. A decline (Stripe's 402 ``card_error``) is a ``failed`` result
        carrying Stripe's decline code. ``card_last4`` comes from the intent's latest charge,
        which the request expands.

        Raises PaymentRefused for a currency whose Stripe exponent differs from ISO 4217, a
        wrong key, an unknown PaymentMethod, a key reused with other parameters, or a decline
        that names no PaymentIntent; PaymentTimedOut when the outcome is unknown.
        """
        _check_exponent(amount)
        what = f"the payment for order {order_reference}"
        try:
            intent = self._client.v1.payment_intents.create(
                {
                    "amount": amount.minor,
                    "currency": amount.currency.lower(),
                    "payment_method": source,
                    "confirm": True,
                    "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                    "description": description,
                    "metadata": {"order_reference": order_reference},
                    "expand": ["latest_charge"],
                },
                {"idempotency_key": idempotency_key},
            )
        except stripe.CardError as error:
            declined = error.error.to_dict().get("payment_intent") if error.error else None
            if not isinstance(declined, dict):
                raise _translate(error, what) from None
            result = _result(declined)
        except stripe.StripeError as error:
            raise _translate(error, what) from None
        else:
            result = _result(intent.to_dict())
        log.info("stripe payment %s for %s: %s", result.reference, what, result.status)
        return result

    def fetch_payment(self, reference: str) -> PaymentResult:
        """The PaymentIntent ``reference`` as it is now. Raises PaymentRefused for an intent
        Stripe does not know (or one in a currency Saldo cannot hold); PaymentTimedOut when
        Stripe does not answer."""
        try:
            intent = self._client.v1.payment_intents.retrieve(
                reference, {"expand": ["latest_charge"]}
            )
        except stripe.StripeError as error:
            raise _translate(error, f"payment {reference}") from None
        return _result(intent.to_dict())

    def find_payment(self, *, idempotency_key: str, order_reference: str) -> PaymentResult | None:
        """The first created PaymentIntent whose ``metadata.order_reference`` is exactly
        ``order_reference``, found with Stripe's PaymentIntent search; None when the search
        finds none.

        Stripe offers no look-up by idempotency key, so ``idempotency_key`` is not sent: every
        intent ``create_payment`` makes carries its order reference, and Saldo uses one key per
        order reference. Several matching intents (which one order should never have) are
        logged, and the first created one is the answer.

        Stripe's search index lags behind its writes: under normal conditions by up to about a
        minute, longer during an outage at Stripe. A None shortly after a timeout is therefore
        not final; the caller asks again with backoff and gives up only after a day.

        Raises PaymentTimedOut when Stripe does not answer (a timeout, a lost connection, a
        rate limit, a 5xx); PaymentRefused when it refuses the search (a key that may not read
        PaymentIntents, an account where search is unavailable).
        """
        what = f"the search for order {order_reference}"
        query = f"metadata['order_reference']:{_search_string(order_reference)}"
        intents: list[Any] = []
        page: str | None = None
        try:
            while True:
                params: PaymentIntentSearchParams = {
                    "query": query,
                    "limit": 100,
                    "expand": ["data.latest_charge"],
                }
                if page is not None:
                    params["page"] = page
                answer = self._client.v1.payment_intents.search(params).to_dict()
                intents.extend(answer.get("data") or [])
                page = answer.get("next_page")
                if not answer.get("has_more") or not isinstance(page, str):
                    break
        except stripe.StripeError as error:
            raise _translate(error, what) from None
        # Whatever the search matched, only an exact match here makes an intent this order's.
        matching = [
            intent
            for intent in intents
            if isinstance(intent, dict)
            and (intent.get("metadata") or {}).get("order_reference") == order_reference
        ]
        if not matching:
            return None
        if len(matching) > 1:
            log.warning(
                "stripe has %d intents for order %s: %s",
                len(matching),
                order_reference,
                ", ".join(str(intent.get("id")) for intent in matching),
            )
        return _result(min(matching, key=_creation_order))

    def refund(self, reference: str, *, amount: Money, idempotency_key: str) -> None:
        """Refund ``amount`` (in the payment's own currency) of the PaymentIntent
        ``reference``, once per ``idempotency_key``. Raises PaymentRefused when Stripe refuses
        the refund or reports it failed or canceled; PaymentTimedOut when the outcome is
        unknown."""
        _check_exponent(amount)
        what = f"a refund of {amount} on {reference}"
        try:
            refund = self._client.v1.refunds.create(
                {"payment_intent": reference, "amount": amount.minor},
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as error:
            raise _translate(error, what) from None
        answer = refund.to_dict()
        if answer.get("status") in ("failed", "canceled"):
            raise PaymentRefused(
                f"Stripe did not make {what}: {answer.get('status')} "
                f"({answer.get('failure_reason') or 'no reason given'})"
            )
        log.info("stripe refund %s on %s: %s", answer.get("id"), reference, answer.get("status"))

    def parse_webhook(
        self, *, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> PaymentEvent:
        """Verify the ``Stripe-Signature`` of ``body`` and read the event it carries.

        The status is that of the PaymentIntent in the event (``data.object``), so
        ``payment_intent.succeeded`` reads ``succeeded``, ``payment_failed`` and ``canceled``
        read ``failed``, ``processing`` reads ``pending``, and any other event about an intent
        reads its intent's status (None for a status Stripe added after this adapter: fetch
        it). ``occurred_at`` is the event's ``created``.

        Raises InvalidWebhook when the header is missing, no signature matches, the signature
        is older than the tolerance at ``now``, or the event is not about a PaymentIntent.
        """
        header = headers.get(SIGNATURE_HEADER, "")
        if not header:
            raise InvalidWebhook("the Stripe-Signature header is missing")
        try:
            # No tolerance: the SDK would measure the age against time.time(), not ``now``.
            stripe.WebhookSignature.verify_header(body, header, self._webhook_secret)
        except stripe.SignatureVerificationError as error:
            raise InvalidWebhook(f"the Stripe signature does not verify: {error}") from None
        except UnicodeDecodeError:
            raise InvalidWebhook("the Stripe webhook body is not UTF-8") from None
        signed_at = _signed_at(header)
        if signed_at < now - self._webhook_tolerance:
            raise InvalidWebhook(
                f"the Stripe signature is from {signed_at.isoformat()}, older than "
                f"{self._webhook_tolerance.total_seconds():.0f} s at {now.isoformat()}"
            )
        return _event(body)


def _check_exponent(amount: Money) -> None:
    if _STRIPE_EXPONENTS.get(amount.currency, 2) != amount.exponent:
        raise PaymentRefused(
            f"Stripe counts {amount.currency} in other minor units than ISO 4217; "
            f"{amount} is not sent"
        )


def _search_string(value: str) -> str:
    """``value`` as a string of Stripe's search query language: in single quotes, each quote
    inside escaped with a backslash (Stripe's documented rule), and each backslash too, so
    that one cannot undo the escape of the quote after it."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _creation_order(intent: Mapping[str, Any]) -> tuple[int, str]:
    created = intent.get("created")
    return (created if type(created) is int else 0, str(intent.get("id")))


def _status(value: object) -> PaymentStatus | None:
    return _STATUSES.get(value) if isinstance(value, str) else None


def _result(intent: Mapping[str, Any]) -> PaymentResult:
    """The result a PaymentIntent (as plain JSON data) reports."""
    status = _status(intent.get("status"))
    if status is None:
        log.warning("stripe intent %s: unknown status, taken as pending", intent.get("id"))
        status = PaymentStatus.PENDING
    decline_code = None
    if status is PaymentStatus.FAILED:
        error = intent.get("last_payment_error") or {}
        decline_code = (
            error.get("decline_code") or error.get("code") or intent.get("cancellation_reason")
        )
    return PaymentResult(
        reference=str(intent["id"]),
        status=status,
        amount=_money(intent.get("amount"), intent.get("currency")),
        decline_code=decline_code,
        card_last4=_card_last4(intent.get("latest_charge")),
    )


def _money(minor: object, currency: object) -> Money:
    try:
        if type(minor) is not int:
            raise InvalidAmount(f"{minor!r} is not a count of minor units")
        money = Money(minor, str(currency).upper())
    except InvalidAmount as error:
        raise PaymentRefused(f"Stripe reported an amount Saldo cannot hold: {error}") from None
    _check_exponent(money)
    return money


def _card_last4(charge: object) -> str | None:
    """The last four digits from an expanded charge; None when the charge is only an id."""
    if not isinstance(charge, dict):
        return None
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    last4 = card.get("last4")
    return last4 if isinstance(last4, str) else None


def _signed_at(header: str) -> datetime:
    # Read as the SDK reads it: the first ``t=`` item is the timestamp that was signed.
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key == "t":
            try:
                return datetime.fromtimestamp(int(value), UTC)
            except (ValueError, OverflowError, OSError):
                break
    raise InvalidWebhook("the Stripe-Signature header has no readable timestamp")


def _event(body: bytes) -> PaymentEvent:
    try:
        event = json.loads(body)
    except ValueError:
        raise InvalidWebhook("the Stripe webhook body is not JSON") from None
    if not isinstance(event, dict):
        raise InvalidWebhook("the Stripe webhook body is not an event")
    data = event.get("data")
    intent = data.get("object") if isinstance(data, dict) else None
    if not isinstance(intent, dict) or intent.get("object") != "payment_intent":
        raise InvalidWebhook(
            f"Stripe event {event.get('id')} ({event.get('type')}) is not about a payment intent"
        )
    event_id, created, reference = event.get("id"), event.get("created"), intent.get("id")
    if not (isinstance(event_id, str) and isinstance(reference, str) and type(created) is int):
        raise InvalidWebhook("the Stripe event lacks its id, its creation time or its intent")
    try:
        occurred_at = datetime.fromtimestamp(created, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidWebhook(f"Stripe event {event_id} has no readable creation time") from None
    try:
        amount = _money(intent.get("amount"), intent.get("currency"))
    except PaymentRefused as error:
        raise InvalidWebhook(f"Stripe event {event_id}: {error.message}") from None
    return PaymentEvent(
        event_id=event_id,
        reference=reference,
        status=_status(intent.get("status")),
        occurred_at=occurred_at,
        amount=amount,
    )


def _translate(error: stripe.StripeError, what: str) -> PaymentError:
    detail = _describe(error)
    if isinstance(error, _OUTCOME_UNKNOWN):
        log.warning("stripe did not answer for %s: %s", what, detail)
        return PaymentTimedOut(f"Stripe did not answer for {what}: {detail}")
    log.warning("stripe refused %s: %s", what, detail)
    return PaymentRefused(f"Stripe refused {what}: {detail}")


def _describe(error: stripe.StripeError) -> str:
    """The error's class (and its cause's), HTTP status, Stripe's code and parameter, and the
    request id; not Stripe's message."""
    cause = type(error.__cause__).__name__ if error.__cause__ is not None else None
    status = f"HTTP {error.http_status}" if error.http_status is not None else None
    param = getattr(error, "param", None)
    request = f"request {error.request_id}" if error.request_id else None
    parts = (type(error).__name__, cause, status, error.code, param and f"param {param}", request)
    return ", ".join(part for part in parts if part)
