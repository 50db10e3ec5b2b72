"""SIPp (Debian's ``sip-tester``) placing real calls on loopback, for the hotline's tests.

``run_sipp`` plays one scenario of ``tests/data/sipp/`` as one call against ``port`` and
fails the test with SIPp's error log when the call did not go as the scenario says;
``sipp_peer`` starts a SIPp that waits for one call (the agent a caller is transferred to).
SIPp plays RFC 4733 keys from the pcaps it ships (``/usr/share/sip-tester``), which needs
root, as CI is. ``require_sipp`` skips a test without SIPp, its pcaps or root, and fails it
under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parent / "data" / "sipp"
PCAPS = Path("/usr/share/sip-tester")
TRANSPORTS = {"udp": "u1", "tcp": "t1"}


def sipp_unavailable_reason() -> str | None:
    if shutil.which("sipp") is None or not (PCAPS / "dtmf_2833_1.pcap").exists():
        return "no sipp: install Debian's sip-tester (scripts/install-system-deps.sh)"
    if os.geteuid() != 0:
        return "SIPp plays RTP from pcaps only as root"
    return None


def require_sipp() -> None:
    """Skip the calling test without SIPp, its pcaps or root; under CI=true, fail it."""
    reason = sipp_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"SIPp is required under CI=true: {reason}")
    pytest.skip(reason)


def free_sip_port() -> int:
    """A loopback port free for both UDP and TCP."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


def _scenario_file(scenario: str | Path) -> Path:
    return scenario if isinstance(scenario, Path) else SCENARIOS / f"{scenario}.xml"


def _command(
    scenario: str | Path, *, local_port: int, keys: dict[str, str], calls: int = 1
) -> list[str]:
    command = [
        "sipp",
        "-sf",
        str(_scenario_file(scenario)),
        "-i",
        "127.0.0.1",
        "-mi",
        "127.0.0.1",
        "-mp",
        str(free_sip_port()),
        "-p",
        str(local_port),
        "-m",
        str(calls),
        "-timeout",
        "30s",
        "-timeout_error",
        "-nostdin",
        "-trace_err",
        "-trace_logs",
        "-trace_msg",
    ]
    for name, value in keys.items():
        command += ["-key", name, value]
    return command


def run_sipp(
    scenario: str | Path,
    *,
    port: int,
    folder: Path,
    transport: str = "udp",
    dialled: str = "121",
    keys: dict[str, str] | None = None,
    pause_ms: int | None = None,
    calls: int = 1,
    at_once: int = 1,
) -> str:
    """Place one call from ``scenario`` (a name in tests/data/sipp, or a file) to
    ``127.0.0.1:port``; fail with SIPp's logs unless it went through to the end. Return the
    SIP messages SIPp sent and received, as its message log has them. ``pause_ms`` is how long
    each ``<pause/>`` without a duration lasts (SIPp's ``-d``); ``calls`` calls are placed,
    ``at_once`` of them at a time (all must go through)."""
    command = [
        *_command(scenario, local_port=free_sip_port(), keys=keys or {}, calls=calls),
        *(["-d", str(pause_ms)] if pause_ms is not None else []),
        *(["-l", str(at_once), "-r", str(at_once)] if at_once > 1 else []),
        "-t",
        TRANSPORTS[transport],
        "-s",
        dialled,
        f"127.0.0.1:{port}",
    ]
    name = _scenario_file(scenario).stem
    for old in folder.glob(f"{name}_*.log"):
        old.unlink()
    done = subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=60 + 10 * calls
    )
    if done.returncode != 0:
        logs = "\n".join(path.read_text() for path in sorted(folder.glob(f"{name}_*.log")))
        pytest.fail(f"SIPp's {name} call failed ({done.returncode}):\n{done.stderr}\n{logs}")
    return "\n".join(
        path.read_text(errors="replace") for path in sorted(folder.glob(f"{name}_*_messages.log"))
    )


@contextmanager
def sipp_peer(scenario: str, *, port: int, folder: Path) -> Iterator[None]:
    """A SIPp on ``127.0.0.1:port`` taking one call from ``scenario``, over UDP; on leaving,
    it must have played it through."""
    command = [*_command(scenario, local_port=port, keys={}), "-t", "u1"]
    peer = subprocess.Popen(
        command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        yield
        _, errors = peer.communicate(timeout=30)
    finally:
        if peer.poll() is None:
            peer.kill()
            peer.wait()
    if peer.returncode != 0:
        logs = "\n".join(path.read_text() for path in sorted(folder.glob(f"{scenario}_*.log")))
        pytest.fail(f"SIPp's {scenario} peer failed ({peer.returncode}):\n{errors}\n{logs}")


# What a key is called in the names of SIPp's RFC 4733 pcaps.
_PCAP_KEYS = {"#": "pound", "*": "star", **{digit: digit for digit in "0123456789"}}
# Retransmitted after 2 s only: on a loaded machine a 200 may take longer than SIPp's usual
# 500 ms, and the answer to a retransmission would then reach the scenario while it pauses.
_INFO_KEY = """
  <send retrans="2000" start_txn="key{cseq}">
    <![CDATA[

      INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:[caller]@[local_ip]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Contact: <sip:caller@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

      Signal={key}
      Duration=160

    ]]>
  </send>
  <recv response="200" response_txn="key{cseq}"/>"""
# A pcap plays on a thread of its own: the pause lets one finish (0.14 s) before the next.
_RTP_KEY = """
  <nop><action><exec play_pcap_audio="{pcaps}/dtmf_2833_{name}.pcap"/></action></nop>
  <pause milliseconds="250"/>"""
_SALDO_HANGS_UP = """
  <recv request="BYE"/>
  <send>
    <![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:caller@[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>"""


def by_rtp(keys: str) -> list[str]:
    """Keys as a telephone sends them: RFC 4733 telephone-events, from SIPp's pcaps."""
    return [_RTP_KEY.format(pcaps=PCAPS, name=_PCAP_KEYS[key]) for key in keys]


def by_info(keys: str) -> list[str]:
    """Keys in SIP INFO (application/dtmf-relay), one request and its 200 each."""
    return [_INFO_KEY.replace("{key}", key) for key in keys]


def menu_scenario(folder: Path, name: str, *keys: list[str], saldo_hangs_up: bool = False) -> Path:
    """``menu.xml`` with ``keys`` (``by_rtp``, ``by_info``, in order) pressed instead of its
    1, pausing ``pause_ms`` between groups of them; written to ``folder`` as ``name.xml``.
    The caller then hangs up after ``run_sipp``'s ``pause_ms``, or, with ``saldo_hangs_up``,
    waits for Saldo's BYE."""
    template = (SCENARIOS / "menu.xml").read_text(encoding="ISO-8859-1")
    head, rest = template.split("<!-- keys -->", 1)
    _, tail = rest.split("<!-- /keys -->", 1)
    pressed = [key for group in keys for key in (*group, '\n  <pause milliseconds="300"/>')]
    # Each INFO after the INVITE's CSeq 1, in order.
    body = "".join(pressed)
    cseq = 2
    while "{cseq}" in body:
        # Three each: the transaction's start, the request's CSeq, the transaction's answer.
        for _ in range(3):
            body = body.replace("{cseq}", str(cseq), 1)
        cseq += 1
    if saldo_hangs_up:
        before, after = tail.split("<!-- ending -->", 1)
        tail = before + _SALDO_HANGS_UP + after.split("<!-- /ending -->", 1)[1]
    scenario = folder / f"{name}.xml"
    scenario.write_text(
        head.replace('<scenario name="menu">', f'<scenario name="{name}">') + body + tail,
        encoding="ISO-8859-1",
    )
    return scenario


def transfer_scenario(folder: Path, *keys: list[str]) -> Path:
    """``transfer.xml`` with ``keys`` pressed once the call is set up, before Saldo's REFER
    (a caller asking for an agent); written to ``folder`` as ``transfer_asked.xml``."""
    template = (SCENARIOS / "transfer.xml").read_text(encoding="ISO-8859-1")
    head, tail = template.split('  <recv request="REFER">', 1)
    pressed = "".join(key for group in keys for key in group)
    scenario = folder / "transfer_asked.xml"
    scenario.write_text(
        head.replace('<scenario name="transfer">', '<scenario name="transfer_asked">')
        + pressed
        + '\n  <recv request="REFER">'
        + tail,
        encoding="ISO-8859-1",
    )
    return scenario
