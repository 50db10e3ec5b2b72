"""What the hotline says, sentence by sentence, in the line's language, from views the use
cases decided (``saldo.services.hotline``, ``hotline_menu``, the receipts of a top-up or a
plan purchase). The texts are the i18n catalogs' ``hotline_*`` messages; amounts, quantities
and days are filled in words (``sayings``). No rule is decided here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from saldo.channels.hotline import sayings
from saldo.domain.errors import SaldoError
from saldo.domain.money import Money
from saldo.domain.operator import Operator
from saldo.domain.topup import TopUpReceipt
from saldo.i18n import translate
from saldo.services.buy_plan import NotEnoughBalance, PlanPurchaseReceipt, PlanQuote
from saldo.services.hotline import Verification
from saldo.services.hotline_menu import Announced, HotlineBalance
from saldo.services.lines import LineRecycled
from saldo.services.vouchers import (
    RedemptionBlocked,
    VoucherAlreadyUsed,
    VoucherExpired,
    VoucherVoided,
    WrongPin,
)

# Menu keys, the same in every language and for every operator.
BALANCE, TOP_UP, PLANS, LANGUAGE, AGENT, REPEAT, ENTER = "1", "2", "3", "9", "0", "*", "#"
CONFIRM, CANCEL = "1", "2"


@dataclass(frozen=True, slots=True)
class Saying:
    """A sentence to say in ``language`` (``locale`` picks the voice). ``key`` names it: the
    recorded file that replaces it when ``fixed`` (the same words on every call to this
    operator in this language)."""

    key: str
    text: str
    language: str
    locale: str
    fixed: bool = True


@dataclass(frozen=True, slots=True)
class Voice:
    """Who speaks to whom: the operator answering (None when not known yet) in ``language``."""

    operator: Operator | None
    language: str

    @property
    def locale(self) -> str:
        return self.operator.locale_for(self.language) if self.operator else self.language

    @property
    def operator_name(self) -> str:
        return self.operator.name if self.operator else ""

    def say(self, key: str, *, fixed: bool = True, **values: object) -> Saying:
        text = translate(f"hotline_{key}", language=self.language, **values)
        return Saying(key, text, language=self.language, locale=self.locale, fixed=fixed)

    def said(self, key: str) -> Saying:
        """A message every channel shares (``voucher_used``, ``recycled``…), said as is."""
        text = translate(key, language=self.language)
        return Saying(key, text, language=self.language, locale=self.locale)

    def money(self, amount: Money) -> str:
        return sayings.money_words(amount, language=self.language, locale=self.locale)

    def count(self, number: int) -> str:
        return sayings.number_words(number, language=self.language, locale=self.locale)

    def day(self, valid_until: datetime) -> str:
        """The last day a validity ``[…, valid_until)`` covers, in the operator's zone."""
        return self.day_of(valid_until - timedelta(microseconds=1))

    def day_of(self, moment: datetime) -> str:
        """The day of ``moment`` in the operator's zone."""
        zone = ZoneInfo(self.operator.timezone if self.operator else "UTC")
        local = moment.astimezone(zone).date()
        return sayings.day_words(local, language=self.language, locale=self.locale)


def welcome(voice: Voice) -> list[Saying]:
    return [voice.say("welcome", operator=voice.operator_name)] if voice.operator else []


def goodbye(voice: Voice) -> list[Saying]:
    if voice.operator is None:
        return [voice.say("goodbye_plain")]
    return [voice.say("goodbye", operator=voice.operator_name)]


def ask_number(voice: Voice) -> list[Saying]:
    return [voice.say("ask_number")]


def verify(voice: Voice, verification: Verification) -> list[Saying]:
    return [voice.say(f"verify_{verification.value}")]


def menu(voice: Voice) -> list[Saying]:
    """The main menu: balance, top-up, plans (when the operator sells some), language (when
    it speaks more than one), an agent (when it has an address for them), repeat."""
    said = [voice.say("menu")]
    operator = voice.operator
    if operator is not None and operator.plans:
        said.append(voice.say("menu_plans"))
    if operator is not None and len(operator.languages) > 1:
        said.append(voice.say("menu_language"))
    if operator is not None and operator.hotline.agent:
        said.append(voice.say("menu_agent", digit=operator.hotline.agent_digit or AGENT))
    said.append(voice.say("menu_repeat"))
    return said


def languages(voice: Voice) -> list[Saying]:
    """Each language the operator speaks, offered in that language: "Para español, marque 1"."""
    assert voice.operator is not None
    return [
        Voice(voice.operator, language).say("language_choice", digit=str(digit))
        for digit, language in enumerate(voice.operator.languages, start=1)
    ]


# The sentences said the same way on every call, for recordings and for warming the cache.
_FIXED = (
    "ask_number",
    "unknown_number",
    "verify_last4",
    "verify_sim4",
    "wrong_digits",
    "too_many_tries",
    "invalid",
    "enter_pin",
    "choose_plan",
    "cancelled",
    "transferring",
    "no_agent",
    "transfer_failed",
    "refused",
)


def fixed(voice: Voice) -> list[Saying]:
    """Every sentence this operator's hotline says the same way on every call in the voice's
    language."""
    return [
        *welcome(voice),
        *menu(voice),
        *languages(voice),
        *(voice.say(key) for key in _FIXED),
        *goodbye(voice),
    ]


def balance(voice: Voice, shown: HotlineBalance) -> list[Saying]:
    return [_announced(voice, item) for item in shown.announced]


def _announced(voice: Voice, item: Announced) -> Saying:
    language, locale = voice.language, voice.locale
    match item.what:
        case "money" | "bonus":
            assert item.money is not None
            return voice.say(item.what, fixed=False, amount=voice.money(item.money))
        case "minutes":
            said = sayings.minutes_words(item.count, language=language, locale=locale)
            return voice.say("minutes", fixed=False, minutes=said)
        case "data":
            said = sayings.data_words(item.count, language=language, locale=locale)
            return voice.say("data", fixed=False, data=said)
        case "sms":
            said = sayings.sms_words(item.count, language=language, locale=locale)
            return voice.say("sms", fixed=False, sms=said)
        case "validity":
            assert item.day is not None
            said = sayings.day_words(item.day, language=language, locale=locale)
            return voice.say("validity", fixed=False, day=said)
    days = sayings.days_words(item.count, language=language, locale=locale)
    return voice.say("recycling", fixed=False, days=days)


def topped_up(voice: Voice, receipt: TopUpReceipt) -> list[Saying]:
    return [
        voice.say(
            "topped_up",
            fixed=False,
            amount=voice.money(receipt.amount),
            balance=voice.money(receipt.balance),
        )
    ]


def plans(voice: Voice, quotes: tuple[PlanQuote, ...]) -> list[Saying]:
    items = [
        voice.say(
            "plan_item",
            fixed=False,
            plan=quote.plan.name_in(voice.language),
            price=voice.money(quote.price),
            digit=str(digit),
        )
        for digit, quote in enumerate(quotes, start=1)
    ]
    return [voice.say("choose_plan"), *items]


def confirm_plan(voice: Voice, quote: PlanQuote) -> list[Saying]:
    return [
        voice.say(
            "confirm_plan",
            fixed=False,
            plan=quote.plan.name_in(voice.language),
            price=voice.money(quote.price),
            balance=voice.money(quote.balance),
        )
    ]


def unaffordable(voice: Voice, quote: PlanQuote | NotEnoughBalance) -> list[Saying]:
    return [
        voice.say(
            "unaffordable",
            fixed=False,
            plan=quote.plan.name_in(voice.language),
            price=voice.money(quote.price),
            balance=voice.money(quote.balance),
        )
    ]


def plan_bought(voice: Voice, receipt: PlanPurchaseReceipt) -> list[Saying]:
    return [
        voice.say(
            "plan_bought",
            fixed=False,
            plan=receipt.plan.name_in(voice.language),
            balance=voice.money(receipt.balance),
            day=voice.day(receipt.valid_until),
        )
    ]


def refusal(voice: Voice, error: SaldoError) -> list[Saying]:
    """Why a top-up or a purchase was refused."""
    match error:
        case WrongPin():
            return [voice.say("wrong_pin", fixed=False, left=voice.count(error.attempts_left))]
        case RedemptionBlocked():
            return [voice.say("blocked", fixed=False, day=voice.day_of(error.until))]
        case NotEnoughBalance():
            return unaffordable(voice, error)
        case VoucherAlreadyUsed() | VoucherExpired() | VoucherVoided() | LineRecycled():
            return [voice.said(error.code if not isinstance(error, LineRecycled) else "recycled")]
    return [voice.say("refused")]
