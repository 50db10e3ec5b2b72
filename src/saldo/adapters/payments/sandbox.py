"""The sandbox: a local card processor for the demo and the tests.

It behaves like a real processor, with its own storage (an SQLite file of its own, as if it
ran elsewhere), idempotency keys, payments that settle later, signed webhooks, and test cards
that decide what happens:

==================== ===========================================================
card number          what happens
==================== ===========================================================
4242 4242 4242 4242  approved at once
4000 0000 0000 0002  declined (``card_declined``)
4000 0000 0000 9953  declined (``insufficient_funds``)
4000 0000 0000 1000  pending, then succeeds after ``settle_after``
4000 0000 0000 2008  pending, then fails after ``settle_after`` (``settlement_failed``)
4000 0000 0000 3006  times out: the payment is taken but the answer is lost; asking
                     again with the same idempotency key returns it (succeeded)
==================== ===========================================================

Saved methods are tokens, never numbers: ``tok_approve``, ``tok_decline``,
``tok_insufficient_funds``, ``tok_settle_later``, ``tok_fail_later`` and ``tok_time_out``
stand for the cards above (auto-renewal keeps such a token).

Any other number is declined (``card_not_supported``; ``incorrect_number`` when its Luhn
digit is wrong). Card numbers are never stored, here either: only the behaviour they chose
and their last four digits.

Webhooks are signed like Stripe's: header ``saldo-sandbox-signature: t=<unix time>,v1=<hex
HMAC-SHA256 of "<t>.<body>">``, accepted within ``tolerance`` of the receiver's clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from saldo.domain.money import InvalidAmount, Money
from saldo.domain.numbering import luhn_valid
from saldo.services.ports import Clock
from saldo.services.ports.payments import (
    InvalidWebhook,
    PaymentEvent,
    PaymentRefused,
    PaymentResult,
    PaymentStatus,
    PaymentTimedOut,
)

SIGNATURE_HEADER: Final = "saldo-sandbox-signature"

APPROVE: Final = "4242424242424242"
DECLINE: Final = "4000000000000002"
INSUFFICIENT_FUNDS: Final = "4000000000009953"
SETTLE_LATER: Final = "4000000000001000"
FAIL_LATER: Final = "4000000000002008"
TIME_OUT: Final = "4000000000003006"

TOKENS: Final = {
    "tok_approve": APPROVE,
    "tok_decline": DECLINE,
    "tok_insufficient_funds": INSUFFICIENT_FUNDS,
    "tok_settle_later": SETTLE_LATER,
    "tok_fail_later": FAIL_LATER,
    "tok_time_out": TIME_OUT,
}

# card → (status at once, status once settled, decline code)
_BEHAVIOUR: Final[dict[str, tuple[str, str, str | None]]] = {
    APPROVE: ("succeeded", "succeeded", None),
    DECLINE: ("failed", "failed", "card_declined"),
    INSUFFICIENT_FUNDS: ("failed", "failed", "insufficient_funds"),
    SETTLE_LATER: ("pending", "succeeded", None),
    FAIL_LATER: ("pending", "failed", "settlement_failed"),
    TIME_OUT: ("succeeded", "succeeded", None),
}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payments (
    reference TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    amount INTEGER NOT NULL,
    currency TEXT NOT NULL,
    initial TEXT NOT NULL,
    settled TEXT NOT NULL,
    decline_code TEXT,
    last4 TEXT NOT NULL,
    created_at REAL NOT NULL,
    settles_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS refunds (
    idempotency_key TEXT PRIMARY KEY,
    reference TEXT NOT NULL,
    amount INTEGER NOT NULL
);
"""


def _card_number(number: str) -> bool:
    """Whether ``number`` could be a card's: 12 to 19 digits ending in their Luhn check digit."""
    return number.isdecimal() and 12 <= len(number) <= 19 and luhn_valid(number)


class SandboxProvider:
    """The sandbox processor, keeping its payments in the SQLite file at ``path``."""

    name = "sandbox"

    def __init__(
        self,
        *,
        path: Path,
        webhook_secret: bytes,
        clock: Clock,
        settle_after: timedelta = timedelta(minutes=2),
        tolerance: timedelta = timedelta(minutes=5),
    ) -> None:
        self._path = path
        self._secret = webhook_secret
        self._clock = clock
        self._settle_after = settle_after
        self._tolerance = tolerance
        db = sqlite3.connect(self._path, timeout=30)
        try:
            db.executescript(_SCHEMA)
        finally:
            db.close()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self._path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        try:
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

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
        if amount.is_zero() or amount.is_negative():
            raise PaymentRefused(f"the sandbox takes positive amounts, not {amount}")
        number = TOKENS.get(source.strip()) or "".join(source.split())
        if source.startswith("tok_") and source.strip() not in TOKENS:
            raise PaymentRefused(f"the sandbox has no saved method {source.strip()!r}")
        if not _card_number(number):
            behaviour: tuple[str, str, str | None] = ("failed", "failed", "incorrect_number")
        else:
            behaviour = _BEHAVIOUR.get(number, ("failed", "failed", "card_not_supported"))
        initial, settled, decline_code = behaviour
        now = self._clock.now().timestamp()
        with self._db() as db:
            created = db.execute(
                "INSERT OR IGNORE INTO payments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    "sbx_" + secrets.token_hex(12),
                    idempotency_key,
                    amount.minor,
                    amount.currency,
                    initial,
                    settled,
                    decline_code,
                    number[-4:],
                    now,
                    now + self._settle_after.total_seconds(),
                ),
            ).rowcount
            row = db.execute(
                "SELECT * FROM payments WHERE idempotency_key = ?", (idempotency_key,)
            ).fetchone()
        if (row["amount"], row["currency"]) != (amount.minor, amount.currency):
            raise PaymentRefused("this idempotency key was used for another amount")
        if number == TIME_OUT and created:
            raise PaymentTimedOut("the sandbox processor did not answer (test card 3006)")
        return self._result(row)

    def _result(self, row: sqlite3.Row) -> PaymentResult:
        settled = self._clock.now().timestamp() >= row["settles_at"]
        status = PaymentStatus(row["settled"] if settled else row["initial"])
        return PaymentResult(
            reference=row["reference"],
            status=status,
            amount=Money(row["amount"], row["currency"]),
            decline_code=row["decline_code"] if status is PaymentStatus.FAILED else None,
            card_last4=row["last4"],
        )

    def fetch_payment(self, reference: str) -> PaymentResult:
        with self._db() as db:
            row = db.execute("SELECT * FROM payments WHERE reference = ?", (reference,)).fetchone()
        if row is None:
            raise PaymentRefused(f"the sandbox has no payment {reference}")
        return self._result(row)

    def find_payment(self, *, idempotency_key: str, order_reference: str) -> PaymentResult | None:
        with self._db() as db:
            row = db.execute(
                "SELECT * FROM payments WHERE idempotency_key = ?", (idempotency_key,)
            ).fetchone()
        return None if row is None else self._result(row)

    def refund(self, reference: str, *, amount: Money, idempotency_key: str) -> None:
        payment = self.fetch_payment(reference)
        if payment.status is not PaymentStatus.SUCCEEDED:
            raise PaymentRefused(f"payment {reference} has not succeeded; nothing to refund")
        if amount.currency != payment.amount.currency or amount > payment.amount:
            raise PaymentRefused(f"cannot refund {amount} of a payment of {payment.amount}")
        with self._db() as db:
            db.execute(
                "INSERT OR IGNORE INTO refunds VALUES (?, ?, ?)",
                (idempotency_key, reference, amount.minor),
            )

    def refunded(self, reference: str) -> int:
        """What was refunded of the payment, minor units (for tests and the demo)."""
        with self._db() as db:
            total = db.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE reference = ?", (reference,)
            ).fetchone()[0]
        return int(total)

    def webhook_for(
        self, reference: str, *, event_id: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The signed webhook the sandbox sends when the payment's status changes: the body
        and the headers, as they would arrive now."""
        payment = self.fetch_payment(reference)
        now = int(self._clock.now().timestamp())
        body = json.dumps(
            {
                "id": event_id or "evt_" + secrets.token_hex(12),
                "type": "payment.updated",
                "created": now,
                "data": {
                    "reference": reference,
                    "status": payment.status.value,
                    "amount": payment.amount.minor,
                    "currency": payment.amount.currency,
                },
            }
        ).encode()
        return body, {SIGNATURE_HEADER: sign(body, secret=self._secret, timestamp=now)}

    def parse_webhook(
        self, *, body: bytes, headers: Mapping[str, str], now: datetime
    ) -> PaymentEvent:
        header = headers.get(SIGNATURE_HEADER)
        if not header:
            raise InvalidWebhook(f"no {SIGNATURE_HEADER} header")
        parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
        try:
            timestamp = int(parts["t"])
        except (KeyError, ValueError):
            raise InvalidWebhook("the signature header has no timestamp") from None
        expected = sign(body, secret=self._secret, timestamp=timestamp)
        if not hmac.compare_digest(expected, header.strip()):
            raise InvalidWebhook("the webhook signature does not match")
        signed_at = _moment(timestamp, "the signature's timestamp")
        if abs(now - signed_at) > self._tolerance:
            raise InvalidWebhook("the webhook signature is too old")
        try:
            event = json.loads(body)
            data = event["data"]
            return PaymentEvent(
                event_id=str(event["id"]),
                reference=str(data["reference"]),
                status=PaymentStatus(data["status"]),
                occurred_at=_moment(int(event["created"]), "the event's creation time"),
                amount=_amount(data),
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidWebhook("the webhook body is not a sandbox payment event") from None


def _amount(data: Mapping[str, object]) -> Money | None:
    """The amount an event reports (older events carry none)."""
    if "amount" not in data:
        return None
    minor, currency = data["amount"], data.get("currency")
    if type(minor) is not int or not isinstance(currency, str):
        raise InvalidWebhook("the webhook's amount is not minor units with a currency")
    try:
        return Money(minor, currency)
    except InvalidAmount as error:
        raise InvalidWebhook(f"the webhook's amount: {error.message}") from None


def _moment(timestamp: int, what: str) -> datetime:
    """A Unix timestamp as an aware UTC datetime; InvalidWebhook when no date can hold it."""
    try:
        return datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidWebhook(f"{what} is not a date") from None


def sign(body: bytes, *, secret: bytes, timestamp: int) -> str:
    """The sandbox's signature header for ``body`` signed at ``timestamp``."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
