"""The port for telling an operator's own systems what happened (a line changed state), as
HMAC-signed JSON posted to the URL in the operator's catalog entry.

The outbox worker sees only ``WebhookSender`` and ``WebhookRequest``. The real adapter posts
with the standard library (``saldo.adapters.webhooks.http``); ``saldo.adapters.webhooks.fake``
keeps requests in memory, and one contract test
(tests/integration/adapters/webhooks/test_webhook_sender.py) holds both to the same behaviour.

Signatures: each request carries ``Saldo-Signature: t=<unix time>,v1=<hex>``, where ``<hex>``
is the HMAC-SHA256 of ``"<t>.<body>"`` under the operator's webhook secret (``saldo outbox
secret SLUG`` prints it). ``verify_signature`` is what a receiver does with it; the same code
is shown in docs/channels.md.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Protocol
from urllib.parse import urlsplit

from saldo.domain.errors import SaldoError

SIGNATURE_HEADER: Final = "Saldo-Signature"
EVENT_ID_HEADER: Final = "Saldo-Event-Id"
# How old a signature a receiver should still accept: enough for clock skew and a slow
# network, short enough that a captured request cannot be replayed later.
SIGNATURE_TOLERANCE: Final = timedelta(minutes=5)

_SIGNATURE = re.compile(r"t=(\d{1,12}),v1=([0-9a-f]{64})")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class WebhookNotSent(SaldoError):
    """The operator's endpoint did not take the request: it answered anything but a 2xx
    (a redirect included), or could not be reached in time. The message says why, without
    the URL's path or query, which may hold a token."""

    code = "webhook_not_sent"


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """One POST to an operator: ``url`` (http or https), the JSON ``body`` as bytes exactly
    as signed, and its ``headers`` (``Content-Type``, ``Saldo-Signature``,
    ``Saldo-Event-Id``). Raises ValueError when the URL is not http(s) or a header could
    not travel."""

    url: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_webhook_url(self.url)
        for name, value in self.headers.items():
            if not _HEADER_NAME.fullmatch(name) or value.splitlines() not in ([], [value]):
                raise ValueError(f"{name!r} cannot be a webhook header")


class WebhookSender(Protocol):
    def send(self, *, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        """POST ``body`` to ``url`` with ``headers``. Returning means the endpoint answered
        2xx. Every attempt for one event carries the same ``Saldo-Event-Id``, so a receiver
        can drop a repeat.

        Raises WebhookNotSent when it did not."""
        ...


def check_webhook_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host; raise ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise ValueError(f"a webhook URL must be http(s)://host/..., not {shown_url(url)!r}")
    return url


def shown_url(url: str) -> str:
    """A URL safe for logs and screens: scheme and host kept, path and query hidden
    (``https://hooks.example.org/…``), since they often hold a token."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return "***"
    port = f":{parts.port}" if parts.port else ""
    rest = "/…" if parts.path.strip("/") or parts.query else "/"
    return f"{parts.scheme}://{parts.hostname}{port}{rest}"


def signature(body: bytes, *, secret: str, at: datetime) -> str:
    """The ``Saldo-Signature`` header value of ``body`` signed at ``at``."""
    timestamp = int(at.timestamp())
    return f"t={timestamp},v1={_digest(body, secret=secret, timestamp=timestamp)}"


def verify_signature(header: str, body: bytes, *, secret: str, now: datetime) -> bool:
    """True when ``header`` is a valid signature of ``body`` under ``secret``, made at most
    SIGNATURE_TOLERANCE before (or after) ``now``."""
    found = _SIGNATURE.fullmatch(header.strip())
    if found is None:
        return False
    timestamp = int(found.group(1))
    if abs(now.timestamp() - timestamp) > SIGNATURE_TOLERANCE.total_seconds():
        return False
    expected = _digest(body, secret=secret, timestamp=timestamp)
    return hmac.compare_digest(expected, found.group(2))


def _digest(body: bytes, *, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
