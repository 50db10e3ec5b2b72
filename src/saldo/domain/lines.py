"""A subscriber line: one MSISDN of one operator, with its SIM, language, state and
validity ``[activated_at, valid_until)``."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from saldo.domain.errors import SaldoError
from saldo.domain.lifecycle import LineState

if TYPE_CHECKING:
    # An annotation only: the CLI's root command needs Channel, not the whole Operator.
    from saldo.domain.operator import SimKind

LANGUAGES = ("es", "fr", "nl", "en", "zh")


class Channel(enum.StrEnum):
    """The way a command reached Saldo; kept on every top-up for receipts and disputes."""

    CLI = "cli"
    SMS = "sms"
    USSD = "ussd"
    HOTLINE = "hotline"
    WEB = "web"
    APP = "app"
    STORE = "store"
    RESELLER = "reseller"
    VOUCHER = "voucher"
    AUTO = "auto"


class UnsupportedLanguage(SaldoError, ValueError):
    code = "unsupported_language"


@dataclass(frozen=True, slots=True)
class Line:
    id: int
    operator_id: int
    msisdn: str
    iccid: str | None
    sim_kind: SimKind
    language: str
    state: LineState
    activated_at: datetime
    valid_until: datetime
    email: str | None = None
    # When ``email`` was proven by a code sent to it (None: it was not, e.g. set by the CLI);
    # only a proven email may receive sign-in codes.
    email_verified_at: datetime | None = None
    # Alert when main money falls below this (minor units); None: the operator's threshold.
    low_balance_threshold: int | None = None
    # The days before expiry the line's reminders go, among its operator's (None: all of them).
    reminder_days: tuple[int, ...] | None = None


class UnableToSetReminders(SaldoError, ValueError):
    code = "unable_to_set_reminders"


def check_reminder_days(days: Sequence[int], *, offered: Sequence[int]) -> tuple[int, ...]:
    """``days`` (none at all: no reminder), farthest first, when its operator sends reminders
    on each of them; raise UnableToSetReminders otherwise."""
    chosen = tuple(sorted(set(days), reverse=True))
    if not set(chosen) <= set(offered):
        shown = ", ".join(str(day) for day in sorted(offered, reverse=True))
        raise UnableToSetReminders(f"reminders go {shown} days before expiry; choose among them")
    return chosen


def check_language(language: str, *, offered: tuple[str, ...]) -> str:
    """``language`` if the operator offers it (es, fr, nl, en, zh); raise otherwise."""
    normalized = language.strip().lower().replace("-", "_").split("_")[0]
    if normalized not in LANGUAGES or normalized not in offered:
        raise UnsupportedLanguage(
            f"language {language!r} is not offered here (choose from {', '.join(offered)})"
        )
    return normalized
