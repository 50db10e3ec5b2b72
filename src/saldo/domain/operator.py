"""An operator as the domain sees it: its country, currency and zone, and the rules that
Saldo applies to its lines. Built from the bundled catalog (``saldo.catalog``); these are
facts of configuration, not code."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from saldo.domain.keywords import normalize
from saldo.domain.lifecycle import LifecycleRules
from saldo.domain.money import Money
from saldo.domain.promotions import Promotion
from saldo.domain.quotes import PaymentMethod, PaymentMethodFee
from saldo.domain.rating import Tariff


class SimKind(enum.StrEnum):
    PHYSICAL = "physical"
    ESIM = "esim"


@dataclass(frozen=True, slots=True)
class Denomination:
    """A top-up amount and the days of validity it grants."""

    amount: Money
    validity_days: int


@dataclass(frozen=True, slots=True)
class TopUpRules:
    minimum: Money
    denominations: tuple[Denomination, ...]
    online_minimum: Money | None = None
    maximum: Money | None = None


@dataclass(frozen=True, slots=True)
class Allowances:
    voice_seconds: int = 0
    sms: int = 0
    data_bytes: int = 0


class Named:
    """Something sold under a name: ``name`` in the operator's first language, and the
    catalog's translations (``names``, pairs of language and name)."""

    __slots__ = ()
    name: str
    names: tuple[tuple[str, str], ...]

    def name_in(self, language: str) -> str:
        """The name in ``language`` when the catalog gives one, else ``name``."""
        for spoken, name in self.names:
            if spoken == language:
                return name
        return self.name


@dataclass(frozen=True, slots=True)
class Plan(Named):
    code: str
    name: str
    months: int
    price: Money
    allowances: Allowances
    names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class AddOn(Named):
    code: str
    name: str
    price: Money
    allowances: Allowances
    validity_days: int
    names: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class AccessPointName:
    """The mobile data settings a phone needs on the operator's network (its APN), as the
    operator publishes them: the name, and a user and password when it asks for them."""

    name: str
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class Hotline:
    number: str
    free: bool = True
    announces: tuple[str, ...] = ()
    verification: str | None = None
    agent_digit: str | None = None
    agent: str | None = None  # the SIP URI a caller asking for a person is transferred to


@dataclass(frozen=True, slots=True)
class SmsService:
    short_code: str
    # action → every word understood for it, whatever the language
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # language → action → the word shown to subscribers of that language
    shown: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def keyword_for(self, action: str, *, language: str, default_language: str) -> str:
        """The keyword to tell a subscriber: their language's, else the operator's first
        language's, else the first word listed."""
        for wanted in (language, default_language):
            word = self.shown.get(wanted, {}).get(action)
            if word:
                return word
        words = self.keywords.get(action, ())
        return words[0] if words else action.upper()


@dataclass(frozen=True, slots=True)
class Presentation:
    """How a line's facts are shown to people: its operator (slug and name), the locale of
    the line's language at that operator, the operator's time zone and currency. Every
    render-ready view carries one, so a channel needs nothing else to render it."""

    operator: str
    operator_name: str
    locale: str
    timezone: str
    currency: str


@dataclass(frozen=True, slots=True)
class Operator:
    slug: str
    name: str
    country: str
    currency: str
    timezone: str
    locales: tuple[str, ...]
    hotline: Hotline
    sms: SmsService
    ussd_code: str
    topup: TopUpRules
    lifecycle: LifecycleRules
    tax_rate: Decimal
    plans: tuple[Plan, ...] = ()
    addons: tuple[AddOn, ...] = ()
    apps: tuple[str, ...] = ()
    low_balance_threshold: Money | None = None
    auto_topup: bool = False
    # Days before the end of validity on which expiry reminders go out, farthest first.
    reminder_days: tuple[int, ...] = (7, 3, 1)
    promotions: tuple[Promotion, ...] = ()
    # False: one promotion per purchase, the best; True: every applicable one.
    promotions_stackable: bool = False
    # Fees on top of the price, by payment method; a method not listed costs nothing more.
    payment_methods: tuple[PaymentMethodFee, ...] = ()
    # Taken from the market rate when a payer pays in another currency (0.02 is 2 %).
    fx_spread: Decimal = Decimal("0.02")
    # Where the operator's own systems receive Saldo's signed events; None: none are sent.
    webhook_url: str | None = None
    # Where subscribers renew and top up on the web ("movistar.com.ar/recargas").
    web: str | None = None
    # Prices of calls, SMS and data beyond allowances; None: the catalog gives none.
    tariff: Tariff | None = None
    # The mobile data settings for a new phone (None: the catalog gives none).
    apn: AccessPointName | None = None
    id: int | None = None

    @property
    def default_locale(self) -> str:
        return self.locales[0]

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(locale.split("_")[0] for locale in self.locales))

    def fee_for(self, method: PaymentMethod) -> PaymentMethodFee:
        """The fee for paying with ``method``: the catalog's, or none when it lists none."""
        for fee in self.payment_methods:
            if fee.method is method:
                return fee
        return PaymentMethodFee(method=method, percent=Decimal(0))

    def answers_short_code(self, short_code: str) -> bool:
        """Whether an SMS sent to ``short_code`` (as a gateway wrote it) is this operator's."""
        return normalize(short_code) == self.sms.short_code

    def answers_ussd_code(self, service_code: str) -> bool:
        """Whether ``service_code`` (``*123#``, ``123``) dials this operator's USSD menu."""
        return _ussd_digits(service_code) == _ussd_digits(self.ussd_code)

    def locale_for(self, language: str) -> str:
        """The locale used to talk to a line in ``language``: the operator's own locale for
        it (es → es_AR in Argentina) or the bare language (zh → zh_CN, en)."""
        for locale in self.locales:
            if locale.split("_")[0] == language:
                return locale
        return {"zh": "zh_CN"}.get(language, language)

    def presentation(self) -> Presentation:
        """How to show the operator's own amounts and times (its first locale)."""
        return Presentation(
            operator=self.slug,
            operator_name=self.name,
            locale=self.default_locale,
            timezone=self.timezone,
            currency=self.currency,
        )

    def presentation_for(self, language: str) -> Presentation:
        """How to show things to a line of this operator that speaks ``language``."""
        return Presentation(
            operator=self.slug,
            operator_name=self.name,
            locale=self.locale_for(language),
            timezone=self.timezone,
            currency=self.currency,
        )


def _ussd_digits(service_code: str) -> str:
    return service_code.strip().rstrip("#").lstrip("*")
