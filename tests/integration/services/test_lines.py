"""Registering lines (one at a time or imported), finding them, listing them by their state
at the moment asked, and tenant scoping, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from saldo.adapters.clock import FixedClock
from saldo.bootstrap import Saldo
from saldo.domain.lifecycle import LineState
from saldo.domain.numbering import ForeignMsisdn
from saldo.domain.operator import SimKind
from saldo.services.lines import (
    LineAlreadyExists,
    LineNotFound,
    NewLine,
    add_line,
    find_line,
    import_lines,
    list_lines,
)

LINE = "+5491123456789"


@pytest.fixture
def line(saldo: Saldo) -> str:
    add_line(
        saldo.uow(),
        new_line=NewLine(msisdn="011 15 2345-6789", operator="movistar-ar", language="zh"),
        now=saldo.clock.now(),
    )
    return LINE


def test_a_national_number_is_stored_in_e164_with_its_language(saldo: Saldo, line: str) -> None:
    found = find_line(saldo.uow(), msisdn=line)

    assert found.msisdn == "+5491123456789"
    assert found.language == "zh"
    assert found.sim_kind is SimKind.PHYSICAL


def test_a_live_number_cannot_be_registered_twice(saldo: Saldo, line: str) -> None:
    with pytest.raises(LineAlreadyExists):
        add_line(
            saldo.uow(), new_line=NewLine(msisdn=line, operator="claro-ar"), now=saldo.clock.now()
        )


def test_a_number_of_another_country_is_refused(saldo: Saldo) -> None:
    with pytest.raises(ForeignMsisdn):
        add_line(
            saldo.uow(), new_line=NewLine(msisdn=LINE, operator="tigo-co"), now=saldo.clock.now()
        )
    assert list_lines(saldo.uow(), now=saldo.clock.now()) == []


def test_an_import_adds_good_rows_and_reports_bad_ones(saldo: Saldo) -> None:
    rows = [
        (2, NewLine(msisdn="+573001234567", operator="claro-co")),
        (3, NewLine(msisdn="+573001234567", operator="claro-co")),
        (4, NewLine(msisdn="+32470123456", operator="claro-co")),
        (5, NewLine(msisdn="+32470123456", operator="proximus-be", sim_kind=SimKind.ESIM)),
        (6, NewLine(msisdn="+573109876543", operator="nope")),
    ]

    report = import_lines(saldo.uow(), rows=rows, now=saldo.clock.now(), chunk_size=2)

    assert report.imported == 2
    assert [number for number, _ in report.rejected] == [3, 4, 6]
    assert len(list_lines(saldo.uow(), now=saldo.clock.now())) == 2


def test_a_unit_of_work_scoped_to_an_operator_cannot_see_another_operators_lines(
    saldo: Saldo, line: str
) -> None:
    with saldo.uow().reading() as uow:
        claro = uow.operators.get_by_slug("claro-co")
    assert claro is not None

    with pytest.raises(LineNotFound):
        find_line(saldo.uow(operator_id=claro.id), msisdn=line)
    assert list_lines(saldo.uow(operator_id=claro.id), now=saldo.clock.now()) == []
    assert len(list_lines(saldo.uow(), now=saldo.clock.now())) == 1


def test_lines_are_listed_and_filtered_by_their_state_at_the_moment_asked(
    saldo: Saldo, clock: FixedClock
) -> None:
    # given a claro-co line (grace 30 days, suspension 60) registered 40 days ago, so in
    # grace now, and one registered today
    clock.advance(timedelta(days=-40))
    add_line(
        saldo.uow(), new_line=NewLine(msisdn="+573001234567", operator="claro-co"), now=clock.now()
    )
    clock.advance(timedelta(days=40))
    add_line(
        saldo.uow(), new_line=NewLine(msisdn="+573109876543", operator="claro-co"), now=clock.now()
    )

    # when lines are listed by state
    def numbers(state: LineState | None) -> list[str]:
        return [v.msisdn for v in list_lines(saldo.uow(), now=clock.now(), state=state)]

    # then each shows the state it is in now, although none was ever written down as such
    assert numbers(LineState.GRACE) == ["+573001234567"]
    assert numbers(LineState.ACTIVE) == ["+573109876543"]
    assert numbers(LineState.SUSPENDED) == []
    assert [v.state for v in list_lines(saldo.uow(), now=clock.now())] == [
        LineState.GRACE,
        LineState.ACTIVE,
    ]
