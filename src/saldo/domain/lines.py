"""A subscriber line: one MSISDN of one operator, with its SIM, language, state and
validity ``[activated_at, valid_until)``."""

from __future__ import annotations

import enum
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
    # Alert when main money falls below this (minor units); None: the operator's threshold.
    low_balance_threshold: int | None = None


def check_language(language: str, *, offered: tuple[str, ...]) -> str:
    """``language`` if the operator offers it (es, fr, nl, en, zh); raise otherwise."""
    normalized = language.strip().lower().replace("-", "_").split("_")[0]
    if normalized not in LANGUAGES or normalized not in offered:
        raise UnsupportedLanguage(
            f"language {language!r} is not offered here (choose from {', '.join(offered)})"
        )
    return normalized
