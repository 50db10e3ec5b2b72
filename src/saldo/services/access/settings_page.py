"""What the portal's settings page of one of an account's lines shows, read at once: the
line's settings (``line_settings``), its email, the plans its auto-renewal may renew, and
the account's calendar feed's secret (None: it has none yet); and a change made from that
page, answered with the page again and the refusal, if any, to show beside its form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from saldo.domain.access import TokenKind
from saldo.domain.errors import SaldoError
from saldo.domain.lines import UnableToSetReminders, UnsupportedLanguage
from saldo.domain.money import InvalidAmount
from saldo.domain.operator import Plan
from saldo.domain.periods import require_aware
from saldo.services.access.account_lines import own_line
from saldo.services.access.calendar import calendar_secret
from saldo.services.access.line_settings import (
    LineSettings,
    SettingsChange,
    change_line_settings,
    settings_of,
)
from saldo.services.access.policy import AccessPolicy
from saldo.services.access.sign_in import note_use, signed_in
from saldo.services.auto_renewal import UnableToSetAutoRenewal
from saldo.services.auto_topup import UnableToSetAutoTopUp
from saldo.services.buy_plan import UnknownPlan
from saldo.services.lines import UnableToSetAlert
from saldo.services.ports import UnitOfWork
from saldo.services.ports.payments import PaymentProvider

# What a subscriber's change can be refused for (the app API's PATCH answers them with 422).
SETTINGS_REFUSALS = (
    UnsupportedLanguage,
    UnableToSetReminders,
    InvalidAmount,
    UnableToSetAlert,
    UnableToSetAutoRenewal,
    UnableToSetAutoTopUp,
    UnknownPlan,
)


@dataclass(frozen=True, slots=True)
class SettingsPage:
    settings: LineSettings
    email: str | None
    # Whether a code sent to ``email`` proved it (only then may sign-in codes go there).
    email_verified: bool
    country: str
    plans: tuple[Plan, ...]
    calendar_secret: str | None = field(repr=False)


def settings_page(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    now: datetime,
) -> SettingsPage:
    """The settings page of the account's line. Raises NotSignedIn, InvalidMsisdn,
    LineNotFound."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
        seed = uow.access.calendar_seed(found.account_id)
    note_use(uow, found, now=now)
    return SettingsPage(
        settings=settings_of(uow, msisdn=line.line.msisdn),
        email=line.line.email,
        email_verified=line.line.email is not None and line.line.email_verified_at is not None,
        country=line.operator.country,
        plans=line.operator.plans,
        calendar_secret=None if seed is None else calendar_secret(seed, policy=policy),
    )


@dataclass(frozen=True, slots=True)
class SettingsChanged:
    """The settings page after a change; ``refused``: why the change was not taken."""

    page: SettingsPage
    refused: SaldoError | None


def change_settings_page(
    uow: UnitOfWork,
    providers: Mapping[str, PaymentProvider],
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    change: SettingsChange,
    now: datetime,
) -> SettingsChanged:
    """``change_line_settings``, then the settings page as it stands; a refusal among
    SETTINGS_REFUSALS is answered with the page, not raised. Raises NotSignedIn,
    InvalidMsisdn, LineNotFound."""
    refused: SaldoError | None = None
    try:
        change_line_settings(
            uow, providers, policy=policy, token=token, kind=kind, msisdn=msisdn,
            change=change, now=now,
        )  # fmt: skip
    except SETTINGS_REFUSALS as error:
        refused = error
    page = settings_page(uow, policy=policy, token=token, kind=kind, msisdn=msisdn, now=now)
    return SettingsChanged(page=page, refused=refused)
