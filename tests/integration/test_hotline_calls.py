"""The hotline as callers reach it: SIPp places real calls on loopback to the SIP endpoint
wired as ``saldo hotline`` and ``saldo demo`` wire it (``HotlineEndpoint``), with the real
dialogue over the demo database: each demo operator's balance, Claro Argentina's last four
digits right and wrong, a voucher top-up by phone taking a Claro Colombia line from 50 to 80,
and the transfer to an agent (a second SIPp) who answers or is busy.

Each prompt is "synthesised" as a tenth of a second of tone, so a call takes a second or two;
the speech records which sentence each file says, and the dialogues which files they played,
so a test reads what callers were told. The real synthesis is tested in
tests/integration/channels/hotline/test_speech.py, what the caller hears as audio in
test_hotline_sip.py.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import wave
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from saldo.bootstrap import Saldo
from saldo.catalog.schema import bundled_specs
from saldo.channels.hotline import dialogue as dialogue_module
from saldo.channels.hotline.call import Action, Caller, Dialogue, Play, TransferOutcome
from saldo.channels.hotline.dialogue import new_dialogue
from saldo.channels.hotline.endpoint import HotlineEndpoint
from saldo.channels.hotline.prompts import Saying
from saldo.channels.hotline.speech import Speech
from saldo.domain.money import Money
from saldo.services.audit import audit_ledger
from saldo.services.demo import set_up_demo
from saldo.services.inquire_balance import inquire_balance
from saldo.services.operators import register_operator
from saldo.services.vouchers import GeneratedBatch, generate_vouchers
from tests.sipp import (
    by_info,
    by_rtp,
    free_sip_port,
    menu_scenario,
    require_sipp,
    run_sipp,
    sipp_peer,
    transfer_scenario,
)

pytestmark = [pytest.mark.sip, pytest.mark.slow]

WAIT = 30.0  # seconds; every wait ends on an event long before
LISTEN_MS = 1500  # how long a caller listens after the last key before hanging up
CLARO_AR = "+5493515550123"  # last four digits 0123
CLARO_CO = "+573001234567"  # 50.000 COP, the design's worked example


def tone_for(text: str, voice: str, target: Path) -> None:
    """A synthesiser for tests: a tenth of a second of tone, whatever the sentence."""
    with wave.open(str(target), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(
            b"".join(
                round(8000 * math.sin(2 * math.pi * 400 * i / 8000)).to_bytes(
                    2, "little", signed=True
                )
                for i in range(800)
            )
        )


class TellingSpeech(Speech):
    """Speech that remembers which sentence each of its files says."""

    def __init__(self, cache: Path) -> None:
        super().__init__(cache=cache, prompts=None, synthesise=tone_for)
        self.texts: dict[Path, str] = {}
        self._lock = threading.Lock()

    def wav(self, saying: Saying, *, operator: str) -> Path:
        path = super().wav(saying, operator=operator)
        with self._lock:
            self.texts[path] = saying.text
        return path


@dataclass
class Told:
    """What the dialogues of the calls played, as sentences, call after call."""

    speech: TellingSpeech
    calls: list[list[str]] = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)

    def heard(self, actions: Sequence[Action], call: list[str]) -> Sequence[Action]:
        call.extend(
            self.speech.texts[path]
            for action in actions
            if isinstance(action, Play)
            for path in action.files
        )
        return actions


class TellingDialogue:
    """The real dialogue, its prompts written down."""

    def __init__(self, dialogue: Dialogue, told: Told) -> None:
        self.dialogue = dialogue
        self.told = told
        self.said: list[str] = []
        told.calls.append(self.said)

    def begin(self, caller: Caller) -> Sequence[Action]:
        return self.told.heard(self.dialogue.begin(caller), self.said)

    def key(self, digit: str) -> Sequence[Action]:
        return self.told.heard(self.dialogue.key(digit), self.said)

    def played(self) -> Sequence[Action]:
        return self.told.heard(self.dialogue.played(), self.said)

    def silence(self) -> Sequence[Action]:
        return self.told.heard(self.dialogue.silence(), self.said)

    def transferred(self, outcome: TransferOutcome) -> Sequence[Action]:
        return self.told.heard(self.dialogue.transferred(outcome), self.said)

    def ended(self) -> None:
        self.dialogue.ended()
        self.told.ended.set()


@dataclass
class Hotline:
    port: int
    told: Told
    registry: CollectorRegistry

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0

    def said(self) -> list[str]:
        """What the one call was told, once its dialogue ended."""
        assert self.told.ended.wait(WAIT), "the dialogue never ended"
        assert len(self.told.calls) == 1
        return self.told.calls[0]


def set_up(saldo: Saldo) -> Saldo:
    saldo.run(
        set_up_demo,
        operators=[(spec.to_operator(), spec.model_dump(mode="json")) for spec in bundled_specs()],
        pin_key=saldo.pin_key,
        deliver_pins=None,
        rate_max_age=timedelta(hours=24),
        now=saldo.clock.now(),
    )
    return saldo


@pytest.fixture
def demo(saldo: Saldo) -> Saldo:
    """The demo on each database."""
    require_sipp()
    return set_up(saldo)


@pytest.fixture
def demo_sqlite(saldo_sqlite: Saldo) -> Saldo:
    """The demo on SQLite: for calls that move no money."""
    require_sipp()
    return set_up(saldo_sqlite)


@pytest.fixture
def start_hotline(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[Saldo], Hotline]]:
    """Serves the hotline of a Saldo on a free port as ``saldo hotline`` does; stops it on
    leaving and checks it stopped."""
    started: list[tuple[threading.Thread, threading.Event]] = []

    def start(saldo: Saldo) -> Hotline:
        registry = CollectorRegistry()
        speech = TellingSpeech(tmp_path_factory.mktemp("speech"))
        told = Told(speech)
        dialogues = new_dialogue(saldo, registry=registry, speech=speech)
        endpoint = HotlineEndpoint(
            saldo=saldo,
            host="127.0.0.1",
            port=free_sip_port(),
            speech=speech,
            registry=registry,
            new_dialogue=lambda: TellingDialogue(dialogues(), told),
        )
        ready, stop = threading.Event(), threading.Event()
        serving = threading.Thread(
            target=endpoint.serve, kwargs={"ready": ready.set, "stop": stop}, name="hotline"
        )
        serving.start()
        started.append((serving, stop))
        assert ready.wait(WAIT), "the hotline did not start"
        return Hotline(endpoint.port, told, registry)

    yield start
    for serving, stop in started:
        stop.set()
        serving.join(WAIT)
        assert not serving.is_alive(), "the hotline did not stop"


def exchanged(messages: str) -> list[str]:
    """The SIP messages of SIPp's message log in order, each as ``> INVITE`` or ``> 200 OK``
    (sent by the caller) and ``< BYE`` or ``< 200 OK`` (received from Saldo, or the agent);
    provisional responses (100 Trying, 180 Ringing), which may or may not come, left out."""
    found = []
    for block in re.split(r"^-{20,}.*$", messages, flags=re.MULTILINE):
        heading, _, message = block.strip().partition("\n")
        direction = (
            ">" if "message sent" in heading else "<" if "message received" in heading else ""
        )
        if not direction:
            continue
        first = message.strip().splitlines()[0].split()
        if first[0] == "SIP/2.0":
            if not first[1].startswith("1"):
                found.append(f"{direction} {' '.join(first[1:])}")
        else:
            found.append(f"{direction} {first[0]}")
    return found


def balance_of(saldo: Saldo, msisdn: str) -> Money:
    return saldo.run(inquire_balance, msisdn=msisdn, now=saldo.clock.now()).main


CLARO_CO_MENU = [
    "Para conocer su saldo, marque 1. Para recargar con el PIN de una tarjeta, marque 2.",
    "Para renovar un plan con su saldo, marque 3.",
    "Para cambiar de idioma, marque 9.",
    "Para hablar con un representante, marque 0.",
    "Para escuchar de nuevo estas opciones, marque asterisco.",
]


@pytest.mark.parametrize(
    ("operator", "caller", "dialled", "verification", "balance"),
    [
        (
            "movistar-ar",
            "+5491123456789",
            "121",
            "",
            [
                "Su saldo es de cinco mil pesos.",
                "Tiene cien minutos.",
                "Tiene dos gigas de datos.",
            ],
        ),
        (
            "claro-ar",
            CLARO_AR,
            "123",
            "0123#",
            ["Su saldo es de diez mil pesos.", "Su línea es válida hasta el veintiuno de enero."],
        ),
        (
            "personal-ar",
            "+5492614445566",
            "100",
            "5566#",
            [
                "Su saldo es de tres mil pesos.",
                "Tiene un giga de datos.",
                "Su línea es válida hasta el veintidós de diciembre.",
            ],
        ),
        (
            "claro-co",
            CLARO_CO,
            "123",
            "",
            [
                "Su saldo es de cincuenta mil pesos.",
                "Tiene doscientos minutos.",
                "Su línea es válida hasta el veinte de febrero.",
            ],
        ),
        (
            "movistar-co",
            "+573155550000",
            "125",
            "",
            [
                "Su saldo es de veinte mil pesos.",
                "Tiene tres gigas de datos.",
                "Su línea es válida hasta el veintiuno de enero.",
            ],
        ),
        (
            "tigo-co",
            "+573004445566",
            "300",
            "",
            [
                "Su saldo es de diez mil pesos.",
                "Su línea es válida hasta el veintidós de diciembre.",
            ],
        ),
        (
            "proximus-be",
            "+32470123456",
            "6000",
            "",
            [
                "Votre solde est de quinze euros.",
                "Il vous reste cinq gigas de données.",
                "Votre ligne est valable jusqu'au vingt et un janvier.",
            ],
        ),
    ],
)
def test_each_demo_operators_hotline_says_the_balance(
    demo_sqlite: Saldo,
    start_hotline: Callable[[Saldo], Hotline],
    tmp_path: Path,
    operator: str,
    caller: str,
    dialled: str,
    verification: str,
    balance: list[str],
) -> None:
    # Given the hotline of the demo
    hotline = start_hotline(demo_sqlite)
    before = balance_of(demo_sqlite, caller)

    # When a demo line calls its operator's number, passes the check if there is one (keys in
    # SIP INFO), presses 1 (RFC 4733), listens and hangs up
    scenario = menu_scenario(tmp_path, "balance", by_info(verification), by_rtp("1"))
    messages = run_sipp(
        scenario,
        port=hotline.port,
        folder=tmp_path,
        dialled=dialled,
        keys={"caller": caller},
        pause_ms=LISTEN_MS,
    )

    # Then it was told the balance as its operator's catalog announces it, then the menu
    said = hotline.said()
    at = said.index(balance[0])
    menu = said[at + len(balance) :]
    assert menu[0].startswith(("Para conocer su saldo, marque 1.", "Pour connaître votre solde"))
    assert said[at - len(menu) :] == [*menu, *balance, *menu]
    assert (
        hotline.metric("saldo_hotline_menu_choices_total", operator=operator, choice="balance") == 1
    )
    if verification:
        outcome = {"operator": operator, "outcome": "passed"}
        assert hotline.metric("saldo_hotline_verifications_total", **outcome) == 1
    # And the call went as SIP says: answered with telephone-events offered, each INFO
    # taken, the caller's BYE answered; nothing moved
    assert f"INVITE sip:{dialled}@127.0.0.1:{hotline.port} SIP/2.0" in messages
    assert exchanged(messages) == [
        "> INVITE",
        "< 200 OK",
        "> ACK",
        *["> INFO", "< 200 OK"] * len(verification),
        "> BYE",
        "< 200 OK",
    ]
    assert "telephone-event/8000" in messages
    assert hotline.metric("saldo_hotline_answered_total") == 1
    assert balance_of(demo_sqlite, caller) == before


def test_claro_argentina_says_goodbye_after_three_wrong_last_four_digits(
    demo: Saldo, start_hotline: Callable[[Saldo], Hotline], tmp_path: Path
) -> None:
    # Given the hotline of the demo
    hotline = start_hotline(demo)
    before = balance_of(demo, CLARO_AR)

    # When a Claro Argentina line calls 123 and keys three wrong last fours (SIP INFO)
    wrong = menu_scenario(
        tmp_path,
        "wrong",
        by_info("1111#"),
        by_info("2222#"),
        by_info("3333#"),
        saldo_hangs_up=True,
    )
    messages = run_sipp(
        wrong, port=hotline.port, folder=tmp_path, dialled="123", keys={"caller": CLARO_AR}
    )

    # Then the caller was told twice, then a goodbye, and Saldo hung up: the scenario took
    # Saldo's BYE
    said = hotline.said()
    check = (
        "Por su seguridad, marque los últimos cuatro dígitos de su número de celular y luego "
        "la tecla numeral."
    )
    assert said == [
        "Bienvenido a Claro.",
        check,
        "Los dígitos no coinciden.",
        check,
        "Los dígitos no coinciden.",
        check,
        "Los dígitos no coinciden.",
        "No pudimos confirmar su identidad. Por favor, llame más tarde. Adiós.",
    ]
    assert exchanged(messages) == [
        "> INVITE",
        "< 200 OK",
        "> ACK",
        *["> INFO", "< 200 OK"] * 15,
        "< BYE",
        "> 200 OK",
    ]
    counted = {
        outcome: hotline.metric(
            "saldo_hotline_verifications_total", operator="claro-ar", outcome=outcome
        )
        for outcome in ("passed", "failed", "refused")
    }
    assert counted == {"passed": 0, "failed": 2, "refused": 1}
    assert balance_of(demo, CLARO_AR) == before
    assert demo.run(audit_ledger).clean


def test_a_voucher_keyed_by_phone_takes_a_claro_colombia_line_from_50_to_80(
    demo: Saldo, start_hotline: Callable[[Saldo], Hotline], tmp_path: Path
) -> None:
    # Given a Claro Colombia line with 50.000 pesos and a voucher of 30.000
    pins: list[str] = []

    def keep(batch: GeneratedBatch) -> None:
        pins.extend(voucher.pin for voucher in batch.vouchers)

    demo.run(
        generate_vouchers,
        operator="claro-co",
        value=Money.of("30000", "COP"),
        count=1,
        expires_at=demo.clock.now() + timedelta(days=30),
        created_by="test",
        pin_key=demo.pin_key,
        now=demo.clock.now(),
        deliver=keep,
    )
    assert balance_of(demo, CLARO_CO) == Money.of("50000", "COP")
    hotline = start_hotline(demo)

    # When the line calls 123, presses 2 (RFC 4733), keys the PIN and # (SIP INFO)
    pin = re.sub(r"\D", "", pins[0])
    scenario = menu_scenario(tmp_path, "topup", by_rtp("2"), by_info(pin + "#"))
    run_sipp(
        scenario,
        port=hotline.port,
        folder=tmp_path,
        dialled="123",
        keys={"caller": CLARO_CO},
        pause_ms=LISTEN_MS,
    )

    # Then it was asked for the PIN, told the top-up and the new balance, and the line has 80
    said = hotline.said()
    asked = said.index("Marque el PIN de su tarjeta de recarga y luego la tecla numeral.")
    assert said[asked + 1 :] == [
        "Su recarga de treinta mil pesos fue aplicada. Su nuevo saldo es de ochenta mil pesos.",
        *CLARO_CO_MENU,
    ]
    assert balance_of(demo, CLARO_CO) == Money.of("80000", "COP")
    assert (
        hotline.metric("saldo_hotline_menu_choices_total", operator="claro-co", choice="topup") == 1
    )
    assert demo.run(audit_ledger).clean


def agent_at(saldo: Saldo, operator: str, port: int) -> None:
    """Point the operator's agents at a SIPp on ``port`` (the catalog says 5090)."""
    spec = next(spec for spec in bundled_specs() if spec.slug == operator)
    assert spec.hotline is not None
    hotline = spec.hotline.model_copy(update={"agent": f"sip:agents-{operator}@127.0.0.1:{port}"})
    moved = spec.model_copy(update={"hotline": hotline})
    saldo.run(
        register_operator,
        operator=moved.to_operator(),
        spec=moved.model_dump(mode="json"),
        now=saldo.clock.now(),
    )


TRANSFERRING = "Por favor, aguarde: lo comunicamos con un representante."


def test_an_agent_who_answers_takes_the_caller_and_the_transfer_is_recorded(
    demo: Saldo,
    start_hotline: Callable[[Saldo], Hotline],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given Claro Colombia's agents at a second SIPp, who answers
    agent = free_sip_port()
    agent_at(demo, "claro-co", agent)
    hotline = start_hotline(demo)
    caller = {
        "from": f"<sip:{CLARO_CO}@127.0.0.1>",
        "identity": f"P-Asserted-Identity: <sip:{CLARO_CO}@127.0.0.1;user=phone>",
    }

    # When the caller presses 0, takes Saldo's REFER and calls the agent, who answers
    with caplog.at_level(logging.INFO, logger="saldo.channels.hotline.dialogue"):
        with sipp_peer("agent_answers", port=agent, folder=tmp_path):
            messages = run_sipp(
                transfer_scenario(tmp_path, by_rtp("0")),
                port=hotline.port,
                folder=tmp_path,
                dialled="123",
                keys=caller,
            )
        said = hotline.said()

    # Then the caller was told, Saldo sent the REFER to the catalog's agent and left the call
    assert said[-1] == TRANSFERRING
    assert f"Refer-To: <sip:agents-claro-co@127.0.0.1:{agent}>" in messages or (
        f"Refer-To: sip:agents-claro-co@127.0.0.1:{agent}" in messages
    )
    assert exchanged(messages) == [
        "> INVITE",
        "< 200 OK",
        "> ACK",
        "< REFER",
        "> 202 Accepted",
        "> NOTIFY",
        "< 200 OK",
        "> INVITE",  # to the agent
        "< 200 OK",
        "> ACK",
        "> NOTIFY",  # SIP/2.0 200 OK: the agent took the call
        "< 200 OK",
        "< BYE",  # Saldo leaves
        "> 200 OK",
        "> BYE",  # the caller hangs up on the agent
        "< 200 OK",
    ]
    # And the transfer and its outcome are counted and logged
    counted = {
        outcome: hotline.metric(
            "saldo_hotline_transfers_total", operator="claro-co", outcome=outcome
        )
        for outcome in ("requested", "accepted", "failed")
    }
    assert counted == {"requested": 1, "accepted": 1, "failed": 0}
    assert any("transfer to an agent accepted" in record.message for record in caplog.records)


def test_a_busy_agent_leaves_the_caller_with_the_menu(
    demo: Saldo,
    start_hotline: Callable[[Saldo], Hotline],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given Claro Colombia's agents at a second SIPp, who is busy, and a menu that waits
    # briefly for a key
    agent = free_sip_port()
    agent_at(demo, "claro-co", agent)
    monkeypatch.setattr(dialogue_module, "MENU_WAIT", 0.3)
    hotline = start_hotline(demo)
    caller = {
        "from": f"<sip:{CLARO_CO}@127.0.0.1>",
        "identity": f"P-Asserted-Identity: <sip:{CLARO_CO}@127.0.0.1;user=phone>",
    }

    # When the caller presses 0, the agent refuses the call (486), the caller, still with
    # Saldo, presses 9 and then nothing
    with sipp_peer("agent_busy", port=agent, folder=tmp_path):
        messages = run_sipp(
            transfer_scenario(tmp_path, by_rtp("0")),
            port=hotline.port,
            folder=tmp_path,
            dialled="123",
            keys=caller,
        )

    # Then the caller was told the transfer failed and was back at the menu; 9 offered the
    # languages; two silences, a goodbye, and Saldo hung up
    said = hotline.said()
    transferring = said.index(TRANSFERRING)
    assert said[transferring + 1 :] == [
        "No pudimos comunicarlo con un representante.",
        *CLARO_CO_MENU,
        "Para español, marque 1.",
        "For English, press 2.",
        "Para español, marque 1.",
        "For English, press 2.",
        "Gracias por llamar a Claro. Adiós.",
    ]
    assert exchanged(messages)[-4:] == ["> NOTIFY", "< 200 OK", "< BYE", "> 200 OK"]
    counted = {
        outcome: hotline.metric(
            "saldo_hotline_transfers_total", operator="claro-co", outcome=outcome
        )
        for outcome in ("requested", "accepted", "failed")
    }
    assert counted == {"requested": 1, "accepted": 0, "failed": 1}
    assert demo.run(audit_ledger).clean
