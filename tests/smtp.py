"""A throwaway SMTP server on 127.0.0.1 for the tests: aiosmtpd's threaded ``Controller``,
in this process.

``smtp_server()`` starts it on a free loopback port and yields an ``SmtpServer`` that

- gives ``url()`` for ``SmtpMailer.from_url``, with the test user's credentials (or others,
  to see a login refused);
- keeps every message it accepted as a ``ReceivedMail``: the envelope (``MAIL FROM``,
  ``RCPT TO``) and the message parsed back with the ``email`` package. smtplib returns only
  once the server has answered the end of ``DATA``, and the handler keeps the message before
  it answers, so a message is in ``received`` as soon as the send returns;
- answers ``RCPT TO`` for an address given to ``refuse()`` with ``550``.

With ``require_auth`` (the default) the server offers ``AUTH PLAIN`` and ``LOGIN`` without TLS
(``auth_require_tls=False``: everything stays on loopback), accepts only the test user, and
answers ``MAIL FROM`` before a login with ``530``.

With ``tls="starttls"`` or ``tls="implicit"`` it presents a self-signed certificate for
127.0.0.1 made with the ``openssl`` command into a temporary directory;
``client_tls_context`` trusts it. ``openssl_unavailable_reason`` says when that cannot be
done. On leaving, the controller's thread is stopped and the directory deleted.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
USERNAME = "saldo"
PASSWORD = "saldo-test-smtp-password"
SENDER = "Saldo <no-reply@saldo.example>"

Tls = Literal["none", "starttls", "implicit"]


@dataclass(frozen=True, slots=True)
class ReceivedMail:
    """A message the server accepted: the envelope, the message's bytes as they arrived and
    the message parsed from them."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage

    def body(self, subtype: str) -> str:
        """The decoded ``text/<subtype>`` part, line breaks as a mail program shows them
        (``\\n``: on the wire they are CRLF)."""
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None and part.get_content_type() == f"text/{subtype}"
        content = part.get_content()
        assert isinstance(content, str)
        return content.replace("\r\n", "\n")


class _Handler:
    """aiosmtpd's handler hooks: refuse a sender before a login when one is required, refuse
    some recipients, keep every message."""

    def __init__(self, *, require_auth: bool) -> None:
        self.require_auth = require_auth
        self.received: list[ReceivedMail] = []
        self.refused: set[str] = set()
        self.lock = threading.Lock()

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # aiosmtpd's own auth_required warns on every connection when it is not paired with
        # auth_require_tls; refusing here does the same without TLS.
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        with self.lock:
            refused = address.lower() in self.refused
        if refused:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)
        mail = ReceivedMail(
            mail_from=str(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            raw=raw,
            message=message,
        )
        with self.lock:
            self.received.append(mail)
        return "250 Message accepted for delivery"


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    accepted = isinstance(auth_data, LoginPassword) and auth_data == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    # handled=False: aiosmtpd answers a refusal with 535 itself; with the default True it
    # would leave the client waiting for an answer the authenticator was meant to send.
    return AuthResult(success=accepted, handled=False)


class SmtpServer:
    """A running server; made by ``smtp_server``."""

    def __init__(
        self, *, port: int, tls: Tls, handler: _Handler, client_tls_context: ssl.SSLContext | None
    ) -> None:
        self.host = HOST
        self.port = port
        self.username = USERNAME
        self.password = PASSWORD
        self.tls = tls
        self.client_tls_context = client_tls_context
        self._handler = handler

    def url(
        self,
        *,
        username: str | None = USERNAME,
        password: str = PASSWORD,
        sender: str = SENDER,
    ) -> str:
        """The SALDO_SMTP_URL for this server, logging in as ``username`` (not at all when
        None)."""
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        login = f"{quote(username, safe='')}:{quote(password, safe='')}@" if username else ""
        query = f"from={quote(sender, safe='<>@')}"
        if self.tls == "starttls":
            query += "&starttls=1"
        return f"{scheme}://{login}{self.host}:{self.port}?{query}"

    @property
    def received(self) -> list[ReceivedMail]:
        """Every message accepted so far, oldest first."""
        with self._handler.lock:
            return list(self._handler.received)

    def refuse(self, address: str) -> None:
        """Answer ``RCPT TO:<address>`` with 550 from now on."""
        with self._handler.lock:
            self._handler.refused.add(address.lower())


def openssl_unavailable_reason() -> str | None:
    """Why no certificate can be made here for the TLS tests, or None when one can."""
    if shutil.which("openssl") is None:
        return "the openssl command is not installed (Debian package openssl)"
    return None


@contextmanager
def smtp_server(*, require_auth: bool = True, tls: Tls = "none") -> Iterator[SmtpServer]:
    """Run an SMTP server on 127.0.0.1 until the block ends.

    Raises what aiosmtpd's ``Controller.start`` raises when the server does not come up
    (OSError for a port taken meanwhile, TimeoutError), and CalledProcessError when
    ``openssl`` cannot make the certificate ``tls`` asks for."""
    handler = _Handler(require_auth=require_auth)
    with ExitStack() as stack:
        server_context: ssl.SSLContext | None = None
        client_context: ssl.SSLContext | None = None
        if tls != "none":
            workdir = Path(tempfile.mkdtemp(prefix="saldo-smtp-"))
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
            server_context, client_context = _tls_contexts(workdir)
        port = _free_port()
        controller = Controller(
            handler,
            hostname=HOST,
            port=port,
            server_hostname="smtp.saldo.example",
            ssl_context=server_context if tls == "implicit" else None,
            tls_context=server_context if tls == "starttls" else None,
            require_starttls=tls == "starttls",
            authenticator=_authenticate if require_auth else None,
            # Everything stays on loopback: a login in clear is what the tests want to see.
            auth_require_tls=False,
        )
        controller.start()
        stack.callback(controller.stop)
        yield SmtpServer(port=port, tls=tls, handler=handler, client_tls_context=client_context)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _tls_contexts(workdir: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a fresh self-signed certificate for 127.0.0.1, and a client
    context that trusts exactly that certificate."""
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            f"/CN={HOST}",
            "-addext",
            f"subjectAltName=IP:{HOST}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client
