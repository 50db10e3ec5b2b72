"""An SMS from a phone travels through a real Kannel to Saldo's inbound endpoint, and Saldo's
answer comes back to the phone as the reply.

Saldo's HTTP application runs under uvicorn on a free 127.0.0.1 port; Kannel's sms-service
calls ``/channels/sms/inbound?from=%p&to=%P&text=%a&id=%I`` (the endpoint contract in
docs/channels.md) and fakesmsc plays the phone (tests/kannel.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from saldo.bootstrap import Saldo
from saldo.services.lines import NewLine, add_line
from tests.kannel import KannelGateway, kannel_gateway, require_kannel
from tests.serving import serving

INBOUND = "/channels/sms/inbound?from=%p&to=%P&text=%a&id=%I"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


@pytest.fixture
def gateway(saldo_sqlite: Saldo) -> Iterator[KannelGateway]:
    require_kannel()
    with serving(saldo_sqlite) as base_url, kannel_gateway(get_url=base_url + INBOUND) as running:
        yield running


def test_a_balance_keyword_sent_through_kannel_is_answered_with_the_balance(
    saldo_sqlite: Saldo, gateway: KannelGateway
) -> None:
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn="+5492614445566", operator="personal-ar"),
        now=saldo_sqlite.clock.now(),
    )

    gateway.send_mo(sender="+5492614445566", receiver="100", text="SALDO")
    reply = gateway.receive_mt(timeout=15)

    assert (reply.sender, reply.receiver) == ("100", "+5492614445566")
    assert reply.text.strip(), gateway.diagnostics()
    assert "$" in reply.text, f"reply {reply.text!r}\n{gateway.diagnostics()}"


def test_a_chinese_reply_reaches_the_phone_intact(
    saldo_sqlite: Saldo, gateway: KannelGateway
) -> None:
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn="+5491145678901", operator="movistar-ar", language="zh"),
        now=saldo_sqlite.clock.now(),
    )

    gateway.send_mo(sender="+5491145678901", receiver="121", text="MIS DATOS")
    reply = gateway.receive_mt(timeout=15)

    assert (reply.sender, reply.receiver) == ("121", "+5491145678901")
    assert reply.coding == "ucs-2", f"reply {reply.text!r}\n{gateway.diagnostics()}"
    assert CJK.search(reply.text), f"reply {reply.text!r}\n{gateway.diagnostics()}"
    assert "?" not in reply.text and "\ufffd" not in reply.text, reply.text
