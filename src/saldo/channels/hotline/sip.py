"""The hotline's SIP endpoint: PJSIP's PJSUA2 (``pjsua2-python``) answering every INVITE the
operator's switch routes to it, one ``Dialogue`` per call.

Threads. PJSUA runs with no worker threads of its own (``threadCnt = 0``,
``mainThreadOnly``): one endpoint thread, the one that calls ``serve_hotline``, creates the
library, polls it (``libHandleEvents``) and is the only thread that touches a PJSUA object.
Every PJSUA callback, whichever thread it comes on (SIP on the endpoint thread; RTP DTMF and
a player's end on the media thread), does only what must happen inside it (make the call
object, read the call's state, answer an INFO) and puts a job on the endpoint's queue; the
endpoint thread runs the jobs between polls. Dialogues never run on it: each call has a
``Conversation`` thread that calls its dialogue one event at a time, and the actions it
returns come back through the same queue. A slow use case thus delays only its own call,
and no Python thread but the endpoint's ever needs ``libRegisterThread``.

The endpoint knows nothing of lines or money: each call's ``CallSession`` (``sip_session``)
carries out ``Play``, ``Listen``, ``Transfer`` and ``HangUp`` as
``saldo.channels.hotline.call`` describes them.
"""

from __future__ import annotations

import gc
import ipaddress
import logging
import queue
import signal
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pjsua2 as pj
from prometheus_client import CollectorRegistry, start_http_server

from saldo.channels.hotline.call import (
    DialogueFactory,
)
from saldo.channels.hotline.conversation import Conversation
from saldo.channels.hotline.endpoint_metrics import EndpointMetrics
from saldo.channels.hotline.sip_message import caller_of
from saldo.channels.hotline.sip_pjsip import set_log_level
from saldo.channels.hotline.sip_session import CallSession, SipCall
from saldo.domain.errors import SaldoError
from saldo.domain.numbering import mask_msisdn

log = logging.getLogger("saldo.hotline")

# How long libHandleEvents waits for SIP or media activity before the queue is looked at
# again: the longest a dialogue's answer or a timer waits for the endpoint thread.
POLL_MS = 10
# How long a graceful stop waits for hung-up calls to close (the callers' 200 to the BYE)
# and for their dialogues to end.
STOP_SECONDS = 5.0
# The pjsua2-python wheel is built with PJSIP's default PJSUA_MAX_CALLS: one process takes
# at most 4 calls at once and answers a fifth 486 Busy Here (docs/hotline.md: more calls,
# more processes).
MAX_CALLS = 4
# PJSIP's playlist loses about a frame as it starts and the last three as it ends (seen on
# loopback with 2.15.1): every prompt is played between two short silences, which are what
# is lost, so the caller hears each prompt whole.
LEAD_IN_SECONDS = 0.06
TRAIL_SECONDS = 0.1
# What a telephone network speaks, best first; PJSUA's other codecs (Speex, iLBC, L16) are
# turned off. The offer's order decides among those both sides have.
CODECS = ("PCMA/8000/1", "PCMU/8000/1", "G722/16000/1", "GSM/8000/1")
# RTP ports from the first one up: two a call (RTP, RTCP), with room for ports still in use.
RTP_PORTS = 64
# Where INVITEs are taken from unless told otherwise: this machine only. P-Asserted-Identity
# says who is calling, so only the operator's switch or SBC may send it (RFC 3325).
LOOPBACK = ("127.0.0.0/8", "::1/128")


class CannotServeHotline(SaldoError):
    """The SIP endpoint could not start: its address or port is taken or not this machine's."""

    code = "cannot_serve_hotline"


def serve_hotline(
    host: str,
    port: int,
    new_dialogue: DialogueFactory,
    *,
    peers: Sequence[str] = LOOPBACK,
    rtp_port: int = 4000,
    registry: CollectorRegistry | None = None,
    metrics_port: int | None = None,
    ready: Callable[[], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Answer SIP calls on ``host:port`` (UDP and TCP) until ``stop`` is set, or, without
    ``stop``, until SIGTERM or SIGINT (then it must run on the main thread). Each call gets
    a dialogue from ``new_dialogue``. INVITEs are taken only from ``peers`` (networks such as
    ``10.1.2.0/24``; the switch or SBC that routes the hotline numbers here), others are
    refused with 403. RTP uses ports from ``rtp_port`` up, two per call. The endpoint's
    metrics go on ``registry`` (a private one when None), served on
    ``http://host:metrics_port/metrics`` when ``metrics_port`` is given. ``ready`` is called
    once everything listens.

    On stop every call is hung up (BYE), its dialogue ends, and the library is destroyed.
    Raises CannotServeHotline when an address cannot be taken.
    """
    networks = tuple(ipaddress.ip_network(peer, strict=False) for peer in peers)
    registry = registry if registry is not None else CollectorRegistry()
    with _signals_to(stop) as stopping:
        endpoint = _Endpoint(new_dialogue, EndpointMetrics(registry), networks)
        exporter = None
        try:
            endpoint.start(host, port, rtp_port=rtp_port)
            if metrics_port is not None:
                exporter = _serve_metrics(registry, host, metrics_port)
            if ready is not None:
                ready()
            endpoint.run(stopping)
        finally:
            if exporter is not None:
                exporter.shutdown()
                exporter.server_close()
            endpoint.destroy()


def _serve_metrics(registry: CollectorRegistry, host: str, port: int) -> Any:
    try:
        server, _ = start_http_server(port, addr=host, registry=registry)
    except OSError as error:
        raise CannotServeHotline(
            f"cannot serve the hotline's metrics on {host}:{port}: {error.strerror}; "
            "choose another port with SALDO_HOTLINE_METRICS_PORT"
        ) from None
    return server


@contextmanager
def _signals_to(stop: threading.Event | None) -> Iterator[threading.Event]:
    if stop is not None:
        yield stop
        return
    stopping = threading.Event()
    previous = {
        number: signal.signal(number, lambda *_: stopping.set())
        for number in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield stopping
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


class _Endpoint:
    def __init__(
        self,
        new_dialogue: DialogueFactory,
        metrics: EndpointMetrics,
        peers: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...],
    ) -> None:
        self.new_dialogue = new_dialogue
        self.metrics = metrics
        self.peers = peers
        self.jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.sessions: dict[int, CallSession] = {}
        self.closing = False  # stopping: new calls are turned away
        self.ending: list[Conversation] = []  # dialogues whose call is over
        self._ep: pj.Endpoint | None = None
        self._account: _Account | None = None
        self._folder = tempfile.TemporaryDirectory(prefix="saldo-hotline-")
        self.silences = (
            _silence(Path(self._folder.name) / "lead-in.wav", LEAD_IN_SECONDS),
            _silence(Path(self._folder.name) / "trail.wav", TRAIL_SECONDS),
        )

    def start(self, host: str, port: int, *, rtp_port: int) -> None:
        pjsip_level = 5 if logging.getLogger(PJSIP_LOG).isEnabledFor(logging.DEBUG) else 2
        set_log_level(pjsip_level)
        ep = pj.Endpoint()
        ep.libCreate()
        self._ep = ep
        config = pj.EpConfig()
        config.uaConfig.threadCnt = 0
        config.uaConfig.mainThreadOnly = True
        config.uaConfig.maxCalls = MAX_CALLS
        config.uaConfig.userAgent = "Saldo hotline"
        config.logConfig.level = pjsip_level
        config.logConfig.consoleLevel = pjsip_level
        config.logConfig.decor = 0
        # The endpoint deletes its writer in libDestroy: Python lets go of it here.
        config.logConfig.writer = _LogWriter().__disown__()
        config.medConfig.noVad = True
        ep.libInit(config)
        ep.audDevManager().setNullDev()
        for codec in ep.codecEnum2():
            priority = 255 - CODECS.index(codec.codecId) if codec.codecId in CODECS else 0
            ep.codecSetPriority(codec.codecId, priority)
        transport = pj.TransportConfig()
        transport.boundAddress = host
        transport.port = port
        for kind in (pj.PJSIP_TRANSPORT_UDP, pj.PJSIP_TRANSPORT_TCP):
            try:
                with _pjsip_log_off():  # a taken port is the one line below, not PJSIP's three
                    ep.transportCreate(kind, transport)
            except pj.Error as error:
                raise CannotServeHotline(
                    f"cannot take SIP port {host}:{port}: {error.reason}; choose another "
                    "with SALDO_HOTLINE_PORT"
                ) from None
        ep.libStart()
        account = pj.AccountConfig()
        # No registration: the switch routes the hotline numbers here, and this catch-all
        # account takes every INVITE whatever its request URI.
        account.idUri = f"sip:hotline@{host}:{port}"
        account.mediaConfig.transportConfig.boundAddress = host
        account.mediaConfig.transportConfig.port = rtp_port
        account.mediaConfig.transportConfig.portRange = RTP_PORTS
        self._account = _Account(self)
        self._account.create(account)
        log.info("hotline listening on sip:%s:%d (UDP and TCP)", host, port)

    def run(self, stopping: threading.Event) -> None:
        assert self._ep is not None
        deadline: float | None = None
        while True:
            self._ep.libHandleEvents(POLL_MS)
            self._run_jobs()
            now = time.monotonic()
            for session in list(self.sessions.values()):
                session.tick(now)
            if stopping.is_set() and deadline is None:
                deadline = now + STOP_SECONDS
                self.closing = True
                for session in list(self.sessions.values()):
                    session.hang_up()
            if deadline is not None and (not self.sessions or now > deadline):
                return

    def post(self, job: Callable[[], None]) -> None:
        """Run ``job`` on the endpoint thread (safe from any thread)."""
        self.jobs.put(job)

    def run_now(self, job: Callable[[], None]) -> None:
        """Run the jobs waiting, then ``job``, at once: on the endpoint thread only."""
        self._run_jobs()
        try:
            job()
        except Exception:
            log.exception("hotline: a SIP event could not be handled")

    def _run_jobs(self) -> None:
        while True:
            try:
                job = self.jobs.get_nowait()
            except queue.Empty:
                return
            try:
                job()
            except Exception:
                log.exception("hotline: a SIP event could not be handled")

    def incoming(self, call_id: int, invite: str, source: str) -> None:
        caller = caller_of(invite)
        assert self._account is not None
        sip_call = SipCall(self._account, call_id, self)
        session = CallSession(self, sip_call, caller)
        self.sessions[call_id] = session
        sip_call.session = session
        refusal = None
        if not self._is_peer(source):
            log.warning("hotline: INVITE from %s refused: not one of the peers", source)
            refusal = 403
        elif self.closing:
            refusal = 503  # the switch tries another of Saldo's processes
        if refusal is not None:
            refuse = pj.CallOpParam()
            refuse.statusCode = refusal
            sip_call.answer(refuse)
            return
        self.metrics.calls.inc()
        log.info(
            "hotline call %s to %s from %s",
            caller.call_id,
            caller.dialled,
            mask_msisdn(caller.number) if caller.number else "a withheld number",
        )
        answer = pj.CallOpParam()
        answer.statusCode = 200
        sip_call.answer(answer)

    def _is_peer(self, source: str) -> bool:
        """Whether ``source`` (``"10.1.2.3:5060"``, ``"[::1]:5060"``) is in ``peers``."""
        address = source.rsplit(":", 1)[0].strip("[]")
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.peers)

    def forget(self, session: CallSession) -> None:
        # PJSUA reuses a call's id as soon as it is over: the id may be a new call's already.
        if self.sessions.get(session.sip_call_id) is session:
            del self.sessions[session.sip_call_id]
        self.ending = [c for c in self.ending if not c.join(0)]
        self.ending.append(session.conversation)

    def destroy(self) -> None:
        """Hang up what is left and destroy the library. Every Python object that wraps a
        PJSUA one goes first: PJSUA asserts if a call object outlives it."""
        for session in list(self.sessions.values()):
            session.finish()
        self.sessions.clear()
        self._run_jobs()
        deadline = time.monotonic() + STOP_SECONDS
        for conversation in self.ending:
            if not conversation.join(max(0.0, deadline - time.monotonic())):
                log.warning("hotline: a dialogue did not end in time")
        if self._account is not None:
            self._account.shutdown()
            self._account = None
        gc.collect()
        if self._ep is not None:
            self._ep.libDestroy()
            self._ep = None
        self._folder.cleanup()


def _silence(path: Path, seconds: float) -> str:
    """A WAV file of ``seconds`` of telephone silence (8 kHz, 16-bit mono) at ``path``."""
    with wave.open(str(path), "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(bytes(2 * round(8000 * seconds)))
    return str(path)


class _Account(pj.Account):  # type: ignore[misc]
    """The catch-all account: PJSUA2's callback names are camelCase."""

    def __init__(self, endpoint: _Endpoint) -> None:
        super().__init__()
        self._endpoint = endpoint

    def onIncomingCall(self, prm: Any) -> None:
        # On the endpoint thread (PJSUA has no threads of its own): the call object must be
        # made now, within the callback.
        self._endpoint.incoming(prm.callId, prm.rdata.wholeMsg, prm.rdata.srcAddress)


PJSIP_LOG = "saldo.hotline.pjsip"
_PJSIP_LEVELS = {0: logging.CRITICAL, 1: logging.ERROR, 2: logging.WARNING, 3: logging.INFO}


@contextmanager
def _pjsip_log_off() -> Iterator[None]:
    logger = logging.getLogger(PJSIP_LOG)
    logger.disabled = True
    try:
        yield
    finally:
        logger.disabled = False


class _LogWriter(pj.LogWriter):  # type: ignore[misc]
    """PJSIP's log, into Python's logging (``saldo.hotline.pjsip``); from any PJSIP thread."""

    def write(self, entry: Any) -> None:
        level = _PJSIP_LEVELS.get(int(entry.level), logging.DEBUG)
        logging.getLogger(PJSIP_LOG).log(level, "%s", str(entry.msg).rstrip())
