"""Auto-renewal: a line renews its plan by itself, a few days before its validity ends, paid
with a saved method (a processor's token, or the balance).

The retry rule: a failed attempt is tried again after 1 day, then after 3 more days; then,
when the line allows it, once from the balance; then auto-renewal is turned off and the line
waits for the subscriber. Every failure is told to the subscriber (an SMS queued in the
outbox). A renewal that succeeds resets the count. Every attempt is an order of its own
(``placed_by=auto_renewal``), so it has its quote, its history and its receipt like any
other. The lifecycle worker (and ``saldo orders reconcile``) calls ``renew_due``, which runs
``renew_automatically`` for each line with auto-renewal on; calling it again when nothing is
due does nothing.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from saldo.domain.email_address import check_email
from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.numbering import lookup_msisdn, mask_msisdn
from saldo.domain.operator import Presentation
from saldo.domain.orders import RENEWAL_RETRY_DELAYS, OrderState, next_renewal_attempt
from saldo.domain.periods import require_aware
from saldo.services.buy_plan import NotEnoughBalance, find_plan
from saldo.services.idempotency import fingerprint, internal_key
from saldo.services.lines import line_record
from saldo.services.notifications import SMS, queue, sms_allowed_from
from saldo.services.order_payment import pay_order
from saldo.services.orders import PlacedBy, UnableToOrder, create_order
from saldo.services.payment_flow import UnknownPaymentProvider
from saldo.services.ports import AutoRenewal, UnitOfWork
from saldo.services.ports.payments import (
    PaymentError,
    PaymentProvider,
    PaymentStatus,
    looks_like_a_card_number,
)
from saldo.services.settlement import BALANCE

log = logging.getLogger(__name__)

# Auto-renewal may be asked for up to this many days before the validity ends.
MAX_DAYS_BEFORE = 30


class UnableToSetAutoRenewal(SaldoError):
    code = "unable_to_set_auto_renewal"


class AutoRenewalNeedsPlan(UnableToSetAutoRenewal):
    """No plan was named, and the line has no auto-renewal whose plan could be kept."""

    code = "auto_renewal_needs_plan"


class RenewalOutcome(enum.StrEnum):
    NOT_DUE = "not_due"
    RENEWED = "renewed"
    PENDING = "pending"  # the payment is settling; reconciliation finishes it
    RETRY_LATER = "retry_later"
    GAVE_UP = "gave_up"  # the subscriber was told


@dataclass(frozen=True, slots=True)
class RenewalAttempt:
    outcome: RenewalOutcome
    order_id: int | None = None
    next_attempt_at: datetime | None = None
    reason: str | None = None


def set_auto_renewal(
    uow: UnitOfWork,
    *,
    msisdn: str,
    plan_code: str,
    provider: str,
    token: str | None,
    providers: Collection[str],
    fallback_to_balance: bool,
    days_before: int,
    email: str | None,
    enabled: bool,
    now: datetime,
) -> AutoRenewal:
    """Turn the line's auto-renewal on (or off) with a plan and a saved method: ``balance``,
    or one of ``providers`` with its ``token`` (never a card number: save the card with the
    processor and keep its token). Raises LineNotFound, UnknownPlan,
    UnableToSetAutoRenewal."""
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    email = None if email is None else check_email(email)
    if provider != BALANCE and provider not in providers:
        known = ", ".join([BALANCE, *providers])
        raise UnableToSetAutoRenewal(f"{provider!r} is not a payment provider here ({known})")
    if provider != BALANCE and not token:
        raise UnableToSetAutoRenewal(f"renewing with {provider} needs a saved method's token")
    if token is not None and looks_like_a_card_number(token):
        raise UnableToSetAutoRenewal(
            "that is a card number; Saldo keeps only the processor's token for a saved card"
        )
    if not 0 <= days_before <= MAX_DAYS_BEFORE:
        raise UnableToSetAutoRenewal("renew from 0 to 30 days before the validity ends")
    with uow:
        record = line_record(uow, number=number)
        plan = find_plan(record.operator, plan_code)
        assert record.operator.id is not None
        setting = AutoRenewal(
            line_id=record.line.id,
            operator_id=record.operator.id,
            plan_code=plan.code,
            provider=provider,
            token=None if provider == BALANCE else token,
            fallback_to_balance=fallback_to_balance or provider == BALANCE,
            days_before=days_before,
            enabled=enabled,
            failures=0,
            next_attempt_at=None,
            last_order_id=None,
            email=email,
        )
        uow.auto_renewals.put(setting, now=now)
        uow.commit()
    return setting


@dataclass(frozen=True, slots=True)
class LineAutoRenewal:
    """A line's auto-renewal as ``change_auto_renewal`` left it, ready to show."""

    msisdn: str
    setting: AutoRenewal
    presentation: Presentation


def change_auto_renewal(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    msisdn: str,
    plan_code: str | None,
    provider: str,
    token: str | None,
    fallback_to_balance: bool,
    days_before: int,
    email: str | None,
    enabled: bool,
    now: datetime,
) -> LineAutoRenewal:
    """``set_auto_renewal`` with the processors of ``providers``, the plan by default the
    one the line's auto-renewal has. Turning it off keeps its plan, saved method, schedule
    and email (unless another email is given), for turning it on again.

    Raises InvalidMsisdn, LineNotFound, AutoRenewalNeedsPlan, then everything
    ``set_auto_renewal`` raises."""
    number = lookup_msisdn(msisdn)
    with uow.reading():
        record = line_record(uow, number=number)
        current = uow.auto_renewals.get(record.line.id)
    if not enabled and current is not None:
        plan_code, provider, token = current.plan_code, current.provider, current.token
        fallback_to_balance, days_before = current.fallback_to_balance, current.days_before
        email = email or current.email
    if plan_code is None:
        if current is None:
            raise AutoRenewalNeedsPlan(f"{number} has no auto-renewal; name the plan it renews")
        plan_code = current.plan_code
    setting = set_auto_renewal(
        uow,
        msisdn=number,
        plan_code=plan_code,
        provider=provider,
        token=token,
        providers=providers.keys(),
        fallback_to_balance=fallback_to_balance,
        days_before=days_before,
        email=email,
        enabled=enabled,
        now=now,
    )
    return LineAutoRenewal(
        msisdn=record.line.msisdn,
        setting=setting,
        presentation=record.operator.presentation_for(record.line.language),
    )


def renew_automatically(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    msisdn: str,
    max_rate_age: timedelta,
    now: datetime,
) -> RenewalAttempt:
    """Renew the line if its auto-renewal is due: ``days_before`` its validity ends, or at
    the time a retry was scheduled. Idempotent per line, validity period and attempt."""
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    with uow.reading():
        record = line_record(uow, number=number)
        setting = uow.auto_renewals.get(record.line.id)
        last, waiting = None, False
        if setting is not None and setting.last_order_id is not None:
            last = uow.orders.get(setting.last_order_id)
            waiting = last is not None and any(
                p.status is PaymentStatus.PENDING for p in uow.payments.for_order(last.id)
            )
    if setting is None or not setting.enabled:
        return RenewalAttempt(RenewalOutcome.NOT_DUE)
    if last is not None and waiting:
        # The last attempt's payment is settling: reconciliation finishes it.
        return RenewalAttempt(RenewalOutcome.PENDING, order_id=last.id)
    if last is not None and last.state is OrderState.FULFILLED and setting.failures:
        setting = replace(setting, failures=0, next_attempt_at=None)
        with uow:
            uow.auto_renewals.record_attempt(
                setting.line_id, failures=0, next_attempt_at=None, last_order_id=last.id, now=now
            )
            uow.commit()
    valid_until = record.line.valid_until
    if setting.next_attempt_at is not None:
        due = now >= setting.next_attempt_at
    else:
        due = now >= valid_until - timedelta(days=setting.days_before)
    if not due:
        return RenewalAttempt(RenewalOutcome.NOT_DUE, next_attempt_at=setting.next_attempt_at)

    # Attempts 0, 1 and 2 use the saved method; a fourth, when allowed, the balance.
    fallback = setting.failures > len(RENEWAL_RETRY_DELAYS)
    provider = BALANCE if fallback else setting.provider
    # One order per validity period, attempt and saved method: a retry after a crash reuses
    # its keys; a new card saved by the subscriber starts a new attempt.
    method = fingerprint(provider, setting.token or "")[:12]
    period = f"{record.line.id}-{valid_until:%Y%m%d%H%M}-{setting.failures}-{method}"
    try:
        order = create_order(
            uow,
            msisdn=number,
            plan_code=setting.plan_code,
            pay_in=record.operator.currency,
            method="balance" if provider == BALANCE else "card",
            email=setting.email,
            channel=Channel.AUTO,
            placed_by=PlacedBy.AUTO_RENEWAL,
            idempotency_key=internal_key("auto-renewal", period),
            max_rate_age=max_rate_age,
            now=now,
            saldo_key=True,
        )
        paid = pay_order(
            uow,
            providers,
            order_id=order.id,
            provider=provider,
            source=setting.token,
            idempotency_key=internal_key("auto-renewal-pay", period),
            now=now,
            saldo_key=True,
        )
    except (NotEnoughBalance, PaymentError, UnableToOrder, UnknownPaymentProvider) as error:
        return _failed(
            uow, setting, msisdn=number, reason=error.message, fallback=fallback, now=now
        )
    renewed = paid.state is OrderState.FULFILLED
    with uow:
        # A pending payment keeps the count: if it fails, the retry rule goes on from here.
        uow.auto_renewals.record_attempt(
            setting.line_id,
            failures=0 if renewed else setting.failures,
            next_attempt_at=None,
            last_order_id=paid.id,
            now=now,
        )
        uow.commit()
    outcome = RenewalOutcome.RENEWED if renewed else RenewalOutcome.PENDING
    return RenewalAttempt(outcome, order_id=paid.id)


def renew_due(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    max_rate_age: timedelta,
    now: datetime,
    limit: int = 500,
) -> dict[RenewalOutcome, int]:
    """Run ``renew_automatically`` for every line with auto-renewal on that may be due (a
    retry due, or a validity ending within ``MAX_DAYS_BEFORE`` days); count the outcomes.
    One line's failure is logged and does not stop the others."""
    counts = dict.fromkeys(RenewalOutcome, 0)
    horizon = now + timedelta(days=MAX_DAYS_BEFORE)
    after = 0
    while True:
        with uow.reading():
            page = uow.auto_renewals.due_numbers(
                now=now, horizon=horizon, limit=limit, after_line_id=after
            )
        for line_id, number in page:
            after = line_id
            try:
                attempt = renew_automatically(
                    uow, providers, msisdn=number, max_rate_age=max_rate_age, now=now
                )
            except Exception:  # logged; the next pass tries again
                log.exception("auto-renewal of %s failed", mask_msisdn(number))
                continue
            counts[attempt.outcome] += 1
        if len(page) < limit:
            break
    return counts


def _failed(
    uow: UnitOfWork,
    setting: AutoRenewal,
    *,
    msisdn: str,
    reason: str,
    fallback: bool,
    now: datetime,
) -> RenewalAttempt:
    """Schedule the next attempt by the retry rule, or, after the last one, turn
    auto-renewal off; either way queue an SMS telling the subscriber (every failure is told,
    with how to renew by hand). A failure is counted once: when another worker recorded
    this attempt first (it replayed the same order), nothing more is written."""
    failures = setting.failures + 1
    retry_at = None if fallback else next_renewal_attempt(failures=failures, failed_at=now)
    if (
        retry_at is None
        and not fallback
        and setting.provider != BALANCE
        and (setting.fallback_to_balance)
    ):
        retry_at = now  # the balance, at the next pass
    with uow:
        # Compare and set, under the line's lock every settlement of it takes: the attempt
        # is recorded only if the setting is still as this attempt found it.
        uow.lines.get_by_msisdn(msisdn, for_update=True)
        current = uow.auto_renewals.get(setting.line_id)
        if current is None or (current.enabled, current.failures, current.last_order_id) != (
            setting.enabled,
            setting.failures,
            setting.last_order_id,
        ):
            if current is None or not current.enabled:
                return RenewalAttempt(RenewalOutcome.GAVE_UP, reason=reason)
            return RenewalAttempt(
                RenewalOutcome.RETRY_LATER, next_attempt_at=current.next_attempt_at, reason=reason
            )
        if retry_at is not None:
            uow.auto_renewals.record_attempt(
                setting.line_id,
                failures=failures,
                next_attempt_at=retry_at,
                last_order_id=setting.last_order_id,
                now=now,
            )
        else:
            off = replace(setting, enabled=False, failures=0, next_attempt_at=None)
            uow.auto_renewals.put(off, now=now)
        operator = uow.operators.get(setting.operator_id)
        assert operator is not None
        queue(
            uow,
            operator_id=setting.operator_id,
            line_id=setting.line_id,
            channel=SMS,
            key=f"auto-renewal-failed-{setting.line_id}-{now:%Y%m%d%H%M}-{failures}",
            recipient=msisdn,
            payload={
                "kind": "auto_renewal_failed",
                "line_id": setting.line_id,
                "plan": setting.plan_code,
                "retry_at": None if retry_at is None else retry_at.isoformat(),
            },
            now=now,
            not_before=sms_allowed_from(now, timezone=operator.timezone),
        )
        uow.commit()
    if retry_at is None:
        return RenewalAttempt(RenewalOutcome.GAVE_UP, reason=reason)
    return RenewalAttempt(RenewalOutcome.RETRY_LATER, next_attempt_at=retry_at, reason=reason)
