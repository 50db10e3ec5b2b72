"""The hotline in ``saldo demo``: served beside the server on a loopback port, called as the
demo says to call it (SIPp and tests/data/sipp/menu.xml); without it, one line and the rest
served."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from saldo.channels.cli import demo_hotline
from tests.e2e.test_demo import _free_port, _get_when_up
from tests.sipp import free_sip_port, require_sipp, run_sipp

SALDO = [sys.executable, "-m", "saldo"]


def start_demo(tmp_path: Path, hotline_port: int) -> tuple[subprocess.Popen[str], int]:
    port = _free_port()
    env = {
        **os.environ,
        "SALDO_DATABASE_URL": f"sqlite:///{tmp_path}/saldo.db",
        "SALDO_HOTLINE_PORT": str(hotline_port),
    }
    demo = subprocess.Popen(
        [*SALDO, "demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    return demo, port


def printed_until(demo: subprocess.Popen[str], wanted: str) -> str:
    """What the demo printed up to the line holding ``wanted``."""
    assert demo.stdout is not None
    shown = ""
    deadline = time.monotonic() + 120
    while wanted not in shown and time.monotonic() < deadline:
        line = demo.stdout.readline()
        if not line:
            break
        shown += line
    return shown


@pytest.mark.slow
@pytest.mark.sip
def test_the_demo_answers_the_hotline_it_prints(tmp_path: Path) -> None:
    require_sipp()
    # Given the demo, its hotline on a free port
    hotline_port = free_sip_port()
    demo, port = start_demo(tmp_path, hotline_port)
    try:
        shown = printed_until(demo, "sipp -sf")
        _get_when_up(f"http://127.0.0.1:{port}/healthz")

        # When a Claro Colombia line calls 123 as the demo says (hanging up after 1 s)
        assert f"The hotline answers on sip:127.0.0.1:{hotline_port}" in shown
        assert "123 Claro AR and Claro CO" in shown
        assert (
            "sipp -sf tests/data/sipp/menu.xml -key caller +573001234567 -s 123 -m 1 -d 8000 "
            f"127.0.0.1:{hotline_port}"
        ) in shown
        run_sipp(
            "menu",
            port=hotline_port,
            folder=tmp_path,
            dialled="123",
            keys={"caller": "+573001234567"},
            pause_ms=1000,
        )
        # Then the call went through (SIPp's scenario ended on the 200 to its BYE)
    finally:
        demo.terminate()
        demo.communicate(timeout=30)
    assert demo.returncode in (0, -15)


@pytest.mark.slow
def test_a_taken_sip_port_costs_the_demo_its_hotline_only(tmp_path: Path) -> None:
    # Given another program on the hotline's port
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        hotline_port = taken.getsockname()[1]

        # When the demo starts
        demo, port = start_demo(tmp_path, hotline_port)
        try:
            shown = printed_until(demo, "No hotline in this demo")
            health = _get_when_up(f"http://127.0.0.1:{port}/healthz")
        finally:
            demo.terminate()
            demo.communicate(timeout=30)

    # Then it says so in one line and serves the rest
    if "pjsua2" in shown:
        pytest.skip("no pjsua2 for this Python: the other way the hotline is left out")
    assert (f"No hotline in this demo: cannot take SIP port 127.0.0.1:{hotline_port}: ") in shown
    assert b'"ok"' in health


def test_without_pjsua2_the_demo_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a Python without the pjsua2 wheel
    monkeypatch.setattr(demo_hotline, "sip_unavailable", lambda: "no pjsua2 here")

    # When the demo starts its hotline, Then it does not, and says why in one line
    started = demo_hotline.start_demo_hotline(None, stop=threading.Event())  # type: ignore[arg-type]

    assert started is None
    assert capsys.readouterr().out == (
        "No hotline in this demo: no pjsua2 here (its wheels stop at Python 3.12); "
        "everything else is served.\n"
    )
