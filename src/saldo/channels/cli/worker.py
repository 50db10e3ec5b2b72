"""``saldo worker``: the lifecycle worker, on a schedule or one pass at a time."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from saldo.channels.cli.context import state
from saldo.channels.cli.render import emit_json, out, to_jsonable
from saldo.channels.worker import PassReport, run_forever, run_pass
from saldo.domain.periods import impossible_day


def worker_command(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run one pass and stop.")] = False,
    now: Annotated[
        str | None,
        typer.Option(help="With --once: run the pass as if it were this ISO 8601 time."),
    ] = None,
    interval: Annotated[int, typer.Option(help="Seconds between passes.", min=1, max=3600)] = 60,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Run Saldo's jobs: expire unpaid orders, move lines into grace, suspension and
    recycling, queue expiry reminders, run auto top-ups and auto-renewals, reconcile
    pending payments and deliver the outbox. Several workers may run at once.

    Examples: saldo worker · saldo worker --once ·
    saldo worker --once --now 2026-12-24T09:00:00+01:00
    """
    log_to_stderr(level=logging.WARNING if once else logging.INFO)
    saldo = state(ctx).saldo()
    if now is not None:
        if not once:
            raise typer.BadParameter("--now replays one pass; use it with --once")
        moment = _parse_moment(now)
        saldo = saldo.at(moment)
    if once:
        report = run_pass(saldo)
        if as_json:
            emit_json(_report_json(report))
        else:
            _print(report)
        if report.failed:
            raise typer.Exit(1)
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    out.print(f"Saldo worker: a pass every {interval} s; Ctrl-C or SIGTERM stops it.")
    try:
        run_forever(saldo, interval=timedelta(seconds=interval), stop=stop)
    except KeyboardInterrupt:
        stop.set()


class _OneLine(logging.Formatter):
    """Log records as one line each: what went wrong, never a traceback on the terminal."""

    def formatException(self, ei: Any) -> str:
        return ""

    def formatStack(self, stack_info: str) -> str:
        return ""


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (not when it was made)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def log_to_stderr(*, level: int) -> None:
    """Saldo's log on stderr, one line per record (warnings and errors only for one pass)."""
    logger = logging.getLogger("saldo")
    logger.setLevel(level)
    if not any(isinstance(h, _Stderr) for h in logger.handlers):
        handler = _Stderr()
        handler.setFormatter(_OneLine("saldo worker: %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


def _parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            impossible_day(text) or f"{text!r} is not an ISO 8601 time"
        ) from None
    if moment.tzinfo is None:
        raise typer.BadParameter("give --now with its UTC offset, e.g. 2026-12-24T09:00:00+01:00")
    if not 2000 <= moment.year <= 2199:  # a replayed day, not the edges of the calendar
        raise typer.BadParameter(f"{text!r} is not a time Saldo replays (years 2000 to 2199)")
    return moment.astimezone(UTC)


def _report_json(report: PassReport) -> dict[str, Any]:
    return {
        "at": report.at.isoformat(),
        "results": to_jsonable(report.results),
        "failed": report.failed,
    }


def _print(report: PassReport) -> None:
    out.print(f"Pass at {report.at:%Y-%m-%d %H:%M:%S} UTC")
    for name, result in report.results.items():
        out.print(f"  {name}: {_summary(result)}")
    for name in report.failed:
        out.print(f"  {name}: FAILED (see the log)")


def _summary(result: Any) -> str:
    value = to_jsonable(result)
    if isinstance(value, dict):
        return ", ".join(f"{k} {_summary(v)}" for k, v in value.items())
    return str(value)
