"""The portal's line page (issue 14): one line of the subscriber's account with everything a
subscriber checks before travelling or renewing, in one read: each bucket beside the plan's
allowance, the dates of what happens next (end of validity, end of grace, recycling), the
automatic renewal and top-up, the next expiry reminder and the operator's data settings.

Like every use case of ``services.access``, it starts from the token presented: a number that
is not on the account is answered as one that does not exist (LineNotFound).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from saldo.domain.access import TokenKind
from saldo.domain.buckets import BucketKind
from saldo.domain.lifecycle import LineState
from saldo.domain.money import Money
from saldo.domain.operator import AccessPointName, Operator, Plan
from saldo.domain.periods import require_aware
from saldo.services.access.account_lines import AccountLine, account_line_view, own_line
from saldo.services.access.policy import AccessPolicy
from saldo.services.access.sign_in import note_use, signed_in
from saldo.services.inquire_balance import BalanceView, balance_view
from saldo.services.ports import UnitOfWork

# The buckets a line's page shows, in this order; money always, the others when the line
# has some or its plan includes them.
SHOWN_KINDS = (BucketKind.MAIN, BucketKind.BONUS, BucketKind.VOICE, BucketKind.SMS, BucketKind.DATA)


@dataclass(frozen=True, slots=True)
class BucketLine:
    """What the line has of one kind (minor units of money, seconds, SMS or bytes), what its
    plan grants of it (None: no plan, or the plan grants none), and when the first of its
    buckets expires (None: never, or nothing left)."""

    kind: BucketKind
    amount: int
    allowance: int | None
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class AutoRenewalStatus:
    enabled: bool
    plan: Plan | None
    days_before: int


@dataclass(frozen=True, slots=True)
class AutoTopUpStatus:
    enabled: bool
    threshold: Money
    amount: Money


@dataclass(frozen=True, slots=True)
class LinePage:
    """A line of the account as its page shows it. ``plan`` is the one it last bought
    (from its balance or by an order), else the one set to renew automatically (None:
    neither); ``grace_ends_at`` and ``recycles_at`` follow from the validity and the
    operator's rules; ``next_reminder_at`` is when the next expiry reminder falls due, on
    the days the line keeps of its operator's (None: none left before the end of validity);
    ``apn`` is the operator's data settings (None when the catalog has none)."""

    line: AccountLine
    plan: Plan | None
    buckets: tuple[BucketLine, ...]
    grace_ends_at: datetime
    recycles_at: datetime
    auto_renewal: AutoRenewalStatus | None
    auto_topup: AutoTopUpStatus | None
    offers_auto_topup: bool
    next_reminder_at: datetime | None
    apn: AccessPointName | None


def line_page(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    now: datetime,
) -> LinePage:
    """The account's line with this number, as its page shows it at ``now``. Raises
    NotSignedIn, InvalidMsisdn, or LineNotFound when the account has no such line."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
        line_id = line.line.id
        bought = uow.history.last_plan(line_id=line_id, at=now)
        renewal = uow.auto_renewals.get(line_id)
        topup = uow.auto_topups.get(line_id)
    note_use(uow, found, now=now)
    operator = line.operator
    balance = balance_view(line, now=now)
    plan_code = bought.plan_code if bought else None
    if plan_code is None and renewal is not None:
        plan_code = renewal.plan_code
    plan = _plan(operator, plan_code)
    rules = operator.lifecycle
    valid_until = line.line.valid_until
    return LinePage(
        line=account_line_view(line, balance, now=now),
        plan=plan,
        buckets=_buckets(balance, plan),
        grace_ends_at=rules.grace_ends_at(valid_until),
        recycles_at=rules.recycles_at(valid_until),
        auto_renewal=(
            None
            if renewal is None
            else AutoRenewalStatus(
                enabled=renewal.enabled,
                plan=_plan(operator, renewal.plan_code),
                days_before=renewal.days_before,
            )
        ),
        auto_topup=(
            None
            if topup is None
            else AutoTopUpStatus(
                enabled=topup.enabled,
                threshold=Money(topup.threshold, topup.currency),
                amount=Money(topup.amount, topup.currency),
            )
        ),
        offers_auto_topup=operator.auto_topup,
        next_reminder_at=next_reminder_at(
            state=balance.state,
            valid_until=valid_until,
            reminder_days=tuple(
                days
                for days in operator.reminder_days
                if line.line.reminder_days is None or days in line.line.reminder_days
            ),
            now=now,
        ),
        apn=operator.apn,
    )


def next_reminder_at(
    *, state: LineState, valid_until: datetime, reminder_days: tuple[int, ...], now: datetime
) -> datetime | None:
    """When the next expiry reminder falls due: the nearest of ``reminder_days`` before
    ``valid_until`` that is still ahead of ``now`` (the worker sends it then, SMS after the
    quiet hours); None for a line past its validity or with every reminder behind it."""
    if state is not LineState.ACTIVE:
        return None
    ahead = [
        valid_until - timedelta(days=days)
        for days in reminder_days
        if valid_until - timedelta(days=days) > now
    ]
    return min(ahead, default=None)


def _plan(operator: Operator, code: str | None) -> Plan | None:
    return next((plan for plan in operator.plans if plan.code == code), None)


def _buckets(balance: BalanceView, plan: Plan | None) -> tuple[BucketLine, ...]:
    amounts = {
        BucketKind.MAIN: balance.main.minor,
        BucketKind.BONUS: balance.bonus.minor,
        BucketKind.VOICE: balance.voice_seconds,
        BucketKind.SMS: balance.sms,
        BucketKind.DATA: balance.data_bytes,
    }
    granted = {
        BucketKind.VOICE: plan.allowances.voice_seconds if plan else 0,
        BucketKind.SMS: plan.allowances.sms if plan else 0,
        BucketKind.DATA: plan.allowances.data_bytes if plan else 0,
    }
    shown = []
    for kind in SHOWN_KINDS:
        allowance = granted.get(kind) or None
        if kind is not BucketKind.MAIN and not amounts[kind] and allowance is None:
            continue
        expiries = [
            bucket.expires_at
            for bucket in balance.buckets
            if bucket.kind is kind and bucket.amount and bucket.expires_at is not None
        ]
        shown.append(
            BucketLine(
                kind=kind,
                amount=amounts[kind],
                allowance=allowance,
                expires_at=min(expiries, default=None),
            )
        )
    return tuple(shown)
