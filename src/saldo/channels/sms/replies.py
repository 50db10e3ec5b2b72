"""Replies for the self-service channels (SMS and USSD), rendered from plain data in the
line's language. No queries and no rules here: the use cases decided everything already."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from saldo.domain.errors import SaldoError
from saldo.domain.lifecycle import LineState
from saldo.domain.money import Money, format_money
from saldo.domain.operator import Named, Operator
from saldo.domain.topup import TopUpReceipt
from saldo.i18n import last_valid_day, local_moment, quantities, translate
from saldo.services.buy_plan import (
    NotEnoughBalance,
    PlanPurchaseReceipt,
    PlanQuote,
    PriceChanged,
    UnknownPlan,
)
from saldo.services.conversations import NothingToConfirm
from saldo.services.inquire_balance import BalanceView
from saldo.services.lines import LineRecycled
from saldo.services.vouchers import (
    RedemptionBlocked,
    VoucherAlreadyUsed,
    VoucherExpired,
    VoucherVoided,
    WrongPin,
)


@dataclass(frozen=True, slots=True)
class Speaker:
    """Who is spoken to: the operator and the line's language and locale."""

    operator: Operator
    language: str

    @property
    def locale(self) -> str:
        return self.operator.locale_for(self.language)

    def say(self, key: str, **values: object) -> str:
        return translate(key, language=self.language, **values)

    def money(self, amount: Money) -> str:
        return format_money(amount, locale=self.locale)

    def name_of(self, sold: Named) -> str:
        """A plan's or an add-on's name in the line's language."""
        return sold.name_in(self.language)

    def day(self, valid_until: datetime) -> str:
        return last_valid_day(valid_until, timezone=self.operator.timezone, locale=self.locale)

    def keyword(self, action: str) -> str:
        return self.operator.sms.keyword_for(
            action, language=self.language, default_language=self.operator.languages[0]
        )


def balance(speaker: Speaker, view: BalanceView) -> str:
    allowances = quantities(
        locale=speaker.locale,
        voice_seconds=view.voice_seconds,
        sms=view.sms,
        data_bytes=view.data_bytes,
    )
    state = ""
    if view.state is LineState.GRACE:
        state = speaker.say("note_grace", days=view.days_until_recycling)
    elif view.state is LineState.SUSPENDED:
        state = speaker.say("note_suspended", days=view.days_until_recycling)
    return speaker.say(
        "balance",
        operator=view.operator_name,
        main=speaker.money(view.main),
        bonus=speaker.say("balance_bonus", bonus=speaker.money(view.bonus))
        if view.bonus.minor
        else "",
        allowances=(", " if speaker.language != "zh" else "，") + allowances if allowances else "",
        valid_until=speaker.day(view.valid_until),
        state=state,
    )


def help_text(speaker: Speaker) -> str:
    return speaker.say(
        "help",
        operator=speaker.operator.name,
        balance=speaker.keyword("balance"),
        topup=speaker.keyword("topup"),
        plans=speaker.keyword("plans"),
        renew=speaker.keyword("renew"),
        ussd=speaker.operator.ussd_code,
    )


def topped_up(speaker: Speaker, receipt: TopUpReceipt) -> str:
    if receipt.replayed:  # a PIN this line had already used
        return speaker.say(
            "topup_already_applied",
            amount=speaker.money(receipt.amount),
            receipt=receipt.receipt_number,
        )
    return speaker.say(
        "topup_ok",
        amount=speaker.money(receipt.amount),
        balance=speaker.money(receipt.balance),
        valid_until=speaker.day(receipt.valid_until),
        receipt=receipt.receipt_number,
    )


def plan_list(speaker: Speaker) -> str:
    items = ", ".join(f"{plan.code} {speaker.money(plan.price)}" for plan in speaker.operator.plans)
    return speaker.say("plans", items=items, renew=speaker.keyword("renew"))


def offer(speaker: Speaker, quote: PlanQuote) -> str:
    values = {
        "plan": quoted_plan_name(speaker, quote),
        "price": speaker.money(quote.price),
        "balance": speaker.money(quote.balance),
    }
    return speaker.say("offer" if quote.affordable else "offer_unaffordable", **values)


def quoted_plan_name(speaker: Speaker, quote: PlanQuote) -> str:
    """The plan's name, with the promotion that applies to it: "Plan 12 meses (1 mes gratis)"."""
    name = speaker.name_of(quote.plan)
    return name if quote.promotion is None else f"{name} ({quote.promotion})"


def plan_bought(speaker: Speaker, receipt: PlanPurchaseReceipt) -> str:
    return speaker.say(
        "plan_ok",
        plan=speaker.name_of(receipt.plan),
        balance=speaker.money(receipt.balance),
        valid_until=speaker.day(receipt.valid_until),
    )


def blocked(speaker: Speaker, until: datetime) -> str:
    moment = local_moment(until, timezone=speaker.operator.timezone, locale=speaker.locale)
    return speaker.say("blocked", until=moment)


def refusal(speaker: Speaker, error: SaldoError) -> str:
    """A refusal in the subscriber's words."""
    if isinstance(error, RedemptionBlocked):
        return blocked(speaker, error.until)
    if isinstance(error, WrongPin):
        return speaker.say("wrong_pin", left=error.attempts_left)
    simple = {
        VoucherAlreadyUsed: "voucher_used",
        VoucherExpired: "voucher_expired",
        VoucherVoided: "voucher_void",
        NothingToConfirm: "nothing_to_confirm",
        LineRecycled: "recycled",
    }
    for kind, key in simple.items():
        if isinstance(error, kind):
            return speaker.say(key)
    if isinstance(error, PriceChanged):
        return speaker.say(
            "price_changed",
            plan=speaker.name_of(error.plan),
            price=speaker.money(error.price),
            renew=speaker.keyword("renew"),
            code=error.plan.code,
        )
    if isinstance(error, UnknownPlan):
        return speaker.say("unknown_plan", plans=speaker.keyword("plans"))
    if isinstance(error, NotEnoughBalance):
        return speaker.say(
            "offer_unaffordable",
            plan=speaker.name_of(error.plan),
            price=speaker.money(error.price),
            balance=speaker.money(error.balance),
        )
    return speaker.say("failed")
