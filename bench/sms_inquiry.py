"""Balance inquiries over HTTP: Saldo's SMS endpoint beside a minimal raw ASGI application
answering the same question, both under wrk on loopback, on the same machine in the same run.

    .venv/bin/python bench/sms_inquiry.py          # wrk -t1 -c32 -d10s, three rounds
    .venv/bin/python bench/sms_inquiry.py --duration 5 --connections 64 --rounds 5 --json
    .venv/bin/python bench/sms_inquiry.py --workers 2   # two server processes on each side

The database is the demo's (``saldo demo --no-serve`` in a temporary directory) plus 1,000
Personal Argentina lines, each topped up once. Every request is ``GET
/channels/sms/inbound?from=<number>&to=100&text=SALDO``, rotating over those lines and the
demo's two Personal lines; before wrk runs, each number is asked once on each side and every
answer must be a balance reply.

- Saldo: ``python -m saldo serve`` (uvicorn, one process), the gateway endpoint: parse the
  query, identify the line and its operator, match the keyword, ``inquire_balance()``, render
  the reply in the line's language and fit it in SMS.
- raw: the ASGI callable below on the same uvicorn call (``uvicorn.run(app, host=, port=,
  log_level=)``, as ``saldo serve`` makes it): one indexed JOIN of the line and its accounts
  on Saldo's own SQLite file through a connection opened once, and a one-line text reply.

With ``--workers N`` both sides run N server processes on one socket: ``saldo serve
--workers N``, and the raw application forked N times after binding, as ``saldo serve``
forks (each process opens its own connection). CPU time is then that of every process of the
server's session.

Each round measures both, one after the other (which goes first alternates), with the same
wrk settings; wrk and the server share the machine's cores. Besides wrk's requests/s and
latencies, each server's CPU time (user + system, from /proc) per request is reported: on a
busy machine it moves less than the rates do. Needs wrk (Debian: ``apt-get install wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._http import HOST, Load, cpu, get, rotation_lua, run_wrk, running

PATH = "/channels/sms/inbound"
OPERATOR = "personal-ar"
SHORT_CODE = "100"
KEYWORD = "SALDO"
EXTRA_LINES = 1000
DEMO_NUMBERS = ("+5492614445566", "+5491133334444")  # the demo's Personal lines
TOPUPS = ("1000", "2000", "5000", "10000")  # Personal's denominations, in ARS
GOAL = 0.5


def extra_number(i: int) -> str:
    """Valid Argentine mobile numbers (Mendoza, 261) for the extra lines."""
    return f"+54926150{i:05d}"


def numbers() -> list[str]:
    return [*DEMO_NUMBERS, *(extra_number(i) for i in range(EXTRA_LINES))]


def query(msisdn: str) -> str:
    return f"{PATH}?from={quote(msisdn)}&to={SHORT_CODE}&text={KEYWORD}"


# -- the raw application -----------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

RAW_INQUIRY = (
    "SELECT l.valid_until, a.kind, a.unit, a.balance FROM lines l "
    "JOIN accounts a ON a.line_id = l.id WHERE l.msisdn = ?"
)
TEXT_PLAIN = [(b"content-type", b"text/plain; charset=utf-8")]


def raw_app(db_path: str) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """The least an ASGI application can do to answer a balance inquiry."""
    db = sqlite3.connect(db_path, isolation_level=None)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()  # startup
            await send({"type": "lifespan.startup.complete"})
            await receive()  # shutdown
            await send({"type": "lifespan.shutdown.complete"})
            return
        fields = dict(parse_qsl(scope["query_string"].decode("latin-1")))
        rows = db.execute(RAW_INQUIRY, (fields.get("from", ""),)).fetchall()
        if rows:
            main = sum(balance for _, kind, _, balance in rows if kind == "main")
            status = 200
            text = f"saldo {main / 100:.2f} {rows[0][2]}, válido hasta {rows[0][0][:16]} UTC"
        else:
            status, text = 404, "unknown number"
        body = text.encode()
        headers = [*TEXT_PLAIN, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def serve_raw(port: int, db_path: str, *, workers: int) -> None:
    import uvicorn

    if workers == 1:
        # The same call as saldo.channels.api.server.serve, with SALDO_LOG_LEVEL=warning.
        uvicorn.run(raw_app(db_path), host=HOST, port=port, log_level="warning")
        return
    # As `saldo serve --workers N`: the socket bound once, N forked processes serving it,
    # each with its own database connection; SIGTERM to this process stops them.
    listening = socket.create_server((HOST, port))
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            config = uvicorn.Config(raw_app(db_path), host=HOST, port=port, log_level="warning")
            uvicorn.Server(config).run(sockets=[listening])
            os._exit(0)
        children.append(pid)

    def stop(*_: object) -> None:
        for child in children:
            os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    for _ in children:
        os.wait()


def session_cpu_seconds(session: int) -> float:
    """User + system CPU time so far of every live process of ``session`` (Linux's /proc):
    a server and the processes it forked."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


# -- the database ------------------------------------------------------------------------------


def child_env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALDO_")}
    env.update(SALDO_DATABASE_URL=db_url, SALDO_LOG_LEVEL="warning")
    return env


def prepare_database(workdir: Path) -> str:
    """The demo database plus the extra lines, each topped up once; return its URL."""
    url = f"sqlite:///{workdir}/saldo.db"
    subprocess.run(
        [sys.executable, "-m", "saldo", "demo", "--no-serve"],
        cwd=workdir,
        env=child_env(url),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    # Imported here, so that the raw server process (--serve-raw) loads nothing of Saldo.
    from saldo.bootstrap import bootstrap
    from saldo.config import Settings
    from saldo.domain.lines import Channel
    from saldo.domain.money import Money
    from saldo.services.lines import NewLine, import_lines
    from saldo.services.top_up import top_up

    saldo = bootstrap(Settings(database_url=url))
    now = saldo.clock.now()
    report = import_lines(
        saldo.uow(),
        rows=((i, NewLine(msisdn=extra_number(i), operator=OPERATOR)) for i in range(EXTRA_LINES)),
        now=now,
    )
    assert report.imported == EXTRA_LINES, report.rejected[:3]
    for i in range(EXTRA_LINES):
        top_up(
            saldo.uow(),
            msisdn=extra_number(i),
            amount=Money.of(TOPUPS[i % len(TOPUPS)], "ARS"),
            channel=Channel.STORE,
            idempotency_key=f"bench-sms-{i}",
            now=now,
        )
    saldo.close()
    return url


# -- servers -----------------------------------------------------------------------------------


def check_answers(name: str, port: int, msisdns: list[str]) -> str:
    """Ask once for every number (this also warms the server); return one reply."""
    sample = ""
    for msisdn in msisdns:
        status, body = get(port, query(msisdn))
        if status != 200 or "saldo" not in body.lower():
            sys.exit(f"{name}: {msisdn} got {status} {body!r}, not a balance reply")
        sample = sample or body
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per side")
    parser.add_argument("--connections", type=int, default=32, help="wrk -c")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="wrk -t (default 1: one core for wrk, one for the server)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="measure both sides this many times (default 3)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes on each side (default 1)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve-raw", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if min(args.duration, args.connections, args.threads, args.rounds, args.workers) < 1:
        parser.error(
            "--duration, --connections, --threads, --rounds and --workers must be at least 1"
        )
    if args.serve_raw:
        serve_raw(int(args.serve_raw[1]), args.serve_raw[0], workers=args.workers)
        return
    # A terminated benchmark still stops its servers and removes its files (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install wrk (Debian), then run again", file=sys.stderr)
        sys.exit(2)

    msisdns = numbers()
    rounds: list[tuple[Load, Load]] = []
    samples: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="saldo-bench-") as tmp:
        workdir = Path(tmp)
        url = prepare_database(workdir)
        db_path = url.removeprefix("sqlite:///")
        lua = workdir / "inquiries.lua"
        lua.write_text(rotation_lua([(query(m), {}) for m in msisdns]))
        env = child_env(url)
        this = str(Path(__file__).resolve())
        sides: dict[str, Callable[[int], list[str]]] = {
            "saldo": lambda port: [
                *(sys.executable, "-m", "saldo", "serve", "--host", HOST, "--port", str(port)),
                *("--workers", str(args.workers)),
            ],
            "raw": lambda port: [
                *(sys.executable, this, "--serve-raw", db_path, str(port)),
                *("--workers", str(args.workers)),
            ],
        }
        for number in range(args.rounds):
            # Alternate which side goes first, so that a drift of the machine's speed
            # during a round does not always favour the same side.
            order = list(sides) if number % 2 == 0 else list(reversed(sides))
            loads = {}
            for name in order:
                with running(name, sides[name], env=env, cwd=workdir) as (port, pid):
                    samples[name] = check_answers(name, port, msisdns)
                    # The server runs in a session of its own (``running``): its CPU time is
                    # that of every process in it, the forked server processes too.
                    cpu_before = session_cpu_seconds(pid)
                    load = run_wrk(
                        port,
                        pid,
                        lua,
                        path=PATH,
                        threads=args.threads,
                        connections=args.connections,
                        duration=args.duration,
                    )
                    spent = session_cpu_seconds(pid) - cpu_before
                    loads[name] = replace(load, server_cpu_us=spent / max(load.requests, 1) * 1e6)
            rounds.append((loads["saldo"], loads["raw"]))

    ratios = [saldo.requests_per_s / raw.requests_per_s for saldo, raw in rounds]
    if args.json:
        print(
            json.dumps(
                {
                    "workers": args.workers,
                    "wrk": {
                        "threads": args.threads,
                        "connections": args.connections,
                        "duration_s": args.duration,
                        "numbers": len(msisdns),
                    },
                    "rounds": [
                        {"saldo": asdict(saldo), "raw": asdict(raw), "ratio": ratio}
                        for (saldo, raw), ratio in zip(rounds, ratios, strict=True)
                    ],
                    "median_ratio": statistics.median(ratios),
                    "goal": GOAL,
                    "sample_replies": samples,
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s on {HOST}, "
        f"{len(msisdns):,} numbers in rotation, {args.workers} server process(es) per side"
    )
    for name, sample in samples.items():
        print(f"  {name} replies: {sample}")
    print(
        f"{'round':<6} {'saldo/s':>8} {'raw/s':>8} {'ratio':>6}  {'saldo p99':>9} "
        f"{'raw p99':>8}  {'saldo CPU':>9} {'raw CPU':>8} {'errors':>6}  goal"
    )
    for number, ((saldo, raw), ratio) in enumerate(zip(rounds, ratios, strict=True), start=1):
        print(
            f"{number:<6} {saldo.requests_per_s:>8,.0f} {raw.requests_per_s:>8,.0f} "
            f"{ratio:>5.2f}x  {saldo.p99_ms:>7.1f}ms {raw.p99_ms:>6.1f}ms  "
            f"{cpu(saldo):>9} {cpu(raw):>8} {saldo.errors + raw.errors:>6}  ≥ {GOAL:.2f}x"
        )
    if len(rounds) > 1:
        print(f"median ratio {statistics.median(ratios):.2f}x")
    print("CPU: the server's user + system time per request (all its processes)")


if __name__ == "__main__":
    main()
