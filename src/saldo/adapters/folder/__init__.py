"""The development sender: every SMS and email Saldo sends is written as a file in a folder,
where a newcomer reads what a subscriber would receive (``SALDO_OUTBOX_FOLDER``, by default
``saldo-outbox/`` beside the database). Used in development when no Kannel or SMTP server is
configured; ``FolderSmsSender`` implements ``SmsSender`` and ``FolderMailer`` ``Mailer``,
held to the same contract tests as Kannel, SMTP and the fakes.

Each message is one UTF-8 file: header lines (``To:``, ``From:`` or ``Subject:``, ...), an
empty line, then the text exactly as sent. An email's HTML part goes beside it in a ``.html``
file. A file is named after the message id (``expiry-12-7.sms.txt``); a retried send writes
another (``expiry-12-7~2.sms.txt``), as a gateway would deliver it again. Files appear whole:
each is written under a temporary name and then renamed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from saldo.domain.email_address import mask_email
from saldo.domain.errors import SaldoError
from saldo.domain.numbering import mask_msisdn
from saldo.services.ports.mail import MailNotSent, OutgoingEmail
from saldo.services.ports.sms import SmsNotSent

SMS_SUFFIX = ".sms.txt"
EMAIL_SUFFIX = ".email.txt"
HTML_SUFFIX = ".email.html"


class FolderSmsSender:
    """Writes each SMS to a file in ``folder`` (made when first needed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, *, to: str, sender: str, text: str, message_id: str) -> None:
        """Write the message; raise SmsNotSent (number masked) when the folder cannot take
        it."""
        _write(
            self.folder,
            message_id,
            {SMS_SUFFIX: _page({"To": to, "From": sender, "Message-ID": message_id}, text)},
            failure=lambda reason: SmsNotSent(
                f"message {message_id} to {mask_msisdn(to)} was not written to "
                f"{self.folder}: {reason}"
            ),
        )


class FolderMailer:
    """Writes each email to a file in ``folder`` (made when first needed): its headers and
    plain text in ``.email.txt``, its HTML in ``.email.html``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, email: OutgoingEmail) -> None:
        """Write the email; raise MailNotSent (address masked) when the folder cannot take
        it."""
        headers = {
            "To": email.to,
            "Subject": email.subject,
            "Content-Language": email.language,
            "Message-ID": email.message_id,
            **({"Reply-To": email.reply_to} if email.reply_to else {}),
            **email.headers,
        }
        _write(
            self.folder,
            email.message_id,
            {EMAIL_SUFFIX: _page(headers, email.text), HTML_SUFFIX: email.html},
            failure=lambda reason: MailNotSent(
                f"email {email.message_id} to {mask_email(email.to)} was not written to "
                f"{self.folder}: {reason}"
            ),
        )


def read_page(path: Path) -> tuple[dict[str, str], str]:
    """A written message's headers and text, as they were given."""
    with path.open(encoding="utf-8", newline="") as file:
        head, _, text = file.read().partition("\n\n")
    headers = dict(line.split(": ", 1) for line in head.split("\n"))
    return headers, text


def _page(headers: Mapping[str, str], text: str) -> str:
    return "".join(f"{name}: {value}\n" for name, value in headers.items()) + "\n" + text


def _write(
    folder: Path,
    message_id: str,
    files: Mapping[str, str],
    *,
    failure: Callable[[str], SaldoError],
) -> None:
    stem = re.sub(r"[^A-Za-z0-9._-]", "-", message_id).lstrip(".") or "message"
    try:
        # the messages hold subscribers' numbers and addresses: for this user's eyes only
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for attempt in range(1, 10_000):
            name = stem if attempt == 1 else f"{stem}~{attempt}"
            if _publish(folder, name, files):
                return
        raise OSError(f"too many messages named {stem}")
    except OSError as error:
        raise failure(error.strerror or str(error)) from None


def _publish(folder: Path, name: str, files: Mapping[str, str]) -> bool:
    """Write ``files`` under ``name``; False when a message already has that name. The
    first file claims the name: it is written aside and linked into place, which fails if
    the name is taken, even by another process at the same moment."""
    for position, (suffix, content) in enumerate(files.items()):
        partial = folder / f".{name}{suffix}.{os.getpid()}.partial"
        partial.write_text(content, encoding="utf-8", newline="")
        try:
            os.link(partial, folder / f"{name}{suffix}")
        except FileExistsError:
            if position == 0:
                return False
            raise
        finally:
            partial.unlink()
    return True
