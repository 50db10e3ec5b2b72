"""Subscribers' access: verification codes, the attempts that asked for them, the tokens a
confirmed code earns, and the limits on asking.

- A code is six random digits, valid ``CODE_VALID_FOR`` and once; it is kept only as a keyed
  hash, in the attempt that asked for it. Asking again ends the earlier attempt, so one
  number has at most one code that works (per purpose, and per account for adding a line).
- ``WRONG_TRIES`` wrong codes end the attempt; a new code must be asked for.
- Asking is limited per number and per requesting address (``RateLimit``), counted over a
  sliding window: at most ``limit`` requests in any ``period``.
- A token is random (32 bytes) and kept only as a keyed hash; it expires, and is revoked at
  sign-out.

Every function takes ``now``; nothing here reads the clock or draws a random number.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from saldo.domain.errors import SaldoError
from saldo.domain.periods import require_aware

CODE_LENGTH: Final = 6
CODE_VALID_FOR: Final = timedelta(minutes=10)
WRONG_TRIES: Final = 5


class CodePurpose(enum.StrEnum):
    """What a code is asked for: signing in with a line, adding a line to an account, or
    proving an email address is the line's holder's (the code goes to that address)."""

    SIGN_IN = "sign_in"
    ADD_LINE = "add_line"
    EMAIL = "email"


class TokenKind(enum.StrEnum):
    """Who holds a token: the app (a bearer token) or the portal (a session cookie)."""

    APP = "app"
    WEB = "web"


def keyed_hash(value: str, *, key: bytes, purpose: str) -> str:
    """The keyed hash (HMAC-SHA256, hex) kept for a secret or a personal value, separated by
    ``purpose`` ("code", "token", "address", ...): without the key, the value cannot be
    recovered or checked."""
    return hmac.new(key, purpose.encode() + b"\x00" + value.encode(), hashlib.sha256).hexdigest()


def same_code(typed: str, *, stored_hash: str, key: bytes) -> bool:
    """True when ``typed`` is the code kept as ``stored_hash``, compared in constant time."""
    return hmac.compare_digest(keyed_hash(typed, key=key, purpose="code"), stored_hash)


# -- rate limits ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``limit`` requests in any ``period``."""

    limit: int
    period: timedelta

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period <= timedelta(0):
            raise ValueError("a rate limit allows at least one request in a positive period")


class TooManyCodes(SaldoError):
    """Codes were asked for too often (for this number, or from this address): the next may
    be asked for after ``retry_after``."""

    code = "too_many_codes"

    def __init__(self, message: str, *, retry_after: timedelta) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds to wait, a started second counting (at least 1)."""
        return max(1, -int(-self.retry_after.total_seconds() // 1))


def admit(
    hits: Sequence[datetime], *, limits: Sequence[RateLimit], now: datetime, what: str
) -> tuple[datetime, ...]:
    """The requests to remember once the one at ``now`` is admitted: those still inside the
    longest period, and ``now``. Raises TooManyCodes (naming ``what`` was limited) when a
    limit already has ``limit`` requests inside its period before ``now``; ``retry_after``
    is when the oldest of them leaves it (the latest such moment over every limit)."""
    now = require_aware(now)
    waits = []
    for rule in limits:
        inside = sorted(hit for hit in hits if now - rule.period < hit <= now)
        if len(inside) >= rule.limit:
            waits.append(inside[len(inside) - rule.limit] + rule.period - now)
    if waits:
        wait = max(waits)
        minutes = -int(-wait.total_seconds() // 60)
        raise TooManyCodes(
            f"too many codes asked for {what}: try again in {minutes} minute(s)", retry_after=wait
        )
    longest = max((rule.period for rule in limits), default=timedelta(0))
    return (*sorted(hit for hit in hits if now - longest < hit <= now), now)


def kept_until(hits: Sequence[datetime], *, limits: Sequence[RateLimit]) -> datetime:
    """When the remembered requests stop counting for every limit: after that they can be
    forgotten."""
    longest = max(rule.period for rule in limits)
    return max(hits) + longest


# -- attempts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeAttempt:
    """One request for a code: for ``msisdn`` (as typed, in E.164), for a ``purpose`` (and
    the ``account_id`` asking, to add a line), sent to ``line_id`` (None: no live line has
    the number and nothing was sent; the attempt is kept all the same, so that an unknown
    number is answered as a known one is); ``email``: the address a code to prove an email
    was sent to (purpose EMAIL only)."""

    id: int
    msisdn: str
    purpose: CodePurpose
    account_id: int | None
    line_id: int | None
    code_hash: str
    created_at: datetime
    expires_at: datetime
    tries: int = 0
    used_at: datetime | None = None
    ended_at: datetime | None = None
    email: str | None = None


class CodeRefused(SaldoError):
    """A verification code was not accepted."""

    code = "code_refused"


class NoCodeAsked(CodeRefused):
    code = "no_code_asked"


class CodeUsed(CodeRefused):
    code = "code_used"


class CodeExpired(CodeRefused):
    code = "code_expired"


class TooManyTries(CodeRefused):
    """``WRONG_TRIES`` wrong codes ended the attempt: a new code must be asked for."""

    code = "too_many_tries"


class WrongCode(CodeRefused):
    code = "wrong_code"

    def __init__(self, message: str, *, tries_left: int) -> None:
        super().__init__(message)
        self.tries_left = tries_left


class Verdict(enum.Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"  # counted; more tries are left
    LAST_WRONG = "last_wrong"  # counted; it ends the attempt


def judge(attempt: CodeAttempt | None, *, matches: bool, now: datetime) -> Verdict:
    """What a code typed at ``now`` does to ``attempt`` (the latest for its number and
    purpose), ``matches`` telling whether it is the attempt's code. Raises NoCodeAsked,
    CodeUsed, TooManyTries or CodeExpired when the attempt takes no more codes; a code typed
    then is not counted."""
    now = require_aware(now)
    if attempt is None:
        raise NoCodeAsked("no code was asked for this number: ask for one first")
    if attempt.used_at is not None:
        raise CodeUsed("this code was used already: ask for a new one")
    if attempt.ended_at is not None:
        if attempt.tries >= WRONG_TRIES:
            raise TooManyTries("too many wrong codes: ask for a new one")
        raise CodeExpired("this code was replaced by a newer one: use the latest")
    if now >= attempt.expires_at:
        raise CodeExpired("this code has expired: ask for a new one")
    if matches:
        return Verdict.ACCEPTED
    return Verdict.LAST_WRONG if attempt.tries + 1 >= WRONG_TRIES else Verdict.WRONG


def refusal(verdict: Verdict, *, attempt: CodeAttempt) -> CodeRefused:
    """The error for a wrong code once it has been counted."""
    if verdict is Verdict.LAST_WRONG:
        return TooManyTries(f"{WRONG_TRIES} wrong codes: ask for a new one")
    left = WRONG_TRIES - attempt.tries - 1
    return WrongCode(f"wrong code: {left} more tries with this code", tries_left=left)


# -- tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredToken:
    """A token as kept: its hash only, the account it opens, its kind and its life."""

    id: int
    account_id: int
    kind: TokenKind
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    def opens(self, *, kind: TokenKind, now: datetime) -> bool:
        """True when the token is of ``kind``, neither revoked nor expired at ``now``."""
        return self.kind is kind and self.revoked_at is None and now < self.expires_at
