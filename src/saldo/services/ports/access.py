"""Ports of subscribers' access: sign-in attempts, tokens and rate limits (``access``), and
the subscriber accounts that hold lines (``subscribers``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from saldo.domain.access import CodeAttempt, CodePurpose, StoredToken, TokenKind
from saldo.services.ports.lines import LineWithBuckets


@dataclass(frozen=True, slots=True)
class KeptRequest:
    """What is kept under one of an account's idempotency keys: the first request's keyed
    fingerprint, and the refusal it got (None: none kept, it was not refused)."""

    fingerprint: str
    refusal: Mapping[str, Any] | None = None


class AccessRepository(Protocol):
    def rate_hits(self, *, scope: str, key: str, now: datetime) -> list[datetime]:
        """The requests remembered under ``scope`` and ``key`` (a keyed hash), oldest first,
        with the row locked until the transaction ends (made empty at ``now`` when there is
        none), so that concurrent requests under one key take turns."""
        ...

    def save_rate_hits(
        self, *, scope: str, key: str, hits: Sequence[datetime], keep_until: datetime
    ) -> None:
        """Remember ``hits`` under ``scope`` and ``key`` until ``keep_until``."""
        ...

    def forget_rate_hits(self, *, before: datetime) -> int:
        """Forget every key whose requests all stopped counting before ``before``; return how
        many."""
        ...

    def forget_attempts(self, *, ended_before: datetime) -> int:
        """Delete up to a batch of the oldest sign-in attempts that could no longer be used
        before ``ended_before`` (expired by then); return how many."""
        ...

    def forget_tokens(self, *, ended_before: datetime) -> int:
        """Delete up to a batch of the oldest tokens that expired before ``ended_before``;
        return how many."""
        ...

    def open_attempt(
        self,
        *,
        msisdn: str,
        purpose: CodePurpose,
        account_id: int | None,
        line_id: int | None,
        code_hash: str,
        address_hash: str,
        expires_at: datetime,
        now: datetime,
        email: str | None = None,
    ) -> int:
        """Record a request for a code (sent to ``email`` for purpose EMAIL), ending the
        open attempts for the same number, purpose and account first (their codes stop
        working); return its id."""
        ...

    def latest_attempt(
        self, *, msisdn: str, purpose: CodePurpose, account_id: int | None
    ) -> CodeAttempt | None:
        """The newest attempt for this number, purpose and account, locked until the
        transaction ends."""
        ...

    def attempt(self, attempt_id: int) -> CodeAttempt | None: ...

    def count_wrong_try(self, attempt_id: int, *, ends: bool, now: datetime) -> None:
        """One more wrong code; ``ends``: it ends the attempt."""
        ...

    def use_attempt(self, attempt_id: int, *, now: datetime) -> None:
        """The code was accepted: it works no more."""
        ...

    def issue_token(
        self,
        *,
        account_id: int,
        kind: TokenKind,
        token_hash: str,
        expires_at: datetime,
        now: datetime,
    ) -> int: ...

    def token(self, token_hash: str) -> StoredToken | None:
        """The token kept under this hash, whatever its state."""
        ...

    def touch_token(self, token_id: int, *, now: datetime) -> None:
        """Remember when the token was last used."""
        ...

    def revoke_token(self, token_id: int, *, now: datetime) -> None: ...

    def keep_request(
        self, *, account_id: int, idempotency_key: str, request_fingerprint: str, now: datetime
    ) -> KeptRequest:
        """Keep ``request_fingerprint`` under the account's ``idempotency_key`` unless one is
        kept there already; return what is kept (the first request's fingerprint, and the
        refusal it got)."""
        ...

    def keep_refusal(
        self, *, account_id: int, idempotency_key: str, refusal: Mapping[str, Any]
    ) -> None:
        """Keep ``refusal`` (JSON) as the answer the request under the account's
        ``idempotency_key`` got, unless one is kept already."""
        ...

    def calendar_seed(self, account_id: int) -> str | None:
        """The seed of the account's calendar feed (None: it has none)."""
        ...

    def account_of_calendar(self, secret_hash: str) -> int | None:
        """The account whose calendar feed's secret has this keyed hash."""
        ...

    def new_calendar(self, *, account_id: int, seed: str, secret_hash: str, now: datetime) -> None:
        """Give the account a calendar feed of this seed and secret hash, in place of the
        one it had (whose address then opens nothing)."""
        ...


class SubscriberRepository(Protocol):
    def open_account(self, *, now: datetime) -> int: ...

    def account_of_line(self, line_id: int) -> int | None:
        """The account holding the line (a line is on one account at most)."""
        ...

    def put_line(self, *, account_id: int, line_id: int, now: datetime) -> None:
        """Put the line on the account, taking it off any other account; nothing changes
        when it is on this one already."""
        ...

    def take_line(self, *, account_id: int, line_id: int) -> bool:
        """Take the line off the account (the line itself is not touched); False when it
        was not on it."""
        ...

    def lines(self, account_id: int, *, msisdn: str | None = None) -> list[LineWithBuckets]:
        """The account's lines (only those with ``msisdn`` when given), each with its
        operator and buckets, in the order they were put on it."""
        ...
