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


def _command(scenario: str, *, local_port: int, keys: dict[str, str]) -> list[str]:
    command = [
        "sipp",
        "-sf",
        str(SCENARIOS / f"{scenario}.xml"),
        "-i",
        "127.0.0.1",
        "-mi",
        "127.0.0.1",
        "-mp",
        str(free_sip_port()),
        "-p",
        str(local_port),
        "-m",
        "1",
        "-timeout",
        "30s",
        "-timeout_error",
        "-nostdin",
        "-trace_err",
        "-trace_logs",
    ]
    for name, value in keys.items():
        command += ["-key", name, value]
    return command


def run_sipp(
    scenario: str,
    *,
    port: int,
    folder: Path,
    transport: str = "udp",
    dialled: str = "121",
    keys: dict[str, str] | None = None,
) -> None:
    """Place one call from ``scenario`` to ``127.0.0.1:port``; fail with SIPp's logs unless
    it went through to the end."""
    command = [
        *_command(scenario, local_port=free_sip_port(), keys=keys or {}),
        "-t",
        TRANSPORTS[transport],
        "-s",
        dialled,
        f"127.0.0.1:{port}",
    ]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        logs = "\n".join(path.read_text() for path in sorted(folder.glob(f"{scenario}_*.log")))
        pytest.fail(f"SIPp's {scenario} call failed ({done.returncode}):\n{done.stderr}\n{logs}")


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
