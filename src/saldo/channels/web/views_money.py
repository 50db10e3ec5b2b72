"""The money pages' views (top-up, voucher, renewal, their receipts) made into what their
templates print: every amount and date written in the page's language for the line's
country, every choice already made. Templates only place these."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from saldo.channels.web.language import locale_for
from saldo.channels.web.views import LineRow, line_href, line_row
from saldo.domain.money import Money, format_money
from saldo.domain.topup import TopUpReceipt
from saldo.i18n import last_valid_day, local_moment, translate
from saldo.services.access.account_lines import AccountLine
from saldo.services.access.line_money import (
    SAVED_CARD,
    Payers,
    TopUpOffer,
)
from saldo.services.access.line_topups import CardTopUp

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


def money_page(line: AccountLine, *, language: str) -> MoneyPage:
    href = line_href(line.msisdn)
    return MoneyPage(row=line_row(line, language=language), href=href, base=href)


def locale_of(line: AccountLine, language: str) -> str:
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
    locale = locale_of(offer.line, language)
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
    locale = locale_of(offer.line, language)
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
    locale = locale_of(line, language)
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
    locale = locale_of(line, language)
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


def _plain(money: Money) -> str:
    """The amount as a form sends it: decimal text without grouping ("2000", "12.50")."""
    text = money.canonical()
    return text.removesuffix(".00")
