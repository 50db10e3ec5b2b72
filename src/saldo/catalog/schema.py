"""The operator catalog: YAML files validated at load into domain ``Operator`` values.

A bad file is refused with one error naming the file, the field and the problem, e.g.
``claro-co.yaml: topup.minimum: amounts are written as quoted strings like "1000.00"``.
Amounts are quoted decimal strings in the operator's currency (never YAML floats).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.numbers import get_territory_currencies
from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from saldo.catalog.parts import (
    AddOnSpec,
    AmountText,
    ApnSpec,
    CatalogError,
    ExtraValiditySpec,
    FirstOrderDiscountSpec,
    HotlineSpec,
    LifecycleSpec,
    PaymentMethodSpec,
    PlanSpec,
    PromotionSpec,
    SmsSpec,
    TopUpBonusSpec,
    TopUpSpec,
    _rate_text,
    _Strict,
)
from saldo.catalog.tariffs import TariffSpec
from saldo.domain.lifecycle import LifecycleRules
from saldo.domain.lines import LANGUAGES
from saldo.domain.money import MINOR_UNIT_EXPONENTS, InvalidAmount, Money
from saldo.domain.operator import (
    AccessPointName,
    AddOn,
    Denomination,
    Hotline,
    Operator,
    Plan,
    SmsService,
    TopUpRules,
)
from saldo.domain.promotions import ExtraValidity, FirstOrderDiscount, Promotion, TopUpBonus
from saldo.domain.quotes import PaymentMethod, PaymentMethodFee
from saldo.domain.rating import InvalidTariff

__all__ = [
    "BUNDLED_DIR",
    "CatalogError",
    "OperatorSpec",
    "bundled_specs",
    "load_spec_file",
    "parse_spec",
]

BUNDLED_DIR = Path(__file__).parent / "operators"


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
    apps: list[str] = Field(default_factory=list)
    channels: list[Literal["web", "app", "stores", "resellers", "phone"]] = Field(
        default_factory=list
    )
    topup: TopUpSpec
    lifecycle: LifecycleSpec
    tax_rate: Decimal = Field(ge=0, lt=1)
    plans: list[PlanSpec] = Field(default_factory=list)
    addons: list[AddOnSpec] = Field(default_factory=list)
    low_balance_threshold: AmountText | None = None
    auto_topup: bool = False
    # Days before the end of validity on which expiry reminders go out.
    reminder_days: list[Annotated[int, Field(ge=1, le=60)]] = Field(
        default_factory=lambda: [7, 3, 1], min_length=1, max_length=5
    )
    promotions: list[PromotionSpec] = Field(default_factory=list)
    promotions_stackable: bool = False
    payment_methods: list[PaymentMethodSpec] = Field(default_factory=list)
    # Taken from the market rate for a payer in another currency: "0.02" is 2 %.
    fx_spread: Annotated[Decimal, BeforeValidator(_rate_text), Field(ge=0, lt=1)] = Decimal("0.02")
    # Where Saldo posts the operator's signed events (a line changing state); none: not sent.
    webhook_url: str | None = Field(default=None, max_length=2000)
    # Where subscribers renew and top up on the web, as reminders write it ("movistar.com.ar").
    web: str | None = Field(
        default=None, max_length=60, pattern=r"^[a-z0-9.-]+\.[a-z]{2,}(/[A-Za-z0-9/_-]*)?$"
    )
    # Prices of calls, SMS and data beyond allowances (catalog/tariffs.py); optional.
    tariff: TariffSpec | None = None
    # The mobile data settings (APN) for a new phone; optional.
    apn: ApnSpec | None = None

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        # Lines are checked against the operator's country by their numbering plan.
        import phonenumbers

        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown country {value!r} (an ISO 3166 code such as AR, CO, BE)")
        return value

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in MINOR_UNIT_EXPONENTS:
            raise ValueError(f"unknown currency {value!r}")
        return value

    @model_validator(mode="after")
    def _currency_of_the_country(self) -> OperatorSpec:
        # Prepaid money is kept in the country's own currency; a mistyped code would put
        # every balance of the operator in the wrong one.
        legal = get_territory_currencies(self.country, tender=True)
        if self.currency not in legal:
            raise ValueError(
                f"currency: {self.currency} is not a currency of {self.country}"
                f" (it uses {', '.join(legal)})"
            )
        return self

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

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the webhook URL must be http(s)://host/...")
        if any(char.isspace() for char in value):
            raise ValueError("the webhook URL must not contain spaces")
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
        if self.topup.maximum is not None:
            maximum = Money.of(self.topup.maximum, self.currency)
            least: list[tuple[str, str | None]] = [
                ("the minimum", self.topup.minimum),
                ("the online minimum", self.topup.online_minimum),
            ]
            least += [(f"the denomination {d.amount}", d.amount) for d in self.topup.denominations]
            for what, bound in least:
                if bound is not None and Money.of(bound, self.currency) > maximum:
                    raise ValueError(f"topup.maximum: {self.topup.maximum} is below {what}")
        codes = [p.code for p in self.plans] + [a.code for a in self.addons]
        if len(codes) != len(set(codes)):
            raise ValueError("plan and add-on codes must be unique")
        promotion_codes = [p.code for p in self.promotions]
        if len(promotion_codes) != len(set(promotion_codes)):
            raise ValueError("promotions: codes must be unique")
        methods = [m.method for m in self.payment_methods]
        if len(methods) != len(set(methods)):
            raise ValueError("payment_methods: each method is listed once")
        if self.tariff is not None:
            try:
                self.tariff.to_domain(currency=self.currency)
            except InvalidTariff as error:
                raise ValueError(f"tariff.{error.message}") from None
        return self

    def _amounts(self) -> list[tuple[str, str]]:
        found = [("topup.minimum", self.topup.minimum)]
        found += [("topup.denominations", d.amount) for d in self.topup.denominations]
        found += [(f"plans.{p.code}.price", p.price) for p in self.plans]
        found += [(f"addons.{a.code}.price", a.price) for a in self.addons]
        if self.topup.online_minimum is not None:
            found.append(("topup.online_minimum", self.topup.online_minimum))
        if self.topup.maximum is not None:
            found.append(("topup.maximum", self.topup.maximum))
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
        if self.tariff is not None:
            found += self.tariff.amounts()
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
                agent=self.hotline.agent,
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
                maximum=money(self.topup.maximum) if self.topup.maximum else None,
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
                timezone=self.timezone,
            ),
            tax_rate=self.tax_rate,
            plans=tuple(
                Plan(
                    code=p.code,
                    name=p.name,
                    names=tuple(sorted(p.names.items())),
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
                    names=tuple(sorted(a.names.items())),
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
            reminder_days=tuple(sorted(set(self.reminder_days), reverse=True)),
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
            webhook_url=self.webhook_url,
            web=self.web,
            tariff=self.tariff.to_domain(currency=self.currency) if self.tariff else None,
            apn=(
                AccessPointName(
                    name=self.apn.name, username=self.apn.username, password=self.apn.password
                )
                if self.apn
                else None
            ),
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
    # PyYAML is imported here: only loading a file needs it, and reading a stored operator
    # (every command that looks a line up) does not.
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogError(f"{path}: cannot be read ({error.strerror})") from None
    try:
        # libyaml's safe loader where PyYAML has it (as its wheels do): the same documents.
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(parse)"
        raise CatalogError(f"{path.name}: {where}: not valid YAML") from None
    return parse_spec(data, source=path.name)


def bundled_specs() -> list[OperatorSpec]:
    """The demo operators shipped with Saldo, in slug order."""
    return [load_spec_file(path) for path in sorted(BUNDLED_DIR.glob("*.yaml"))]
