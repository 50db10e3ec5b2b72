"""Codes asked for and confirmed by several real processes at the same moment, on SQLite and
PostgreSQL: the number's limit holds across processes (exactly three codes of six asked for
at once), and one code signs in once however many processes confirm it together."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.synchronize import Barrier

import pytest
from sqlalchemy import text

from saldo.adapters.db.engine import make_engine
from saldo.adapters.db.unit_of_work import SqlUnitOfWork
from saldo.bootstrap import Saldo
from saldo.domain.access import TokenKind
from saldo.services.access.policy import AccessPolicy
from saldo.services.access.sign_in import request_sign_in_code, sign_in
from saldo.services.lines import NewLine, add_line
from tests.access import policy_of
from tests.conftest import NOW

pytestmark = pytest.mark.slow

MOVISTAR = "+5491123456789"
CODE = "482913"


def _ask(url: str, policy: AccessPolicy, address: str, barrier: Barrier) -> str:
    engine = make_engine(url)
    barrier.wait(timeout=60)
    try:
        request_sign_in_code(
            SqlUnitOfWork(engine),
            policy=policy,
            msisdn=MOVISTAR,
            address=address,
            now=NOW,
            draw=lambda: CODE,
        )
    except Exception as error:  # reported to the parent, which asserts on the name
        return type(error).__name__
    finally:
        engine.dispose()
    return "asked"


def _confirm(url: str, policy: AccessPolicy, _address: str, barrier: Barrier) -> str:
    engine = make_engine(url)
    barrier.wait(timeout=60)
    try:
        sign_in(
            SqlUnitOfWork(engine),
            policy=policy,
            msisdn=MOVISTAR,
            code=CODE,
            kind=TokenKind.APP,
            now=NOW,
        )
    except Exception as error:
        return type(error).__name__
    finally:
        engine.dispose()
    return "signed in"


def _report(
    work: Callable[[str, AccessPolicy, str, Barrier], str],
    url: str,
    policy: AccessPolicy,
    address: str,
    barrier: Barrier,
    results: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    results.put(work(url, policy, address, barrier))


def at_once(
    saldo: Saldo, work: Callable[[str, AccessPolicy, str, Barrier], str], count: int
) -> list[str]:
    """``work`` in ``count`` processes released together; their outcomes, sorted."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(count)
    results = context.Queue()
    url, policy = saldo.settings.database_url, policy_of(saldo)
    processes = [
        context.Process(
            target=_report, args=(work, url, policy, f"198.51.100.{n}", barrier, results)
        )
        for n in range(count)
    ]
    for process in processes:
        process.start()
    outcomes = sorted(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=30)
    return outcomes


@pytest.fixture
def line(saldo: Saldo) -> Saldo:
    add_line(saldo.uow(), new_line=NewLine(msisdn=MOVISTAR, operator="movistar-ar"), now=NOW)
    return saldo


def test_six_processes_asking_at_once_get_three_codes(line: Saldo) -> None:
    outcomes = at_once(line, _ask, 6)

    assert outcomes == ["TooManyCodes"] * 3 + ["asked"] * 3
    with line.engine.connect() as connection:
        attempts = connection.execute(text("SELECT COUNT(*) FROM sign_in_attempts")).scalar()
        messages = connection.execute(text("SELECT COUNT(*) FROM outbox")).scalar()
    assert (attempts, messages) == (3, 3)


def test_one_code_confirmed_by_four_processes_at_once_signs_in_once(line: Saldo) -> None:
    request_sign_in_code(
        line.uow(),
        policy=policy_of(line),
        msisdn=MOVISTAR,
        address="127.0.0.1",
        now=NOW,
        draw=lambda: CODE,
    )

    outcomes = at_once(line, _confirm, 4)

    assert outcomes == ["CodeUsed"] * 3 + ["signed in"]
    with line.engine.connect() as connection:
        tokens = connection.execute(text("SELECT COUNT(*) FROM access_tokens")).scalar()
        accounts = connection.execute(text("SELECT COUNT(*) FROM subscriber_accounts")).scalar()
    assert (tokens, accounts) == (1, 1)
