"""The settings page made into what its templates print (every amount in the page's
language and the line's country, every choice already made), the forms' fields read into the
change a subscriber asked for, and a calendar feed written as iCalendar in each line's
language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from icalendar import Alarm, Calendar, Event

from saldo.channels.web.language import locale_for
from saldo.channels.web.pages import LANGUAGE_NAMES
from saldo.channels.web.views import line_href
from saldo.domain.errors import SaldoError
from saldo.domain.money import Money, format_money
from saldo.i18n import LOCALES, date_text, translate
from saldo.services.access.calendar import CalendarFeed, CalendarLine
from saldo.services.access.line_settings import SettingsChange
from saldo.services.access.settings_page import SettingsPage
from saldo.services.settlement import BALANCE

# Which form of the page a POST comes from: each changes only its own settings.
GENERAL, RENEWAL, TOPUP = "general", "renewal", "topup"
# The fields where amounts are typed, shown again as typed when a change is refused.
TYPED_AMOUNTS: Final = ("threshold", "topup_below", "topup_amount")
# Calendar alarms: in the morning of the day (all-day events start at local midnight).
_ALARM_AT: Final = timedelta(hours=9)


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    text: str
    chosen: bool
    lang: str = ""


@dataclass(frozen=True, slots=True)
class SettingsView:
    msisdn: str
    title: str
    href: str  # the settings page's own address
    line_href: str
    email_href: str
    locale: str
    currency: str
    languages: tuple[Option, ...]
    reminders: tuple[Option, ...]
    reminders_none: bool
    threshold: str  # the line's own threshold as typed, empty: the operator's
    threshold_hint: str
    auto_renewal: bool
    # "balance" for a line whose renewal is paid from its balance (or has none yet); empty:
    # the saved method it has is kept.
    renewal_provider: str
    renewal_hint: str
    plans: tuple[Option, ...]
    topup_offered: bool
    auto_topup: bool
    topup_below: str
    topup_amount: str
    amount_hint: str
    email: str | None
    email_note: str
    calendar_url: str | None
    webcal_url: str | None


def settings_href(msisdn: str) -> str:
    return line_href(msisdn) + "/settings"


def settings_view(
    page: SettingsPage, *, language: str, base_url: str, typed: Mapping[str, str]
) -> SettingsView:
    """The page in ``language``; ``typed``: amounts to show as typed (those of a refused
    form, among TYPED_AMOUNTS) instead of those in force."""
    shown = page.settings
    locale = locale_for(language, country=page.country)
    currency = shown.shown.currency

    def written(minor: int | None) -> str:
        # As the subscriber would type it: the locale's number, without the currency sign.
        return "" if minor is None else _plain(Money(minor, currency), locale=locale)

    renewal, topup = shown.auto_renewal, shown.auto_topup
    renewing = renewal.plan_code if renewal is not None else None
    from_balance = BALANCE if renewal is None or renewal.provider == BALANCE else ""
    own = shown.low_balance_threshold if shown.own_threshold else None
    operator_threshold = None if shown.own_threshold else shown.low_balance_threshold
    feed = None
    if page.calendar_secret is not None:
        feed = f"{base_url.rstrip('/')}/calendar/{page.calendar_secret}.ics"
    return SettingsView(
        msisdn=shown.msisdn,
        title=translate("portal_settings_title", language=language, msisdn=shown.msisdn),
        href=settings_href(shown.msisdn),
        line_href=line_href(shown.msisdn),
        email_href=line_href(shown.msisdn) + "/email",
        locale=locale,
        currency=currency,
        languages=tuple(
            Option(code, LANGUAGE_NAMES[code], code == shown.language, lang=code)
            for code in shown.languages
        ),
        reminders=tuple(
            Option(
                str(days),
                translate(
                    "portal_settings_days_before_one"
                    if days == 1
                    else "portal_settings_days_before_other",
                    language=language,
                    days=days,
                ),
                days in shown.reminder_days,
            )
            for days in shown.reminder_days_offered
        ),
        reminders_none=not shown.reminder_days,
        threshold=typed.get("threshold", "" if own is None else written(own.minor)),
        threshold_hint=(
            translate(
                "portal_settings_threshold_operator",
                language=language,
                amount=format_money(operator_threshold, locale=locale),
            )
            if operator_threshold is not None
            else translate("portal_settings_threshold_empty", language=language)
        ),
        auto_renewal=renewal is not None and renewal.enabled,
        renewal_provider=from_balance,
        renewal_hint=translate(
            "portal_settings_auto_renewal_balance"
            if from_balance
            else "portal_settings_auto_renewal_hint",
            language=language,
        ),
        plans=tuple(
            Option(plan.code, plan.name_in(language), plan.code == renewing) for plan in page.plans
        ),
        topup_offered=shown.auto_topup_offered,
        auto_topup=topup is not None and topup.enabled,
        topup_below=typed.get("topup_below", written(topup.threshold if topup else None)),
        topup_amount=typed.get("topup_amount", written(topup.amount if topup else None)),
        amount_hint=translate(
            "portal_settings_amount_hint",
            language=language,
            example=_plain(Money.of("1500.5", currency), locale=locale)
            if currency != "COP"
            else _plain(Money.of("20000", currency), locale=locale),
        ),
        email=page.email,
        email_note=translate(
            "portal_settings_email_verified"
            if page.email_verified
            else "portal_settings_email_unverified",
            language=language,
        ),
        calendar_url=feed,
        webcal_url=None if feed is None else "webcal://" + feed.split("://", 1)[1],
    )


def _plain(money: Money, *, locale: str) -> str:
    """``money`` as its locale writes it, without the currency's sign or code."""
    written = format_money(money, locale=locale)
    return "".join(char for char in written if char.isdigit() or char in ".,\u00a0\u202f ").strip()


def settings_change(fields: Mapping[str, str]) -> SettingsChange:
    """The change a form of the settings page asks for (``part`` says which)."""
    locale = fields.get("locale")
    locale = locale if locale in LOCALES else None
    part = fields.get("part")
    if part == RENEWAL:
        return SettingsChange(
            auto_renewal=fields.get("auto_renewal") == "on",
            auto_renewal_plan=fields.get("plan") or None,
            auto_renewal_provider=BALANCE if fields.get("provider") == BALANCE else None,
        )
    if part == TOPUP:
        return SettingsChange(
            auto_topup=fields.get("auto_topup") == "on",
            auto_topup_below=fields.get("topup_below", "").strip() or None,
            auto_topup_amount=fields.get("topup_amount", "").strip() or None,
            locale=locale,
        )
    threshold = fields.get("threshold", "").strip()
    return SettingsChange(
        language=fields.get("language") or None,
        reminder_days=tuple(
            int(days) for name, value in fields.items() if (days := _reminder(name, value))
        ),
        low_balance_threshold=threshold or None,
        reset_low_balance_threshold=not threshold,
        locale=locale,
    )


def _reminder(name: str, value: str) -> str:
    """The days of a ticked ``reminder_<days>`` box, else empty."""
    days = name.removeprefix("reminder_")
    ticked = name != days and value == "on" and days.isdigit() and len(days) <= 3
    return days if ticked else ""


def refusal_text(error: SaldoError, *, language: str) -> str:
    """Why a change was refused, in words (each refusal's own, else a general one)."""
    key = f"portal_settings_refused_{error.code}"
    try:
        return translate(key, language=language)
    except KeyError:
        return translate("portal_settings_refused", language=language)


# -- the calendar feed ---------------------------------------------------------------------


def calendar_ics(feed: CalendarFeed, *, now: datetime) -> bytes:
    """The feed as an iCalendar file: for each line, its "renew by" day and its last valid
    day as all-day events with an alarm in the morning, written in the line's language."""
    calendar = Calendar()
    calendar.add("prodid", "-//Saldo//Calendar feed//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    first = feed.lines[0].language if feed.lines else "en"
    calendar.add("x-wr-calname", translate("portal_settings_calendar_name", language=first))
    for line in feed.lines:
        for what, day in (("renew", line.renew_by), ("expiry", line.last_day)):
            calendar.add_component(_event(line, what=what, day=day, now=now))
    return bytes(calendar.to_ical())


def _event(line: CalendarLine, *, what: str, day: date, now: datetime) -> Event:
    language = line.language
    locale = locale_for(language, country=None)
    values = {
        "msisdn": line.msisdn,
        "operator": line.operator_name,
        "day": date_text(line.last_day, locale=locale),
    }
    summary = translate(f"portal_settings_calendar_{what}", language=language, **values)
    event = Event()
    event.add("uid", f"{what}-{line.line_id}-{line.last_day.isoformat()}@saldo")
    event.add("dtstamp", now)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("summary", summary)
    event.add(
        "description",
        translate(f"portal_settings_calendar_{what}_text", language=language, **values),
    )
    event.add("transp", "TRANSPARENT")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", _ALARM_AT)
    event.add_component(alarm)
    return event
