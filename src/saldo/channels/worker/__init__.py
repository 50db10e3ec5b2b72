"""The lifecycle worker: Saldo's jobs, run one pass at a time.

A pass expires unpaid orders, writes down lifecycle transitions (grace, suspension,
recycling), queues expiry reminders, runs auto top-ups and auto-renewals, asks processors
about pending payments, delivers the outbox, and forgets old sign-in attempts and tokens.
Each job is safe to run again, and to run in several workers at once (docs/lifecycle.md,
"Several workers at once", says how for each); one job failing is logged and does not stop
the others.
``saldo worker`` runs passes on a schedule; ``saldo worker --once [--now ISO-TIME]`` runs one
(for cron, for replaying a day, and for tests).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from saldo.channels.notifications import deliver_notifications
from saldo.services.access.housekeeping import forget_old_access
from saldo.services.auto_renewal import renew_due
from saldo.services.auto_topup import run_auto_topups
from saldo.services.charging import expire_sessions
from saldo.services.lifecycle_sweep import sweep_lifecycle
from saldo.services.orders import expire_orders
from saldo.services.reconciliation import reconcile_payments
from saldo.services.reminders import queue_expiry_reminders

if TYPE_CHECKING:
    from saldo.bootstrap import Saldo

log = logging.getLogger(__name__)


# What each pass does, for the worker to say when it starts.
JOBS = (
    "expires unpaid orders and idle charging sessions, moves lines into grace, suspension "
    "and recycling, queues expiry reminders, runs auto top-ups and auto-renewals, asks "
    "processors about pending payments, delivers the outbox and forgets sign-in attempts "
    "and tokens 30 days after they ended"
)


@dataclass(slots=True)
class PassReport:
    at: datetime
    results: dict[str, Any] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    def done(self) -> dict[str, int]:
        """What the pass did, as counts (``lifecycle moved grace``: 2), leaving out every
        zero and what was not due yet: empty for a pass that found nothing to do."""
        found: dict[str, int] = {}
        for name, result in self.results.items():
            found.update(_counts(result, name))
        return found


def _counts(value: Any, name: str) -> dict[str, int]:
    if isinstance(value, bool) or name.endswith(" not_due"):
        return {}
    if isinstance(value, int):
        return {name: value} if value else {}
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, Mapping):
        items = value.items()
    elif is_dataclass(value) and not isinstance(value, type):
        items = ((item.name, getattr(value, item.name)) for item in fields(value))
    elif isinstance(value, list | tuple):
        return {name: len(value)} if value else {}
    else:
        return {}
    found: dict[str, int] = {}
    for key, item in items:
        found.update(_counts(item, f"{name} {key}"))
    return found


def run_pass(saldo: Saldo, *, now: datetime | None = None) -> PassReport:
    """One pass of every job at ``now`` (default: the clock's time)."""
    # Each job reads the clock when it starts: a pass may take a while, and leases and
    # quiet hours must be judged at the time of sending. ``now`` pins them all (replays).
    clock: Callable[[], datetime] = (lambda: now) if now is not None else saldo.clock.now
    started = clock()
    max_rate_age = timedelta(hours=saldo.settings.fx_max_age_hours)
    jobs: list[tuple[str, Callable[[], Any]]] = [
        ("orders_expired", lambda: saldo.run(expire_orders, now=clock())),
        ("charging_sessions_expired", lambda: saldo.run(expire_sessions, now=clock())),
        ("lifecycle", lambda: saldo.run(sweep_lifecycle, now=clock())),
        ("reminders_queued", lambda: saldo.run(queue_expiry_reminders, now=clock())),
        ("auto_topups", lambda: saldo.run_paying(run_auto_topups, now=clock())),
        (
            "auto_renewals",
            lambda: saldo.run_paying(renew_due, max_rate_age=max_rate_age, now=clock()),
        ),
        ("payments", lambda: saldo.run_paying(reconcile_payments, now=clock())),
        ("outbox", lambda: deliver(saldo, now=clock())),
        ("access_forgotten", lambda: saldo.run(forget_old_access, now=clock())),
    ]
    report = PassReport(at=started)
    for name, job in jobs:
        try:
            report.results[name] = job()
        except Exception as error:  # logged; the next pass runs it again
            # The first line only: a database error's later lines quote its parameters.
            first = (str(error).splitlines() or [type(error).__name__])[0][:200]
            log.exception("worker job %s failed: %s", name, first)
            report.failed.append(name)
    return report


def deliver(saldo: Saldo, *, now: datetime) -> Any:
    """Deliver the outbox through the gateways this instance has (SMS, email, webhooks)."""
    return deliver_notifications(saldo, now=now)


def run_forever(saldo: Saldo, *, interval: timedelta, stop: threading.Event) -> None:
    """Run passes every ``interval`` until ``stop`` is set. Logs (INFO) what it does when it
    starts, then each pass that did something, with its counts; passes that found nothing
    to do are not logged."""
    log.info("a pass every %s: %s", _every(interval), JOBS)
    while not stop.is_set():
        report = run_pass(saldo)
        done = report.done()
        if done:
            counts = ", ".join(f"{name} {count}" for name, count in done.items())
            log.info("pass at %s: %s", f"{report.at:%Y-%m-%d %H:%M:%S} UTC", counts)
        stop.wait(interval.total_seconds())


def _every(interval: timedelta) -> str:
    seconds = interval.total_seconds()
    return f"{seconds / 60:g} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g} s"
