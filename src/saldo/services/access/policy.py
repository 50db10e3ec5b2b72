"""What an installation's subscriber access is set up with: the key every code, token and
rate-limit key is hashed with, how long a token lasts, how many codes one address may ask
for. Channels build it once from the settings (``access_policy``) and pass it to each use
case."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final

from saldo.domain.access import CODE_LENGTH, RateLimit

# Codes sent to one number: at most 3 in any 15 minutes (the rule) and 10 a day, so
# that guessing (5 tries a code) gets at most 50 tries a day at one number.
CODES_PER_NUMBER: Final = (
    RateLimit(limit=3, period=timedelta(minutes=15)),
    RateLimit(limit=10, period=timedelta(days=1)),
)
ADDRESS_PERIOD: Final = timedelta(minutes=15)
# A token used again within this time is not written down as used again: reads stay reads.
TOUCH_EVERY: Final = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """``key`` hashes codes, tokens, numbers and addresses; a token lasts ``token_lifetime``;
    one address may ask for ``codes_per_address`` codes in any 15 minutes."""

    key: bytes = field(repr=False)
    token_lifetime: timedelta = timedelta(days=30)
    codes_per_address: int = 10

    @property
    def codes_from_an_address(self) -> tuple[RateLimit, ...]:
        return (RateLimit(limit=self.codes_per_address, period=ADDRESS_PERIOD),)


def access_key(secret_key: str) -> bytes:
    """The key subscribers' codes, tokens, numbers and addresses are hashed with, derived
    from SALDO_SECRET_KEY (a new secret key signs every subscriber out)."""
    return hashlib.sha256(b"saldo subscriber access\x00" + secret_key.encode()).digest()


def access_policy(*, secret_key: str, token_days: int, codes_per_address: int) -> AccessPolicy:
    return AccessPolicy(
        key=access_key(secret_key),
        token_lifetime=timedelta(days=token_days),
        codes_per_address=codes_per_address,
    )


def random_code() -> str:
    """Six random digits (``secrets``), leading zeros included."""
    return "".join(secrets.choice("0123456789") for _ in range(CODE_LENGTH))


def new_token() -> str:
    """A bearer token: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)
