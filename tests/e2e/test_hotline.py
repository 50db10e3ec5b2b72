"""``saldo hotline`` as a program: a taken port is one line and exit code 4."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SALDO_DATABASE_URL": f"sqlite:///{cwd}/saldo.db"}
    command = [sys.executable, "-m", "saldo", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_a_taken_sip_port_is_one_line_with_a_hint_and_exit_code_4(tmp_path: Path) -> None:
    assert run(tmp_path, "db", "upgrade").returncode == 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        # Given another program on the SIP port,
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]

        # When the hotline is asked to answer there,
        started = run(tmp_path, "hotline", "--port", str(port))

    # Then it says so on one line, with what to do.
    assert started.returncode == 4
    assert started.stdout == ""
    assert started.stderr == (
        f"saldo: error: cannot take SIP port 127.0.0.1:{port}: Address already in use; "
        "choose another with SALDO_HOTLINE_PORT\n"
    )
