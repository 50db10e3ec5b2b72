"""Auto top-up: when a line's main money falls below a chosen threshold, top up a chosen
amount with a saved method (as Proximus offers). Operators turn it on in their catalog
(``auto_topup: true``).

Each charge is an attempt recorded before its processor is asked (idempotency key and
reference ``saldo-<installation id>-topup-<attempt id>``), so a worker that dies mid-charge
neither charges twice nor loses the charge: the next pass finds the attempt still pending and
asks the processor about it before anything new. A success credits the line like any top-up (its
validity rule and promotions included), in the same transaction as the attempt's outcome.
A failure is told to the subscriber and tried again after 1 day, then after 3 more; after
that the setting waits until the subscriber changes it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from saldo.domain.buckets import BucketKind
from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.numbering import lookup_msisdn, mask_msisdn
from saldo.domain.orders import next_renewal_attempt
from saldo.domain.periods import require_aware
from saldo.domain.topup import TopUpAmountRefused, check_topup_amount
from saldo.services.idempotency import fingerprint, internal_key
from saldo.services.lines import LineNotFound
from saldo.services.notifications import SMS, queue, sms_allowed_from
from saldo.services.payment_port import (
    PaymentError,
    PaymentProvider,
    PaymentResult,
    PaymentStatus,
    PaymentTimedOut,
    looks_like_a_card_number,
)
from saldo.services.ports import (
    AutoTopUp,
    AutoTopUpAttempt,
    DuplicateIdempotencyKey,
    LineRecord,
    UnitOfWork,
)
from saldo.services.settlement import installation_id
from saldo.services.top_up import credit_topup

log = logging.getLogger(__name__)

BATCH: Final = 200
# A charge the processor never received is given up after this long.
LOST_AFTER: Final = timedelta(hours=24)


class UnableToSetAutoTopUp(SaldoError):
    code = "unable_to_set_auto_topup"


@dataclass(slots=True)
class AutoTopUpReport:
    topped_up: int = 0
    failed: int = 0
    pending: int = 0


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
    instead of a token, an amount below the operator's minimum top-up or below the
    threshold)."""
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    if provider not in providers:
        raise UnableToSetAutoTopUp(f"{provider!r} is not a payment provider here")
    if looks_like_a_card_number(token):
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
        try:
            check_topup_amount(amount, rules=operator.topup)
        except TopUpAmountRefused as refused:
            raise UnableToSetAutoTopUp(refused.message) from None
        if amount < threshold:
            # One top-up must lift an empty balance over the threshold, or the worker would
            # charge again at every pass.
            raise UnableToSetAutoTopUp(f"top up at least the threshold, {threshold}")
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
    """First settle the charges still pending (whatever their line's balance or setting is
    now: money taken is credited or given back), then top up every line whose main money is
    below its threshold and whose retry, if any, is due. One line's trouble is logged and
    does not stop the others."""
    now = require_aware(now)
    report = AutoTopUpReport()
    with uow.reading():
        pending = uow.auto_topups.pending_attempts(limit=BATCH)
    for attempt in pending:
        try:
            _resolve(uow, providers, attempt=attempt, now=now, report=report)
        except Exception:  # logged; the next pass asks again
            log.exception("auto top-up charge %s could not be settled", attempt.id)
    with uow.reading():
        due = uow.auto_topups.due(now=now, limit=BATCH)
    for setting, msisdn in due:
        try:
            _start(uow, providers, setting=setting, msisdn=msisdn, now=now, report=report)
        except Exception:  # logged; the next pass tries again
            log.exception("auto top-up of %s failed", mask_msisdn(msisdn))
    return report


def _reference(uow: UnitOfWork, attempt_id: int) -> str:
    """The charge's idempotency key and reference at its processor (unique to the
    installation, as ``processor_reference`` is)."""
    return f"saldo-{installation_id(uow)}-topup-{attempt_id}"


def _resolve(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    attempt: AutoTopUpAttempt,
    now: datetime,
    report: AutoTopUpReport,
) -> None:
    """Ask the processor about a charge whose answer never came, and settle it."""
    processor = providers.get(attempt.provider)
    if processor is None:
        report.pending += 1
        return
    reference = _reference(uow, attempt.id)
    try:
        result = processor.find_payment(idempotency_key=reference, order_reference=reference)
    except PaymentTimedOut:
        report.pending += 1
        return
    if result is None and now - attempt.created_at < LOST_AFTER:
        report.pending += 1
        return
    if result is None:
        result = _failed(attempt, "never_received")
    _settle(uow, providers, attempt=attempt, result=result, now=now, report=report)


def _start(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    setting: AutoTopUp,
    msisdn: str,
    now: datetime,
    report: AutoTopUpReport,
) -> None:
    """Claim a charge for the line, if it is still due once its row is locked, then ask the
    processor and settle it."""
    processor = providers.get(setting.provider)
    if processor is None:
        log.warning("auto top-up: no provider %s", setting.provider)
        return
    with uow:
        found = uow.lines.get_by_msisdn(msisdn, for_update=True)
        current = uow.auto_topups.get(setting.line_id)
        buckets = uow.lines.get_with_buckets(msisdn)
        if found is None or current is None or buckets is None or not current.enabled:
            return
        main = sum(b.balance for b in buckets.buckets if b.kind is BucketKind.MAIN)
        if main >= current.threshold:
            return  # topped up meanwhile (by hand, or by another worker)
        if current.next_attempt_at is not None and now < current.next_attempt_at:
            return
        if uow.auto_topups.pending_attempt(current.line_id) is not None:
            return  # another worker is charging it
        amount = Money(current.amount, current.currency)
        try:
            check_topup_amount(amount, rules=found.operator.topup)
        except TopUpAmountRefused as refused:
            # The operator's bounds moved since the setting was saved: a charge would only be
            # given back. The setting is switched off and the subscriber told, once.
            uow.auto_topups.put(replace(current, enabled=False, failures=0), now=now)
            _tell(
                uow,
                record=found,
                reference=f"off-{current.line_id}-{now:%Y%m%d%H%M%S}",
                amount=current.amount,
                kind="auto_topup_failed",
                extra={"reason": refused.code},
                now=now,
            )
            uow.commit()
            report.failed += 1
            return
        try:
            attempt_id = uow.auto_topups.add_attempt(
                operator_id=current.operator_id,
                line_id=current.line_id,
                provider=current.provider,
                idempotency_key=f"auto-topup-{uuid.uuid4()}",
                amount=current.amount,
                currency=current.currency,
                now=now,
            )
        except DuplicateIdempotencyKey:
            return  # another worker claimed it a moment earlier
        uow.commit()
    with uow.reading():
        attempt = uow.auto_topups.pending_attempt(current.line_id)
    assert attempt is not None and attempt.id == attempt_id
    reference = _reference(uow, attempt.id)
    try:
        result = processor.create_payment(
            amount=Money(attempt.amount, attempt.currency),
            source=current.token,
            description=f"Auto top-up of {mask_msisdn(msisdn)}",
            order_reference=reference,
            idempotency_key=reference,
        )
    except PaymentTimedOut:
        report.pending += 1  # the next pass finds it at the processor
        return
    except PaymentError as error:
        result = _failed(attempt, error.code)
    if result.status is PaymentStatus.PENDING:
        report.pending += 1
        return
    _settle(uow, providers, attempt=attempt, result=result, now=now, report=report)


def _failed(attempt: AutoTopUpAttempt, code: str) -> PaymentResult:
    return PaymentResult(
        reference="",
        status=PaymentStatus.FAILED,
        amount=Money(attempt.amount, attempt.currency),
        decline_code=code,
    )


def _settle(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    attempt: AutoTopUpAttempt,
    result: PaymentResult,
    now: datetime,
    report: AutoTopUpReport,
) -> None:
    """Credit a succeeded charge (or give it back when the line can no longer take it:
    recycled, or below a new minimum), or record a failed one; apply the retry rule and
    tell the subscriber, in one transaction."""
    if result.status is PaymentStatus.PENDING:
        report.pending += 1
        return
    amount = Money(attempt.amount, attempt.currency)
    outcome = result
    if result.status is PaymentStatus.SUCCEEDED:
        try:
            if _credit(uow, attempt=attempt, result=result, now=now):
                report.topped_up += 1
            return
        except SaldoError as refused:
            # Taken but not creditable: it goes back, and the charge counts as failed.
            processor = providers[attempt.provider]
            processor.refund(
                result.reference,
                amount=amount,
                idempotency_key=f"{_reference(uow, attempt.id)}-refund",
            )
            outcome = _failed(attempt, refused.code)
    with uow:
        record = uow.lines.get_by_msisdn(attempt.msisdn, for_update=True)
        assert record is not None
        if not uow.auto_topups.finish_attempt(
            attempt.id,
            status=PaymentStatus.FAILED.value,
            reference=result.reference or None,
            decline_code=outcome.decline_code,
            topup_id=None,
            now=now,
        ):
            return
        setting = uow.auto_topups.get(attempt.line_id)
        if setting is not None:
            failures = setting.failures + 1
            retry_at = next_renewal_attempt(failures=failures, failed_at=now)
            changed = replace(setting, failures=failures, next_attempt_at=retry_at)
            if retry_at is None:
                changed = replace(changed, enabled=False, failures=0)
            uow.auto_topups.put(changed, now=now)
        _tell(
            uow,
            record=record,
            reference=str(attempt.id),
            amount=attempt.amount,
            kind="auto_topup_failed",
            extra={"reason": outcome.decline_code},
            now=now,
        )
        uow.commit()
    report.failed += 1


def _credit(
    uow: UnitOfWork, *, attempt: AutoTopUpAttempt, result: PaymentResult, now: datetime
) -> bool:
    """Credit a succeeded charge like any top-up; False when it was settled already.
    Raises the top-up's own errors (nothing written then)."""
    with uow:
        record = uow.lines.get_by_msisdn(attempt.msisdn, for_update=True)
        assert record is not None
        receipt = credit_topup(
            uow,
            record=record,
            amount=Money(attempt.amount, attempt.currency),
            channel=Channel.AUTO,
            key=internal_key("auto-topup", attempt.id),
            request=fingerprint("auto-topup", attempt.id, attempt.msisdn),
            now=now,
        )
        if not uow.auto_topups.finish_attempt(
            attempt.id,
            status=PaymentStatus.SUCCEEDED.value,
            reference=result.reference or None,
            decline_code=None,
            topup_id=receipt.topup_id,
            now=now,
        ):
            return False  # another pass settled it; this transaction rolls back
        setting = uow.auto_topups.get(attempt.line_id)
        if setting is not None:
            uow.auto_topups.put(replace(setting, failures=0, next_attempt_at=None), now=now)
        _tell(
            uow,
            record=record,
            reference=str(attempt.id),
            amount=attempt.amount,
            kind="auto_topup_done",
            extra={},
            now=now,
        )
        uow.commit()
    return True


def _tell(
    uow: UnitOfWork,
    *,
    record: LineRecord,
    reference: str,
    amount: int,
    kind: str,
    extra: dict[str, object],
    now: datetime,
) -> None:
    """Queue an SMS about an auto top-up (``reference``: its attempt, which keys it)."""
    operator = record.operator
    assert operator.id is not None
    queue(
        uow,
        operator_id=operator.id,
        line_id=record.line.id,
        channel=SMS,
        key=f"{kind.replace('_', '-')}-{reference}",
        recipient=record.line.msisdn,
        payload={"kind": kind, "line_id": record.line.id, "amount": amount, **extra},
        now=now,
        not_before=sms_allowed_from(now, timezone=operator.timezone),
    )
