"""The SmsSender contract: every adapter (the in-memory fake, the development folder, Kannel's
sendsms) delivers text exactly as given, whatever its alphabet, and says so with SmsNotSent
when it cannot.

For Kannel, "arrives" means it reached Kannel's fake SMS centre and reads back, decoded,
equal to what was sent (tests/kannel.py starts the gateway)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from saldo.adapters.folder import SMS_SUFFIX, FolderSmsSender, read_page
from saldo.adapters.sms.fake import FakeSmsSender
from saldo.adapters.sms.kannel import KannelSmsSender
from saldo.services.ports.sms import SmsNotSent, SmsSender
from tests.kannel import KannelGateway, kannel_gateway, require_kannel

PHONE = "+5492614445566"
SHORT_CODE = "121"


@dataclass(frozen=True)
class Arrival:
    to: str
    sender: str
    text: str


class Delivery(Protocol):
    """One adapter under test, with a way to see what reached the phone and a way to make
    delivery fail."""

    @property
    def sender(self) -> SmsSender: ...

    def arrived(self) -> Arrival: ...

    def nothing_arrived(self) -> bool: ...

    def failing_sender(self) -> SmsSender: ...


class FakeDelivery:
    def __init__(self) -> None:
        self.fake = FakeSmsSender()
        self.sender: SmsSender = self.fake

    def arrived(self) -> Arrival:
        sent = self.fake.sent.pop(0)
        return Arrival(to=sent.to, sender=sent.sender, text=sent.text)

    def nothing_arrived(self) -> bool:
        return not self.fake.sent

    def failing_sender(self) -> SmsSender:
        self.fake.fail_with("told to fail")
        return self.fake


class FolderDelivery:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.sender: SmsSender = FolderSmsSender(folder)

    def arrived(self) -> Arrival:
        first = min(self.folder.glob(f"*{SMS_SUFFIX}"), key=lambda path: path.stat().st_mtime_ns)
        headers, text = read_page(first)
        first.unlink()
        return Arrival(to=headers["To"], sender=headers["From"], text=text)

    def nothing_arrived(self) -> bool:
        return not self.folder.exists() or not any(self.folder.iterdir())

    def failing_sender(self) -> SmsSender:
        blocked = self.folder.parent / "not-a-folder"
        blocked.write_text("a file where the folder should be")
        return FolderSmsSender(blocked)


class KannelDelivery:
    def __init__(self, gateway: KannelGateway) -> None:
        self.gateway = gateway
        self.sender: SmsSender = KannelSmsSender(
            gateway.sendsms_url, gateway.username, gateway.password
        )

    def arrived(self) -> Arrival:
        message = self.gateway.receive_mt(timeout=10)
        return Arrival(to=message.receiver, sender=message.sender, text=message.text)

    def nothing_arrived(self) -> bool:
        return self.gateway.nothing_received(within=1.5)

    def failing_sender(self) -> SmsSender:
        gateway = self.gateway
        return KannelSmsSender(gateway.sendsms_url, gateway.username, "not-the-password")


@pytest.fixture(scope="module")
def kannel() -> Iterator[KannelGateway]:
    require_kannel()
    # Nothing here sends an MO message, so the sms-service's get-url is never called.
    with kannel_gateway(get_url="http://127.0.0.1:9/unused?from=%p") as gateway:
        yield gateway


@pytest.fixture(params=["fake", "folder", "kannel"])
def delivery(request: pytest.FixtureRequest) -> Delivery:
    if request.param == "fake":
        return FakeDelivery()
    if request.param == "folder":
        return FolderDelivery(request.getfixturevalue("tmp_path") / "saldo-outbox")
    return KannelDelivery(request.getfixturevalue("kannel"))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Tu saldo es $ 1.234,56. Señor, vence el 22/12 {promo} €5", id="spanish"),
        pytest.param("Válido hasta el 22/12 – ¡gracias por recargar!", id="spanish-accents"),
        pytest.param("余额：ARS 1,234.56", id="chinese"),
    ],
)
def test_a_text_arrives_at_the_phone_exactly_as_sent(delivery: Delivery, text: str) -> None:
    delivery.sender.send(to=PHONE, sender=SHORT_CODE, text=text, message_id="msg-1")

    assert delivery.arrived() == Arrival(to=PHONE, sender=SHORT_CODE, text=text)


def test_a_failed_delivery_raises_sms_not_sent_and_nothing_arrives(delivery: Delivery) -> None:
    sender = delivery.failing_sender()

    with pytest.raises(SmsNotSent) as raised:
        sender.send(to=PHONE, sender=SHORT_CODE, text="Tu saldo es $ 0,00", message_id="msg-2")

    assert raised.value.code == "sms_not_sent"
    assert PHONE not in str(raised.value)
    assert delivery.nothing_arrived()


# -- Kannel's adapter beyond the contract ------------------------------------------------------


def test_kannel_logs_the_message_id_and_only_a_masked_number(
    kannel: KannelGateway, caplog: pytest.LogCaptureFixture
) -> None:
    sender = KannelSmsSender(kannel.sendsms_url, kannel.username, kannel.password)
    caplog.set_level(logging.INFO, logger="saldo.adapters.sms.kannel")

    sender.send(to=PHONE, sender=SHORT_CODE, text="Tu saldo es $ 0,00", message_id="msg-3")
    kannel.receive_mt(timeout=10)

    logged = caplog.text
    assert "msg-3" in logged
    assert "+54926*****566" in logged
    assert PHONE not in logged
    assert kannel.password not in logged


def test_an_unreachable_kannel_raises_sms_not_sent() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    sender = KannelSmsSender(
        f"http://127.0.0.1:{closed_port}/cgi-bin/sendsms", "saldo", "secret", timeout=2
    )

    with pytest.raises(SmsNotSent, match="could not be reached"):
        sender.send(to=PHONE, sender=SHORT_CODE, text="hola", message_id="msg-4")
