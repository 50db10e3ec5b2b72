"""An SMS from a phone travels through a real Kannel to Saldo's inbound endpoint, and Saldo's
answer comes back to the phone as the reply.

Saldo's HTTP application runs under uvicorn on a free 127.0.0.1 port; Kannel's sms-service
calls ``/channels/sms/inbound?from=%p&to=%P&text=%a&id=%I`` (the endpoint contract in
docs/channels.md) and fakesmsc plays the phone (tests/kannel.py).
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.services.lines import NewLine, add_line
from tests.kannel import KannelGateway, kannel_gateway, require_kannel

INBOUND = "/channels/sms/inbound?from=%p&to=%P&text=%a&id=%I"
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(saldo: Saldo) -> Iterator[str]:
    """Saldo's HTTP application on a free loopback port, in a background thread; yields its
    base URL."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(saldo), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="saldo-http", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("Saldo's HTTP application did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


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
