"""A subscriber's settings of one of their account's lines: auto-renewal on or off, auto
top-up (amount, threshold), the low-balance alert's threshold, and the language of the
line's messages; the reminder days are the operator's, shown.

A change goes through the use cases the staff's commands use (``change_auto_renewal``,
``change_auto_topup``, ``set_low_balance_alert``): what can be refused by its value alone is
checked first, so such a refusal changes nothing; the answer is the line's settings as they
stand after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from saldo.domain.access import TokenKind
from saldo.domain.lines import check_language, check_reminder_days
from saldo.domain.money import Money, parse_money
from saldo.domain.operator import Presentation
from saldo.domain.periods import require_aware
from saldo.services.access.account_lines import own_line
from saldo.services.access.policy import AccessPolicy
from saldo.services.access.sign_in import note_use, signed_in
from saldo.services.auto_renewal import change_auto_renewal
from saldo.services.auto_topup import change_auto_topup
from saldo.services.lines import (
    LineNotFound,
    check_threshold,
    line_record,
    set_low_balance_alert,
)
from saldo.services.order_payment import SANDBOX
from saldo.services.ports import UnitOfWork
from saldo.services.ports.auto_payments import AutoRenewal, AutoTopUp
from saldo.services.ports.payments import PaymentProvider


@dataclass(frozen=True, slots=True)
class LineSettings:
    """A line's settings as they stand: ``auto_renewal`` and ``auto_topup`` (None: never
    set), the low-balance threshold in force (``own``: the line's, else the operator's;
    None: no alert), the language of its messages and those its operator offers, the days
    before expiry its reminders go (farthest first) and those its operator sends reminders
    on, and whether its operator offers auto top-up."""

    msisdn: str
    auto_renewal: AutoRenewal | None
    auto_topup: AutoTopUp | None
    auto_topup_offered: bool
    low_balance_threshold: Money | None
    own_threshold: bool
    language: str
    languages: tuple[str, ...]
    reminder_days: tuple[int, ...]
    reminder_days_offered: tuple[int, ...]
    shown: Presentation


@dataclass(frozen=True, slots=True)
class SettingsChange:
    """What a subscriber changes; None leaves a setting as it is. ``auto_topup_below`` and
    ``auto_topup_amount`` are decimal text in the line's currency; ``low_balance_threshold``
    too, where ``reset_low_balance_threshold`` takes the operator's back; ``reminder_days``
    among the operator's (empty: no reminder)."""

    auto_renewal: bool | None = None
    auto_renewal_plan: str | None = None
    auto_renewal_provider: str | None = None
    auto_renewal_token: str | None = None
    auto_topup: bool | None = None
    auto_topup_below: str | None = None
    auto_topup_amount: str | None = None
    auto_topup_provider: str | None = None
    auto_topup_token: str | None = None
    low_balance_threshold: str | None = None
    reset_low_balance_threshold: bool = False
    language: str | None = None
    reminder_days: tuple[int, ...] | None = None
    # The amounts as a person typed them in this locale ("1.500,50" in es_AR); None:
    # decimal text.
    locale: str | None = None


def line_settings(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    now: datetime,
) -> LineSettings:
    """The account's line's settings. Raises NotSignedIn, InvalidMsisdn, LineNotFound."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
    note_use(uow, found, now=now)
    return settings_of(uow, msisdn=line.line.msisdn)


def change_line_settings(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    change: SettingsChange,
    now: datetime,
) -> LineSettings:
    """Change the account's line's settings named in ``change``, the others kept; return
    them all as they stand after. A language, reminder days or threshold that cannot be
    taken is refused before anything changes; auto-renewal is changed before auto top-up,
    and a refused auto top-up leaves an accepted auto-renewal change in place. Raises
    NotSignedIn, InvalidMsisdn, LineNotFound, UnsupportedLanguage,
    then everything ``change_auto_renewal``, ``change_auto_topup`` and
    ``set_low_balance_alert`` raise; UnableToSetReminders."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
        renewal = uow.auto_renewals.get(line.line.id)
        topup = uow.auto_topups.get(line.line.id)
    note_use(uow, found, now=now)
    number, operator = line.line.msisdn, line.operator
    sandbox = SANDBOX if SANDBOX in providers else next(iter(providers), SANDBOX)
    # Every setting that can be refused by its value alone is checked before anything is
    # written; then auto-renewal and auto top-up (their use cases check the plan, the amounts
    # and the card), then the settings already checked, which nothing refuses any more.
    language = (
        None
        if change.language is None
        else check_language(change.language, offered=operator.languages)
    )
    days = (
        None
        if change.reminder_days is None
        else check_reminder_days(change.reminder_days, offered=operator.reminder_days)
    )
    currency = operator.currency
    threshold = (
        None
        if change.low_balance_threshold is None
        else check_threshold(
            _amount(change.low_balance_threshold, currency, change.locale), currency=currency
        )
    )
    topup_below, topup_amount = (
        None if typed is None else _amount(typed, currency, change.locale).canonical()
        for typed in (change.auto_topup_below, change.auto_topup_amount)
    )
    if change.auto_renewal is not None:
        change_auto_renewal(
            uow,
            providers,
            msisdn=number,
            plan_code=change.auto_renewal_plan,
            provider=change.auto_renewal_provider
            or (renewal.provider if renewal is not None else sandbox),
            token=change.auto_renewal_token or (renewal.token if renewal is not None else None),
            fallback_to_balance=renewal.fallback_to_balance if renewal is not None else False,
            days_before=renewal.days_before if renewal is not None else 0,
            email=None,
            enabled=change.auto_renewal,
            now=now,
        )
    if change.auto_topup is not None:
        change_auto_topup(
            uow,
            providers,
            msisdn=number,
            below=_typed(topup_below, topup.threshold if topup else None, currency),
            amount=_typed(topup_amount, topup.amount if topup else None, currency),
            provider=change.auto_topup_provider
            or (topup.provider if topup is not None else sandbox),
            token=change.auto_topup_token or (topup.token if topup is not None else None),
            enabled=change.auto_topup,
            locale="en",
            now=now,
        )
    if language is not None or days is not None:
        with uow:
            record = line_record(uow, number=number, for_update=True)
            if record.line.id != line.line.id:
                raise LineNotFound(f"no line with number {number} on this account")
            if language is not None:
                uow.lines.set_language(record.line.id, language=language)
            if days is not None:
                uow.lines.set_reminder_days(record.line.id, days=days)
            uow.commit()
    if threshold is not None or change.reset_low_balance_threshold:
        set_low_balance_alert(uow, msisdn=number, threshold=threshold)
    return settings_of(uow, msisdn=number)


def _amount(text: str, currency: str, locale: str | None) -> Money:
    """An amount as decimal text, or as a person typed it in ``locale``. Raises
    InvalidAmount."""
    if locale is None:
        return Money.of(text, currency)
    return parse_money(text, currency=currency, locale=locale)


def _typed(given: str | None, kept: int | None, currency: str) -> str | None:
    """An amount as decimal text: the one given, or the one kept (minor units)."""
    if given is not None:
        return given
    return None if kept is None else Money(kept, currency).canonical()


def settings_of(uow: UnitOfWork, *, msisdn: str) -> LineSettings:
    """The settings of the line with ``msisdn`` as they stand (its own transaction)."""
    with uow.reading():
        record = line_record(uow, number=msisdn)
        renewal = uow.auto_renewals.get(record.line.id)
        topup = uow.auto_topups.get(record.line.id)
    line, operator = record.line, record.operator
    own = line.low_balance_threshold
    reminders = operator.reminder_days if line.reminder_days is None else line.reminder_days
    return LineSettings(
        msisdn=line.msisdn,
        auto_renewal=renewal,
        auto_topup=topup,
        auto_topup_offered=operator.auto_topup,
        low_balance_threshold=(
            Money(own, operator.currency) if own is not None else operator.low_balance_threshold
        ),
        own_threshold=own is not None,
        language=line.language,
        languages=operator.languages,
        reminder_days=tuple(sorted(reminders, reverse=True)),
        reminder_days_offered=tuple(sorted(operator.reminder_days, reverse=True)),
        shown=operator.presentation_for(line.language),
    )
