"""A throwaway Kannel gateway on 127.0.0.1 for the tests: bearerbox, smsbox and Kannel's own
fake SMS centre (``fakesmsc``), which plays the phones.

``kannel_gateway(get_url=...)`` writes a kannel.conf into a temporary directory with four
free loopback ports (bearerbox admin, bearerbox's port for smsbox, smsbox's sendsms, the
fake SMSC link), starts the three programs, each in its own process group, and waits until
smsbox and fakesmsc are connected to bearerbox. The yielded ``KannelGateway``

- gives ``sendsms_url``, ``username`` and ``password`` for ``KannelSmsSender``;
- injects a mobile-originated SMS with ``send_mo``: a line on fakesmsc's standard input,
  ``<from> <to> text <text>`` when the text is single-line GSM-7, else
  ``<from> <to> ucs2 <url-encoded UTF-16BE>``. smsbox (``mo-recode = true``) turns UCS-2 back
  into UTF-8 before it calls the sms-service's ``get-url``, and returns the HTTP body to the
  phone as the reply;
- reads what reached the phones with ``receive_mt``: fakesmsc logs each mobile-terminated SMS
  on its standard error as ``Got message N: <<from> <to> text <text>>``, or with ``ucs-2 <url-
  encoded UTF-16BE>`` for UCS-2; a reader thread decodes them into ``MtMessage``.

The fake SMSC link takes messages of up to ``max-sms-octets = 4000``, so bearerbox never
splits a reply into concatenated parts (fakesmsc would then show UCS-2 parts as ``data`` and
their coding would be lost): each message arrives whole. A plain-text message with a line
break reaches fakesmsc as several lines; the reader joins them again.

fakesmsc never exits by itself: on leaving, the three process groups are stopped (TERM, then
KILL) and the directory is deleted. Where Kannel is not installed,
``kannel_unavailable_reason`` says so, and ``require_kannel`` skips the test, except under
``CI=true``, where that is a failure.
"""

from __future__ import annotations

import os
import queue
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.error import URLError
from urllib.parse import quote_from_bytes, unquote_to_bytes, urlsplit
from urllib.request import ProxyHandler, build_opener

import pytest

from saldo.domain.sms_text import is_gsm7

BEARERBOX = Path("/usr/sbin/bearerbox")
SMSBOX = Path("/usr/sbin/smsbox")
FAKESMSC = Path("/usr/lib/kannel/test/fakesmsc")

USERNAME = "saldo"
PASSWORD = "saldo-test-password"
_ADMIN_PASSWORD = "saldo-test-admin"
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_STARTUP_SECONDS = 20.0
_STOP_SECONDS = 5.0
# fakesmsc reads its standard input with fgets into 256 bytes: a longer line would be cut
# into two messages.
_MAX_MO_LINE = 254
# fakesmsc reads standard input through stdio but waits for it with select(): two lines that
# arrive in one read would leave the second in stdio's buffer until more input comes. A
# short pause after each line keeps them apart.
_MO_PAUSE = 0.2
# The parts of a plain-text MT message that had line breaks arrive within milliseconds.
_SETTLE_SECONDS = 0.3
_GOT_MESSAGE = re.compile(rb"(?:DEBUG|INFO): Got message \d+: <(.*)>$")
_MT_TYPES = frozenset({"text", "ucs-2", "data", "udh"})


def kannel_unavailable_reason() -> str | None:
    """Why Kannel cannot be started here, or None when it can."""
    missing = [str(path) for path in (BEARERBOX, SMSBOX, FAKESMSC) if not os.access(path, os.X_OK)]
    if missing:
        return (
            f"Kannel is not installed (missing {', '.join(missing)}; "
            "run `make test` as root to install kannel and kannel-extras)"
        )
    return None


def require_kannel() -> None:
    """Skip the calling test when Kannel cannot be started; under CI=true, fail it instead."""
    reason = kannel_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"Kannel is required under CI=true: {reason}")
    pytest.skip(reason)


@dataclass(frozen=True, slots=True)
class MtMessage:
    """A message that reached a phone: ``sender`` is who it shows as coming from (the short
    code), ``receiver`` the phone's number, ``coding`` how it travelled (``text`` for GSM-7,
    ``ucs-2``), ``text`` its content decoded."""

    sender: str
    receiver: str
    coding: str
    text: str


class KannelGateway:
    """A running gateway; made by ``kannel_gateway``."""

    def __init__(
        self,
        *,
        workdir: Path,
        sendsms_url: str,
        fakesmsc: subprocess.Popen[bytes],
    ) -> None:
        self.sendsms_url = sendsms_url
        self.username = USERNAME
        self.password = PASSWORD
        self._workdir = workdir
        self._fakesmsc = fakesmsc
        self._messages: queue.Queue[MtMessage] = queue.Queue()
        self._fakesmsc_log: deque[str] = deque(maxlen=50)
        self._reader = threading.Thread(target=self._read_fakesmsc, daemon=True)
        self._reader.start()

    def send_mo(self, *, sender: str, receiver: str, text: str) -> None:
        """Make the phone ``sender`` send ``text`` to ``receiver`` (a short code).

        Raises ValueError when a number holds whitespace or the text is too long for one
        fakesmsc line (about 250 bytes; about 20 characters as UCS-2)."""
        if not sender or not receiver or any(part.split() != [part] for part in (sender, receiver)):
            raise ValueError(f"numbers must be single words: {sender!r}, {receiver!r}")
        if text and is_gsm7(text) and "\n" not in text and "\r" not in text:
            payload = f"text {text}".encode()
        else:
            payload = b"ucs2 " + quote_from_bytes(text.encode("utf-16-be"), safe="").encode()
        line = f"{sender} {receiver} ".encode() + payload
        if len(line) > _MAX_MO_LINE:
            raise ValueError(f"an MO line of {len(line)} bytes is too long for fakesmsc")
        stdin = self._fakesmsc.stdin
        assert stdin is not None
        stdin.write(line + b"\n")
        stdin.flush()
        time.sleep(_MO_PAUSE)

    def receive_mt(self, *, timeout: float = 10.0) -> MtMessage:
        """The next message that reached a phone, waiting up to ``timeout`` seconds.

        Raises AssertionError, with what smsbox and fakesmsc logged, when none came."""
        try:
            return self._messages.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no SMS reached fakesmsc within {timeout} s\n{self.diagnostics()}"
            ) from None

    def nothing_received(self, *, within: float) -> bool:
        """True when no message reaches a phone within ``within`` seconds."""
        try:
            message = self._messages.get(timeout=within)
        except queue.Empty:
            return True
        self._messages.put(message)
        return False

    def close(self) -> None:
        """Wait for the reader thread once fakesmsc has been stopped."""
        self._reader.join(timeout=_STOP_SECONDS)

    def smsbox_access_log(self) -> str:
        """smsbox's access log: one line per sendsms call and per get-url call, with the
        HTTP status the get-url answered."""
        path = self._workdir / "smsbox-access.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def diagnostics(self) -> str:
        """The last lines of smsbox's access log and of fakesmsc's output."""
        access = self.smsbox_access_log().splitlines()[-10:]
        return (
            "smsbox access log:\n  "
            + "\n  ".join(access)
            + "\nfakesmsc:\n  "
            + "\n  ".join(self._fakesmsc_log)
        )

    def _read_fakesmsc(self) -> None:
        stream = self._fakesmsc.stderr
        assert stream is not None
        pending: MtMessage | None = None
        while True:
            raw = _readline(stream, wait=_SETTLE_SECONDS if pending else None)
            if raw is None:  # quiet for a while: the pending message is complete
                assert pending is not None
                self._messages.put(pending)
                pending = None
                continue
            if raw == b"":
                break
            line = raw.rstrip(b"\r\n")
            self._fakesmsc_log.append(line.decode("utf-8", errors="replace"))
            found = _GOT_MESSAGE.search(line)
            if found is None:
                continue
            message = _parse_mt(found.group(1))
            if message is None and pending is not None and pending.coding == "text":
                rest = found.group(1).decode("utf-8", errors="replace")
                pending = MtMessage(
                    pending.sender, pending.receiver, pending.coding, pending.text + "\n" + rest
                )
                continue
            if pending is not None:
                self._messages.put(pending)
            pending = message
        if pending is not None:
            self._messages.put(pending)


def _readline(stream: IO[bytes], *, wait: float | None) -> bytes | None:
    """The next line of ``stream`` (b"" at its end), or None when ``wait`` seconds pass
    without one. ``stream`` is unbuffered, so select() sees every byte not yet read."""
    if wait is not None:
        ready, _, _ = select.select([stream], [], [], wait)
        if not ready:
            return None
    return stream.readline()


def _parse_mt(content: bytes) -> MtMessage | None:
    """A message from fakesmsc's ``<from> <to> <type> <payload>``; None when the line is not
    one (the rest of a plain-text message that had a line break)."""
    fields = content.split(b" ", 3)
    if len(fields) < 3:
        return None
    sender, receiver, kind = (field.decode("utf-8", errors="replace") for field in fields[:3])
    if kind not in _MT_TYPES:
        return None
    payload = fields[3] if len(fields) == 4 else b""
    if kind == "text":
        text = payload.decode("utf-8", errors="replace")
    elif kind == "ucs-2":
        text = _url_decode(payload).decode("utf-16-be", errors="replace")
    else:
        # 8-bit data, or a concatenated part ("udh <udh> data <data>"): shown as Latin-1 so
        # every byte is visible; the harness configures Kannel so that neither happens.
        text = _url_decode(payload.split(b" data ", 1)[-1]).decode("latin-1")
    return MtMessage(sender=sender, receiver=receiver, coding=kind, text=text)


def _url_decode(payload: bytes) -> bytes:
    # Kannel's url-encoding writes a space as "+" and a real "+" as "%2B".
    return unquote_to_bytes(payload.replace(b"+", b" "))


def _free_ports(count: int) -> list[int]:
    with ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in probes]


def _config(*, workdir: Path, get_url: str, ports: dict[str, int]) -> str:
    return f"""\
group = core
admin-port = {ports["admin"]}
admin-interface = 127.0.0.1
admin-password = {_ADMIN_PASSWORD}
admin-allow-ip = 127.0.0.1
smsbox-port = {ports["smsbox"]}
smsbox-interface = 127.0.0.1
box-allow-ip = 127.0.0.1
log-file = "{workdir}/bearerbox.log"
log-level = 0
access-log = "{workdir}/bearerbox-access.log"

group = smsc
smsc = fake
smsc-id = fake
port = {ports["fakesmsc"]}
our-host = 127.0.0.1
connect-allow-ip = 127.0.0.1
max-sms-octets = 4000

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = {ports["smsbox"]}
sendsms-port = {ports["sendsms"]}
sendsms-interface = 127.0.0.1
mo-recode = true
log-file = "{workdir}/smsbox.log"
log-level = 0
access-log = "{workdir}/smsbox-access.log"

group = sendsms-user
username = {USERNAME}
password = {PASSWORD}
max-messages = 10
concatenation = true

group = sms-service
keyword = default
get-url = "{get_url}"
catch-all = true
max-messages = 10
concatenation = true
accept-x-kannel-headers = true
"""


def _check_get_url(get_url: str) -> None:
    parts = urlsplit(get_url)
    if parts.scheme != "http" or parts.hostname not in _LOOPBACK_HOSTS:
        raise ValueError(f"the get-url must be http:// on loopback, not {get_url!r}")
    if any(char in get_url for char in '"\n\r'):
        raise ValueError(f"the get-url cannot go into kannel.conf as it is: {get_url!r}")


def _start(command: list[str], *, workdir: Path, name: str) -> subprocess.Popen[bytes]:
    with (workdir / f"{name}.out").open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the process group of ``process``: TERM, then KILL when it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=_STOP_SECONDS)
            return
        except subprocess.TimeoutExpired:
            continue


def _status(admin_port: int) -> str:
    opener = build_opener(ProxyHandler({}))
    url = f"http://127.0.0.1:{admin_port}/status.txt?password={_ADMIN_PASSWORD}"
    try:
        with opener.open(url, timeout=2) as response:
            return bytes(response.read()).decode("utf-8", errors="replace")
    except (URLError, OSError):
        return ""


def _connected(ports: dict[str, int]) -> bool:
    """True when smsbox and fakesmsc are connected to bearerbox and sendsms answers."""
    status = _status(ports["admin"])
    if not re.search(r"smsbox:.*\(on-line", status):
        return False
    if f"FAKE:{ports['fakesmsc']} (online" not in status:
        return False
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", ports["sendsms"])) == 0


def _wait_for(
    ready: Callable[[], bool],
    *,
    workdir: Path,
    processes: dict[str, subprocess.Popen[bytes]],
) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        for name, process in processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}\n{_tail(workdir)}")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"Kannel did not come up in {_STARTUP_SECONDS} s\n{_tail(workdir)}")


def _tail(workdir: Path) -> str:
    parts = []
    for name in ("bearerbox.out", "bearerbox.log", "smsbox.out", "smsbox.log"):
        path = workdir / name
        if path.exists():
            lines = path.read_text(errors="replace").splitlines()[-15:]
            parts.append(f"--- {name}\n" + "\n".join(lines))
    return "\n".join(parts)


@contextmanager
def kannel_gateway(*, get_url: str) -> Iterator[KannelGateway]:
    """Run bearerbox, smsbox and fakesmsc on 127.0.0.1 with an sms-service that calls
    ``get_url`` (Kannel escape codes such as ``%p`` expanded) for every MO message.

    Raises ValueError when ``get_url`` is not a loopback http URL, and RuntimeError (with
    the gateway's log) when Kannel does not come up."""
    _check_get_url(get_url)
    workdir = Path(tempfile.mkdtemp(prefix="saldo-kannel-"))
    ports = dict(zip(("admin", "smsbox", "sendsms", "fakesmsc"), _free_ports(4), strict=True))
    config = workdir / "kannel.conf"
    config.write_text(_config(workdir=workdir, get_url=get_url, ports=ports))
    started: list[subprocess.Popen[bytes]] = []
    gateway: KannelGateway | None = None
    try:
        bearerbox = _start([str(BEARERBOX), str(config)], workdir=workdir, name="bearerbox")
        started.append(bearerbox)
        # fakesmsc gives up at once when bearerbox's fake SMSC port is not listening yet.
        _wait_for(
            lambda: f"FAKE:{ports['fakesmsc']} " in _status(ports["admin"]),
            workdir=workdir,
            processes={"bearerbox": bearerbox},
        )
        smsbox = _start([str(SMSBOX), str(config)], workdir=workdir, name="smsbox")
        started.append(smsbox)
        fakesmsc = subprocess.Popen(
            [str(FAKESMSC), "-H", "127.0.0.1", "-r", str(ports["fakesmsc"]), "-i", "0"],
            cwd=workdir,
            bufsize=0,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        started.append(fakesmsc)
        gateway = KannelGateway(
            workdir=workdir,
            sendsms_url=f"http://127.0.0.1:{ports['sendsms']}/cgi-bin/sendsms",
            fakesmsc=fakesmsc,
        )
        _wait_for(
            lambda: _connected(ports),
            workdir=workdir,
            processes={"bearerbox": bearerbox, "smsbox": smsbox, "fakesmsc": fakesmsc},
        )
        yield gateway
    finally:
        # fakesmsc first (it never exits by itself), then smsbox, then bearerbox.
        for process in reversed(started):
            _stop(process)
        if gateway is not None:
            gateway.close()
        for process in started:
            for stream in (process.stdin, process.stderr):
                if stream is not None:
                    stream.close()
        shutil.rmtree(workdir, ignore_errors=True)
