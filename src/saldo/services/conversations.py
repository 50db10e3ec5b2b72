"""What self-service channels remember between messages: replies given to gateway message
ids, plan offers waiting for a "yes", USSD sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from saldo.domain.errors import SaldoError
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.periods import require_aware
from saldo.services.buy_plan import (
    PlanPurchaseReceipt,
    PlanQuote,
    buy_plan,
    find_plan,
    price_plan,
)
from saldo.services.idempotency import internal_key
from saldo.services.lines import line_record, line_with_buckets
from saldo.services.ports import UnitOfWork

CONFIRMATION_WINDOW: Final = timedelta(minutes=10)
BUY_PLAN = "buy_plan"


class NothingToConfirm(SaldoError):
    code = "nothing_to_confirm"


@dataclass(frozen=True, slots=True)
class PlanOffer:
    quote: PlanQuote
    expires_at: datetime


def offer_plan(uow: UnitOfWork, *, msisdn: str, plan_code: str, now: datetime) -> PlanOffer:
    """Ask the line to confirm buying a plan from its balance within 10 minutes. Raises
    LineNotFound or UnknownPlan."""
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    with uow:
        found = line_with_buckets(uow, number=number)
        plan = find_plan(found.operator, plan_code)
        quote = price_plan(uow, found=found, plan=plan, now=now)
        expires_at = now + CONFIRMATION_WINDOW
        uow.conversations.ask_confirmation(
            line_id=found.line.id,
            action=BUY_PLAN,
            argument=f"{plan.code}@{quote.price.minor}",
            expires_at=expires_at,
            now=now,
        )
        uow.commit()
    return PlanOffer(quote=quote, expires_at=expires_at)


def confirm_offer(
    uow: UnitOfWork, *, msisdn: str, channel: Channel, now: datetime
) -> PlanPurchaseReceipt:
    """Carry out the line's pending offer. The offer is used up whatever the outcome; the
    purchase is keyed by the offer, so it happens at most once. Raises NothingToConfirm,
    LineNotFound, and whatever ``buy_plan`` raises."""
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    with uow:
        record = line_record(uow, number=number)
        pending = uow.conversations.take_confirmation(line_id=record.line.id, now=now)
        uow.commit()
    if pending is None or pending.action != BUY_PLAN:
        raise NothingToConfirm("there is nothing waiting for a confirmation")
    # The offer keeps the price quoted: the purchase charges that price or nothing.
    plan_code, _, quoted = pending.argument.partition("@")
    return buy_plan(
        uow,
        msisdn=number,
        plan_code=plan_code,
        expected_price=Money(int(quoted), record.operator.currency) if quoted else None,
        channel=channel,
        idempotency_key=internal_key("offer", pending.id),
        saldo_key=True,
        now=now,
    )


def remember_reply(
    uow: UnitOfWork, *, channel: str, message_id: str, reply: str, now: datetime
) -> None:
    """Keep the reply given to this gateway message (``recall_reply`` of the conversations
    repository reads it back); a reply already kept for it stays."""
    with uow:
        uow.conversations.remember_reply(
            channel=channel, message_id=message_id, reply=reply, now=require_aware(now)
        )
        uow.commit()


def touch_ussd_session(
    uow: UnitOfWork,
    *,
    session_id: str,
    msisdn: str,
    now: datetime,
    idle: timedelta,
    opening: bool,
) -> datetime | None:
    """Record activity on a USSD session and return when the dialog started; None when it
    has been silent for longer than ``idle``. An expired dialog stays expired (its late
    requests do not revive it), but a request that ``opens`` one (the code dialled, no
    choice yet) starts a new dialog, even under a session id the gateway used before."""
    with uow:
        started = uow.conversations.touch_ussd_session(
            session_id=session_id, msisdn=msisdn, now=require_aware(now), idle=idle, restart=opening
        )
        uow.commit()
    return started
