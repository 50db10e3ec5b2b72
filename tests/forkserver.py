"""A fork server for ``saldo``: the docs examples run some two hundred ``saldo`` commands, and
each new Python process spent most of its time importing Saldo before doing a few
milliseconds of work. The server imports Saldo once; each ``saldo`` on the examples' PATH is a
small client (``python -S``, standard library only) that hands the server its arguments,
working directory, environment and its own stdin, stdout and stderr (as file descriptors over
a Unix socket), and exits with the code the command exited with. The server forks a child per
command, which takes those descriptors, directory and environment and calls the ``saldo``
console script's own entry point, exactly as the installed script would.

The server only imports modules: it reads no settings, opens no database and runs no command
itself, so every child starts from the same clean state a new process would. ``python -m
tests.forkserver SOCKET`` runs it (``Server`` in tests/docs_examples.py starts and stops it);
``SALDO_DOCS_FORK=0`` makes the docs examples run the installed script instead.
"""

from __future__ import annotations

import atexit
import importlib
import importlib.metadata
import json
import os
import pkgutil
import signal
import socket
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

SOCKET_VARIABLE = "SALDO_DOCS_FORKSERVER"

# The client, written next to the socket as ``saldo``: no site-packages, so it starts in
# milliseconds. The exit code comes back as text; nothing back means the child died.
CLIENT = """\
#!{python} -S
import json, os, socket, sys
server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
server.connect(os.environ["{variable}"])
request = {{"argv": sys.argv, "cwd": os.getcwd(), "env": dict(os.environ)}}
socket.send_fds(server, [json.dumps(request).encode()], [0, 1, 2])
answer = server.recv(16)
sys.exit(int(answer) if answer else 1)
"""


def write_client(directory: Path, socket_path: Path) -> Path:
    """A ``saldo`` client in ``directory`` (to put first on PATH) talking to ``socket_path``."""
    directory.mkdir(parents=True, exist_ok=True)
    client = directory / "saldo"
    client.write_text(CLIENT.format(python=sys.executable, variable=SOCKET_VARIABLE))
    client.chmod(0o755)
    return client


def _entry_point() -> Callable[[], object]:
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="saldo")
    main: Callable[[], object] = script.load()
    return main


# The hotline's SIP stack (a native library, better started in the process that uses it) and
# the migrations (Alembic runs them as scripts, not as modules to import).
_NOT_PRELOADED = ("saldo.channels.hotline.sip", "saldo.adapters.db.migrations")
# What Saldo's modules import only when a command runs.
_LIBRARIES = ("phonenumbers", "yaml", "typer._adapters", "sqlalchemy.dialects.sqlite")


def _preload() -> None:
    """Import Saldo's modules, as commands import them when they run (the CLI loads its
    commands lazily, and they their adapters)."""
    import saldo

    for module in pkgutil.walk_packages(saldo.__path__, prefix="saldo."):
        if module.name.endswith("__main__") or module.name.startswith(_NOT_PRELOADED):
            continue
        importlib.import_module(module.name)
    for library in _LIBRARIES:
        importlib.import_module(library)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def _run_child(connection: socket.socket, request: dict[str, object], fds: list[int]) -> None:
    """In the forked child: become the command's process, run it, report its exit code."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for target, fd in zip((0, 1, 2), fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    env = dict(request["env"])  # type: ignore[call-overload]
    env.pop(SOCKET_VARIABLE, None)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    os.chdir(str(request["cwd"]))
    sys.argv = list(request["argv"])  # type: ignore[call-overload]
    code = 1
    try:
        code = _exit_code(_entry_point()())
    except SystemExit as exit_:
        code = _exit_code(exit_.code)
    except BaseException:  # a real process would print it and exit 1
        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            connection.send(str(code).encode())
            os._exit(code)


def serve(socket_path: str) -> None:
    _entry_point()
    _preload()
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(socket_path)
    listener.listen(16)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        connection, _ = listener.accept()
        message, fds, _flags, _address = socket.recv_fds(connection, 1 << 20, 3)
        if os.fork() == 0:
            listener.close()
            _run_child(connection, json.loads(message), fds)
        connection.close()
        for fd in fds:
            os.close(fd)


if __name__ == "__main__":
    serve(sys.argv[1])
