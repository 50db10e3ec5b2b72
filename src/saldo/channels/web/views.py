"""The portal's use-case views made into what its templates print: every amount, date,
quantity and state already written in the page's language, every choice already made.
Templates only place these."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel import Locale
from markupsafe import Markup

from saldo.channels.web.language import locale_for
from saldo.domain.buckets import BucketKind
from saldo.domain.lifecycle import LineState
from saldo.domain.money import Money, format_money
from saldo.i18n import date_text, last_valid_day, number_text, quantities, translate
from saldo.services.access.account_lines import AccountLine
from saldo.services.portal import BucketLine, LinePage

Day = Callable[[datetime], str]


@dataclass(frozen=True, slots=True)
class LineRow:
    """One line on the "My lines" page."""

    msisdn: str
    href: str
    flag: Markup
    country: str
    operator: str
    state: str  # active, grace, suspended, recycled: the CSS class
    state_text: str
    balance: str
    valid_until: str
    days_left: str
    warning: str | None


@dataclass(frozen=True, slots=True)
class BucketRow:
    label: str
    amount: str
    meter_max: int | None  # None: no plan allowance to measure against
    meter_value: int
    meter_text: str | None  # "1,5 GB of 10 GB left"
    expires: str | None


@dataclass(frozen=True, slots=True)
class Step:
    text: str
    current: bool


@dataclass(frozen=True, slots=True)
class Apn:
    name: str
    username: str | None
    password: str | None


@dataclass(frozen=True, slots=True)
class LineDetails:
    """A line's own page."""

    row: LineRow
    plan: str | None
    buckets: tuple[BucketRow, ...]
    steps: tuple[Step, ...]
    auto_renewal: str
    auto_topup: str
    reminder: str
    apn: Apn | None
    remove_href: str


def line_href(msisdn: str) -> str:
    return "/lines/" + quote(msisdn, safe="")


# Flags drawn as stripes (a 3:2 box): phones without an emoji font, and every Windows
# browser, show the regional indicator letters as two empty boxes. (direction, colours,
# share of each stripe); other countries fall back to the emoji.
_STRIPES: dict[str, tuple[str, tuple[tuple[str, int], ...]]] = {
    "AR": ("rows", (("#74acdf", 1), ("#ffffff", 1), ("#74acdf", 1))),
    "CO": ("rows", (("#fcd116", 2), ("#003893", 1), ("#ce1126", 1))),
    "BE": ("columns", (("#000000", 1), ("#fdda24", 1), ("#ef3340", 1))),
}
_SUN = '<circle cx="15" cy="10" r="2.2" fill="#f6b40e"/>'


@cache
def flag(country: str) -> Markup:
    """The country's flag, shown beside its name and hidden from screen readers (which
    read the name)."""
    known = _STRIPES.get(country.upper())
    if known is None:
        letters = "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in country.upper())
        return Markup('<span class="flag" aria-hidden="true">{}</span>').format(letters)
    direction, stripes = known
    total = sum(share for _, share in stripes)
    shapes, start = [], 0.0
    for colour, share in stripes:
        size = (30 if direction == "columns" else 20) * share / total
        x, y = (start, 0.0) if direction == "columns" else (0.0, start)
        width, height = (size, 20.0) if direction == "columns" else (30.0, size)
        shapes.append(
            f'<rect x="{x:g}" y="{y:g}" width="{width:g}" height="{height:g}" fill="{colour}"/>'
        )
        start += size
    if country.upper() == "AR":
        shapes.append(_SUN)
    return Markup(
        '<svg class="flag" viewBox="0 0 30 20" width="24" height="16" aria-hidden="true" '
        'focusable="false">' + "".join(shapes) + "</svg>"
    )


@cache
def country_name(country: str, language: str) -> str:
    names = Locale.parse(locale_for(language, country=None)).territories
    return str(names.get(country, country))


def line_rows(lines: Sequence[AccountLine], *, language: str) -> list[LineRow]:
    return [line_row(line, language=language) for line in lines]


def line_row(line: AccountLine, *, language: str) -> LineRow:
    locale = locale_for(language, country=line.country)
    timezone = line.shown.timezone
    recycled = line.state is LineState.RECYCLED
    valid_day = last_valid_day(line.valid_until, timezone=timezone, locale=locale)
    days = line.days_until_recycling
    warning = None
    if line.renew_soon:
        warning = translate(
            "portal_renew_soon" if line.state is LineState.ACTIVE else "portal_renew_now",
            language=language,
            day=valid_day,
            days=number_text(days, locale=locale),
        )
    return LineRow(
        msisdn=line.msisdn,
        href=line_href(line.msisdn),
        flag=flag(line.country),
        country=country_name(line.country, language),
        operator=line.shown.operator_name,
        state=line.state.value,
        state_text=translate(f"state_name_{line.state.value}", language=language),
        balance=format_money(line.main, locale=locale),
        valid_until=translate("portal_valid_until", language=language, day=valid_day),
        days_left=(
            translate("portal_recycled", language=language)
            if recycled
            else translate(
                "portal_days_left_one" if days == 1 else "portal_days_left_other",
                language=language,
                days=number_text(days, locale=locale),
            )
        ),
        warning=warning,
    )


def line_details(page: LinePage, *, language: str) -> LineDetails:
    line = page.line
    locale = locale_for(language, country=line.country)
    timezone = line.shown.timezone
    currency = line.main.currency

    def day(moment: datetime) -> str:
        return last_valid_day(moment, timezone=timezone, locale=locale)

    buckets = tuple(
        _bucket(bucket, currency=currency, language=language, locale=locale, day=day)
        for bucket in page.buckets
    )
    return LineDetails(
        row=line_row(line, language=language),
        plan=page.plan.name_in(language) if page.plan else None,
        buckets=buckets,
        steps=_steps(page, language=language, locale=locale, day=day),
        auto_renewal=_auto_renewal(page, language=language),
        auto_topup=_auto_topup(page, language=language, locale=locale),
        reminder=(
            translate(
                "portal_next_reminder",
                language=language,
                day=_local_day(page.next_reminder_at, timezone=timezone, locale=locale),
            )
            if page.next_reminder_at is not None
            else translate("portal_no_reminder", language=language)
        ),
        apn=(
            Apn(name=page.apn.name, username=page.apn.username, password=page.apn.password)
            if page.apn
            else None
        ),
        remove_href=line_href(line.msisdn) + "/remove",
    )


_BUCKET_LABELS = {
    BucketKind.MAIN: "portal_bucket_main",
    BucketKind.BONUS: "portal_bucket_bonus",
    BucketKind.VOICE: "portal_bucket_voice",
    BucketKind.SMS: "portal_bucket_sms",
    BucketKind.DATA: "portal_bucket_data",
}


def _bucket(
    bucket: BucketLine, *, currency: str, language: str, locale: str, day: Day
) -> BucketRow:
    amount = _quantity(bucket.kind, bucket.amount, currency=currency, locale=locale)
    meter_text = None
    if bucket.allowance is not None:
        meter_text = translate(
            "portal_left_of",
            language=language,
            left=amount,
            allowance=_quantity(bucket.kind, bucket.allowance, currency=currency, locale=locale),
        )
    return BucketRow(
        label=translate(_BUCKET_LABELS[bucket.kind], language=language),
        amount=amount,
        meter_max=None if bucket.allowance is None else max(bucket.allowance, bucket.amount),
        meter_value=bucket.amount,
        meter_text=meter_text,
        expires=(
            translate("portal_bucket_expires", language=language, day=day(bucket.expires_at))
            if bucket.expires_at is not None
            else None
        ),
    )


def _quantity(kind: BucketKind, amount: int, *, currency: str, locale: str) -> str:
    if kind.is_money:
        return format_money(Money(amount, currency), locale=locale)
    if amount <= 0:
        return {BucketKind.VOICE: "0 min", BucketKind.SMS: "0 SMS"}.get(kind, "0 MB")
    if kind is BucketKind.VOICE:
        return quantities(locale=locale, voice_seconds=max(amount, 60), sms=0, data_bytes=0)
    if kind is BucketKind.SMS:
        return quantities(locale=locale, voice_seconds=0, sms=amount, data_bytes=0)
    return quantities(locale=locale, voice_seconds=0, sms=0, data_bytes=max(amount, 1024 * 1024))


def _steps(page: LinePage, *, language: str, locale: str, day: Day) -> tuple[Step, ...]:
    line = page.line
    state = line.state
    recycled_on = _local_day(page.recycles_at, timezone=line.shown.timezone, locale=locale)
    return (
        Step(
            translate("portal_step_active", language=language, day=day(line.valid_until)),
            state is LineState.ACTIVE,
        ),
        Step(
            translate("portal_step_grace", language=language, day=day(page.grace_ends_at)),
            state is LineState.GRACE,
        ),
        Step(
            translate("portal_step_suspended", language=language, day=day(page.recycles_at)),
            state is LineState.SUSPENDED,
        ),
        Step(
            translate("portal_step_recycled", language=language, day=recycled_on),
            state is LineState.RECYCLED,
        ),
    )


def _auto_renewal(page: LinePage, *, language: str) -> str:
    setting = page.auto_renewal
    if setting is None or not setting.enabled:
        return translate("portal_auto_renewal_off", language=language)
    plan = setting.plan.name_in(language) if setting.plan else "—"
    return translate(
        "portal_auto_renewal_on", language=language, plan=plan, days=setting.days_before
    )


def _auto_topup(page: LinePage, *, language: str, locale: str) -> str:
    setting = page.auto_topup
    if setting is None or not setting.enabled:
        key = "portal_auto_topup_off" if page.offers_auto_topup else "portal_auto_topup_none"
        return translate(key, language=language)
    return translate(
        "portal_auto_topup_on",
        language=language,
        amount=format_money(setting.amount, locale=locale),
        threshold=format_money(setting.threshold, locale=locale),
    )


def _local_day(moment: datetime | None, *, timezone: str, locale: str) -> str:
    assert moment is not None
    return date_text(moment.astimezone(ZoneInfo(timezone)).date(), locale=locale)
