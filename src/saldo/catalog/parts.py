"""The pieces of an operator's catalog entry (top-ups, lifecycle, plans, promotions,
payment methods, hotline, SMS keywords) and the rules each one checks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from saldo.domain.errors import SaldoError
from saldo.domain.lines import LANGUAGES
from saldo.domain.operator import (
    Allowances,
)
from saldo.domain.periods import start_of_local_day

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
    # The most one top-up may be, on every channel (none: only Saldo's own bound).
    maximum: AmountText | None = None
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


def _translations(value: dict[str, str]) -> dict[str, str]:
    for language, name in value.items():
        if language not in LANGUAGES:
            raise ValueError(f"{language!r} is not one of {', '.join(LANGUAGES)}")
        if not name.strip():
            raise ValueError(f"the {language} name is empty")
    return value


# A name's translations, by language: ``names: {nl: Mobile Smart 1 maand}``.
Translations = Annotated[dict[str, str], AfterValidator(_translations)]


class PlanSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    names: Translations = Field(default_factory=dict)
    months: Literal[1, 3, 12]
    price: AmountText
    allowances: AllowancesSpec = AllowancesSpec()


class AddOnSpec(_Strict):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    names: Translations = Field(default_factory=dict)
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

    @model_validator(mode="after")
    def _no_fee_on_the_balance(self) -> PaymentMethodSpec:
        # A processor's fee is money outside the line; paying from the balance moves only
        # the price inside the ledger, so a fee there would be shown and never taken.
        if self.method == "balance" and (self.fee_percent or Decimal(self.fee_fixed)):
            raise ValueError("paying from the balance takes no fee")
        return self


class ApnSpec(_Strict):
    """The mobile data settings (APN) the operator publishes for phones on its network."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9.-]+$")
    username: str | None = Field(default=None, min_length=1, max_length=64)
    password: str | None = Field(default=None, min_length=1, max_length=64)


class HotlineSpec(_Strict):
    number: str = Field(pattern=r"^\*?[0-9]{2,8}#?$")
    free: bool = True
    announces: list[Literal["money", "bonus", "minutes", "sms", "data", "validity"]] = []
    verification: Literal["last4", "voice_menu"] | None = None
    agent_digit: str | None = Field(default=None, pattern=r"^[0-9*#]$")
    # Where a caller who asks for a person is transferred (a SIP URI); None: nowhere.
    agent: str | None = Field(default=None, pattern=r"^sips?:[^\s]+$", max_length=200)


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
