"""Signing in with a verification code, and out: a code sent to a line earns a token for
the account that holds the line (made at the line's first sign-in); the token opens that
account until it expires or is revoked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from saldo.domain.access import CodePurpose, StoredToken, TokenKind, keyed_hash
from saldo.domain.errors import SaldoError
from saldo.domain.numbering import lookup_msisdn
from saldo.domain.periods import require_aware
from saldo.services.access.codes import CodeRequested, ask_code, take_code
from saldo.services.access.policy import TOUCH_EVERY, AccessPolicy, new_token, random_code
from saldo.services.ports import UnitOfWork


class NotSignedIn(SaldoError):
    """No token was presented, or it is unknown, of another kind, expired or revoked."""

    code = "invalid_token"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new token (shown once: only its hash is kept) and when it expires."""

    token: str = field(repr=False)
    token_type: str
    expires_at: datetime
    expires_in: int  # seconds


def request_sign_in_code(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    msisdn: str,
    address: str | None,
    now: datetime,
    by_email: bool = False,
    draw: Callable[[], str] = random_code,
) -> CodeRequested:
    """Send a sign-in code to the live line with this number, if one has it; the answer is
    the same when none has. ``by_email``: to the line's proven email if it has one, by SMS
    if not (the answer is the same whichever). ``address`` is where the request came from
    (the client's IP). Raises InvalidMsisdn, or TooManyCodes when the number or the address
    asked too often."""
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    with uow:
        requested = ask_code(
            uow,
            policy=policy,
            number=number,
            purpose=CodePurpose.SIGN_IN,
            account_id=None,
            address=address,
            draw=draw,
            now=now,
            by_email=by_email,
        )
        uow.commit()
    return requested


def sign_in(
    uow: UnitOfWork,
    *,
    policy: AccessPolicy,
    msisdn: str,
    code: str,
    kind: TokenKind,
    now: datetime,
) -> SignedIn:
    """Confirm the code sent to this number and issue a token of ``kind`` for the account
    holding its line, opening one for a line on no account. Raises InvalidMsisdn, or a
    CodeRefused: WrongCode (counted), TooManyTries (the fifth wrong code ends the attempt),
    CodeExpired, CodeUsed, NoCodeAsked."""
    now = require_aware(now)
    number = lookup_msisdn(msisdn)
    token = new_token()
    expires_at = now + policy.token_lifetime
    with uow:
        record = take_code(
            uow,
            policy=policy,
            number=number,
            purpose=CodePurpose.SIGN_IN,
            account_id=None,
            code=code,
            now=now,
        )
        account_id = uow.subscribers.account_of_line(record.line.id)
        if account_id is None:
            account_id = uow.subscribers.open_account(now=now)
            uow.subscribers.put_line(account_id=account_id, line_id=record.line.id, now=now)
        uow.access.issue_token(
            account_id=account_id,
            kind=kind,
            token_hash=keyed_hash(token, key=policy.key, purpose="token"),
            expires_at=expires_at,
            now=now,
        )
        uow.commit()
    return SignedIn(
        token=token,
        token_type="bearer",
        expires_at=expires_at,
        expires_in=int(policy.token_lifetime.total_seconds()),
    )


def sign_out(
    uow: UnitOfWork, *, policy: AccessPolicy, token: str | None, kind: TokenKind, now: datetime
) -> None:
    """Revoke the token: it opens nothing any more. Raises NotSignedIn when it opens nothing
    already."""
    now = require_aware(now)
    with uow:
        found = signed_in(uow, policy=policy, token=token, kind=kind, now=now)
        uow.access.revoke_token(found.id, now=now)
        uow.commit()


def signed_in(
    uow: UnitOfWork, *, policy: AccessPolicy, token: str | None, kind: TokenKind, now: datetime
) -> StoredToken:
    """The token presented, read in the caller's open unit of work, when it opens an account
    at ``now``; raise NotSignedIn otherwise."""
    found = uow.access.token(keyed_hash(token, key=policy.key, purpose="token")) if token else None
    if found is None or not found.opens(kind=kind, now=now):
        raise NotSignedIn("sign in again: this token is unknown, expired or revoked")
    return found


def note_use(uow: UnitOfWork, token: StoredToken, *, now: datetime) -> None:
    """Write down that ``token`` was used at ``now``, in a transaction of its own, unless it
    was written down less than TOUCH_EVERY ago (most reads stay reads)."""
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    with uow:
        uow.access.touch_token(token.id, now=now)
        uow.commit()
