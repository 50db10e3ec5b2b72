"""Auto top-up: when a line's main money falls below a chosen threshold, top up a chosen
amount with a saved method (as Proximus offers). Operators turn it on in their catalog
(``auto_topup: true``).

Each charge is a payment of the one payment flow (``payment_flow``), purpose ``auto_topup``:
claimed before its processor is asked (one pending charge per line at most), so that a worker
that dies mid-charge neither charges twice nor loses the charge: the next pass finds it still
pending and asks the processor about it before anything new, and the processor's webhook
settles it as it settles an order's payment. What a settled charge does (credit the line,
or count a failure and retry by the rule) is ``auto_topup_settlement``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from saldo.domain.buckets import BucketKind
from saldo.domain.errors import SaldoError
from saldo.domain.money import Money, parse_money
from saldo.domain.numbering import lookup_msisdn, mask_msisdn
from saldo.domain.operator import Presentation
from saldo.domain.periods import require_aware
from saldo.domain.topup import TopUpAmountRefused, check_topup_amount
from saldo.services.auto_topup_settlement import tell
from saldo.services.lines import line_record
from saldo.services.payment_flow import (
    apply_result,
    ask_processor,
    charge,
    installation_id,
    settle_refunds_quietly,
)
from saldo.services.ports import (
    AutoTopUp,
    DuplicateIdempotencyKey,
    PaymentPurpose,
    StoredPayment,
    UnitOfWork,
)
from saldo.services.ports.payments import (
    PaymentProvider,
    PaymentRefused,
    PaymentStatus,
    looks_like_a_card_number,
)

log = logging.getLogger(__name__)

BATCH: Final = 200


class UnableToSetAutoTopUp(SaldoError):
    code = "unable_to_set_auto_topup"


class NoAutoTopUp(UnableToSetAutoTopUp):
    """The line has no auto top-up to turn off."""

    code = "no_auto_topup"


class AutoTopUpIncomplete(UnableToSetAutoTopUp):
    """Auto top-up is turned on with a threshold, an amount and a saved card's token, and
    one of them is missing."""

    code = "auto_topup_incomplete"


@dataclass(frozen=True, slots=True)
class LineAutoTopUp:
    """A line's auto top-up as ``change_auto_topup`` left it, ready to show."""

    msisdn: str
    threshold: Money
    amount: Money
    provider: str
    enabled: bool
    presentation: Presentation


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
        # Locked, as a charge being settled locks it: the settlement reads the setting and
        # writes it back, and must not put back what the subscriber just changed.
        record = line_record(uow, number=number, for_update=True)
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


def change_auto_topup(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    msisdn: str,
    below: str | None,
    amount: str | None,
    provider: str,
    token: str | None,
    enabled: bool,
    now: datetime,
    locale: str | None = None,
) -> LineAutoTopUp:
    """``set_auto_topup`` with the processors of ``providers``, ``below`` and ``amount`` as a
    person typed them (read in the operator's currency and ``locale``, by default the
    operator's: "2,00" in Belgium).
    Turning it off keeps the line's threshold, amount and saved card (the others are not
    needed then).

    Raises InvalidMsisdn, LineNotFound, NoAutoTopUp (turned off, and there is none),
    AutoTopUpIncomplete (turned on without a threshold, an amount and a token), an amount
    that cannot be read, then everything ``set_auto_topup`` raises."""
    number = lookup_msisdn(msisdn)
    with uow.reading():
        record = line_record(uow, number=number)
        current = uow.auto_topups.get(record.line.id)
    line, operator = record.line, record.operator
    if not enabled:
        if current is None:
            raise NoAutoTopUp(f"{line.msisdn} has no auto top-up")
        threshold = Money(current.threshold, current.currency)
        each = Money(current.amount, current.currency)
        provider, token = current.provider, current.token
    else:
        if below is None or amount is None or token is None:
            raise AutoTopUpIncomplete(
                "auto top-up is turned on with a threshold, an amount and a saved card's token"
            )
        locale = locale or operator.default_locale
        threshold = parse_money(below, currency=operator.currency, locale=locale)
        each = parse_money(amount, currency=operator.currency, locale=locale)
    set_auto_topup(
        uow,
        msisdn=line.msisdn,
        threshold=threshold,
        amount=each,
        provider=provider,
        token=token,
        providers=providers.keys(),
        enabled=enabled,
        now=now,
    )
    return LineAutoTopUp(
        msisdn=line.msisdn,
        threshold=threshold,
        amount=each,
        provider=provider,
        enabled=enabled,
        presentation=operator.presentation_for(line.language),
    )


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
        pending = uow.payments.pending(purpose=PaymentPurpose.AUTO_TOPUP, limit=BATCH)
    if pending:
        installation = installation_id(uow)
    for payment in pending:
        try:
            _resolve(uow, providers, payment=payment, installation=installation, now=now,
                     report=report)  # fmt: skip
        except Exception:  # logged; the next pass asks again
            log.exception("auto top-up charge %s could not be settled", payment.id)
    with uow.reading():
        due = uow.auto_topups.due(now=now, limit=BATCH)
    for setting, msisdn in due:
        try:
            _start(uow, providers, setting=setting, msisdn=msisdn, now=now, report=report)
        except Exception:  # logged; the next pass tries again
            log.exception("auto top-up of %s failed", mask_msisdn(msisdn))
    return report


def _resolve(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    payment: StoredPayment,
    installation: str,
    now: datetime,
    report: AutoTopUpReport,
) -> None:
    """Ask the processor about a charge whose answer never came, and settle it."""
    result = ask_processor(providers, payment, installation=installation, now=now)
    if result is None or result.status is PaymentStatus.PENDING:
        report.pending += 1
        return
    if apply_result(uow, payment_id=payment.id, result=result, now=now):
        settle_refunds_quietly(uow, providers, line_id=payment.line_id, now=now)
        _count(uow, payment, report)


def _count(uow: UnitOfWork, payment: StoredPayment, report: AutoTopUpReport) -> None:
    """Count a charge this pass settled: topped up, or failed (declined, or given back)."""
    with uow.reading():
        settled = uow.payments.get(payment.id) or payment
    if settled.status is PaymentStatus.PENDING:
        report.pending += 1
    elif settled.status is PaymentStatus.SUCCEEDED and settled.topup_id is not None:
        report.topped_up += 1
    else:
        report.failed += 1


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
        if uow.payments.pending_auto_topup(current.line_id) is not None:
            return  # another worker is charging it
        amount = Money(current.amount, current.currency)
        try:
            check_topup_amount(amount, rules=found.operator.topup)
        except TopUpAmountRefused as refused:
            # The operator's bounds moved since the setting was saved: a charge would only be
            # given back. The setting is switched off and the subscriber told, once.
            uow.auto_topups.put(replace(current, enabled=False, failures=0), now=now)
            tell(
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
            payment_id = uow.payments.add(
                operator_id=current.operator_id,
                line_id=current.line_id,
                purpose=PaymentPurpose.AUTO_TOPUP,
                order_id=None,
                provider=current.provider,
                idempotency_key=f"auto-topup-{uuid.uuid4()}",
                amount=current.amount,
                currency=current.currency,
                now=now,
            )
        except DuplicateIdempotencyKey:
            return  # another worker claimed it a moment earlier
        uow.commit()
        claimed = uow.payments.get(payment_id)
    assert claimed is not None
    try:
        charged = charge(
            uow,
            processor,
            payment=claimed,
            source=current.token,
            description=f"Auto top-up of {mask_msisdn(msisdn)}",
            payer_email=None,
            providers=providers,
            first_send=True,
            now=now,
        )
    except PaymentRefused:
        charged = claimed  # recorded as failed
    _count(uow, charged, report)
