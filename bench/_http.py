"""What the HTTP benchmarks share: servers started on free loopback ports in their own process
groups, wrk driven with a Lua script that rotates over requests, its output read into a
``Load``, and each server's CPU time per request from /proc."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, str]:
    """One GET on loopback: the status and the body, whatever the status."""
    request = urllib.request.Request(f"http://{HOST}:{port}{path}", headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@contextmanager
def running(
    name: str, command: Callable[[int], list[str]], *, env: dict[str, str], cwd: Path
) -> Iterator[tuple[int, int]]:
    """A server started on a free port in its own process group, as (port, pid); killed on
    the way out."""
    port = free_port()
    log = (cwd / f"{name}.log").open("w+")
    server = subprocess.Popen(
        command(port),
        cwd=cwd,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                sys.exit(f"{name} server did not start:\n{log.read()}")
            try:
                with socket.create_connection((HOST, port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield port, server.pid
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        log.close()


# -- wrk ---------------------------------------------------------------------------------------

LUA = """
local specs = {%s}
local requests = {}
local next_one = 0
init = function(args)
  for i, spec in ipairs(specs) do requests[i] = wrk.format("GET", spec[1], spec[2]) end
end
request = function()
  next_one = next_one %% #requests + 1
  return requests[next_one]
end
"""


def lua_string(text: str) -> str:
    """``text`` as a Lua string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rotation_lua(requests: Sequence[tuple[str, Mapping[str, str]]]) -> str:
    """A wrk script that sends GET requests, each (path, headers) in turn, round and round."""
    specs = []
    for path, headers in requests:
        fields = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
        specs.append(f"{{{lua_string(path)}, {{{fields}}}}}")
    return LUA % ", ".join(specs)


@dataclass(frozen=True)
class Load:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors and non-2xx/3xx responses
    server_cpu_us: float | None  # server CPU time (user + system) per request, on Linux


MS_PER = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(value: str) -> float:
    """wrk's latencies ("812.00us", "4.51ms", "1.02s") in milliseconds."""
    unit = value.lstrip("0123456789.")
    return float(value.removesuffix(unit)) * MS_PER[unit]


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux's /proc), else None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parse_wrk(output: str) -> Load:
    def find(pattern: str) -> re.Match[str]:
        found = re.search(pattern, output)
        if found is None:
            sys.exit(f"unexpected wrk output (no {pattern!r}):\n{output}")
        return found

    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Load(
        requests_per_s=float(find(r"Requests/sec:\s+([\d.]+)").group(1)),
        p50_ms=to_ms(find(r"\n\s+50%\s+(\S+)").group(1)),
        p99_ms=to_ms(find(r"\n\s+99%\s+(\S+)").group(1)),
        requests=int(find(r"(\d+) requests in").group(1)),
        errors=errors + (int(non_2xx.group(1)) if non_2xx else 0),
        server_cpu_us=None,
    )


def run_wrk(
    port: int,
    pid: int,
    lua: Path,
    *,
    path: str,
    threads: int,
    connections: int,
    duration: int,
) -> Load:
    """wrk's measurements against the server (``path`` is the URL's; the script chooses each
    request's own), with the server's CPU time per request."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--latency",
        "-s",
        str(lua),
        f"http://{HOST}:{port}{path}",
    ]
    cpu_before = cpu_seconds(pid)
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    cpu_after = cpu_seconds(pid)
    if done.returncode != 0:
        sys.exit(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    load = parse_wrk(done.stdout)
    if cpu_before is None or cpu_after is None or not load.requests:
        return load
    return replace(load, server_cpu_us=(cpu_after - cpu_before) / load.requests * 1e6)


def cpu(load: Load) -> str:
    return "-" if load.server_cpu_us is None else f"{load.server_cpu_us:,.0f}µs"
