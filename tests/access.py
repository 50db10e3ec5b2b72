"""Signing subscribers in for tests: the installation's access policy, codes read from the
SMS the outbox sent (through the in-memory gateway), and a token for a line."""

from __future__ import annotations

import re
from datetime import datetime

from saldo.adapters.sms.fake import FakeSmsSender, SentSms
from saldo.bootstrap import Saldo
from saldo.channels.notifications import notification_renderer
from saldo.domain.access import TokenKind
from saldo.services.access.policy import AccessPolicy, access_policy
from saldo.services.access.sign_in import request_sign_in_code, sign_in
from saldo.services.outbox import Delivery, Senders, deliver_outbox

ADDRESS = "127.0.0.1"
_CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


def policy_of(saldo: Saldo) -> AccessPolicy:
    """The policy the app API builds from this installation's settings."""
    settings = saldo.settings
    return access_policy(
        secret_key=settings.secret_key,
        token_days=settings.app_token_days,
        codes_per_address=settings.sign_in_codes_per_address,
    )


def deliver_sms(saldo: Saldo, sms: FakeSmsSender, *, at: datetime) -> Delivery:
    """One pass of the outbox through the in-memory SMS gateway."""
    render = notification_renderer(webhook_secret=saldo.webhook_secret)
    return deliver_outbox(saldo.uow(), senders=Senders(sms=sms), render=render, now=at)


def code_in(message: SentSms) -> str:
    """The six-digit code an SMS carries."""
    found = _CODE.findall(message.text)
    assert len(found) == 1, message.text
    return str(found[0])


def sent_code(saldo: Saldo, sms: FakeSmsSender, *, to: str, at: datetime) -> str:
    """Deliver the outbox and read the code of the last SMS sent to ``to``."""
    deliver_sms(saldo, sms, at=at)
    return code_in([message for message in sms.sent if message.to == to][-1])


def signed_in_token(saldo: Saldo, msisdn: str, *, at: datetime) -> str:
    """A token for the account holding the line with ``msisdn``, signed in as a subscriber
    would: a code asked for, read from the SMS, confirmed."""
    policy = policy_of(saldo)
    request_sign_in_code(saldo.uow(), policy=policy, msisdn=msisdn, address=ADDRESS, now=at)
    code = sent_code(saldo, FakeSmsSender(), to=msisdn, at=at)
    signed = sign_in(
        saldo.uow(), policy=policy, msisdn=msisdn, code=code, kind=TokenKind.APP, now=at
    )
    return signed.token
