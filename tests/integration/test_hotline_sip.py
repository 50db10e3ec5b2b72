"""The hotline's SIP endpoint against real SIP peers: SIPp places calls on loopback (UDP and
TCP, RFC 4733 keys from SIPp's pcaps, SIP INFO keys, a REFER to a second SIPp playing the
agent), and a scripted dialogue records what the endpoint told it."""

from __future__ import annotations

import math
import socket
import threading
import wave
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import urlopen

import pytest
from prometheus_client import CollectorRegistry

from saldo.channels.hotline.call import (
    Action,
    Caller,
    HangUp,
    Listen,
    Play,
    Transfer,
    TransferOutcome,
)
from saldo.channels.hotline.sip import CannotServeHotline, serve_hotline
from tests.sipp import free_sip_port, require_sipp, run_sipp, sipp_peer

pytestmark = pytest.mark.sip

CALLER = {
    "from": "<sip:1133334444@127.0.0.1>",
    "identity": "P-Asserted-Identity: <sip:+5491133334444@127.0.0.1;user=phone>",
}
WITHHELD = {"from": '"Anonymous" <sip:anonymous@anonymous.invalid>', "identity": "Privacy: id"}
WAIT = 30.0  # seconds; every wait ends on an event long before


@dataclass
class Script:
    """What the test dialogue answers to each event; every event is recorded in order."""

    begin: Sequence[Action] = ()
    on_key: Callable[[str, list[str]], Sequence[Action]] = lambda key, keys: ()
    played: Sequence[Action] = ()
    silence: Sequence[Action] = (HangUp(),)
    transferred: Callable[[TransferOutcome], Sequence[Action]] = lambda outcome: ()
    events: list[tuple[str, object]] = field(default_factory=list)
    began: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)


class ScriptedDialogue:
    def __init__(self, script: Script) -> None:
        self.script = script
        self.keys: list[str] = []

    def begin(self, caller: Caller) -> Sequence[Action]:
        self.script.events.append(("begin", caller))
        self.script.began.set()
        return self.script.begin

    def key(self, digit: str) -> Sequence[Action]:
        self.script.events.append(("key", digit))
        self.keys.append(digit)
        return self.script.on_key(digit, self.keys)

    def played(self) -> Sequence[Action]:
        self.script.events.append(("played", None))
        return self.script.played

    def silence(self) -> Sequence[Action]:
        self.script.events.append(("silence", None))
        return self.script.silence

    def transferred(self, outcome: TransferOutcome) -> Sequence[Action]:
        self.script.events.append(("transferred", outcome))
        return self.script.transferred(outcome)

    def ended(self) -> None:
        self.script.events.append(("ended", None))
        self.script.ended.set()


@dataclass
class Hotline:
    port: int
    script: Script
    registry: CollectorRegistry
    stop: threading.Event

    def metric(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


def tone(hertz: float, seconds: float) -> list[int]:
    """Samples of a sine at 8 kHz, loud enough to tell from silence."""
    return [
        round(8000 * math.sin(2 * math.pi * hertz * i / 8000)) for i in range(int(8000 * seconds))
    ]


@pytest.fixture(scope="module")
def prompts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Telephone audio (8 kHz, 16-bit mono WAV): tones of known pitch and length."""
    folder = tmp_path_factory.mktemp("prompts")
    tones = {
        "low": tone(400, 0.4),
        "high": tone(1000, 0.4),
        "two_seconds": tone(400, 2.0),
        "long": tone(400, 20.0),
    }
    made = {}
    for name, samples in tones.items():
        path = folder / f"{name}.wav"
        with wave.open(str(path), "wb") as audio:
            audio.setnchannels(1)
            audio.setsampwidth(2)
            audio.setframerate(8000)
            audio.writeframes(b"".join(s.to_bytes(2, "little", signed=True) for s in samples))
        made[name] = path
    return made


class Ear:
    """The caller's RTP port, played by the test: keeps the G.711 u-law audio Saldo sends."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])
        self.socket.settimeout(0.05)
        self.packets: dict[int, bytes] = {}
        self._closing = False
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while True:
            try:
                packet = self.socket.recv(2048)
            except TimeoutError:
                if self._closing:
                    return
                continue
            if len(packet) > 12 and packet[1] & 0x7F == 0:  # payload type 0, PCMU
                self.packets[int.from_bytes(packet[2:4], "big")] = packet[12:]

    def heard(self) -> list[int]:
        """Every sample received, in sequence order, the silence before and after cut off."""
        self._closing = True
        self._thread.join(WAIT)
        self.socket.close()
        audio = [ulaw(byte) for seq in sorted(self.packets) for byte in self.packets[seq]]
        loud = [i for i, sample in enumerate(audio) if abs(sample) > 200]
        return audio[loud[0] : loud[-1] + 1] if loud else []


def ulaw(byte: int) -> int:
    """One G.711 u-law byte as a 16-bit sample."""
    byte = ~byte & 0xFF
    magnitude = ((((byte & 0x0F) << 3) + 0x84) << ((byte >> 4) & 0x07)) - 0x84
    return -magnitude if byte & 0x80 else magnitude


@pytest.fixture
def start_hotline() -> Iterator[Callable[..., Hotline]]:
    """Starts the endpoint on a free port (``serve_hotline``'s keyword arguments may be
    given) with a script to fill in; stops it and checks it stopped on leaving."""
    require_sipp()
    started: list[tuple[threading.Thread, threading.Event]] = []

    def start(**options: object) -> Hotline:
        script = Script()
        registry = CollectorRegistry()
        ready, stop = threading.Event(), threading.Event()
        port = free_sip_port()
        serving = threading.Thread(
            target=serve_hotline,
            args=("127.0.0.1", port, lambda: ScriptedDialogue(script)),
            kwargs={"ready": ready.set, "stop": stop, "registry": registry} | options,
            name="hotline-endpoint",
        )
        serving.start()
        started.append((serving, stop))
        assert ready.wait(WAIT), "the hotline did not start"
        return Hotline(port, script, registry, stop)

    yield start
    for serving, stop in started:
        stop.set()
        serving.join(WAIT)
        assert not serving.is_alive(), "the hotline did not stop"


@pytest.fixture
def hotline(start_hotline: Callable[..., Hotline]) -> Hotline:
    return start_hotline()


def ended(script: Script) -> list[tuple[str, object]]:
    assert script.ended.wait(WAIT), f"the dialogue never ended: {script.events}"
    return script.events


@pytest.mark.parametrize("transport", ["udp", "tcp"])
def test_a_callers_keys_reach_the_dialogue_in_order_from_rtp_and_sip_info(
    start_hotline: Callable[..., Hotline], tmp_path: Path, transport: str
) -> None:
    # Given a dialogue that listens and hangs up at the fourth key, metrics served over HTTP
    metrics_port = free_sip_port()
    hotline = start_hotline(metrics_port=metrics_port)
    hotline.script.begin = (Listen(seconds=WAIT),)
    hotline.script.on_key = lambda key, keys: (HangUp(),) if len(keys) == 4 else ()

    # When a caller presses 1 and 2 (RFC 4733), then 7 and 8 (SIP INFO, both bodies)
    run_sipp("keys", port=hotline.port, folder=tmp_path, transport=transport, keys=CALLER)

    # Then the dialogue saw who called which number, the keys in order, and one end
    events = ended(hotline.script)
    name, caller = events[0]
    assert name == "begin"
    assert isinstance(caller, Caller)
    assert (caller.number, caller.dialled) == ("+5491133334444", "121")
    assert caller.call_id.endswith("@127.0.0.1")
    assert events[1:] == [("key", "1"), ("key", "2"), ("key", "7"), ("key", "8"), ("ended", None)]
    with urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=WAIT) as response:
        exposed = response.read().decode()
    assert "saldo_hotline_calls_total 1.0" in exposed
    assert "saldo_hotline_answered_total 1.0" in exposed
    assert "saldo_hotline_call_seconds_count 1.0" in exposed


def test_a_key_stops_an_interruptible_prompt_at_once_and_is_dropped_by_another(
    hotline: Hotline, tmp_path: Path, prompts: dict[str, Path]
) -> None:
    # Given a first prompt no key stops, then a 20-second one a key stops
    hotline.script.begin = (
        Play((prompts["two_seconds"],), interruptible=False),
        Play((prompts["long"],)),
        Listen(seconds=WAIT),
    )
    hotline.script.on_key = lambda key, keys: (HangUp(),)

    # When the caller presses 4 during the first prompt and 5 during the second
    run_sipp("barge_in", port=hotline.port, folder=tmp_path, keys=CALLER)

    # Then the 4 was dropped, the first prompt played to its end, and the 5 stopped the
    # second one: it never played through
    assert ended(hotline.script)[1:] == [("played", None), ("key", "5"), ("ended", None)]


def test_a_withheld_caller_hears_the_prompts_in_order_and_silence_ends_the_call(
    hotline: Hotline, tmp_path: Path, prompts: dict[str, Path]
) -> None:
    # Given a dialogue that plays a low then a high tone, waits briefly, hangs up on silence
    hotline.script.begin = (Play((prompts["low"], prompts["high"])), Listen(seconds=0.3))
    ear = Ear()

    # When an anonymous caller calls over TCP and presses nothing
    keys = WITHHELD | {"heard_port": str(ear.port)}
    run_sipp("silent", port=hotline.port, folder=tmp_path, transport="tcp", keys=keys)

    # Then the dialogue knew no number, heard the prompts end, then the silence
    events = ended(hotline.script)
    caller = events[0][1]
    assert isinstance(caller, Caller)
    assert (caller.number, caller.dialled) == (None, "121")
    assert [name for name, _ in events] == ["begin", "played", "silence", "ended"]
    # And the caller heard both tones, whole and in order, as u-law keeps them (within a
    # sixteenth of each sample, and a few steps where the files join)
    expected = tone(400, 0.4) + tone(1000, 0.4)
    expected = expected[1 : max(i for i, sample in enumerate(expected) if abs(sample) > 200) + 1]
    heard = ear.heard()
    assert len(heard) == len(expected)
    assert all(
        abs(got - want) <= 160 + abs(want) // 16 for got, want in zip(heard, expected, strict=True)
    )


def test_an_agent_who_answers_takes_the_caller_and_saldo_leaves_the_call(
    hotline: Hotline, tmp_path: Path
) -> None:
    # Given a dialogue that transfers to an agent at once
    agent = free_sip_port()
    hotline.script.begin = (Transfer(f"sip:agent@127.0.0.1:{agent}"),)

    # When the caller takes the REFER and the agent answers
    with sipp_peer("agent_answers", port=agent, folder=tmp_path):
        run_sipp("transfer", port=hotline.port, folder=tmp_path, keys=CALLER)

    # Then the dialogue heard the transfer was accepted, and Saldo hung up its leg
    assert ended(hotline.script)[1:] == [
        ("transferred", TransferOutcome.ACCEPTED),
        ("ended", None),
    ]


def test_a_busy_agent_leaves_the_caller_with_the_dialogue(hotline: Hotline, tmp_path: Path) -> None:
    # Given a dialogue that transfers, then listens again when the transfer fails
    agent = free_sip_port()
    hotline.script.begin = (Transfer(f"sip:agent@127.0.0.1:{agent}"),)
    hotline.script.transferred = lambda outcome: (Listen(seconds=WAIT),)
    hotline.script.on_key = lambda key, keys: (HangUp(),)

    # When the agent refuses the call (486) and the caller, still with Saldo, presses 9
    with sipp_peer("agent_busy", port=agent, folder=tmp_path):
        run_sipp("transfer", port=hotline.port, folder=tmp_path, keys=CALLER)

    # Then the dialogue heard the failure, then the key
    assert ended(hotline.script)[1:] == [
        ("transferred", TransferOutcome.FAILED),
        ("key", "9"),
        ("ended", None),
    ]


def test_stopping_the_hotline_hangs_up_its_calls(hotline: Hotline, tmp_path: Path) -> None:
    # Given a call the dialogue would keep open
    hotline.script.begin = (Listen(seconds=WAIT),)
    stopper = threading.Thread(
        target=lambda: hotline.script.began.wait(WAIT) and hotline.stop.set()
    )
    stopper.start()

    # When the hotline is stopped during the call
    keys = CALLER | {"heard_port": str(free_sip_port())}
    run_sipp("silent", port=hotline.port, folder=tmp_path, keys=keys)
    stopper.join(WAIT)

    # Then the caller got a BYE (SIPp's scenario ends on it) and the dialogue ended
    assert [name for name, _ in ended(hotline.script)] == ["begin", "ended"]


def test_an_invite_from_outside_the_peers_is_refused(
    start_hotline: Callable[..., Hotline], tmp_path: Path
) -> None:
    # Given a hotline that takes calls from the operator's SBC network only
    hotline = start_hotline(peers=("10.20.0.0/16",))

    # When a call comes from 127.0.0.1, Then it is refused with 403 (the scenario expects it)
    run_sipp("refused", port=hotline.port, folder=tmp_path, keys=CALLER)
    assert hotline.script.events == []
    assert hotline.metric("saldo_hotline_calls_total") == 0


def test_a_taken_port_is_one_clear_error() -> None:
    # Given another program on the port (UDP)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]

        # When the hotline starts there, Then it says so
        with pytest.raises(CannotServeHotline, match=f"cannot take SIP port 127.0.0.1:{port}"):
            serve_hotline("127.0.0.1", port, lambda: ScriptedDialogue(Script()))
