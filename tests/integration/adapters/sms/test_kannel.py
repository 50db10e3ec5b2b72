"""Expiry reminders through the real Kannel gateway (tests/kannel.py on 127.0.0.1): the outbox
renders each one in the line's language and hands it to Kannel's sendsms; it reaches the
phone from the operator's short code, as GSM-7 for Spanish and as UCS-2 for Chinese, exactly
as written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from saldo.adapters.sms.kannel import KannelSmsSender
from saldo.bootstrap import Saldo
from saldo.channels.notifications import notification_renderer
from saldo.services.lines import NewLine, add_line
from saldo.services.notifications import queue
from saldo.services.outbox import Delivery, Senders, deliver_outbox
from tests.kannel import KannelGateway, kannel_gateway, require_kannel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kannel() -> Iterator[KannelGateway]:
    require_kannel()
    # Nothing here sends an MO message, so the sms-service's get-url is never called.
    with kannel_gateway(get_url="http://127.0.0.1:9/unused?from=%p") as gateway:
        yield gateway


@pytest.mark.parametrize(
    ("msisdn", "language", "coding", "opening"),
    [
        ("+5491155551234", "es", "text", "Movistar: su linea es valida hasta el 22 dic 2026."),
        ("+5491155551235", "zh", "ucs-2", "Movistar：您的号码有效期至2026年12月22日。"),
    ],
)
def test_an_expiry_reminder_reaches_the_phone_through_kannel_in_the_line_s_language(
    saldo_sqlite: Saldo,
    kannel: KannelGateway,
    msisdn: str,
    language: str,
    coding: str,
    opening: str,
) -> None:
    saldo = saldo_sqlite
    now = saldo.clock.now()
    new_line = NewLine(msisdn=msisdn, operator="movistar-ar", language=language)
    line = add_line(saldo.uow(), new_line=new_line, now=now)
    with saldo.uow() as uow:
        queue(
            uow,
            operator_id=line.operator_id,
            line_id=line.id,
            channel="sms",
            key=f"expiry-{line.id}-7",
            recipient=msisdn,
            payload={
                "kind": "expiry_reminder",
                "valid_until": line.valid_until.isoformat(),
                "days": 7,
            },
            now=now,
        )
        uow.commit()
    sender = KannelSmsSender(kannel.sendsms_url, kannel.username, kannel.password)

    delivery = deliver_outbox(
        saldo.uow(),
        senders=Senders(sms=sender),
        render=notification_renderer(webhook_secret=saldo.webhook_secret),
        now=now,
    )

    assert delivery == Delivery(sent=1)
    arrived = kannel.receive_mt(timeout=10)
    assert (arrived.sender, arrived.receiver, arrived.coding) == ("121", msisdn, coding)
    assert arrived.text.startswith(opening)
    assert "RENOVAR pack-mensual-1m" in arrived.text
