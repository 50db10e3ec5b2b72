"""Idempotency keys: every command that moves money carries one.

A replay with the same key and the same request returns the first result; the same key with a
different request is refused. The unique constraint on (operator, key) in the database is the
guard; these helpers only name the request and compare.
"""

from __future__ import annotations

import hashlib
import re

from saldo.domain.errors import SaldoError

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
