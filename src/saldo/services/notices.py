"""What a queued notification says, read at delivery: the facts a renderer needs, already
decided.

An outbox row holds a ``kind`` and the ids and values of its cause (see
``saldo.services.notifications``). When its turn comes, ``notice_for`` reads the database as
it is then and decides whether the message is still true: a message for a line that was
recycled (or whose number now belongs to another line) is dropped, an expiry reminder for a
line renewed meanwhile (its ``valid_until`` moved) or already expired is dropped, a
low-balance alert for a line topped up meanwhile is dropped, news of grace or suspension for
a line renewed meanwhile (or already in its next state) is dropped, an operator's event is
dropped when the operator has no webhook URL any more, a verification code is dropped once
its attempt is over (used, ended, expired) or the code is gone from the message (it is kept
only while the message is pending). What is left is a plain ``Notice``
that the channels render in the line's language without reading anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final

from saldo.domain.errors import SaldoError
from saldo.domain.lifecycle import LineState, state_at
from saldo.domain.money import Money
from saldo.domain.operator import Operator
from saldo.domain.topup import TopUpReceipt
from saldo.services.inquire_balance import balance_view
from saldo.services.notifications import EMAIL, SMS, WEBHOOK
from saldo.services.ports import LineWithBuckets, OutboxMessage, UnitOfWork
from saldo.services.receipts import Receipt, receipt_for
from saldo.services.top_up import replayed_receipt
from saldo.services.topup_settlement import topup_key

EXPIRY_REMINDER: Final = "expiry_reminder"
LOW_BALANCE: Final = "low_balance"
AUTO_RENEWAL_FAILED: Final = "auto_renewal_failed"
AUTO_TOPUP_DONE: Final = "auto_topup_done"
AUTO_TOPUP_FAILED: Final = "auto_topup_failed"
ORDER_RECEIPT: Final = "order_receipt"
# A card top-up's receipt (payload: ``payment_id``), sent once the payment is credited.
TOPUP_RECEIPT: Final = "topup_receipt"
# A verification code (payload: ``attempt_id``; the code itself is the message's secret).
SIGN_IN_CODE: Final = "sign_in_code"
ADD_LINE_CODE: Final = "add_line_code"
# A code proving an email address (by email, to that address; payload: ``attempt_id``).
EMAIL_CODE: Final = "email_code"
CODE_KINDS: Final = frozenset({SIGN_IN_CODE, ADD_LINE_CODE, EMAIL_CODE})
# A sign-in code goes by SMS, or to the line's proven email when the subscriber chose it.
_CODE_CHANNELS: Final = {
    SIGN_IN_CODE: frozenset({SMS, EMAIL}),
    ADD_LINE_CODE: frozenset({SMS}),
    EMAIL_CODE: frozenset({EMAIL}),
}
LAPSED: Final = {"line_in_grace": LineState.GRACE, "line_suspended": LineState.SUSPENDED}
SMS_KINDS: Final = frozenset(
    {EXPIRY_REMINDER, LOW_BALANCE, AUTO_RENEWAL_FAILED, AUTO_TOPUP_DONE, AUTO_TOPUP_FAILED}
    | LAPSED.keys()
)


class Undeliverable(SaldoError):
    """A queued message can never be written or sent: a kind no renderer knows, a payload
    without the facts it needs, a recipient that cannot receive. It is marked dead at once
    instead of being retried."""

    code = "undeliverable"


@dataclass(frozen=True, slots=True)
class LineNotice:
    """A notification to a line's subscriber whose facts still hold at delivery.

    Which fields are set depends on ``kind``: ``valid_until`` for an expiry reminder and for
    news of grace or suspension (the end of validity it is about), with ``lapsed_to`` and
    ``keep_until`` (when the number is recycled) for the latter; ``balance`` (the main money
    now) for a low-balance alert and a done auto top-up; ``threshold`` for a low-balance
    alert; ``amount`` for an auto top-up; ``plan_code`` and ``plan_name`` for a failed
    auto-renewal."""

    message: OutboxMessage
    kind: str
    operator: Operator
    msisdn: str
    language: str
    valid_until: datetime | None = None
    lapsed_to: LineState | None = None
    keep_until: datetime | None = None
    balance: Money | None = None
    threshold: Money | None = None
    amount: Money | None = None
    plan_code: str | None = None
    plan_name: str | None = None
    code: str | None = field(default=None, repr=False)
    code_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class OperatorEvent:
    """An event for an operator's own systems, to its webhook URL as configured now."""

    message: OutboxMessage
    operator_slug: str
    webhook_url: str


@dataclass(frozen=True, slots=True)
class ReceiptNotice:
    """The receipt email of a fulfilled order."""

    message: OutboxMessage
    receipt: Receipt


@dataclass(frozen=True, slots=True)
class TopUpReceiptNotice:
    """The receipt email of a card top-up, in the line's language."""

    message: OutboxMessage
    receipt: TopUpReceipt
    operator: Operator
    language: str


Notice = LineNotice | OperatorEvent | ReceiptNotice | TopUpReceiptNotice
# Reads what a message says at delivery, inside an open unit of work (None: no longer true).
NoticeReader = Callable[[UnitOfWork, OutboxMessage, datetime], "Notice | None"]


def notice_for(uow: UnitOfWork, message: OutboxMessage, now: datetime) -> Notice | None:
    """What ``message`` says at ``now``, read inside the caller's open unit of work; None
    when it is no longer true. Raises Undeliverable for a kind that is not written on the
    message's channel or a payload without the facts it needs."""
    kind = message.payload.get("kind")
    if message.channel == WEBHOOK:
        operator = uow.operators.get(message.operator_id)
        if operator is None or operator.webhook_url is None:
            return None
        return OperatorEvent(
            message=message, operator_slug=operator.slug, webhook_url=operator.webhook_url
        )
    if message.channel == EMAIL and kind == ORDER_RECEIPT:
        try:
            order_id = int(message.payload["order_id"])
        except (KeyError, TypeError, ValueError):
            raise Undeliverable(f"outbox message {message.key} names no order") from None
        return ReceiptNotice(message=message, receipt=receipt_for(uow, order_id=order_id))
    if message.channel == EMAIL and kind == TOPUP_RECEIPT:
        return _topup_receipt(uow, message)
    if kind in CODE_KINDS and message.channel in _CODE_CHANNELS[kind]:
        assert isinstance(kind, str)
        return _code_notice(uow, message, kind=kind, now=now)
    if (message.channel == SMS and kind in SMS_KINDS) or (
        message.channel == EMAIL and kind == EXPIRY_REMINDER
    ):
        assert isinstance(kind, str)
        found = _live_line(uow, message)
        return None if found is None else _line_notice(found, message, kind=kind, now=now)
    raise Undeliverable(f"no {message.channel} is written for a {kind!r} notification")


def _line_notice(
    found: LineWithBuckets, message: OutboxMessage, *, kind: str, now: datetime
) -> LineNotice | None:
    operator, line, payload = found.operator, found.line, message.payload
    notice = LineNotice(
        message=message,
        kind=kind,
        operator=operator,
        msisdn=line.msisdn,
        language=line.language,
    )
    if kind == EXPIRY_REMINDER:
        valid_until = _valid_until(payload)
        if line.valid_until != valid_until or now >= valid_until:
            return None  # renewed meanwhile, or too late to remind
        return _with(notice, valid_until=valid_until)
    if kind == LOW_BALANCE:
        balance = balance_view(found, now=now).main
        threshold = Money(_whole(payload, "threshold"), operator.currency)
        if balance >= threshold:
            return None  # topped up meanwhile
        return _with(notice, balance=balance, threshold=threshold)
    if kind == AUTO_RENEWAL_FAILED:
        code = _text(payload, "plan")
        names = {plan.code: plan.name_in(line.language) for plan in operator.plans}
        return _with(notice, plan_code=code, plan_name=names.get(code, code))
    if kind == AUTO_TOPUP_DONE:
        amount = Money(_whole(payload, "amount"), operator.currency)
        return _with(notice, amount=amount, balance=balance_view(found, now=now).main)
    if kind == AUTO_TOPUP_FAILED:
        return _with(notice, amount=Money(_whole(payload, "amount"), operator.currency))
    if kind in LAPSED:
        state, rules = LAPSED[kind], operator.lifecycle
        valid_until = _valid_until(payload)
        lapsed = line.valid_until == valid_until and state is state_at(
            stored_state=line.state, valid_until=valid_until, rules=rules, now=now
        )
        if not lapsed:
            return None  # renewed meanwhile, or already in its next state
        return _with(
            notice,
            valid_until=valid_until,
            lapsed_to=state,
            keep_until=rules.recycles_at(valid_until),
        )
    raise Undeliverable(f"no SMS is written for outbox message {message.key} ({kind!r})")


def _code_notice(
    uow: UnitOfWork, message: OutboxMessage, *, kind: str, now: datetime
) -> LineNotice | None:
    if message.secret is None:
        return None  # sent, or given up on: the code is gone from the message
    attempt = uow.access.attempt(_whole(message.payload, "attempt_id"))
    if attempt is None:
        raise Undeliverable(f"outbox message {message.key} names no sign-in attempt")
    if attempt.used_at is not None or attempt.ended_at is not None or now >= attempt.expires_at:
        return None  # the code works no more
    found = _live_line(uow, message)
    if found is None:
        return None
    seconds = (attempt.expires_at - now).total_seconds()
    return LineNotice(
        message=message,
        kind=kind,
        operator=found.operator,
        msisdn=found.line.msisdn,
        language=found.line.language,
        code=message.secret,
        code_minutes=-int(-seconds // 60),
    )


def _topup_receipt(uow: UnitOfWork, message: OutboxMessage) -> TopUpReceiptNotice | None:
    """The receipt of the top-up a card payment was credited as; None once the number is
    another line's."""
    payment = uow.payments.get(_whole(message.payload, "payment_id"))
    if payment is None:
        raise Undeliverable(f"outbox message {message.key} names no payment")
    found = uow.lines.get_with_buckets(payment.msisdn)
    credited = uow.topups.get_by_key(
        operator_id=payment.operator_id, idempotency_key=topup_key(payment.id)
    )
    if found is None or found.line.id != payment.line_id or credited is None:
        return None
    receipt = replayed_receipt(credited, line=found.line, operator=found.operator)
    return TopUpReceiptNotice(
        message=message,
        receipt=replace(receipt, replayed=False),
        operator=found.operator,
        language=found.line.language,
    )


def _with(notice: LineNotice, **facts: Any) -> LineNotice:
    return replace(notice, **facts)


def _live_line(uow: UnitOfWork, message: OutboxMessage) -> LineWithBuckets | None:
    if message.line_id is None or message.msisdn is None:
        raise Undeliverable(f"outbox message {message.key} names no line")
    found = uow.lines.get_with_buckets(message.msisdn)
    if found is None or found.line.id != message.line_id:
        return None  # the number went to another line after this one was recycled
    if found.line.state is LineState.RECYCLED:
        return None
    return found


def _valid_until(payload: Mapping[str, Any]) -> datetime:
    try:
        valid_until = datetime.fromisoformat(_text(payload, "valid_until"))
    except ValueError:
        raise Undeliverable("the payload's valid_until is not an ISO 8601 time") from None
    if valid_until.tzinfo is None:
        raise Undeliverable("the payload's valid_until has no time zone")
    return valid_until


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise Undeliverable(f"the payload has no {name}")
    return value


def _whole(payload: Mapping[str, Any], name: str) -> int:
    value = payload.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise Undeliverable(f"the payload's {name} is not a whole number of minor units")
    return value
