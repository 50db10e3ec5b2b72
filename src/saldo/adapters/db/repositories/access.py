"""Sign-in attempts, tokens and rate-limit counters (see ``tables/access.py``).

A rate-limit key's row is made if missing and then locked (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already serializes writers), so requests under one
key are counted one after the other whichever server process takes them. An attempt is
locked the same way while a code is checked against it.

Every signed-in request reads its token, and notes its use now and then: both are prepared
statements (``adapters/db/prepared.py``), compiled once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from saldo.adapters.db import tables as t
from saldo.adapters.db.prepared import Prepared
from saldo.domain.access import CodeAttempt, CodePurpose, StoredToken, TokenKind
from saldo.services.ports import KeptRequest

_A = t.sign_in_attempts
_T = t.access_tokens
_R = t.rate_limits
_Q = t.account_requests
_C = t.calendar_feeds
_PURPOSES = {purpose.value: purpose for purpose in CodePurpose}
_KINDS = {kind.value: kind for kind in TokenKind}
_FORGET_AT_ONCE = 100
_FORGET_IN_A_PASS = 1000

_TOKEN = Prepared(select(_T).where(_T.c.token_hash == bindparam("token_hash")))
_TOUCH_TOKEN = Prepared(
    update(_T).where(_T.c.id == bindparam("token_id")).values(last_used_at=bindparam("now"))
)


class SqlAccessRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    # -- rate limits ------------------------------------------------------------------------

    def rate_hits(self, *, scope: str, key: str, now: datetime) -> list[datetime]:
        dialect = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        self._connection.execute(
            dialect.insert(_R)
            .values(scope=scope, key=key, hits=[], keep_until=now)
            .on_conflict_do_nothing(index_elements=["scope", "key"])
        )
        stored = self._connection.execute(
            select(_R.c.hits).where(_R.c.scope == scope, _R.c.key == key).with_for_update()
        ).scalar_one()
        return sorted(datetime.fromisoformat(hit) for hit in stored)

    def save_rate_hits(
        self, *, scope: str, key: str, hits: Sequence[datetime], keep_until: datetime
    ) -> None:
        self._connection.execute(
            update(_R)
            .where(_R.c.scope == scope, _R.c.key == key)
            .values(hits=[hit.isoformat() for hit in hits], keep_until=keep_until)
        )

    def forget_rate_hits(self, *, before: datetime) -> int:
        # A few at a time, passing over rows another request holds (PostgreSQL): forgetting
        # never makes a request wait.
        stale = (
            select(_R.c.scope, _R.c.key)
            .where(_R.c.keep_until < before)
            .limit(_FORGET_AT_ONCE)
            .with_for_update(skip_locked=True)
        )
        forgotten = self._connection.execute(
            delete(_R).where(tuple_(_R.c.scope, _R.c.key).in_(stale))
        ).rowcount
        return int(forgotten)

    # -- forgetting what no longer opens anything ------------------------------------------
    # Attempts and tokens are looked at oldest first, a batch at a time by primary key, so
    # that forgetting never scans the tables: ids grow with time and every attempt (every
    # token of one lifetime) expires in the order it was made.

    def forget_attempts(self, *, ended_before: datetime) -> int:
        oldest = select(_A.c.id).order_by(_A.c.id).limit(_FORGET_IN_A_PASS).scalar_subquery()
        forgotten = self._connection.execute(
            delete(_A).where(_A.c.id.in_(oldest), _A.c.expires_at < ended_before)
        ).rowcount
        return int(forgotten)

    def forget_tokens(self, *, ended_before: datetime) -> int:
        oldest = select(_T.c.id).order_by(_T.c.id).limit(_FORGET_IN_A_PASS).scalar_subquery()
        forgotten = self._connection.execute(
            delete(_T).where(_T.c.id.in_(oldest), _T.c.expires_at < ended_before)
        ).rowcount
        return int(forgotten)

    # -- attempts ---------------------------------------------------------------------------

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
        self._connection.execute(
            update(_A)
            .where(
                *_same_request(msisdn, purpose, account_id),
                _A.c.used_at.is_(None),
                _A.c.ended_at.is_(None),
            )
            .values(ended_at=now)
        )
        return int(
            self._connection.execute(
                insert(_A)
                .values(
                    msisdn=msisdn,
                    purpose=purpose.value,
                    account_id=account_id,
                    line_id=line_id,
                    code_hash=code_hash,
                    address_hash=address_hash,
                    tries=0,
                    created_at=now,
                    expires_at=expires_at,
                    email=email,
                )
                .returning(_A.c.id)
            ).scalar_one()
        )

    def latest_attempt(
        self, *, msisdn: str, purpose: CodePurpose, account_id: int | None
    ) -> CodeAttempt | None:
        row = self._connection.execute(
            select(_A)
            .where(*_same_request(msisdn, purpose, account_id))
            .order_by(_A.c.id.desc())
            .limit(1)
            .with_for_update()
        ).first()
        return None if row is None else _attempt(row)

    def attempt(self, attempt_id: int) -> CodeAttempt | None:
        row = self._connection.execute(select(_A).where(_A.c.id == attempt_id)).first()
        return None if row is None else _attempt(row)

    def count_wrong_try(self, attempt_id: int, *, ends: bool, now: datetime) -> None:
        values: dict[str, Any] = {"tries": _A.c.tries + 1}
        if ends:
            values["ended_at"] = now
        self._connection.execute(update(_A).where(_A.c.id == attempt_id).values(**values))

    def use_attempt(self, attempt_id: int, *, now: datetime) -> None:
        self._connection.execute(update(_A).where(_A.c.id == attempt_id).values(used_at=now))

    # -- tokens -----------------------------------------------------------------------------

    def issue_token(
        self,
        *,
        account_id: int,
        kind: TokenKind,
        token_hash: str,
        expires_at: datetime,
        now: datetime,
    ) -> int:
        return int(
            self._connection.execute(
                insert(_T)
                .values(
                    account_id=account_id,
                    kind=kind.value,
                    token_hash=token_hash,
                    created_at=now,
                    expires_at=expires_at,
                    last_used_at=now,
                )
                .returning(_T.c.id)
            ).scalar_one()
        )

    def token(self, token_hash: str) -> StoredToken | None:
        row = _TOKEN.first(self._connection, token_hash=token_hash)
        if row is None:
            return None
        return StoredToken(
            id=row.id,
            account_id=row.account_id,
            kind=_KINDS[row.kind],
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
        )

    def touch_token(self, token_id: int, *, now: datetime) -> None:
        _TOUCH_TOKEN.execute(self._connection, token_id=token_id, now=now)

    def keep_request(
        self, *, account_id: int, idempotency_key: str, request_fingerprint: str, now: datetime
    ) -> KeptRequest:
        dialect = postgresql if self._connection.dialect.name == "postgresql" else sqlite
        self._connection.execute(
            dialect.insert(_Q)
            .values(
                account_id=account_id,
                idempotency_key=idempotency_key,
                request_fingerprint=request_fingerprint,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["account_id", "idempotency_key"])
        )
        kept = self._connection.execute(
            select(_Q.c.request_fingerprint, _Q.c.refusal).where(
                _Q.c.account_id == account_id, _Q.c.idempotency_key == idempotency_key
            )
        ).one()
        return KeptRequest(fingerprint=kept.request_fingerprint, refusal=kept.refusal)

    def keep_refusal(
        self, *, account_id: int, idempotency_key: str, refusal: Mapping[str, Any]
    ) -> None:
        self._connection.execute(
            update(_Q)
            .where(
                _Q.c.account_id == account_id,
                _Q.c.idempotency_key == idempotency_key,
                _Q.c.refusal.is_(None),
            )
            .values(refusal=dict(refusal))
        )

    def revoke_token(self, token_id: int, *, now: datetime) -> None:
        self._connection.execute(
            update(_T).where(_T.c.id == token_id, _T.c.revoked_at.is_(None)).values(revoked_at=now)
        )

    # -- calendar feeds ---------------------------------------------------------------------

    def calendar_seed(self, account_id: int) -> str | None:
        seed: str | None = self._connection.execute(
            select(_C.c.seed).where(_C.c.account_id == account_id)
        ).scalar_one_or_none()
        return seed

    def account_of_calendar(self, secret_hash: str) -> int | None:
        account: int | None = self._connection.execute(
            select(_C.c.account_id).where(_C.c.secret_hash == secret_hash)
        ).scalar_one_or_none()
        return account

    def new_calendar(self, *, account_id: int, seed: str, secret_hash: str, now: datetime) -> None:
        self._connection.execute(delete(_C).where(_C.c.account_id == account_id))
        self._connection.execute(
            insert(_C).values(
                account_id=account_id, seed=seed, secret_hash=secret_hash, created_at=now
            )
        )


def _same_request(
    msisdn: str, purpose: CodePurpose, account_id: int | None
) -> tuple[ColumnElement[bool], ...]:
    account = _A.c.account_id.is_(None) if account_id is None else _A.c.account_id == account_id
    return (_A.c.msisdn == msisdn, _A.c.purpose == purpose.value, account)


def _attempt(row: Any) -> CodeAttempt:
    return CodeAttempt(
        id=row.id,
        msisdn=row.msisdn,
        purpose=_PURPOSES[row.purpose],
        account_id=row.account_id,
        line_id=row.line_id,
        code_hash=row.code_hash,
        created_at=row.created_at,
        expires_at=row.expires_at,
        tries=row.tries,
        used_at=row.used_at,
        ended_at=row.ended_at,
        email=row.email,
    )
