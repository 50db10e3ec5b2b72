"""Months of a statement in the operator's zone, and what kind of movement each event is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from saldo.domain.statement import InvalidMonth, MovementKind, movement_kind, parse_month

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
BUENOS_AIRES = "America/Argentina/Buenos_Aires"


def test_a_month_runs_from_its_first_local_midnight_to_the_next_month_s() -> None:
    month = parse_month("2026-02", now=NOW, timezone=BUENOS_AIRES)
    period = month.period(timezone=BUENOS_AIRES)

    assert month.label == "2026-02"
    assert month.last_day.isoformat() == "2026-02-28"
    assert period.starts_at == datetime(2026, 2, 1, 3, 0, tzinfo=UTC)
    assert period.ends_at == datetime(2026, 3, 1, 3, 0, tzinfo=UTC)


def test_the_current_month_is_the_local_one() -> None:
    # 1 December 01:00 UTC is still 30 November in Buenos Aires.
    late = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)

    with pytest.raises(InvalidMonth):
        parse_month("2026-12", now=late, timezone=BUENOS_AIRES)
    assert parse_month("2026-12", now=late, timezone="Europe/Brussels").label == "2026-12"


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-00", "11-2026", "2026-1", "", "1999-12", "2027-01"]
)
def test_a_month_badly_written_or_out_of_range_is_refused(text: str) -> None:
    with pytest.raises(InvalidMonth) as refused:
        parse_month(text, now=NOW, timezone=BUENOS_AIRES)

    assert refused.value.code == "invalid_month"


def test_a_top_up_by_voucher_is_a_voucher_and_an_unknown_event_is_other() -> None:
    assert movement_kind("topup", voucher=True) is MovementKind.VOUCHER
    assert movement_kind("order") is MovementKind.PLAN
    assert movement_kind("charging") is MovementKind.USAGE
    assert movement_kind("recycling") is MovementKind.FORFEIT
    assert movement_kind("something new") is MovementKind.OTHER
