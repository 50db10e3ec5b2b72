"""The JSON shapes of the app API (``app_api.py``): request bodies, answers, and the views
of the services written as JSON (money as in ``saldo … --json``: ``{"amount", "currency",
"minor"}``, instants in ISO 8601 UTC)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from saldo.domain.money import Money
from saldo.services.access.account_lines import AccountLine, LineBalance
from saldo.services.access.codes import CodeRequested
from saldo.services.access.sign_in import SignedIn

EXAMPLE_LINE = "+5491123456789"
# A number as people type it: a leading + and digits, perhaps grouped.
NUMBER = r"^\+?[0-9][0-9 ().-]*$"
CODE = r"^[0-9]{6}$"


class CodeRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"msisdn": EXAMPLE_LINE}, {"msisdn": EXAMPLE_LINE, "by": "email"}]
        }
    )

    msisdn: str = Field(
        min_length=1, max_length=24, pattern=NUMBER, description="The line's number, E.164"
    )
    by: Literal["sms", "email"] = Field(
        default="sms",
        description=(
            "Where the code goes: by SMS, or to the line's confirmed email (by SMS when it "
            "has none; the answer is the same whichever)"
        ),
    )


class TokenRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"msisdn": EXAMPLE_LINE, "code": "123456"}]}
    )

    msisdn: str = Field(min_length=1, max_length=24, pattern=NUMBER)
    code: str = Field(
        pattern=CODE, description="The six digits sent to the line by SMS (or to its email)"
    )


class LineRequest(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"msisdn": EXAMPLE_LINE}, {"msisdn": EXAMPLE_LINE, "code": "123456"}]
        }
    )

    msisdn: str = Field(min_length=1, max_length=24, pattern=NUMBER)
    code: str | None = Field(
        default=None,
        pattern=CODE,
        description="Without it, a code is sent to the line; with it, the line is added",
    )


class CodeSent(BaseModel):
    """A code was sent if a line has the number (the answer is the same when none has)."""

    expires_in: int = Field(description="Seconds the code works")


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Seconds the token works")


class MoneyOut(BaseModel):
    amount: str = Field(description="Decimal text in the currency's units: 1250.00")
    currency: str
    minor: int = Field(description="The amount in minor units: 125000")


class LineOut(BaseModel):
    msisdn: str
    operator: str = Field(description="The operator's slug")
    operator_name: str
    country: str = Field(description="ISO 3166 alpha-2")
    locale: str = Field(description="The locale of the line's language at its operator")
    timezone: str = Field(description="The operator's time zone")
    state: Literal["active", "grace", "suspended", "recycled"]
    main: MoneyOut
    valid_until: datetime = Field(description="The end of validity (exclusive)")
    recycles_at: datetime = Field(description="When the number is recycled unless renewed")
    days_until_recycling: int
    renew_soon: bool = Field(
        description="From a week before the end of validity: renew at least a week before"
    )


class LinesOut(BaseModel):
    lines: list[LineOut] = Field(description="The closest to loss first; recycled lines last")


class BucketOut(BaseModel):
    kind: Literal["main", "bonus", "voice", "sms", "data"]
    unit: str = Field(description="A currency, SECONDS, SMS or BYTES")
    amount: int = Field(description="Minor units, seconds, messages or bytes")
    expires_at: datetime | None


class LineBalanceOut(LineOut):
    bonus: MoneyOut
    voice_seconds: int
    sms: int
    data_bytes: int
    buckets: list[BucketOut]


def code_sent(requested: CodeRequested) -> dict[str, Any]:
    return {"expires_in": requested.expires_in}


def token(signed: SignedIn) -> dict[str, Any]:
    return {
        "access_token": signed.token,
        "token_type": signed.token_type,
        "expires_in": signed.expires_in,
    }


def money(amount: Money) -> dict[str, Any]:
    return {"amount": amount.canonical(), "currency": amount.currency, "minor": amount.minor}


def line(view: AccountLine) -> dict[str, Any]:
    shown = view.shown
    return {
        "msisdn": view.msisdn,
        "operator": shown.operator,
        "operator_name": shown.operator_name,
        "country": view.country,
        "locale": shown.locale,
        "timezone": shown.timezone,
        "state": view.state.value,
        "main": money(view.main),
        "valid_until": view.valid_until.isoformat(),
        "recycles_at": view.recycles_at.isoformat(),
        "days_until_recycling": view.days_until_recycling,
        "renew_soon": view.renew_soon,
    }


def lines(views: list[AccountLine]) -> dict[str, Any]:
    return {"lines": [line(view) for view in views]}


def line_balance(view: LineBalance) -> dict[str, Any]:
    balance = view.balance
    return {
        **line(view.line),
        "bonus": money(balance.bonus),
        "voice_seconds": balance.voice_seconds,
        "sms": balance.sms,
        "data_bytes": balance.data_bytes,
        "buckets": [
            {
                "kind": bucket.kind.value,
                "unit": bucket.unit,
                "amount": bucket.amount,
                "expires_at": None if bucket.expires_at is None else bucket.expires_at.isoformat(),
            }
            for bucket in balance.buckets
        ],
    }
