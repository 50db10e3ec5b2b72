"""Sending SMS through Kannel's ``sendsms`` HTTP interface.

One GET to ``/cgi-bin/sendsms`` per message, with the ``sendsms-user``'s credentials. Text
that fits the GSM 03.38 alphabet goes as plain text (160 characters a part); anything else
goes with ``coding=2`` and ``charset=UTF-8``, so Kannel turns it into UCS-2 (70 characters a
part) and Chinese or ``á`` reach the phone intact. Splitting long text into parts is Kannel's
job (``max-messages`` and ``concatenation`` of the ``sendsms-user``).

Kannel has no idempotency key, so the caller's ``message_id`` is logged, beside the masked
number and Kannel's answer, with every attempt: a retried send shows up in the log under
the same id. Numbers appear in logs and errors only masked; the password never does.
"""

from __future__ import annotations

import logging
from http.client import HTTPException
from urllib.error import HTTPError
from urllib.parse import urlencode, urlsplit
from urllib.request import OpenerDirector, ProxyHandler, build_opener

from saldo.domain.numbering import mask_msisdn
from saldo.domain.sms_text import is_gsm7
from saldo.services.ports.sms import SmsNotSent

log = logging.getLogger(__name__)

# Kannel 1.4 answers 202 "0: Accepted for delivery", or 202 "3: Queued for later delivery"
# when no SMSC link is up and bearerbox keeps the message to send once one is; both mean
# Kannel has taken the message, and sending it again would reach the phone twice. Older
# versions answer "Sent.".
_ACCEPTED_REPLIES = ("0:", "3:", "Sent.")
_ACCEPTED_STATUS = 202
_REPLY_LIMIT = 2048


class KannelSmsSender:
    """An ``SmsSender`` that hands messages to Kannel's smsbox.

    ``sendsms_url`` is the full address of the interface, e.g.
    ``http://127.0.0.1:13013/cgi-bin/sendsms``; ``username`` and ``password`` are those of a
    ``sendsms-user`` group. HTTP proxies from the environment are never used: the request
    carries the password. Raises ValueError when the URL is not http(s).
    """

    def __init__(
        self, sendsms_url: str, username: str, password: str, timeout: float = 10.0
    ) -> None:
        parts = urlsplit(sendsms_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"the sendsms URL must be http(s)://host:port/..., not {sendsms_url!r}"
            )
        self._sendsms_url = sendsms_url
        self._separator = "&" if parts.query else "?"
        self._username = username
        self._password = password
        self._timeout = timeout
        self._opener: OpenerDirector = build_opener(ProxyHandler({}))

    def send(self, *, to: str, sender: str, text: str, message_id: str) -> None:
        """Hand the message to Kannel; return once Kannel has accepted it.

        Raises SmsNotSent when Kannel refuses it (any answer but an accepted 202) or cannot
        be reached within the timeout. After a timeout Kannel may still have taken it.
        """
        query = {
            "username": self._username,
            "password": self._password,
            "from": sender,
            "to": to,
            "text": text,
            "charset": "UTF-8",
        }
        coding = "gsm7"
        if not is_gsm7(text):
            query["coding"] = "2"
            coding = "ucs2"
        masked = mask_msisdn(to)
        url = self._sendsms_url + self._separator + urlencode(query)
        try:
            with self._opener.open(url, timeout=self._timeout) as response:
                status = int(response.status)
                reply = _read_reply(response.read(_REPLY_LIMIT))
        except HTTPError as error:
            with error:
                status = error.code
                reply = _read_reply(error.read(_REPLY_LIMIT))
        except (OSError, HTTPException) as error:
            log.warning(
                "sms %s to %s (%s) not sent: Kannel unreachable: %s",
                message_id,
                masked,
                coding,
                _describe(error),
            )
            raise SmsNotSent(
                f"Kannel could not be reached for message {message_id} to {masked}: "
                f"{_describe(error)}"
            ) from None
        if status == _ACCEPTED_STATUS and reply.startswith(_ACCEPTED_REPLIES):
            log.info("sms %s to %s (%s) accepted by Kannel: %s", message_id, masked, coding, reply)
            return
        log.warning(
            "sms %s to %s (%s) refused by Kannel: HTTP %d %s",
            message_id,
            masked,
            coding,
            status,
            reply,
        )
        raise SmsNotSent(
            f"Kannel did not take message {message_id} to {masked}: HTTP {status} {reply!r}"
        )


def _read_reply(body: bytes) -> str:
    return body.decode("utf-8", errors="replace").strip()


def _describe(error: BaseException) -> str:
    # A URLError wraps the socket error; its own text would be "<urlopen error ...>".
    reason = getattr(error, "reason", error)
    if isinstance(reason, BaseException):
        return f"{type(reason).__name__}: {reason}"
    return str(reason)
