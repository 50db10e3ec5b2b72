"""The gateway endpoints, as plain ASGI: they answer SMS gateways (Kannel's ``sms-service``
``get-url``) and USSD gateways, which want a ``text/plain`` body and nothing else, as fast
as the machine allows. Everything else goes to the FastAPI application.

- ``GET`` or ``POST /channels/sms/inbound`` with ``from``, ``to``, ``text`` and an optional
  gateway message ``id`` → the reply SMS as the body.
- ``POST /channels/ussd`` with ``sessionId``, ``serviceCode``, ``phoneNumber``, ``text`` →
  ``CON …`` or ``END …``.

Bad requests get a 400 with a one-line reason; nothing a sender types causes a 5xx. When
``SALDO_GATEWAY_TOKEN`` is set (required in production) every request must carry it, as the
``token`` parameter or the ``X-Saldo-Gateway-Token`` header, or it gets a 401.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from saldo.bootstrap import Saldo
from saldo.channels.sms.service import InboundSms, handle_sms
from saldo.channels.ussd.menu import UssdRequest, handle_ussd
from saldo.domain.sms_text import is_gsm7

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]

SMS_PATH = "/channels/sms/inbound"
USSD_PATH = "/channels/ussd"
MAX_BODY = 16 * 1024


class GatewayRouter:
    """Serves the gateway paths itself and hands every other request to ``fallback``."""

    def __init__(self, saldo: Saldo, fallback: Asgi) -> None:
        self._saldo = saldo
        self._fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path") if scope["type"] == "http" else None
        if path not in (SMS_PATH, USSD_PATH):
            await self._fallback(scope, receive, send)
            return
        fields = await _fields(scope, receive)
        if fields is None:
            await _plain(send, 413, "request too large")
            return
        if not self._trusted(scope, fields):
            await _plain(send, 401, "a valid gateway token is required")
            return
        if path == SMS_PATH:
            await self._sms(scope, fields, send)
        else:
            await self._ussd(scope, fields, send)

    def _trusted(self, scope: Scope, fields: dict[str, str]) -> bool:
        """True when no gateway token is configured (development), or the request carries
        it: the sender's number in a request is only as true as the gateway that sent it."""
        expected = self._saldo.settings.gateway_token
        if expected is None:
            return True
        headers = dict(scope.get("headers") or [])
        given = fields.get("token") or headers.get(b"x-saldo-gateway-token", b"").decode("latin-1")
        return hmac.compare_digest(given.encode(), expected.get_secret_value().encode())

    async def _sms(self, scope: Scope, fields: dict[str, str], send: Send) -> None:
        if scope["method"] not in ("GET", "POST"):
            await _plain(send, 405, "use GET or POST", allow="GET, POST")
            return
        sender, to = fields.get("from", ""), fields.get("to", "")
        if not sender or not to:
            await _plain(send, 400, "from and to are required")
            return
        sms = InboundSms(
            sender=sender, to=to, text=fields.get("text", ""), message_id=fields.get("id")
        )
        # Database work runs inline: a balance read takes tens of microseconds, and a
        # handoff to a thread would cost more than the work itself.
        reply = handle_sms(self._saldo, sms)
        # Kannel (with accept-x-kannel-headers) sends a reply outside GSM 03.38 as UCS-2 only
        # when told to; other gateways ignore the header.
        coding = None if is_gsm7(reply) else ("x-kannel-coding", "2")
        await _plain(send, 200, reply, extra=coding)

    async def _ussd(self, scope: Scope, fields: dict[str, str], send: Send) -> None:
        if scope["method"] != "POST":
            await _plain(send, 405, "use POST", allow="POST")
            return
        missing = [f for f in ("sessionId", "serviceCode", "phoneNumber") if not fields.get(f)]
        if missing:
            await _plain(send, 400, f"missing: {', '.join(missing)}")
            return
        request = UssdRequest(
            session_id=fields["sessionId"],
            service_code=fields["serviceCode"],
            phone_number=fields["phoneNumber"],
            text=fields.get("text", ""),
        )
        await _plain(send, 200, handle_ussd(self._saldo, request))


async def _fields(scope: Scope, receive: Receive) -> dict[str, str] | None:
    """Query string and form fields (the body wins); None when the body is too large."""
    query = scope.get("query_string", b"").decode("latin-1")
    fields = _parse(query)
    if scope["method"] in ("POST", "PUT", "PATCH"):
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY:
                return None
        fields.update(_parse(body.decode("utf-8", errors="replace")))
    return fields


def _parse(encoded: str) -> dict[str, str]:
    parsed = parse_qs(encoded, keep_blank_values=True, errors="replace")
    return {key: values[0] for key, values in parsed.items()}


async def _plain(
    send: Send,
    status: int,
    text: str,
    *,
    allow: str | None = None,
    extra: tuple[str, str] | None = None,
) -> None:
    body = text.encode("utf-8")
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    if allow is not None:
        headers.append((b"allow", allow.encode()))
    if extra is not None:
        headers.append((extra[0].encode(), extra[1].encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
