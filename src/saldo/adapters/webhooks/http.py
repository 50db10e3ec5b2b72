"""Posting operator webhooks over HTTP(S) with the standard library.

One POST per request, with a timeout; only a 2xx answer counts as delivered. Redirects are
not followed (a POST that is redirected is not delivered, and following one would send the
signed body somewhere the operator did not configure). HTTP proxies from the environment
are never used. URLs appear in logs and errors only as scheme and host: their path and query
often hold the operator's token.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http.client import HTTPException
from typing import Any
from urllib.error import HTTPError
from urllib.request import (
    HTTPRedirectHandler,
    OpenerDirector,
    ProxyHandler,
    Request,
    build_opener,
)

from saldo.services.ports.webhooks import EVENT_ID_HEADER, WebhookNotSent, WebhookRequest, shown_url

log = logging.getLogger(__name__)

_REPLY_LIMIT = 512
USER_AGENT = "Saldo-Webhooks/1"


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        # None makes urllib raise the 3xx as an HTTPError: the request was not delivered.
        return None


class HttpWebhookSender:
    """A ``WebhookSender`` that POSTs to the operator's endpoint, waiting at most
    ``timeout`` seconds for it to connect and to answer."""

    def __init__(self, *, timeout: float = 10.0) -> None:
        self._timeout = timeout
        self._opener: OpenerDirector = build_opener(ProxyHandler({}), _NoRedirects())

    def send(self, *, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        """POST ``body``; return once the endpoint answered 2xx.

        Raises WebhookNotSent for any other answer, or when the endpoint cannot be reached
        within the timeout (it may then have received the request all the same: the
        ``Saldo-Event-Id`` header lets it recognise the repeat). Raises ValueError when the
        URL is not http(s)."""
        request = WebhookRequest(url=url, body=body, headers=headers)
        event = request.headers.get(EVENT_ID_HEADER, "-")
        where = shown_url(url)
        outgoing = Request(url, data=body, method="POST")
        outgoing.add_header("User-Agent", USER_AGENT)
        for name, value in request.headers.items():
            outgoing.add_header(name, value)
        try:
            with self._opener.open(outgoing, timeout=self._timeout) as response:
                status = int(response.status)
                response.read(_REPLY_LIMIT)
        except HTTPError as error:
            with error:
                status = error.code
        except (OSError, HTTPException) as error:
            reason = getattr(error, "reason", error)
            log.warning("webhook %s to %s not sent: unreachable: %s", event, where, reason)
            raise WebhookNotSent(
                f"{where} could not be reached for event {event}: {reason}"
            ) from None
        if 200 <= status < 300:
            log.info("webhook %s to %s delivered: HTTP %d", event, where, status)
            return
        log.warning("webhook %s to %s refused: HTTP %d", event, where, status)
        raise WebhookNotSent(f"{where} answered HTTP {status} to event {event}")
