"""A PostgreSQL primary and a streaming read replica of it, both on 127.0.0.1, for the test
of read routing (tests/integration/test_read_replica.py).

The primary is a throwaway cluster as tests/postgres.py starts one; the replica is made from
it with ``pg_basebackup -R`` (which writes ``standby.signal`` and the ``primary_conninfo``
to stream from) and started on a port of its own. Every wait is bounded and fails saying
what it waited for, with the end of the replica's log.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from tests.postgres import _bin_dir, _free_port

WAIT_SECONDS = 60.0


class ReplicaNotReady(AssertionError):
    """The replica did not reach the state a test waited for in time."""


@dataclass(frozen=True)
class StreamingPair:
    """URLs (``postgresql+psycopg://``) of the primary's and the replica's ``postgres``
    database, their ports, and engines to inspect both with."""

    primary_url: str
    replica_url: str
    primary_port: int
    replica_port: int
    primary: Engine
    replica: Engine
    replica_log: Path

    def database(self, name: str) -> tuple[str, str]:
        """The URLs of database ``name`` on the primary and on the replica."""
        return (
            self.primary_url.rsplit("/", 1)[0] + f"/{name}",
            self.replica_url.rsplit("/", 1)[0] + f"/{name}",
        )

    def wait_streaming(self) -> None:
        """Until the primary reports the replica as streaming (``pg_stat_replication``)."""
        self._wait(
            "the replica streaming from the primary (pg_stat_replication.state = 'streaming')",
            lambda: (
                _scalar(
                    self.primary,
                    "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'",
                )
                == 1
            ),
        )

    def wait_caught_up(self) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        lsn = _scalar(self.primary, "SELECT pg_current_wal_lsn()::text")
        self._wait(
            f"the replica replaying the primary's WAL up to {lsn}",
            lambda: bool(
                _scalar(
                    self.replica,
                    f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn",
                )
            ),
        )

    @contextmanager
    def replay_paused(self) -> Iterator[None]:
        """The replica receives WAL but replays none of it inside the block: it lags."""
        _execute(self.replica, "SELECT pg_wal_replay_pause()")
        self._wait(
            "the replica's replay paused (pg_get_wal_replay_pause_state() = 'paused')",
            lambda: _scalar(self.replica, "SELECT pg_get_wal_replay_pause_state()") == "paused",
        )
        try:
            yield
        finally:
            _execute(self.replica, "SELECT pg_wal_replay_resume()")

    def _wait(self, what: str, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not done():
            if time.monotonic() > deadline:
                tail = self.replica_log.read_text(errors="replace")[-2000:]
                raise ReplicaNotReady(
                    f"waited {WAIT_SECONDS:.0f} s for {what}; the replica's log ends:\n{tail}"
                )
            time.sleep(0.05)


def _scalar(engine: Engine, sql: str) -> object:
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar()


def _execute(engine: Engine, sql: str) -> None:
    with engine.connect() as connection:
        connection.execute(text(sql))


@contextmanager
def streaming_pair() -> Iterator[StreamingPair]:
    """A primary and its streaming replica, both started and stopped here."""
    bin_dir = _bin_dir()
    assert bin_dir is not None, "PostgreSQL is not installed"
    as_root = os.geteuid() == 0
    workdir = Path(tempfile.mkdtemp(prefix="saldo-pg-replica-"))
    primary_data, replica_data = workdir / "primary", workdir / "replica"
    primary_port, replica_port = _free_port(), _free_port()
    while replica_port == primary_port:
        replica_port = _free_port()
    started: list[Path] = []

    def run(*command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
        done = subprocess.run(
            [*prefix, *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            timeout=WAIT_SECONDS * 2,
            check=False,
        )
        if done.returncode != 0:
            raise ReplicaNotReady(f"{' '.join(command)} failed: {done.stderr.strip()}")

    def start(data: Path, port: int, log: Path) -> None:
        options = (
            f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=60 -c shared_buffers=32MB -c wal_level=replica "
            "-c max_wal_senders=4 -c hot_standby=on"
        )
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(log), "start")
        started.append(data)

    if as_root:
        shutil.chown(workdir, user="postgres")
    engines: list[Engine] = []
    try:
        run(str(bin_dir / "initdb"), "-D", str(primary_data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8")  # fmt: skip
        start(primary_data, primary_port, workdir / "primary.log")
        run(str(bin_dir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary_port),
            "-U", "postgres", "-D", str(replica_data), "-R", "-X", "stream",
            "-c", "fast")  # fmt: skip
        start(replica_data, replica_port, workdir / "replica.log")
        primary_url = f"postgresql+psycopg://postgres@127.0.0.1:{primary_port}/postgres"
        replica_url = f"postgresql+psycopg://postgres@127.0.0.1:{replica_port}/postgres"
        primary = create_engine(primary_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        replica = create_engine(replica_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        engines += [primary, replica]
        pair = StreamingPair(
            primary_url=primary_url,
            replica_url=replica_url,
            primary_port=primary_port,
            replica_port=replica_port,
            primary=primary,
            replica=replica,
            replica_log=workdir / "replica.log",
        )
        pair.wait_streaming()
        yield pair
    finally:
        for engine in engines:
            engine.dispose()
        for data in reversed(started):
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(workdir, ignore_errors=True)
