"""Notifications to subscribers, written at delivery from the database as it is then.

Each kind first checks that it is still true: a message for a line that was recycled (or
whose number now belongs to another line) is dropped, an expiry reminder for a line renewed
meanwhile (its ``valid_until`` moved) or already expired is dropped, a low-balance alert for a
line topped up meanwhile is dropped, news of grace or suspension for a line renewed meanwhile
(or already in its next state) is dropped. The renderer then returns None and the outbox
marks the message skipped. The text is in the line's language, money in its locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from saldo.channels.notifications.texts import (
    Ways,
    auto_renewal_failed_sms,
    auto_topup_done_sms,
    auto_topup_failed_sms,
    expiry_email,
    expiry_sms,
    lapsed_sms,
    low_balance_sms,
)
from saldo.channels.sms.replies import Speaker
from saldo.domain.lifecycle import LineState, state_at
from saldo.domain.money import Money
from saldo.domain.operator import Operator
from saldo.services.inquire_balance import balance_view
from saldo.services.mail_port import OutgoingEmail
from saldo.services.outbox import OutgoingSms, Undeliverable, message_id
from saldo.services.ports import LineWithBuckets, OutboxMessage, UnitOfWork

EXPIRY_REMINDER = "expiry_reminder"
LOW_BALANCE = "low_balance"
AUTO_RENEWAL_FAILED = "auto_renewal_failed"
AUTO_TOPUP_DONE = "auto_topup_done"
AUTO_TOPUP_FAILED = "auto_topup_failed"
LAPSED = {"line_in_grace": LineState.GRACE, "line_suspended": LineState.SUSPENDED}
SMS_KINDS = frozenset(
    {EXPIRY_REMINDER, LOW_BALANCE, AUTO_RENEWAL_FAILED, AUTO_TOPUP_DONE, AUTO_TOPUP_FAILED}
    | LAPSED.keys()
)


def subscriber_sms(uow: UnitOfWork, message: OutboxMessage, now: datetime) -> OutgoingSms | None:
    """The SMS ``message`` stands for, from the operator's short code, or None when it is no
    longer true. Raises Undeliverable for a kind or payload it cannot write."""
    found = _live_line(uow, message)
    if found is None:
        return None
    operator, line = found.operator, found.line
    speaker = Speaker(operator=operator, language=line.language)
    payload = message.payload
    kind = payload.get("kind")
    text: str | None
    if kind == EXPIRY_REMINDER:
        valid_until = _still_due(found, payload, now=now)
        text = (
            None
            if valid_until is None
            else expiry_sms(
                speaker, valid_until=valid_until, ways=renewal_ways(speaker, plan_code=None)
            )
        )
    elif kind == LOW_BALANCE:
        balance = balance_view(found, now=now).main
        threshold = Money(_whole(payload, "threshold"), operator.currency)
        text = (
            None
            if balance >= threshold
            else low_balance_sms(
                speaker, balance=balance, threshold=threshold, ways=topup_ways(operator)
            )
        )
    elif kind == AUTO_RENEWAL_FAILED:
        code = _text(payload, "plan")
        names = {plan.code: speaker.name_of(plan) for plan in operator.plans}
        text = auto_renewal_failed_sms(
            speaker,
            plan_name=names.get(code, code),
            plan_code=code,
            ways=renewal_ways(speaker, plan_code=code),
        )
    elif kind == AUTO_TOPUP_DONE:
        text = auto_topup_done_sms(
            speaker,
            amount=Money(_whole(payload, "amount"), operator.currency),
            balance=balance_view(found, now=now).main,
        )
    elif kind == AUTO_TOPUP_FAILED:
        text = auto_topup_failed_sms(
            speaker,
            amount=Money(_whole(payload, "amount"), operator.currency),
            ways=topup_ways(operator),
        )
    elif isinstance(kind, str) and kind in LAPSED:
        state = LAPSED[kind]
        rules = operator.lifecycle
        valid_until = _valid_until(payload)
        lapsed = found.line.valid_until == valid_until and state is state_at(
            stored_state=found.line.state, valid_until=valid_until, rules=rules, now=now
        )
        text = (
            lapsed_sms(
                speaker,
                state=state,
                keep_until=rules.recycles_at(valid_until),
                ways=renewal_ways(speaker, plan_code=None),
            )
            if lapsed
            else None
        )
    else:
        raise Undeliverable(f"no SMS is written for outbox message {message.key} ({kind!r})")
    if text is None:
        return None
    return OutgoingSms(to=message.recipient, sender=operator.sms.short_code, text=text)


def expiry_reminder_email(
    uow: UnitOfWork, message: OutboxMessage, now: datetime
) -> OutgoingEmail | None:
    """The expiry reminder by email to the message's recipient, or None when the line was
    renewed, expired or recycled meanwhile. Raises Undeliverable when the recipient cannot
    receive email."""
    found = _live_line(uow, message)
    if found is None:
        return None
    valid_until = _still_due(found, message.payload, now=now)
    if valid_until is None:
        return None
    speaker = Speaker(operator=found.operator, language=found.line.language)
    try:
        return expiry_email(
            speaker,
            msisdn=found.line.msisdn,
            valid_until=valid_until,
            ways=renewal_ways(speaker, plan_code=None),
            to=message.recipient,
            message_id=message_id(message.key),
        )
    except ValueError as error:
        raise Undeliverable(f"outbox message {message.key}: {error}") from None


def _live_line(uow: UnitOfWork, message: OutboxMessage) -> LineWithBuckets | None:
    if message.line_id is None or message.msisdn is None:
        raise Undeliverable(f"outbox message {message.key} names no line")
    found = uow.lines.get_with_buckets(message.msisdn)
    if found is None or found.line.id != message.line_id:
        return None  # the number went to another line after this one was recycled
    if found.line.state is LineState.RECYCLED:
        return None
    return found


def _still_due(
    found: LineWithBuckets, payload: Mapping[str, Any], *, now: datetime
) -> datetime | None:
    """The end of validity the reminder is about, while it is still the line's and ahead."""
    valid_until = _valid_until(payload)
    if found.line.valid_until != valid_until or now >= valid_until:
        return None
    return valid_until


def _valid_until(payload: Mapping[str, Any]) -> datetime:
    try:
        valid_until = datetime.fromisoformat(_text(payload, "valid_until"))
    except ValueError:
        raise Undeliverable("the payload's valid_until is not an ISO 8601 time") from None
    if valid_until.tzinfo is None:
        raise Undeliverable("the payload's valid_until has no time zone")
    return valid_until


def renewal_ways(speaker: Speaker, *, plan_code: str | None) -> Ways:
    """Renewing by SMS names a plan: the one given, else the operator's shortest."""
    operator = speaker.operator
    if plan_code is None and operator.plans:
        plan_code = min(operator.plans, key=lambda plan: plan.months).code
    keyword = f"{speaker.keyword('renew')} {plan_code}" if plan_code else None
    return Ways(
        short_code=operator.sms.short_code,
        ussd=operator.ussd_code,
        keyword=keyword,
        app=operator.apps[0] if operator.apps else None,
        web=operator.web,
    )


def topup_ways(operator: Operator) -> Ways:
    # A top-up by SMS needs a voucher PIN: the USSD menu and the app are the ways to offer.
    return Ways(
        short_code=operator.sms.short_code,
        ussd=operator.ussd_code,
        app=operator.apps[0] if operator.apps else None,
        web=operator.web,
    )


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
