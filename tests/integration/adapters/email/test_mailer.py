"""The Mailer contract: every adapter (the in-memory fake, the development folder, SMTP)
delivers an email with its plain-text and HTML parts exactly as given, in any language, under
a Message-ID that carries the caller's id, and says so with MailNotSent when it cannot.

For SMTP, "arrives" means a real SMTP server (aiosmtpd on loopback, tests/smtp.py) accepted
it and the message, decoded with the ``email`` package, reads back equal to what was sent
(line breaks as a mail program shows them)."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Protocol

import pytest

from saldo.adapters.clock import FixedClock
from saldo.adapters.email.fake import FakeMailer
from saldo.adapters.email.smtp import SmtpMailer
from saldo.adapters.folder import EMAIL_SUFFIX, HTML_SUFFIX, FolderMailer, read_page
from saldo.bootstrap import MailNotConfigured, bootstrap
from saldo.config import Settings
from saldo.services.ports.mail import Mailer, MailNotSent, OutgoingEmail
from tests.smtp import (
    PASSWORD,
    SENDER,
    SmtpServer,
    openssl_unavailable_reason,
    smtp_server,
)

ANA = "ana.gomez@example.org"
NOBODY = "nadie@example.org"
WRONG_PASSWORD = "not-the-smtp-password"
SENT_AT = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)

SPANISH = OutgoingEmail(
    to=ANA,
    subject="Tu recibo: renovación por 3 meses — $ 12.345,67",
    text=(
        "Hola, Ana:\n\n"
        "Renovaste tu línea +54 9 11 2345-6789 por 3 meses.\n"
        "Total: $ 12.345,67 (¡gracias!)\n"
        ".\n"
        "Válido hasta el 22 feb 2027.\n"
    ),
    html=(
        "<!doctype html>\n"
        '<html lang="es-AR"><body>\n'
        "<p>Hola, Ana:</p>\n"
        "<p>Renovaste tu línea por 3 meses.<br>Total: <b>$ 12.345,67</b> (¡gracias!)</p>\n"
        "</body></html>\n"
    ),
    language="es-AR",
    message_id="order-1042.receipt",
)
CHINESE = OutgoingEmail(
    to=ANA,
    subject="您的收据：已续订 3 个月 — ARS 12,345.67",
    text="您好：\n\n您的号码已续订 3 个月。\n合计：ARS 12,345.67\n有效期至 2027年2月22日。\n",
    html=(
        '<html lang="zh-CN"><body>\n'
        "<p>您好：</p>\n"
        "<p>您的号码已续订 3 个月。<br>合计：<b>ARS 12,345.67</b></p>\n"
        "</body></html>\n"
    ),
    language="zh-CN",
    message_id="order-1043.receipt",
)
# One HTML line far longer than SMTP's 998-octet limit, as template engines write them.
LONG_LINE = replace(
    SPANISH,
    html="<p>" + "Saldo: $ 1.234,56 — " * 120 + "</p>\n",
    message_id="order-1044.receipt",
)


@dataclass(frozen=True)
class Arrival:
    to: str
    subject: str
    text: str
    html: str
    language: str
    message_id: str


class Delivery(Protocol):
    """One adapter under test, with a way to see what reached the mailbox and a way to make
    delivery fail."""

    @property
    def mailer(self) -> Mailer: ...

    def arrived(self) -> list[Arrival]: ...

    def failing(self, failure: str) -> tuple[Mailer, str]:
        """A mailer and a recipient for which the send fails in the way ``failure`` names."""
        ...


class FakeDelivery:
    def __init__(self) -> None:
        self.fake = FakeMailer()
        self.mailer: Mailer = self.fake

    def arrived(self) -> list[Arrival]:
        return [
            Arrival(
                to=email.to,
                subject=email.subject,
                text=email.text,
                html=email.html,
                language=email.language,
                message_id=email.message_id,
            )
            for email in self.fake.sent
        ]

    def failing(self, failure: str) -> tuple[Mailer, str]:
        self.fake.fail_with(failure)
        return self.fake, ANA


class FolderDelivery:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.mailer: Mailer = FolderMailer(folder)

    def arrived(self) -> list[Arrival]:
        if not self.folder.exists():
            return []
        arrivals = []
        written = sorted(self.folder.glob(f"*{EMAIL_SUFFIX}"), key=lambda p: p.stat().st_mtime_ns)
        for path in written:
            headers, text = read_page(path)
            html = path.with_name(path.name.removesuffix(EMAIL_SUFFIX) + HTML_SUFFIX)
            arrivals.append(
                Arrival(
                    to=headers["To"],
                    subject=headers["Subject"],
                    text=text,
                    html=html.read_text(encoding="utf-8"),
                    language=headers["Content-Language"],
                    message_id=headers["Message-ID"],
                )
            )
        return arrivals

    def failing(self, failure: str) -> tuple[Mailer, str]:
        # A folder cannot refuse a recipient or a login; it fails when it cannot be written.
        blocked = self.folder.parent / "not-a-folder"
        blocked.write_text("a file where the folder should be")
        return FolderMailer(blocked), NOBODY if failure == "refused-recipient" else ANA


class SmtpDelivery:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self.mailer: Mailer = SmtpMailer.from_url(server.url())

    def arrived(self) -> list[Arrival]:
        arrivals = []
        for mail in self.server.received:
            message = mail.message
            message_id = str(message["Message-ID"])
            assert message_id.startswith("<") and message_id.endswith(">")
            assert mail.rcpt_tos == (str(message["To"]),)
            arrivals.append(
                Arrival(
                    to=str(message["To"]),
                    subject=str(message["Subject"]),
                    text=mail.body("plain"),
                    html=mail.body("html"),
                    language=str(message["Content-Language"]),
                    message_id=message_id[1:-1].rpartition("@")[0],
                )
            )
        return arrivals

    def failing(self, failure: str) -> tuple[Mailer, str]:
        if failure == "refused-recipient":
            self.server.refuse(NOBODY)
            return self.mailer, NOBODY
        return SmtpMailer.from_url(self.server.url(password=WRONG_PASSWORD)), ANA


@pytest.fixture(params=["fake", "folder", "smtp"])
def delivery(request: pytest.FixtureRequest) -> Iterator[Delivery]:
    if request.param == "fake":
        yield FakeDelivery()
        return
    if request.param == "folder":
        yield FolderDelivery(request.getfixturevalue("tmp_path") / "saldo-outbox")
        return
    with smtp_server() as server:
        yield SmtpDelivery(server)


def arrival_of(email: OutgoingEmail) -> Arrival:
    return Arrival(
        to=email.to,
        subject=email.subject,
        text=email.text,
        html=email.html,
        language=email.language,
        message_id=email.message_id,
    )


@pytest.mark.parametrize(
    "email",
    [
        pytest.param(SPANISH, id="spanish"),
        pytest.param(CHINESE, id="chinese"),
        pytest.param(LONG_LINE, id="long-html-line"),
    ],
)
def test_an_email_arrives_with_both_parts_exactly_as_sent(
    delivery: Delivery, email: OutgoingEmail
) -> None:
    delivery.mailer.send(email)

    assert delivery.arrived() == [arrival_of(email)]


def test_a_retried_send_arrives_again_under_the_same_message_id(delivery: Delivery) -> None:
    delivery.mailer.send(SPANISH)
    delivery.mailer.send(SPANISH)

    assert [arrival.message_id for arrival in delivery.arrived()] == ["order-1042.receipt"] * 2


@pytest.mark.parametrize("failure", ["refused-recipient", "refused-login"])
def test_a_failed_delivery_raises_mail_not_sent_and_nothing_arrives(
    delivery: Delivery, failure: str
) -> None:
    mailer, recipient = delivery.failing(failure)

    with pytest.raises(MailNotSent) as raised:
        mailer.send(replace(SPANISH, to=recipient))

    assert raised.value.code == "mail_not_sent"
    assert recipient not in str(raised.value)
    assert f"{recipient[0]}***@example.org" in str(raised.value)
    assert WRONG_PASSWORD not in str(raised.value)
    assert delivery.arrived() == []


# -- SMTP beyond the contract -----------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


def test_the_message_is_multipart_alternative_seven_bit_clean_with_its_headers(
    server: SmtpServer,
) -> None:
    mailer = SmtpMailer.from_url(server.url(), clock=FixedClock(SENT_AT))
    email = replace(
        CHINESE,
        reply_to="ayuda@example.org",
        headers={"Auto-Submitted": "auto-generated"},
    )

    mailer.send(email)

    [mail] = server.received
    message = mail.message
    assert mail.mail_from == "no-reply@saldo.example"
    assert mail.rcpt_tos == (ANA,)
    assert mail.raw.isascii()
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert [part.get_content_charset() for part in message.iter_parts()] == ["utf-8"] * 2
    assert {
        name: str(message[name])
        for name in ("From", "To", "Reply-To", "Date", "Message-ID", "Auto-Submitted")
    } == {
        "From": SENDER,
        "To": ANA,
        "Reply-To": "ayuda@example.org",
        "Date": format_datetime(SENT_AT),
        "Message-ID": "<order-1043.receipt@saldo.example>",
        "Auto-Submitted": "auto-generated",
    }


@pytest.mark.parametrize("tls", ["starttls", "implicit"])
def test_an_email_arrives_over_starttls_and_implicit_tls(tls: str) -> None:
    reason = openssl_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    with smtp_server(tls="starttls" if tls == "starttls" else "implicit") as tls_server:
        mailer = SmtpMailer.from_url(tls_server.url(), tls_context=tls_server.client_tls_context)

        mailer.send(SPANISH)

        assert [mail.body("plain") for mail in tls_server.received] == [SPANISH.text]


def test_a_certificate_nobody_vouches_for_raises_mail_not_sent() -> None:
    reason = openssl_unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    with smtp_server(tls="implicit") as tls_server:
        mailer = SmtpMailer.from_url(tls_server.url())

        with pytest.raises(MailNotSent, match="certificate verify failed"):
            mailer.send(SPANISH)

        assert tls_server.received == []


def test_without_a_login_the_server_refuses_the_sender(server: SmtpServer) -> None:
    mailer = SmtpMailer.from_url(server.url(username=None))

    with pytest.raises(MailNotSent, match=r"sender no-reply@saldo\.example was refused: 530"):
        mailer.send(SPANISH)


def test_a_closed_port_raises_mail_not_sent_at_once() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    mailer = SmtpMailer.from_url(f"smtp://127.0.0.1:{closed_port}?from=no-reply@saldo.example")
    started = time.monotonic()

    with pytest.raises(MailNotSent, match="could not be reached: ConnectionRefusedError"):
        mailer.send(SPANISH)

    assert time.monotonic() - started < 1


def test_a_server_that_never_answers_raises_mail_not_sent_after_the_timeout() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        mailer = SmtpMailer.from_url(
            f"smtp://127.0.0.1:{port}?from=no-reply@saldo.example&timeout=0.5"
        )
        started = time.monotonic()

        with pytest.raises(MailNotSent, match=r"did not answer within 0\.5 s"):
            mailer.send(SPANISH)

        assert time.monotonic() - started < 3


def test_logs_carry_the_message_id_a_masked_recipient_and_never_the_password(
    server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="saldo")
    server.refuse(NOBODY)
    right = SmtpMailer.from_url(server.url())
    wrong = SmtpMailer.from_url(server.url(password=WRONG_PASSWORD))

    right.send(SPANISH)
    with pytest.raises(MailNotSent, match="the recipient was refused: 550"):
        right.send(replace(CHINESE, to=NOBODY))
    with pytest.raises(MailNotSent, match="the login was refused: 535"):
        wrong.send(SPANISH)

    ours = [record for record in caplog.records if record.name.startswith("saldo")]
    logged = "\n".join(record.getMessage() for record in ours)
    assert len(ours) == 3
    assert "order-1042.receipt" in logged
    assert "order-1043.receipt" in logged
    assert "a***@example.org" in logged
    assert "n***@example.org" in logged
    assert ANA not in logged
    assert NOBODY not in logged
    assert PASSWORD not in logged
    assert WRONG_PASSWORD not in logged


# -- the SMTP URL and its wiring ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://smtp.example.org?from=no-reply@example.org",
        "smtp://smtp.example.org:587",
        "smtp://smtp.example.org:587?from=no-reply@example.org&startls=1",
        "smtps://smtp.example.org?from=no-reply@example.org&starttls=1",
        "smtp://smtp.example.org?from=no-reply@example.org&timeout=0",
        # A login to another machine without encryption would send the password in clear.
        "smtp://saldo:s3cret-p4ss@smtp.example.org:25?from=no-reply@example.org",
        # An unencoded "?" in the password cuts the URL in the wrong place.
        "smtp://saldo:s3cret?p4ss@smtp.example.org:587?from=no-reply@example.org&starttls=1",
        "smtp://saldo:s3cret#p4ss@smtp.example.org:587?from=no-reply@example.org&starttls=1",
        "smtp://saldo:s3cret/p4ss@smtp.example.org:587?from=no-reply@example.org&starttls=1",
        "smtp://saldo:s3cret-p4ss@smtp.example.org:ab?from=no-reply@example.org",
    ],
)
def test_an_unusable_smtp_url_is_refused_without_quoting_it(url: str) -> None:
    saldo = bootstrap(Settings(database_url="sqlite://", smtp_url=url))

    with pytest.raises(MailNotConfigured) as raised:
        saldo.mailer()

    assert raised.value.code == "mail_not_configured"
    assert "s3cret" not in str(raised.value)
    assert "p4ss" not in str(raised.value)


def test_without_an_smtp_url_there_is_no_mailer() -> None:
    saldo = bootstrap(Settings(database_url="sqlite://"))

    with pytest.raises(MailNotConfigured, match="set SALDO_SMTP_URL"):
        saldo.mailer()


def test_the_configured_mailer_sends_through_the_smtp_url(server: SmtpServer) -> None:
    saldo = bootstrap(Settings(database_url="sqlite://", smtp_url=server.url()))

    saldo.mailer().send(SPANISH)

    assert [str(mail.message["Subject"]) for mail in server.received] == [SPANISH.subject]
