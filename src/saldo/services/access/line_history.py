"""A subscriber's own line's history, reached with their token: its daily use, its movements
in a month, its statement and the advice on its plan (``saldo.services.history``).

Like every use case of an account (``account_lines``), each starts from the token presented:
a number that is not on the account is answered as a number that does not exist
(LineNotFound), whether or not a line has it.

Which reads may lag (docs/scaling.md, "Read replicas"): the token and the line are always
read on the primary (a sign-in a moment ago, a token revoked a moment ago); the daily use,
written by the network and never by the subscriber, and a closed month's movements and
statement, which nothing the subscriber does now can change, may come from a read replica.
This month's movements and statement, and the plan (a renewal a moment ago changes it),
stay on the primary: the subscriber looks there for what they have just done.
"""

from __future__ import annotations

from datetime import datetime

from saldo.domain.access import TokenKind
from saldo.domain.periods import require_aware
from saldo.services.access.account_lines import own_line
from saldo.services.access.policy import AccessPolicy
from saldo.services.access.sign_in import note_use, signed_in
from saldo.services.daily_use import DailyUseView, daily_use_of
from saldo.services.history import (
    MovementsView,
    Statement,
    month_is_closed,
    movements_of,
    statement_of,
)
from saldo.services.plan_advice import PlanAdviceView, advice_of
from saldo.services.ports import UnitOfWork


def account_line_usage(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    days: int,
    now: datetime,
) -> DailyUseView:
    """The account's line's use per day over the last ``days`` days. Raises NotSignedIn,
    InvalidMsisdn, LineNotFound, InvalidDays."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
    with uow.reading(may_lag=True):
        view = daily_use_of(uow, line_id=line.line.id, operator=line.operator,
                            msisdn=line.line.msisdn, language=line.line.language,
                            days=days, now=now)  # fmt: skip
    note_use(uow, found, now=now)
    return view


def account_line_movements(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    month: str | None,
    now: datetime,
) -> MovementsView:
    """The account's line's movements in ``month`` (YYYY-MM; None: this month). Raises
    NotSignedIn, InvalidMsisdn, LineNotFound, InvalidMonth."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
    with uow.reading(may_lag=month_is_closed(month, operator=line.operator, now=now)):
        view = movements_of(uow, line_id=line.line.id, operator=line.operator,
                            msisdn=line.line.msisdn, language=line.line.language,
                            month=month, now=now)  # fmt: skip
    note_use(uow, found, now=now)
    return view


def account_line_statement(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    month: str,
    now: datetime,
) -> Statement:
    """The account's line's statement for ``month`` (YYYY-MM). Raises NotSignedIn,
    InvalidMsisdn, LineNotFound, InvalidMonth."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
    with uow.reading(may_lag=month_is_closed(month, operator=line.operator, now=now)):
        view = statement_of(uow, line_id=line.line.id, operator=line.operator,
                            msisdn=line.line.msisdn, language=line.line.language,
                            month=month, now=now)  # fmt: skip
    note_use(uow, found, now=now)
    return view


def account_line_plan(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    now: datetime,
) -> PlanAdviceView:
    """The account's line's current plan and the advice on it. Raises NotSignedIn,
    InvalidMsisdn, LineNotFound."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
        view = advice_of(uow, line_id=line.line.id, operator=line.operator,
                         msisdn=line.line.msisdn, language=line.line.language,
                         now=now)  # fmt: skip
    note_use(uow, found, now=now)
    return view
