"""An account's calendar feed: a private address (``/calendar/{secret}.ics``) a phone's
calendar subscribes to, with each line's "renew by" day (a week before its validity ends,
as subscribers are told to renew) and its last valid day, so that the phone itself warns.

The secret is drawn from a random seed kept for the account, with a key derived from
SALDO_SECRET_KEY (``calendar_secret``); the database keeps the seed and the secret's keyed
hash, by which a feed is found: a copy of the database alone opens no feed. A new link
(``new_calendar_link``) replaces the seed, and the old address opens nothing any more.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from saldo.domain.access import TokenKind, keyed_hash
from saldo.domain.errors import SaldoError
from saldo.domain.lifecycle import LineState, state_at
from saldo.domain.periods import require_aware
from saldo.services.access.policy import AccessPolicy
from saldo.services.access.sign_in import note_use, signed_in
from saldo.services.ports import UnitOfWork

# Subscribers are told to renew at least a week before their validity ends.
RENEW_BEFORE: Final = timedelta(days=7)
_SECRET_LENGTH: Final = 32  # hex digits: 128 bits


class CalendarNotFound(SaldoError):
    """No calendar feed has this secret (never had, or a new link replaced it)."""

    code = "calendar_not_found"


@dataclass(frozen=True, slots=True)
class CalendarLine:
    """One line's days in the feed: ``renew_by`` a week before ``last_day``, the last day
    its validity covers, both in its operator's time zone; texts in ``language``."""

    line_id: int
    msisdn: str
    operator_name: str
    language: str
    renew_by: date
    last_day: date
    valid_until: datetime


@dataclass(frozen=True, slots=True)
class CalendarFeed:
    """The account's lines that still have a number to keep, closest to the end first."""

    account_id: int
    lines: tuple[CalendarLine, ...]


def calendar_secret(seed: str, *, policy: AccessPolicy) -> str:
    """The secret of the feed drawn from ``seed``: only the installation's key makes it."""
    return keyed_hash(seed, key=policy.key, purpose="calendar")[:_SECRET_LENGTH]


def _secret_hash(secret: str, *, policy: AccessPolicy) -> str:
    return keyed_hash(secret, key=policy.key, purpose="calendar feed")


def new_calendar_link(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    now: datetime,
    draw: Callable[[], str] = lambda: secrets.token_hex(16),
) -> str:
    """Give the signed-in account a new calendar feed and return its secret; the feed it had
    opens nothing any more. Raises NotSignedIn."""
    now = require_aware(now)
    seed = draw()
    secret = calendar_secret(seed, policy=policy)
    with uow:
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        uow.access.new_calendar(
            account_id=found.account_id,
            seed=seed,
            secret_hash=_secret_hash(secret, policy=policy),
            now=now,
        )
        uow.commit()
    note_use(uow, found, now=now)
    return secret


def calendar_feed(
    uow: UnitOfWork, *, policy: AccessPolicy, secret: str, now: datetime
) -> CalendarFeed:
    """The days of the lines of the account whose feed has ``secret``, at ``now``: every
    line on it but those already recycled. Raises CalendarNotFound."""
    now = require_aware(now)
    if len(secret) != _SECRET_LENGTH:
        raise CalendarNotFound("no calendar has this address")
    with uow.reading():
        account_id = uow.access.account_of_calendar(_secret_hash(secret, policy=policy))
        if account_id is None:
            raise CalendarNotFound("no calendar has this address")
        found = uow.subscribers.lines(account_id)
    lines = []
    for each in found:
        line, operator = each.line, each.operator
        state = state_at(
            stored_state=line.state,
            valid_until=line.valid_until,
            rules=operator.lifecycle,
            now=now,
        )
        if state is LineState.RECYCLED:
            continue
        last = (line.valid_until - timedelta(microseconds=1)).astimezone(
            ZoneInfo(operator.timezone)
        )
        lines.append(
            CalendarLine(
                line_id=line.id,
                msisdn=line.msisdn,
                operator_name=operator.name,
                language=line.language,
                renew_by=last.date() - RENEW_BEFORE,
                last_day=last.date(),
                valid_until=line.valid_until,
            )
        )
    return CalendarFeed(
        account_id=account_id, lines=tuple(sorted(lines, key=lambda shown: shown.valid_until))
    )
