"""Auto top-up: when a line's main money falls below a chosen threshold, top up a chosen
amount with a saved method (as Proximus offers). Operators turn it on in their catalog
(``auto_topup: true``).

Each charge is an attempt recorded before its processor is asked (idempotency key and
reference ``saldo-topup-<attempt id>``), so a worker that dies mid-charge neither charges
twice nor loses the charge: the next pass finds the attempt still pending and asks the
processor about it before anything new. A success credits the line like any top-up (its
validity rule and promotions included), in the same transaction as the attempt's outcome.
A failure is told to the subscriber and tried again after 1 day, then after 3 more; after
that the setting waits until the subscriber changes it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final

from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.numbering import lookup_msisdn, mask_msisdn
from saldo.domain.orders import next_renewal_attempt
from saldo.domain.periods import require_aware
from saldo.services.idempotency import fingerprint, internal_key
from saldo.services.lines import LineNotFound
from saldo.services.notifications import SMS, queue, sms_allowed_from
from saldo.services.payment_port import (
    PaymentError,
    PaymentProvider,
    PaymentResult,
    PaymentStatus,
    PaymentTimedOut,
)
from saldo.services.ports import AutoTopUp, AutoTopUpAttempt, UnitOfWork
from saldo.services.top_up import credit_topup

log = logging.getLogger(__name__)

BATCH: Final = 200


class UnableToSetAutoTopUp(SaldoError):
    code = "unable_to_set_auto_topup"


@dataclass(slots=True)
class AutoTopUpReport:
    topped_up: int = 0
    failed: int = 0
    pending: int = 0
    lines: list[str] = field(default_factory=list)


def set_auto_topup(
    uow: UnitOfWork,
    *,
    msisdn: str,
    threshold: Money,
    amount: Money,
    provider: str,
    token: str,
    providers: Collection[str],
    enabled: bool,
    now: datetime,
) -> AutoTopUp:
    """Turn the line's auto top-up on (or off). Raises LineNotFound, UnableToSetAutoTopUp
    (the operator does not offer it, another currency, an unknown provider, a card number
    instead of a token, an amount below the operator's minimum top-up)."""
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    if provider not in providers:
        raise UnableToSetAutoTopUp(f"{provider!r} is not a payment provider here")
    digits = "".join(token.split()).replace("-", "")
    if digits.isdigit() and 12 <= len(digits) <= 19:
        raise UnableToSetAutoTopUp(
            "that is a card number; Saldo keeps only the processor's token for a saved card"
        )
    with uow:
        record = uow.lines.get_by_msisdn(number)
        if record is None:
            raise LineNotFound(f"no line with number {number}")
        operator = record.operator
        assert operator.id is not None
        if not operator.auto_topup:
            raise UnableToSetAutoTopUp(f"{operator.name} does not offer auto top-up")
        for money in (threshold, amount):
            if money.currency != operator.currency:
                raise UnableToSetAutoTopUp(f"{money} is not in {operator.currency}")
        if amount < operator.topup.minimum:
            raise UnableToSetAutoTopUp(f"the least top-up is {operator.topup.minimum}")
        setting = AutoTopUp(
            line_id=record.line.id,
            operator_id=operator.id,
            threshold=threshold.minor,
            amount=amount.minor,
            currency=amount.currency,
            provider=provider,
            token=token,
            enabled=enabled,
        )
        uow.auto_topups.put(setting, now=now)
        uow.commit()
    return setting


def run_auto_topups(
    uow: UnitOfWork, providers: Mapping[str, PaymentProvider], *, now: datetime
) -> AutoTopUpReport:
    """Top up every line whose main money is below its auto top-up threshold (and whose
    retry, if any, is due); ask about attempts left pending first."""
    now = require_aware(now)
    report = AutoTopUpReport()
    with uow.reading():
        due = uow.auto_topups.due(now=now, limit=BATCH)
    for setting, msisdn in due:
        try:
            _top_up(uow, providers, setting=setting, msisdn=msisdn, now=now, report=report)
        except Exception:  # one line's trouble must not stop the others; next pass retries
            log.exception("auto top-up of %s failed", mask_msisdn(msisdn))
    return report


def _top_up(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    setting: AutoTopUp,
    msisdn: str,
    now: datetime,
    report: AutoTopUpReport,
) -> None:
    processor = providers.get(setting.provider)
    if processor is None:
        log.warning("auto top-up of %s: no provider %s", mask_msisdn(msisdn), setting.provider)
        return
    with uow:
        attempt = uow.auto_topups.pending_attempt(setting.line_id)
        if attempt is None:
            attempt_id = uow.auto_topups.add_attempt(
                operator_id=setting.operator_id,
                line_id=setting.line_id,
                provider=setting.provider,
                idempotency_key=f"auto-topup-{uuid.uuid4()}",
                amount=setting.amount,
                currency=setting.currency,
                now=now,
            )
            uow.commit()
            attempt = uow.auto_topups.pending_attempt(setting.line_id)
            assert attempt is not None and attempt.id == attempt_id
            fresh = True
        else:
            fresh = False
    reference = f"saldo-topup-{attempt.id}"
    try:
        if fresh:
            result: PaymentResult | None = processor.create_payment(
                amount=Money(attempt.amount, attempt.currency),
                source=setting.token,
                description=f"Auto top-up of {msisdn}",
                order_reference=reference,
                idempotency_key=reference,
            )
        else:
            result = processor.find_payment(idempotency_key=reference, order_reference=reference)
    except PaymentTimedOut:
        report.pending += 1
        return
    except PaymentError as error:
        result = PaymentResult(
            reference="",
            status=PaymentStatus.FAILED,
            amount=Money(attempt.amount, attempt.currency),
            decline_code=error.code,
        )
    if result is None:
        if fresh or (now - attempt.created_at).total_seconds() < 86_400:
            report.pending += 1
            return
        result = PaymentResult(
            reference="",
            status=PaymentStatus.FAILED,
            amount=Money(attempt.amount, attempt.currency),
            decline_code="never_received",
        )
    if result.status is PaymentStatus.PENDING:
        report.pending += 1
        return
    _settle(uow, setting=setting, attempt=attempt, msisdn=msisdn, result=result, now=now)
    if result.status is PaymentStatus.SUCCEEDED:
        report.topped_up += 1
        report.lines.append(msisdn)
    else:
        report.failed += 1


def _settle(
    uow: UnitOfWork,
    *,
    setting: AutoTopUp,
    attempt: AutoTopUpAttempt,
    msisdn: str,
    result: PaymentResult,
    now: datetime,
) -> None:
    amount = Money(attempt.amount, attempt.currency)
    with uow:
        record = uow.lines.get_by_msisdn(msisdn, for_update=True)
        assert record is not None
        operator = record.operator
        topup_id = None
        if result.status is PaymentStatus.SUCCEEDED:
            receipt = credit_topup(
                uow,
                record=record,
                amount=amount,
                channel=Channel.AUTO,
                key=internal_key("auto-topup", attempt.id),
                request=fingerprint("auto-topup", attempt.id, msisdn),
                now=now,
            )
            topup_id = receipt.topup_id
        if not uow.auto_topups.finish_attempt(
            attempt.id,
            status=result.status.value,
            reference=result.reference or None,
            decline_code=result.decline_code,
            topup_id=topup_id,
            now=now,
        ):
            return  # another pass settled it (rolled back with this transaction)
        if result.status is PaymentStatus.SUCCEEDED:
            failures, retry_at, kind = 0, None, "auto_topup_done"
        else:
            failures = setting.failures + 1
            retry_at = next_renewal_attempt(failures=failures, failed_at=now)
            kind = "auto_topup_failed"
        changed = replace(setting, failures=failures, next_attempt_at=retry_at)
        if result.status is PaymentStatus.FAILED and retry_at is None:
            changed = replace(changed, enabled=False, failures=0)
        uow.auto_topups.put(changed, now=now)
        assert operator.id is not None
        queue(
            uow,
            operator_id=operator.id,
            line_id=record.line.id,
            channel=SMS,
            key=f"{kind.replace('_', '-')}-{attempt.id}",
            recipient=msisdn,
            payload={
                "kind": kind,
                "line_id": record.line.id,
                "amount": attempt.amount,
                **({} if kind == "auto_topup_done" else {"reason": result.decline_code}),
            },
            now=now,
            not_before=sms_allowed_from(now, timezone=operator.timezone),
        )
        uow.commit()
