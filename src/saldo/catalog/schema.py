"""The operator catalog: YAML files validated at load into domain ``Operator`` values.

A bad file is refused with one error naming the file, the field and the problem, e.g.
``claro-co.yaml: topup.minimum: amounts are written as quoted strings like "1000.00"``.
Amounts are quoted decimal strings in the operator's currency (never YAML floats).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from babel import Locale, UnknownLocaleError
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from saldo.domain.errors import SaldoError
from saldo.domain.lifecycle import LifecycleRules
from saldo.domain.lines import LANGUAGES
from saldo.domain.money import MINOR_UNIT_EXPONENTS, InvalidAmount, Money
from saldo.domain.operator import (
    AddOn,
    Allowances,
    Denomination,
    Hotline,
    Operator,
    Plan,
    SmsService,
    TopUpRules,
)
from saldo.domain.periods import start_of_local_day
from saldo.domain.promotions import ExtraValidity, FirstOrderDiscount, Promotion, TopUpBonus
from saldo.domain.quotes import PaymentMethod, PaymentMethodFee

BUNDLED_DIR = Path(__file__).parent / "operators"

KEYWORD_ACTIONS = ("balance", "topup", "plans", "renew", "help")


class CatalogError(SaldoError, ValueError):
    """A catalog file could not be loaded; the message names the file, field and problem."""

    code = "invalid_catalog"


def _amount_text(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('amounts are written as quoted strings like "1000.00", not floats')
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


AmountText = Annotated[str, BeforeValidator(_amount_text), Field(pattern=r"^\d+(\.\d+)?$")]


def _rate_text(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('rates are written as quoted strings like "10", not floats')
    return value


# A percentage, e.g. "10" or "12.5": above 0, at most 100.
PercentText = Annotated[Decimal, BeforeValidator(_rate_text), Field(gt=0, le=100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DenominationSpec(_Strict):
    amount: AmountText
    validity_days: int = Field(gt=0, le=3660)


class TopUpSpec(_Strict):
    minimum: AmountText
    online_minimum: AmountText | None = None
    denominations: list[DenominationSpec] = Field(min_length=1)


class LifecycleSpec(_Strict):
    initial_validity_days: int = Field(default=30, gt=0)
    grace_days: int = Field(ge=0)
    suspension_days: int = Field(ge=0)
    quarantine_days: int = Field(default=90, ge=0)


class AllowancesSpec(_Strict):
    voice_minutes: int = Field(default=0, ge=0)
    sms: int = Field(default=0, ge=0)
    data_mb: int = Field(default=0, ge=0)

    def to_domain(self) -> Allowances:
        return Allowances(
            voice_seconds=self.voice_minutes * 60,
            sms=self.sms,
            data_bytes=self.data_mb * 1024 * 1024,
        )


class PlanSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    months: Literal[1, 3, 12]
    price: AmountText
    allowances: AllowancesSpec = AllowancesSpec()


class AddOnSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    price: AmountText
    validity_days: int = Field(gt=0)
    allowances: AllowancesSpec


class _PromotionSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    # Local dates in the operator's zone, both included.
    starts: date | None = None
    ends: date | None = None

    @model_validator(mode="after")
    def _window_in_order(self) -> _PromotionSpec:
        if self.starts is not None and self.ends is not None and self.ends < self.starts:
            raise ValueError(f"promotion {self.code}: ends before it starts")
        return self

    def window(self, timezone: str) -> dict[str, datetime | None]:
        """``starts_at`` and ``ends_at`` as UTC instants: ``[start of starts, end of ends)``."""
        return {
            "starts_at": (
                start_of_local_day(self.starts, timezone=timezone) if self.starts else None
            ),
            "ends_at": (
                start_of_local_day(self.ends + timedelta(days=1), timezone=timezone)
                if self.ends
                else None
            ),
        }


class ExtraValiditySpec(_PromotionSpec):
    kind: Literal["extra_validity"]
    min_months: int = Field(gt=0)
    free_months: int = Field(gt=0, le=12)


class TopUpBonusSpec(_PromotionSpec):
    kind: Literal["topup_bonus"]
    min_amount: AmountText
    percent: PercentText
    bonus_validity_days: int = Field(gt=0, le=3660)


class FirstOrderDiscountSpec(_PromotionSpec):
    kind: Literal["first_order_discount"]
    # Below 100: a plan is never given away for nothing.
    percent: Annotated[PercentText, Field(lt=100)]


PromotionSpec = Annotated[
    ExtraValiditySpec | TopUpBonusSpec | FirstOrderDiscountSpec, Field(discriminator="kind")
]


class PaymentMethodSpec(_Strict):
    method: Literal["card", "debit_card", "paypal", "wallet", "balance"]
    # A percentage of the amount charged, "0" up to, not including, "100".
    fee_percent: Annotated[Decimal, BeforeValidator(_rate_text), Field(ge=0, lt=100)] = Decimal(0)
    # In the operator's currency; converted like the price for a payer in another currency.
    fee_fixed: AmountText = "0"


class HotlineSpec(_Strict):
    number: str = Field(pattern=r"^\*?[0-9]{2,8}#?$")
    free: bool = True
    announces: list[Literal["money", "bonus", "minutes", "sms", "data", "validity"]] = []
    verification: Literal["last4", "voice_menu"] | None = None
    agent_digit: str | None = Field(default=None, pattern=r"^[0-9*#]$")


Action = Literal["balance", "topup", "plans", "renew", "help"]
Language = Literal["es", "fr", "nl", "en", "zh"]


class SmsSpec(_Strict):
    short_code: str = Field(pattern=r"^[0-9]{2,8}$")
    # action → words, or action → language → words (each subscriber is shown the first word
    # of their own language; every word of every language is understood).
    keywords: dict[Action, list[str] | dict[Language, list[str]]]

    @field_validator("keywords")
    @classmethod
    def _every_action_has_a_word(
        cls, value: dict[str, list[str] | dict[str, list[str]]]
    ) -> dict[str, list[str] | dict[str, list[str]]]:
        missing = [action for action in KEYWORD_ACTIONS if not _words(value.get(action))]
        if missing:
            raise ValueError(f"missing keywords for: {', '.join(missing)}")
        return value

    def all_words(self) -> dict[str, tuple[str, ...]]:
        return {action: tuple(_words(words)) for action, words in self.keywords.items()}

    def shown_words(self) -> dict[str, dict[str, str]]:
        """language → action → the word to show, for actions that name languages."""
        shown: dict[str, dict[str, str]] = {}
        for action, words in self.keywords.items():
            if isinstance(words, dict):
                for language, listed in words.items():
                    if listed:
                        shown.setdefault(language, {})[action] = listed[0]
        return shown


def _words(words: Sequence[str] | Mapping[Any, list[str]] | None) -> list[str]:
    if words is None:
        return []
    if isinstance(words, Mapping):
        return [word for listed in words.values() for word in listed]
    return list(words)


class OperatorSpec(_Strict):
    slug: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    country: str = Field(pattern=r"^[A-Z]{2}$")
    currency: str
    timezone: str
    locales: list[str] = Field(min_length=1)
    hotline: HotlineSpec
    sms: SmsSpec
    ussd_code: str = Field(pattern=r"^\*[0-9*]+#$")
    apps: list[str] = []
    channels: list[Literal["web", "app", "stores", "resellers", "phone"]] = []
    topup: TopUpSpec
    lifecycle: LifecycleSpec
    tax_rate: Decimal = Field(ge=0, lt=1)
    plans: list[PlanSpec] = []
    addons: list[AddOnSpec] = []
    low_balance_threshold: AmountText | None = None
    auto_topup: bool = False
    promotions: list[PromotionSpec] = []
    promotions_stackable: bool = False
    payment_methods: list[PaymentMethodSpec] = []
    # Taken from the market rate for a payer in another currency: "0.02" is 2 %.
    fx_spread: Annotated[Decimal, BeforeValidator(_rate_text), Field(ge=0, lt=1)] = Decimal("0.02")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in MINOR_UNIT_EXPONENTS:
            raise ValueError(f"unknown currency {value!r}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value

    @field_validator("locales")
    @classmethod
    def _known_locales(cls, value: list[str]) -> list[str]:
        for locale in value:
            try:
                Locale.parse(locale)
            except (UnknownLocaleError, ValueError):
                raise ValueError(f"unknown locale {locale!r}") from None
            if locale.split("_")[0] not in LANGUAGES:
                raise ValueError(f"language of {locale!r} is not one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("tax_rate", mode="before")
    @classmethod
    def _rate_not_float(cls, value: Any) -> Any:
        if isinstance(value, float):
            raise ValueError('rates are written as quoted strings like "0.21", not floats')
        return value

    @model_validator(mode="after")
    def _amounts_fit_the_currency(self) -> OperatorSpec:
        for where, amount in self._amounts():
            try:
                Money.of(amount, self.currency)
            except InvalidAmount as error:
                raise ValueError(f"{where}: {error}") from None
        minimum = Money.of(self.topup.minimum, self.currency)
        if minimum.minor <= 0:
            raise ValueError("topup.minimum: the minimum top-up must be above zero")
        for denomination in self.topup.denominations:
            if Money.of(denomination.amount, self.currency) < minimum:
                raise ValueError(f"topup.denominations: {denomination.amount} is below the minimum")
        codes = [p.code for p in self.plans] + [a.code for a in self.addons]
        if len(codes) != len(set(codes)):
            raise ValueError("plan and add-on codes must be unique")
        promotion_codes = [p.code for p in self.promotions]
        if len(promotion_codes) != len(set(promotion_codes)):
            raise ValueError("promotions: codes must be unique")
        methods = [m.method for m in self.payment_methods]
        if len(methods) != len(set(methods)):
            raise ValueError("payment_methods: each method is listed once")
        return self

    def _amounts(self) -> list[tuple[str, str]]:
        found = [("topup.minimum", self.topup.minimum)]
        found += [("topup.denominations", d.amount) for d in self.topup.denominations]
        found += [(f"plans.{p.code}.price", p.price) for p in self.plans]
        found += [(f"addons.{a.code}.price", a.price) for a in self.addons]
        if self.topup.online_minimum is not None:
            found.append(("topup.online_minimum", self.topup.online_minimum))
        if self.low_balance_threshold is not None:
            found.append(("low_balance_threshold", self.low_balance_threshold))
        found += [
            (f"payment_methods.{m.method}.fee_fixed", m.fee_fixed) for m in self.payment_methods
        ]
        found += [
            (f"promotions.{p.code}.min_amount", p.min_amount)
            for p in self.promotions
            if isinstance(p, TopUpBonusSpec)
        ]
        return found

    def _promotion(
        self, spec: ExtraValiditySpec | TopUpBonusSpec | FirstOrderDiscountSpec
    ) -> Promotion:
        window = spec.window(self.timezone)
        if isinstance(spec, ExtraValiditySpec):
            return ExtraValidity(
                code=spec.code,
                name=spec.name,
                min_months=spec.min_months,
                free_months=spec.free_months,
                **window,
            )
        if isinstance(spec, TopUpBonusSpec):
            return TopUpBonus(
                code=spec.code,
                name=spec.name,
                min_amount=Money.of(spec.min_amount, self.currency),
                percent=spec.percent,
                bonus_validity_days=spec.bonus_validity_days,
                **window,
            )
        return FirstOrderDiscount(code=spec.code, name=spec.name, percent=spec.percent, **window)

    def to_operator(self, *, operator_id: int | None = None) -> Operator:
        """The domain value for this validated spec."""

        def money(text: str) -> Money:
            return Money.of(text, self.currency)

        return Operator(
            id=operator_id,
            slug=self.slug,
            name=self.name,
            country=self.country,
            currency=self.currency,
            timezone=self.timezone,
            locales=tuple(self.locales),
            hotline=Hotline(
                number=self.hotline.number,
                free=self.hotline.free,
                announces=tuple(self.hotline.announces),
                verification=self.hotline.verification,
                agent_digit=self.hotline.agent_digit,
            ),
            sms=SmsService(
                short_code=self.sms.short_code,
                keywords=self.sms.all_words(),
                shown=self.sms.shown_words(),
            ),
            ussd_code=self.ussd_code,
            topup=TopUpRules(
                minimum=money(self.topup.minimum),
                online_minimum=(
                    money(self.topup.online_minimum) if self.topup.online_minimum else None
                ),
                denominations=tuple(
                    Denomination(amount=money(d.amount), validity_days=d.validity_days)
                    for d in self.topup.denominations
                ),
            ),
            lifecycle=LifecycleRules(
                grace_days=self.lifecycle.grace_days,
                suspension_days=self.lifecycle.suspension_days,
                quarantine_days=self.lifecycle.quarantine_days,
                initial_validity_days=self.lifecycle.initial_validity_days,
            ),
            tax_rate=self.tax_rate,
            plans=tuple(
                Plan(
                    code=p.code,
                    name=p.name,
                    months=p.months,
                    price=money(p.price),
                    allowances=p.allowances.to_domain(),
                )
                for p in self.plans
            ),
            addons=tuple(
                AddOn(
                    code=a.code,
                    name=a.name,
                    price=money(a.price),
                    allowances=a.allowances.to_domain(),
                    validity_days=a.validity_days,
                )
                for a in self.addons
            ),
            apps=tuple(self.apps),
            low_balance_threshold=(
                money(self.low_balance_threshold) if self.low_balance_threshold else None
            ),
            auto_topup=self.auto_topup,
            promotions=tuple(self._promotion(p) for p in self.promotions),
            promotions_stackable=self.promotions_stackable,
            payment_methods=tuple(
                PaymentMethodFee(
                    method=PaymentMethod(m.method),
                    percent=m.fee_percent,
                    fixed=None if Decimal(m.fee_fixed) == 0 else money(m.fee_fixed),
                )
                for m in self.payment_methods
            ),
            fx_spread=self.fx_spread,
        )


def parse_spec(data: Any, *, source: str) -> OperatorSpec:
    """Validate catalog data; raise CatalogError naming ``source``, the field and the problem."""
    if not isinstance(data, dict):
        raise CatalogError(f"{source}: the file must hold one operator as a mapping")
    try:
        return OperatorSpec.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        message = re.sub(r"^Value error, ", "", first["msg"])
        # Whole-file checks name their field inside the message already.
        where = f"{source}: {field}" if field else source
        raise CatalogError(f"{where}: {message}") from None


def load_spec_file(path: Path) -> OperatorSpec:
    """Read and validate one operator YAML file; raise CatalogError on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(parse)"
        raise CatalogError(f"{path.name}: {where}: not valid YAML") from None
    return parse_spec(data, source=path.name)


def bundled_specs() -> list[OperatorSpec]:
    """The demo operators shipped with Saldo, in slug order."""
    return [load_spec_file(path) for path in sorted(BUNDLED_DIR.glob("*.yaml"))]
