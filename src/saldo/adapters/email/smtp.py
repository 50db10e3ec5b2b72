"""Sending email over SMTP with the standard library (``smtplib``, ``email``).

Each email is one connection: connect, ``STARTTLS`` when asked, log in when there are
credentials, send, ``QUIT``. The message is multipart/alternative with a plain-text and an
HTML part, both UTF-8 in quoted-printable or base64 (whichever is shorter), so it passes any
relay, even one without 8BITMIME; headers outside ASCII (a Chinese subject) are RFC 2047
encoded words. ``Message-ID`` is ``<message_id@sender's domain>``: a retried send has the
same one.

Every failure (a refused recipient or login, no answer, a broken TLS handshake) becomes
MailNotSent. Recipients appear in logs and errors only masked (``a***@example.org``); the
password never does, and travels only encrypted unless the server is on this machine.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import smtplib
import ssl
from contextlib import suppress
from email.headerregistry import Address
from email.message import MIMEPart
from email.policy import SMTP
from email.utils import format_datetime, getaddresses
from typing import Literal
from urllib.parse import unquote, urlsplit

from saldo.adapters.clock import SystemClock
from saldo.domain.email_address import mask_email
from saldo.services.ports import Clock
from saldo.services.ports.mail import MailNotSent, OutgoingEmail

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "tls"]

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_QUERY_KEYS = frozenset({"from", "starttls", "timeout"})
_YES = frozenset({"1", "true", "yes", "on"})
_NO = frozenset({"0", "false", "no", "off"})
_DEFAULT_TIMEOUT = 10.0
# cte_type="7bit" makes set_content() pick quoted-printable or base64 for UTF-8 text instead
# of raw 8-bit, which a relay without 8BITMIME could mangle.
_POLICY = SMTP.clone(cte_type="7bit")


class SmtpMailer:
    """A ``Mailer`` that hands emails to an SMTP server.

    ``sender`` is the From address, optionally with a display name
    (``Saldo <no-reply@example.org>``); its domain ends every Message-ID and names this client
    in ``EHLO``. ``security`` is ``none`` (plain SMTP), ``starttls`` (upgrade before logging
    in; refuse to go on when the server cannot) or ``tls`` (implicit TLS, as on port 465).
    Certificates are checked against ``tls_context`` (the system's trusted authorities by
    default). ``timeout`` bounds connecting and each exchange with the server, in seconds.

    Raises ValueError when the sender is not an address, the timeout is not positive, or a
    login would travel unencrypted to another machine.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        security: Security = "none",
        timeout: float = _DEFAULT_TIMEOUT,
        tls_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._sender = _parse_sender(sender)
        if not 0 < timeout < math.inf:
            raise ValueError("the SMTP timeout must be a positive number of seconds")
        if username and security == "none" and not _is_loopback(host):
            raise ValueError(
                "an SMTP login needs starttls=1 or smtps:// unless the server is on this "
                "machine: the password would travel in clear"
            )
        self._host = host
        self._port = port
        self._username = username
        self._password = password or ""
        self._security = security
        self._timeout = timeout
        self._tls_context = tls_context or ssl.create_default_context()
        self._clock = clock or SystemClock()

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        tls_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
    ) -> SmtpMailer:
        """A mailer for ``smtp://user:password@host:port?from=...&starttls=1&timeout=10``
        (``smtps://`` for implicit TLS; ports 25 and 465 by default). ``from`` is the sender,
        percent-encoded (``Saldo%20<no-reply@example.org>``); user name and password are
        percent-decoded too.

        Raises ValueError when it cannot be used as it is; the reason quotes nothing from the
        URL, since a password with an unencoded ``?``, ``#`` or ``/`` spills into the other
        parts."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError("the SMTP URL must be smtp://host[:port] or smtps://host[:port]")
        if parts.path not in ("", "/") or parts.fragment:
            raise ValueError("the SMTP URL takes no path or fragment, only ?from=&starttls=")
        query = _parse_query(parts.query)
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError:
            raise ValueError("the port in the SMTP URL must be a number up to 65535") from None
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        starttls = _parse_flag(query.get("starttls", "0"), name="starttls")
        if starttls and scheme == "smtps":
            raise ValueError("smtps:// is already encrypted: drop starttls=1")
        sender = query.get("from")
        if not sender:
            raise ValueError("the SMTP URL needs ?from=the sender's address")
        security: Security = "tls" if scheme == "smtps" else "starttls" if starttls else "none"
        return cls(
            host=parts.hostname,
            port=port,
            sender=sender,
            username=username,
            password=password,
            security=security,
            timeout=_parse_timeout(query.get("timeout")),
            tls_context=tls_context,
            clock=clock,
        )

    def send(self, email: OutgoingEmail) -> None:
        """Hand ``email`` to the server; return once it has accepted it for the recipient.

        Raises MailNotSent when the server refuses it or cannot be reached, within the
        timeout, or the TLS handshake fails. After a timeout during the send the server may
        still have taken it."""
        masked = mask_email(email.to)
        message = self._compose(email)
        try:
            client = self._connect()
            try:
                if self._security == "starttls":
                    client.starttls(context=self._tls_context)
                if self._username:
                    client.login(self._username, self._password)
                client.send_message(message, from_addr=self._sender.addr_spec, to_addrs=[email.to])
            finally:
                _quit(client)
        except (smtplib.SMTPException, OSError) as error:
            reason = self._scrub(_describe(error, timeout=self._timeout), recipient=email.to)
            log.warning(
                "email %s to %s not sent through %s:%d: %s",
                email.message_id,
                masked,
                self._host,
                self._port,
                reason,
            )
            raise MailNotSent(
                f"the mail server did not take email {email.message_id} to {masked}: {reason}"
            ) from None
        log.info(
            "email %s to %s accepted by %s:%d",
            email.message_id,
            masked,
            self._host,
            self._port,
        )

    def _connect(self) -> smtplib.SMTP:
        # The sender's domain names this client in EHLO: smtplib's default asks DNS for
        # this machine's full name, which can hang where DNS is slow.
        local_hostname = self._sender.domain
        if self._security == "tls":
            return smtplib.SMTP_SSL(
                self._host,
                self._port,
                local_hostname=local_hostname,
                timeout=self._timeout,
                context=self._tls_context,
            )
        return smtplib.SMTP(
            self._host, self._port, local_hostname=local_hostname, timeout=self._timeout
        )

    def _compose(self, email: OutgoingEmail) -> MIMEPart:
        # MIMEPart rather than EmailMessage: the latter's set_content() would write a
        # MIME-Version into each part, and it belongs on the message only.
        message = MIMEPart(policy=_POLICY)
        message.make_alternative()
        for subtype, content in (("plain", email.text), ("html", email.html)):
            part = MIMEPart(policy=_POLICY)
            part.set_content(content, subtype=subtype, charset="utf-8")
            message.attach(part)
        message["MIME-Version"] = "1.0"
        message["From"] = self._sender
        message["To"] = email.to
        if email.reply_to is not None:
            message["Reply-To"] = email.reply_to
        message["Subject"] = email.subject
        message["Date"] = format_datetime(self._clock.now())
        message["Message-ID"] = f"<{email.message_id}@{self._sender.domain}>"
        message["Content-Language"] = email.language
        for name, value in email.headers.items():
            message[name] = value
        return message

    def _scrub(self, reason: str, *, recipient: str) -> str:
        """``reason`` without the password or the recipient's address, whatever the server
        chose to echo."""
        if self._password:
            reason = reason.replace(self._password, "***")
        return _replace_ignoring_case(reason, recipient, mask_email(recipient))


def _quit(client: smtplib.SMTP) -> None:
    # Once the server has accepted the message, a failed QUIT must not turn the send into a
    # failure: the caller would send it again and the subscriber would get it twice.
    with suppress(smtplib.SMTPException, OSError):
        client.quit()
    client.close()


def _describe(error: smtplib.SMTPException | OSError, *, timeout: float) -> str:
    # smtplib turns a timeout while reading an answer into SMTPServerDisconnected.
    if isinstance(error, TimeoutError) or isinstance(error.__context__, TimeoutError):
        return f"the server did not answer within {timeout:g} s"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        refusals = [f"{code} {_text(reply)}".strip() for code, reply in error.recipients.values()]
        return "the recipient was refused: " + "; ".join(refusals)
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return f"the login was refused: {error.smtp_code} {_text(error.smtp_error)}".strip()
    if isinstance(error, smtplib.SMTPSenderRefused):
        return (
            f"the sender {error.sender} was refused: "
            f"{error.smtp_code} {_text(error.smtp_error)}".strip()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return f"the server answered {error.smtp_code} {_text(error.smtp_error)}".strip()
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return f"the server cannot do what was asked: {error}"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return f"the server closed the connection: {error}"
    if isinstance(error, ssl.SSLError):
        return f"the TLS handshake failed: {type(error).__name__}: {error}"
    return f"the server could not be reached: {type(error).__name__}: {error}"


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", errors="replace")
    return reply


def _replace_ignoring_case(text: str, old: str, new: str) -> str:
    lowered, target = text.lower(), old.lower()
    pieces, start = [], 0
    while (found := lowered.find(target, start)) != -1:
        pieces.append(text[start:found] + new)
        start = found + len(old)
    return "".join(pieces) + text[start:]


def _parse_sender(sender: str) -> Address:
    found = getaddresses([sender])
    address = None
    if len(found) == 1:
        name, addr_spec = found[0]
        with suppress(ValueError, IndexError):
            address = Address(display_name=name, addr_spec=addr_spec)
    if address is None or not address.username or "." not in address.domain:
        raise ValueError("the sender must be one email address")
    return address


def _parse_query(query: str) -> dict[str, str]:
    # Not parse_qs: it reads "+" as a space, and "+" is common in addresses.
    values: dict[str, str] = {}
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        key = unquote(key)
        if key not in _QUERY_KEYS:
            raise ValueError(
                f"the SMTP URL takes only the settings {', '.join(sorted(_QUERY_KEYS))}"
            )
        if key in values:
            raise ValueError(f"the SMTP URL sets {key} twice")
        values[key] = unquote(value)
    return values


def _parse_flag(value: str, *, name: str) -> bool:
    if value.lower() in _YES:
        return True
    if value.lower() in _NO:
        return False
    raise ValueError(f"{name} in the SMTP URL must be 1 or 0")


def _parse_timeout(value: str | None) -> float:
    if value is None:
        return _DEFAULT_TIMEOUT
    try:
        return float(value)
    except ValueError:
        raise ValueError("timeout in the SMTP URL must be a number of seconds") from None


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
