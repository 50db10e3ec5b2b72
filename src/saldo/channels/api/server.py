"""Running the HTTP application with uvicorn, in one process or several.

With ``workers`` above one the socket is bound once, by the process ``saldo serve`` started
(the supervisor), which then forks that many server processes; each accepts connections on
the shared socket and opens its own database connections (none is made before the fork). The
supervisor serves nothing itself: Ctrl-C or SIGTERM to it stops every server process
gracefully (each finishes the requests it has), and a server process that dies stops the
others and the supervisor, which exits non-zero with one line saying which died and how. A
dead process is not replaced: whatever killed it (memory, a bug) would likely kill the next
one, and systemd, a container runtime or any supervisor restarts the whole server cleanly. A
server process whose supervisor is gone (killed with SIGKILL) stops by itself.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import signal
import socket
import sys

import uvicorn

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.errors import SaldoError
from saldo.domain.numbering import mask_msisdn


class CannotListen(SaldoError):
    """The server could not take its address and port (another program has the port, or
    the address is not this machine's)."""

    code = "cannot_listen"


# A subscriber's number in a path (``/api/v1/lines/%2B5491133334444``, the portal's line
# pages): a plus sign, plain or percent-encoded, or none, then 7 to 15 digits.
_NUMBER_IN_PATH = re.compile(r"(?:%2[Bb]|\+)?(\d{7,15})(?=/|$|\.)")


class WithoutQueryStrings(logging.Filter):
    """Access log lines keep the path and drop the query string: on the gateway endpoints it
    carries subscribers' numbers, voucher PINs and the gateway token. A number in the path
    itself (the app API's and the portal's line routes) is masked as every log masks it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, version, status = record.args
            record.args = (client, method, masked_path(str(path)), version, status)
        return True


def masked_path(path: str) -> str:
    """``path`` without its query string, any subscriber's number in it masked."""
    return _NUMBER_IN_PATH.sub(lambda found: mask_msisdn(found.group(1)), path.split("?", 1)[0])


def listen(*, host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, taken before anything else is done, so a busy port
    is one clear error rather than uvicorn's start-up log. Raises CannotListen."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn does: a port left in TIME_WAIT by the last run can be taken again at once
    # (one another program listens on is still refused).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        why = "the port is in use" if error.errno == errno.EADDRINUSE else error.strerror
        raise CannotListen(
            f"cannot listen on {host}:{port}: {why}; choose another port with --port or SALDO_PORT"
        ) from None
    return sock


class ServerProcessDied(SaldoError):
    """One of the server processes of ``saldo serve --workers N`` ended on its own; the
    others were stopped."""

    code = "server_process_died"


def serve(saldo: Saldo, *, listening: socket.socket, workers: int = 1) -> None:
    """Serve Saldo's HTTP application on ``listening`` (from ``listen``) until Ctrl-C or
    SIGTERM, in this process or, with ``workers`` above one, in that many forked processes
    sharing the socket. Raises ServerProcessDied (the others are stopped first)."""
    if workers <= 1:
        _serve_here(saldo, listening=listening)
        return
    _supervise(saldo, listening=listening, workers=workers)


def _serve_here(saldo: Saldo, *, listening: socket.socket, parent: int | None = None) -> None:
    host, port = listening.getsockname()[:2]
    config = uvicorn.Config(
        create_app(saldo), host=host, port=port, log_level=saldo.settings.log_level
    )
    # uvicorn has set its loggers up by now (Config does it); the filter goes on top.
    logging.getLogger("uvicorn.access").addFilter(WithoutQueryStrings())
    server = uvicorn.Server(config) if parent is None else _ChildServer(config, parent=parent)
    server.run(sockets=[listening])


class _ChildServer(uvicorn.Server):
    """A forked server process: it also stops when its supervisor is gone."""

    def __init__(self, config: uvicorn.Config, *, parent: int) -> None:
        super().__init__(config)
        self._parent = parent

    async def on_tick(self, counter: int) -> bool:
        if counter % 10 == 0 and os.getppid() != self._parent:
            self.should_exit = True
        return await super().on_tick(counter)


_STOPPING = {signal.SIGINT, signal.SIGTERM}


def _supervise(saldo: Saldo, *, listening: socket.socket, workers: int) -> None:
    # No database connection may cross a fork: each process opens its own.
    saldo.close()
    supervisor = os.getpid()
    children: set[int] = set()
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _terminate(pid)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        if stopping:
            break
        # Held back across the fork: a signal now is handled once the child is counted
        # (in the supervisor), or ignored (in the child, which uvicorn then takes over).
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
        pid = os.fork()
        if pid == 0:
            _child(saldo, listening=listening, parent=supervisor)
        children.add(pid)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)
    died: str | None = None
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        if not stopping:
            died = f"server process {pid} {_how(status)}; the other processes were stopped"
            stop(signal.SIGTERM, None)
    listening.close()
    if died is not None:
        raise ServerProcessDied(died)


def _child(saldo: Saldo, *, listening: socket.socket, parent: int) -> None:
    """A forked server process: serves until told to stop, then ends without returning into
    the supervisor's code."""
    # Its own process group: Ctrl-C reaches the supervisor alone, which stops each process
    # once (a second signal would make uvicorn drop the requests it is finishing).
    os.setpgid(0, 0)
    # uvicorn raises the signal it stopped on again once done: ignored here, the exit is ours.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)
    code = 0
    try:
        _serve_here(saldo, listening=listening, parent=parent)
    except BaseException:
        logging.getLogger(__name__).exception("server process %s failed", os.getpid())
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _terminate(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended a moment ago
        os.kill(pid, signal.SIGTERM)


def _how(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"
