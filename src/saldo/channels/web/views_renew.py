"""The renewal pages' views (the form, the quote, the order and its confirmation) made into
what their templates print: every amount, rate and date written in the page's language for
the line's country, every choice already made."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from saldo.channels.web.views import line_href
from saldo.channels.web.views_money import (
    Choice,
    Fact,
    MoneyPage,
    card_text,
    checkout_href,
    locale_of,
    money_page,
)
from saldo.domain.money import Money, format_money
from saldo.domain.orders import OrderState
from saldo.i18n import last_valid_day, local_moment, rate_text, translate
from saldo.services.access.line_money import SAVED_CARD
from saldo.services.access.line_renewal import OrderPage, RenewalOffer
from saldo.services.ports.payments import PaymentStatus
from saldo.services.settlement import BALANCE


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


def renew_form(offer: RenewalOffer, *, language: str) -> RenewForm:
    locale = locale_of(offer.line, language)
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
    locale = locale_of(line, language)

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
    locale = locale_of(line, language)
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


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f} %"
