"""Idempotency keys: every command that moves money carries one.

A replay with the same key and the same request returns the first result; the same key with a
different request is refused. The unique constraint on (operator, key) in the database is the
guard; these helpers only name the request and compare.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Protocol, TypeVar

from saldo.domain.errors import SaldoError
from saldo.services.ports import LineRecord, UnitOfWork

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}")
# Saldo's own keys (a voucher's top-up, a confirmed offer) start with "~", which no caller's
# key may: a caller can never take a key that Saldo will need later.
_INTERNAL_KEY = re.compile(r"~[a-z-]+:[A-Za-z0-9._:/@+-]{1,100}")


class InvalidIdempotencyKey(SaldoError):
    code = "invalid_idempotency_key"


class IdempotencyKeyReused(SaldoError):
    """The key was already used for a different request."""

    code = "idempotency_key_reused"


def internal_key(kind: str, reference: object) -> str:
    """An idempotency key of Saldo's own, e.g. ``~voucher:1234`` for a voucher's top-up."""
    return f"~{kind}:{reference}"


def check_key(key: str, *, internal_allowed: bool = False) -> str:
    """``key`` if it is 1–128 printable ASCII characters (letters, digits, ``._:/@+-``), or,
    where ``internal_allowed``, one of Saldo's own keys (``internal_key``)."""
    if key.startswith("~"):
        if not internal_allowed or not _INTERNAL_KEY.fullmatch(key):
            raise InvalidIdempotencyKey("keys starting with ~ are Saldo's own")
        return key
    if not _KEY.fullmatch(key):
        raise InvalidIdempotencyKey(
            "an idempotency key is 1 to 128 letters, digits or ._:/@+- characters"
        )
    return key


def fingerprint(*parts: object) -> str:
    """A stable digest of a request's meaningful fields, to compare a replay with the first."""
    return hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).hexdigest()


def check_same_request(*, stored: str, incoming: str, key: str) -> None:
    if stored != incoming:
        raise IdempotencyKeyReused(f"idempotency key {key!r} was already used for another request")


class _Stored(Protocol):
    @property
    def request_fingerprint(self) -> str: ...


Stored = TypeVar("Stored", bound=_Stored)
StoredT_co = TypeVar("StoredT_co", covariant=True)


def replay_of(previous: Stored | None, *, request: str, key: str) -> Stored:
    """The first request's stored result under ``key`` (found by the caller, or committed by
    a concurrent request first), to be given again; raise IdempotencyKeyReused when
    ``request`` is not that first request. The key is known to be taken."""
    assert previous is not None, "a key that is taken has its first result stored"
    check_same_request(stored=previous.request_fingerprint, incoming=request, key=key)
    return previous


class KeptByKey(Protocol[StoredT_co]):
    """A repository of requests kept under their operator's idempotency keys."""

    def get_by_key(self, *, operator_id: int, idempotency_key: str) -> StoredT_co | None: ...


def committed_first(
    uow: UnitOfWork, *, msisdn: str, key: str, kept_in: Callable[[UnitOfWork], KeptByKey[Stored]]
) -> tuple[LineRecord, Stored | None]:
    """After DuplicateIdempotencyKey (another process committed the key between this
    request's read and its insert): the line, read again, and what is kept under ``key`` for
    the line's operator in the repository ``kept_in`` names, in a new read-only transaction.
    Give it to ``replay_of``."""
    with uow.reading():
        record = uow.lines.get_by_msisdn(msisdn)
        assert record is not None, "the line of a committed request is there"
        found = kept_in(uow).get_by_key(operator_id=record.line.operator_id, idempotency_key=key)
        return record, found
