"""The lines of a subscriber's account: listed closest to loss first, one line's balance,
adding a line by confirming a code sent to it, taking one off.

Every use case starts from the token presented (``signed_in``): an account reaches only its
own lines, and a number that is not on it is answered as a number that does not exist
(LineNotFound). Taking a line off an account never touches the line itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from saldo.domain.access import CodePurpose, TokenKind
from saldo.domain.lifecycle import LineState, renewal_due
from saldo.domain.money import Money
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.operator import Presentation
from saldo.domain.periods import require_aware
from saldo.services.access.codes import CodeRequested, ask_code, take_code
from saldo.services.access.policy import AccessPolicy, random_code
from saldo.services.access.sign_in import note_use, signed_in
from saldo.services.inquire_balance import BalanceView, balance_view
from saldo.services.lines import LineNotFound
from saldo.services.ports import LineWithBuckets, UnitOfWork


@dataclass(frozen=True, slots=True)
class AccountLine:
    """One line of an account as the subscriber sees it: its operator and country, its state
    and main balance at the moment asked, how long it is valid and how many days are left
    before its number is recycled; ``renew_soon`` from a week before its validity ends
    ("renew at least a week before") until it is recycled."""

    msisdn: str
    country: str
    state: LineState
    main: Money
    valid_until: datetime
    recycles_at: datetime
    days_until_recycling: int
    renew_soon: bool
    shown: Presentation


@dataclass(frozen=True, slots=True)
class LineBalance:
    """One line of an account with every usable bucket (``balance``)."""

    line: AccountLine
    balance: BalanceView


def account_lines(
    uow: UnitOfWork, *, policy: AccessPolicy, token: str | None, kind: TokenKind, now: datetime
) -> list[AccountLine]:
    """The account's lines at ``now``, the closest to loss first (the fewest days before
    recycling); lines already recycled come last. Raises NotSignedIn."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        lines = uow.subscribers.lines(found.account_id)
    note_use(uow, found, now=now)
    views = [account_line_view(line, balance_view(line, now=now), now=now) for line in lines]
    return sorted(views, key=_closest_to_loss)


def account_line(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    now: datetime,
) -> LineBalance:
    """The line with this number on the account, with every usable bucket. Raises
    NotSignedIn, InvalidMsisdn, or LineNotFound when the account has no such line."""
    now = require_aware(now)
    with uow.reading():
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
    note_use(uow, found, now=now)
    balance = balance_view(line, now=now)
    return LineBalance(line=account_line_view(line, balance, now=now), balance=balance)


def request_line_code(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    address: str | None,
    now: datetime,
    draw: Callable[[], str] = random_code,
) -> CodeRequested:
    """Send a code to the live line with this number, to confirm adding it to the account;
    the answer is the same when no line has the number. Raises NotSignedIn, InvalidMsisdn,
    or TooManyCodes (the number's limits are those of signing in, shared)."""
    now = require_aware(now)
    with uow:
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        requested = ask_code(
            uow,
            policy=policy,
            number=lookup_msisdn(msisdn),
            purpose=CodePurpose.ADD_LINE,
            account_id=found.account_id,
            address=address,
            draw=draw,
            now=now,
        )
        uow.access.touch_token(found.id, now=now)
        uow.commit()
    return requested


def add_account_line(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    code: str,
    now: datetime,
) -> AccountLine:
    """Put the line the code was sent to on the account, once the code is confirmed; a line
    on another account moves to this one (the code proves its holder asked). Raises
    NotSignedIn, InvalidMsisdn, or a CodeRefused as ``sign_in`` does."""
    now = require_aware(now)
    with uow:
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        uow.access.touch_token(found.id, now=now)
        record = take_code(
            uow,
            policy=policy,
            number=lookup_msisdn(msisdn),
            purpose=CodePurpose.ADD_LINE,
            account_id=found.account_id,
            code=code,
            now=now,
        )
        uow.subscribers.put_line(account_id=found.account_id, line_id=record.line.id, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=record.line.msisdn)
        uow.commit()
    return account_line_view(line, balance_view(line, now=now), now=now)


def remove_account_line(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    token: str | None,
    kind: TokenKind,
    msisdn: str,
    now: datetime,
) -> None:
    """Take the line with this number off the account; the line, its balance and its other
    settings stay as they are. Raises NotSignedIn, InvalidMsisdn, or LineNotFound when the
    account has no such line."""
    now = require_aware(now)
    with uow:
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        line = own_line(uow, account_id=found.account_id, msisdn=msisdn)
        uow.subscribers.take_line(account_id=found.account_id, line_id=line.line.id)
        uow.access.touch_token(found.id, now=now)
        uow.commit()


def own_line(uow: UnitOfWork, *, account_id: int, msisdn: str) -> LineWithBuckets:
    """The account's line with this number, read in the caller's open transaction. Raises
    InvalidMsisdn, or LineNotFound when the account has no such line."""
    number = lookup_msisdn(msisdn)
    lines = uow.subscribers.lines(account_id, msisdn=number)
    if not lines:
        raise LineNotFound(f"no line with number {number} on this account")
    # A number recycled and then taken again may be on the account twice: the newest line.
    return max(lines, key=lambda found: found.line.id)


def account_line_view(
    found: LineWithBuckets, balance: BalanceView, *, now: datetime
) -> AccountLine:
    """The line as an account's list shows it at ``now`` (no further reads)."""
    line, operator = found.line, found.operator
    return AccountLine(
        msisdn=line.msisdn,
        country=operator.country,
        state=balance.state,
        main=balance.main,
        valid_until=line.valid_until,
        recycles_at=balance.recycles_at,
        days_until_recycling=balance.days_until_recycling,
        renew_soon=renewal_due(
            state=balance.state, valid_until=line.valid_until, rules=operator.lifecycle, now=now
        ),
        shown=operator.presentation_for(line.language),
    )


def _closest_to_loss(line: AccountLine) -> tuple[bool, datetime, str]:
    return (line.state is LineState.RECYCLED, line.recycles_at, line.msisdn)
