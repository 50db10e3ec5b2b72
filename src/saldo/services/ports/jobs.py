"""Ports of the worker's scheduled jobs: when each one last ran."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class JobRunRepository(Protocol):
    def last_run(self, job: str) -> datetime | None:
        """When ``job`` last ran to the end (None: never)."""
        ...

    def record_run(self, job: str, *, at: datetime) -> None: ...
