"""A throwaway PostgreSQL cluster on 127.0.0.1 for the tests, or the server named by
``SALDO_TEST_POSTGRES_URL``.

As root, the cluster runs as the ``postgres`` system user through ``runuser`` (PostgreSQL
refuses to run as root). Where no server can be had, ``unavailable_reason`` says why: the
tests are then skipped, except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unavailable_reason() -> str | None:
    if os.environ.get("SALDO_TEST_POSTGRES_URL"):
        return None
    if _bin_dir() is None:
        return "PostgreSQL is not installed (run `make test` as root to install it)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


@contextmanager
def postgres_server(*, durable: bool = False) -> Iterator[str]:
    """Yield a ``postgresql+psycopg://`` URL of a server to create test databases on.

    Tests run it with ``fsync=off`` (nothing they write must survive a crash); benchmarks ask
    for a ``durable`` one, as production runs."""
    given = os.environ.get("SALDO_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    bin_dir = _bin_dir()
    assert bin_dir is not None
    as_root = os.geteuid() == 0
    workdir = Path(tempfile.mkdtemp(prefix="saldo-pg-"))
    data = workdir / "data"
    port = _free_port()

    def run(*command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
        subprocess.run(
            [*prefix, *command], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    if as_root:
        shutil.chown(workdir, user="postgres")
    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        options = (
            f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 "
            f"-c fsync={'on' if durable else 'off'} -c max_connections=200 -c shared_buffers=128MB"
        )
        run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-w",
            "-l",
            str(workdir / "log"),
            "start",
        )
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
