"""The money pages' views (top-up, voucher, renewal, their receipts) made into what their
templates print: every amount and date written in the page's language for the line's
country, every choice already made. Templates only place these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from saldo.channels.web.language import locale_for
from saldo.channels.web.views import LineRow, line_href, line_row
from saldo.domain.money import Money, format_money
from saldo.domain.orders import OrderState
from saldo.domain.topup import TopUpReceipt
from saldo.i18n import last_valid_day, local_moment, rate_text, translate
from saldo.services.access.account_lines import AccountLine
from saldo.services.access.line_money import (
    SAVED_CARD,
    OrderPage,
    Payers,
    RenewalOffer,
    TopUpOffer,
)
from saldo.services.access.line_topups import CardTopUp
from saldo.services.ports.payments import PaymentStatus
from saldo.services.settlement import BALANCE

OTHER_AMOUNT = "other"
# The processors as their own pages name themselves.
PROCESSOR_NAMES = {"sandbox": "Sandbox", "stripe": "Stripe", "mercadopago": "Mercado Pago"}
NEW_CARD = "new"


@dataclass(frozen=True, slots=True)
class Choice:
    """One radio button or checkbox: its value, its words, a hint under them."""

    value: str
    label: str
    checked: bool
    hint: str = ""


@dataclass(frozen=True, slots=True)
class Fact:
    """One row of a receipt or a quote."""

    label: str
    value: str
    total: bool = False


@dataclass(frozen=True, slots=True)
class MoneyPage:
    """What every money page shows of its line, and where its forms go."""

    row: LineRow
    href: str  # the line's page
    base: str  # /lines/{msisdn}: the money pages' paths start here


@dataclass(frozen=True, slots=True)
class TopUpForm:
    line: MoneyPage
    amounts: tuple[Choice, ...]
    other: str
    bounds: str
    cards: tuple[Choice, ...]
    can_pay: bool


@dataclass(frozen=True, slots=True)
class PayConfirm:
    """The last step before paying: what is paid, with which card, under which key."""

    line: MoneyPage
    amount: str
    amount_value: str
    card: str
    card_value: str
    another_card: str | None  # the hosted card page's address, to choose another


@dataclass(frozen=True, slots=True)
class Receipt:
    line: MoneyPage
    title: str
    facts: tuple[Fact, ...]


@dataclass(frozen=True, slots=True)
class TopUpStatus:
    line: MoneyPage
    state: str  # succeeded, pending, failed, refunded
    tone: str  # notice, warning, error
    text: str
    facts: tuple[Fact, ...]


@dataclass(frozen=True, slots=True)
class RenewForm:
    line: MoneyPage
    plans: tuple[Choice, ...]
    addons: tuple[Choice, ...]
    currencies: tuple[Choice, ...]
    methods: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class QuoteView:
    line: MoneyPage
    names: str
    facts: tuple[Fact, ...]
    holds: str
    fields: tuple[tuple[str, str], ...]  # what the confirming form posts again


@dataclass(frozen=True, slots=True)
class PayOption:
    """A way to pay an order: a button posting ``card`` (``balance``, ``saved`` or a
    token), or a link to a card page (``href``)."""

    label: str
    card: str | None
    href: str | None


@dataclass(frozen=True, slots=True)
class OrderView:
    line: MoneyPage
    state: str  # payable, pending, fulfilled, closed
    tone: str  # notice, warning, error: how its text is shown
    title: str
    text: str
    facts: tuple[Fact, ...]
    options: tuple[PayOption, ...]
    pay_href: str


def money_page(line: AccountLine, *, language: str) -> MoneyPage:
    href = line_href(line.msisdn)
    return MoneyPage(row=line_row(line, language=language), href=href, base=href)


def _locale(line: AccountLine, language: str) -> str:
    return locale_for(language, country=line.country)


def checkout_href(*, back: str, language: str, amount: str | None = None) -> str:
    """The hosted card page's address, in ``language`` (as Stripe Checkout takes a locale),
    coming back to ``back`` with the card's token."""
    query = {"return": back, "locale": language}
    if amount:
        query["amount"] = amount
    return "/sandbox/checkout?" + urlencode(query)


def topup_form(offer: TopUpOffer, *, language: str, amount: str = "", card: str = "") -> TopUpForm:
    """The top-up form, with ``amount`` and ``card`` chosen again when it is shown back."""
    locale = _locale(offer.line, language)
    values = {_plain(money): money for money in offer.denominations}
    chosen = amount if amount in values else (OTHER_AMOUNT if amount else "")
    first = next(iter(values), OTHER_AMOUNT)
    amounts = (
        *(
            Choice(value, format_money(money, locale=locale), (chosen or first) == value)
            for value, money in values.items()
        ),
        Choice(
            OTHER_AMOUNT,
            translate("portal_money_other_amount", language=language),
            chosen == OTHER_AMOUNT,
        ),
    )
    bounds = translate(
        "portal_money_bounds" if offer.maximum else "portal_money_bound_low",
        language=language,
        minimum=format_money(offer.minimum, locale=locale),
        maximum=format_money(offer.maximum, locale=locale) if offer.maximum else "",
    )
    cards = _card_choices(offer.payers, language=language, chosen=card)
    return TopUpForm(
        line=money_page(offer.line, language=language),
        amounts=amounts,
        other=amount if chosen == OTHER_AMOUNT else "",
        bounds=bounds,
        cards=cards,
        can_pay=bool(cards),
    )


def _card_choices(payers: Payers, *, language: str, chosen: str) -> tuple[Choice, ...]:
    choices = []
    if payers.saved_card is not None:
        choices.append(
            Choice(
                SAVED_CARD,
                translate(
                    f"portal_money_saved_card_{payers.saved_card.saved_for}", language=language
                ),
                chosen in ("", SAVED_CARD),
                hint=translate(
                    "portal_money_card_at",
                    language=language,
                    provider=PROCESSOR_NAMES.get(
                        payers.saved_card.provider, payers.saved_card.provider
                    ),
                ),
            )
        )
    if payers.new_card_at is not None:
        choices.append(
            Choice(
                NEW_CARD,
                translate("portal_money_new_card", language=language),
                chosen == NEW_CARD or (not choices),
                hint=translate(
                    "portal_money_new_card_hint",
                    language=language,
                    provider=PROCESSOR_NAMES.get(payers.new_card_at, payers.new_card_at),
                ),
            )
        )
    return tuple(choices)


def card_text(card: str, *, language: str, last4: str | None = None) -> str:
    """How the card paid with is named: the saved one, or the one a card page gave."""
    if card == SAVED_CARD:
        return translate("portal_money_the_saved_card", language=language)
    if last4:
        return translate("portal_money_card_ending", language=language, last4=last4)
    return translate("portal_money_the_new_card", language=language)


def topup_confirm(
    offer: TopUpOffer, *, language: str, card: str, last4: str | None, back: str
) -> PayConfirm:
    assert offer.chosen is not None
    locale = _locale(offer.line, language)
    return PayConfirm(
        line=money_page(offer.line, language=language),
        amount=format_money(offer.chosen, locale=locale),
        amount_value=_plain(offer.chosen),
        card=card_text(card, language=language, last4=last4),
        card_value=card,
        another_card=(
            checkout_href(back=back, language=language, amount=_plain(offer.chosen))
            if offer.payers.new_card_at
            else None
        ),
    )


def topup_receipt(
    line: AccountLine, receipt: TopUpReceipt, *, language: str, title: str
) -> Receipt:
    return Receipt(
        line=money_page(line, language=language),
        title=title,
        facts=_receipt_facts(line, receipt, language=language),
    )


def _receipt_facts(line: AccountLine, receipt: TopUpReceipt, *, language: str) -> tuple[Fact, ...]:
    locale = _locale(line, language)
    timezone = line.shown.timezone
    facts = [
        Fact(translate("portal_money_receipt_number", language=language), receipt.receipt_number),
        Fact(
            translate("portal_money_when", language=language),
            local_moment(receipt.created_at, timezone=timezone, locale=locale),
        ),
        Fact(
            translate("portal_money_topped_up", language=language),
            format_money(receipt.amount, locale=locale),
        ),
    ]
    if receipt.bonus is not None:
        facts.append(
            Fact(
                translate("portal_money_bonus", language=language),
                format_money(receipt.bonus, locale=locale),
            )
        )
    facts += [
        Fact(
            translate("portal_money_new_balance", language=language),
            format_money(receipt.balance, locale=locale),
            total=True,
        ),
        Fact(
            translate("portal_money_valid_until", language=language),
            last_valid_day(receipt.valid_until, timezone=timezone, locale=locale),
        ),
    ]
    return tuple(facts)


def topup_status(line: AccountLine, topup: CardTopUp, *, language: str) -> TopUpStatus:
    locale = _locale(line, language)
    amount = format_money(topup.amount, locale=locale)
    card = (
        translate("portal_money_the_card_ending", language=language, last4=topup.card_last4)
        if topup.card_last4
        else translate("portal_money_the_card", language=language)
    )
    state = topup.status
    text = translate(
        f"portal_money_topup_{state}",
        language=language,
        amount=amount,
        card=card,
        code=topup.decline_code or "",
    )
    facts = _receipt_facts(line, topup.receipt, language=language) if topup.receipt else ()
    if topup.card_last4:
        ending = translate("portal_money_card_ending", language=language, last4=topup.card_last4)
        facts = (*facts, Fact(translate("portal_money_card", language=language), ending))
    tone = {"succeeded": "notice", "failed": "error"}.get(state, "warning")
    return TopUpStatus(
        line=money_page(line, language=language), state=state, tone=tone, text=text, facts=facts
    )


def renew_form(offer: RenewalOffer, *, language: str) -> RenewForm:
    locale = _locale(offer.line, language)
    asked = offer.asked
    plans = tuple(
        Choice(
            plan.code,
            translate(
                "portal_money_plan_choice",
                language=language,
                plan=plan.name_in(language),
                price=format_money(plan.price, locale=locale),
            ),
            (asked.plan if asked else offer.plans[0].code) == plan.code,
            hint=translate(
                "portal_money_months_one" if plan.months == 1 else "portal_money_months_other",
                language=language,
                months=plan.months,
            ),
        )
        for plan in offer.plans
    )
    addons = tuple(
        Choice(
            addon.code,
            translate(
                "portal_money_plan_choice",
                language=language,
                plan=addon.name_in(language),
                price=format_money(addon.price, locale=locale),
            ),
            bool(asked and addon.code in asked.add_ons),
            hint=translate("portal_money_addon_days", language=language, days=addon.validity_days),
        )
        for addon in offer.addons
    )
    pay_in = (asked.pay_in if asked else None) or offer.currencies[0]
    currencies = tuple(Choice(code, code, code == pay_in) for code in offer.currencies)
    method = asked.method if asked else "card"
    methods = tuple(
        Choice(name, translate(f"portal_money_method_{name}", language=language), name == method)
        for name in offer.methods
        if name != "card" or offer.payers.new_card_at or offer.payers.saved_card
    )
    return RenewForm(
        line=money_page(offer.line, language=language),
        plans=plans,
        addons=addons,
        currencies=currencies,
        methods=methods,
    )


def quote_view(offer: RenewalOffer, *, language: str) -> QuoteView:
    assert offer.quote is not None and offer.asked is not None
    line, shown = offer.line, offer.quote
    quote = shown.quoted.quote
    locale = _locale(line, language)

    def money(amount: Money) -> str:
        return format_money(amount, locale=locale)

    facts = [Fact(translate("portal_money_price", language=language), money(quote.gross))]
    if quote.discount.minor:
        facts.append(
            Fact(
                translate(
                    "portal_money_promotion", language=language, promotion=quote.promotion or ""
                ),
                "−" + money(quote.discount),
            )
        )
    facts += [
        Fact(translate("portal_money_net", language=language), money(quote.net)),
        Fact(
            translate("portal_money_tax", language=language, rate=_percent(quote.tax_rate)),
            money(quote.tax),
        ),
    ]
    if quote.rate is not None:
        rate = quote.rate
        facts += [
            Fact(
                translate("portal_money_rate", language=language),
                translate(
                    "portal_money_rate_value",
                    language=language,
                    pay_in=quote.pay_in,
                    rate=rate_text(rate.rate, locale=locale),
                    currency=quote.price.currency,
                    day=local_moment(rate.fetched_at, timezone=line.shown.timezone, locale=locale),
                ),
            ),
            Fact(
                translate("portal_money_in_currency", language=language, currency=quote.pay_in),
                money(quote.converted),
            ),
        ]
    facts += [
        Fact(
            translate(f"portal_money_fee_{quote.method.value}", language=language),
            money(quote.fee),
        ),
        Fact(translate("portal_money_total", language=language), money(quote.total), total=True),
    ]
    asked = offer.asked
    fields = (
        ("plan", asked.plan),
        *(("add_on", code) for code in asked.add_ons),
        ("pay_in", quote.pay_in),
        ("method", asked.method),
    )
    return QuoteView(
        line=money_page(line, language=language),
        names=" + ".join(shown.quoted.names),
        facts=tuple(facts),
        holds=translate(
            "portal_money_quote_holds",
            language=language,
            time=local_moment(shown.valid_until, timezone=line.shown.timezone, locale=locale),
        ),
        fields=fields,
    )


def order_view(page: OrderPage, *, language: str, token: str = "", last4: str = "") -> OrderView:
    """An order's page: payable (with its ways to pay; ``token`` a card a card page just
    gave), pending at the processor, fulfilled (its confirmation), or closed."""
    line, details = page.line, page.details
    order, terms = details.order, details.order.terms
    locale = _locale(line, language)
    timezone = line.shown.timezone
    base = line_href(line.msisdn) + f"/orders/{order.id}"
    total = format_money(Money(terms.total, terms.pay_in), locale=locale)
    facts = [
        Fact(translate("portal_money_order", language=language), str(order.id)),
        Fact(translate("portal_money_total", language=language), total, total=True),
    ]
    pending = any(p.status is PaymentStatus.PENDING for p in details.payments)
    last = details.payments[-1] if details.payments else None
    options: list[PayOption] = []
    tone = "warning"
    if order.state is OrderState.FULFILLED:
        state, title, tone = "fulfilled", "portal_money_order_fulfilled", "notice"
        assert order.valid_until_after is not None
        text = translate(
            "portal_money_order_fulfilled_text",
            language=language,
            day=last_valid_day(order.valid_until_after, timezone=timezone, locale=locale),
        )
        facts.insert(
            0,
            Fact(
                translate("portal_money_receipt_number", language=language),
                order.receipt_number or "",
            ),
        )
        if details.receipt and details.receipt.card_last4:
            facts.append(
                Fact(
                    translate("portal_money_card", language=language),
                    translate(
                        "portal_money_card_ending",
                        language=language,
                        last4=details.receipt.card_last4,
                    ),
                )
            )
        if order.email:
            facts.append(Fact(translate("portal_money_emailed_to", language=language), order.email))
    elif pending:
        state, title = "pending", "portal_money_order_pending"
        text = translate("portal_money_order_pending_text", language=language, total=total)
    elif order.state in (OrderState.DRAFT, OrderState.AWAITING_PAYMENT):
        state, title = "payable", "portal_money_order_payable"
        text = translate(
            "portal_money_order_payable_text",
            language=language,
            time=local_moment(order.expires_at, timezone=timezone, locale=locale),
        )
        if last is not None and last.status is PaymentStatus.FAILED:
            tone = "error"
            text = (
                translate(
                    "portal_money_order_declined", language=language, code=last.decline_code or ""
                )
                + " "
                + text
            )
        options = list(_pay_options(page, language=language, token=token, last4=last4, base=base))
    else:
        state, title = "closed", "portal_money_order_closed"
        text = translate(f"portal_money_order_{order.state.value}", language=language)
    return OrderView(
        line=money_page(line, language=language),
        state=state,
        tone=tone,
        title=translate(title, language=language),
        text=text,
        facts=tuple(facts),
        options=tuple(options),
        pay_href=base + "/pay",
    )


def _pay_options(
    page: OrderPage, *, language: str, token: str, last4: str, base: str
) -> Sequence[PayOption]:
    if page.details.order.terms.method == BALANCE:
        return (PayOption(translate("portal_money_pay_balance", language=language), BALANCE, None),)
    options = []
    if token:
        options.append(
            PayOption(
                translate(
                    "portal_money_pay_with",
                    language=language,
                    card=card_text(token, language=language, last4=last4),
                ),
                token,
                None,
            )
        )
    if page.payers.saved_card is not None:
        options.append(
            PayOption(translate("portal_money_pay_saved", language=language), SAVED_CARD, None)
        )
    if page.payers.new_card_at is not None:
        options.append(
            PayOption(
                translate(
                    "portal_money_pay_new" if not token else "portal_money_pay_another",
                    language=language,
                ),
                None,
                checkout_href(back=base, language=language),
            )
        )
    return options


def _plain(money: Money) -> str:
    """The amount as a form sends it: decimal text without grouping ("2000", "12.50")."""
    text = money.canonical()
    return text.removesuffix(".00")


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"


def moment_text(moment: datetime, *, line: AccountLine, language: str) -> str:
    return local_moment(moment, timezone=line.shown.timezone, locale=_locale(line, language))
