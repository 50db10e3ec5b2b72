"""Saldo's HTTP application under uvicorn on a free 127.0.0.1 port, in a background thread,
for tests whose peer speaks real HTTP (Kannel, schemathesis)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(saldo: Saldo) -> Iterator[str]:
    """Saldo's HTTP application on a free loopback port, in a background thread; yields its
    base URL."""
    port = free_port()
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
