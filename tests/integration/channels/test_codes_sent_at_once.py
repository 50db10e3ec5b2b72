"""A code goes out as soon as it is asked for, from the app API and the portal alike, on
SQLite and PostgreSQL: the server sends its SMS right after answering, without waiting for
the worker's next pass, and the answer is the same whether or not a line has the number.
Development's outbox folder stands in for the SMS gateway (the same sender the demo uses)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.config import Settings
from saldo.services.lines import NewLine, add_line
from saldo.services.outbox import outbox_messages
from tests.conftest import NOW
from tests.portal import post_form

MOVISTAR = "+5491123456789"
UNKNOWN = "+5491199998888"
_CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


@pytest.fixture
def development(saldo: Saldo, tmp_path: Path) -> Iterator[tuple[Saldo, Path]]:
    """The test database served as in development, its SMS written to a folder."""
    folder = tmp_path / "outbox"
    settings = Settings(
        database_url=saldo.settings.database_url,
        environment="development",
        outbox_folder=str(folder),
    )
    served = Saldo(
        settings=settings, engine=make_engine(settings.database_url), clock=FixedClock(NOW)
    )
    add_line(served.uow(), new_line=NewLine(msisdn=MOVISTAR, operator="movistar-ar"), now=NOW)
    try:
        yield served, folder
    finally:
        served.close()


def texts_to(folder: Path, msisdn: str) -> list[str]:
    found = []
    for path in sorted(folder.glob("*.sms.txt")):
        headers, _, body = path.read_text(encoding="utf-8").partition("\n\n")
        if f"To: {msisdn}" in headers.splitlines():
            found.append(body)
    return found


def test_the_app_s_code_is_sent_before_the_worker_passes(
    development: tuple[Saldo, Path],
) -> None:
    saldo, folder = development
    app = TestClient(create_app(saldo))

    known = app.post("/api/v1/auth/codes", json={"msisdn": MOVISTAR})
    unknown = app.post("/api/v1/auth/codes", json={"msisdn": UNKNOWN})

    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())
    [text] = texts_to(folder, MOVISTAR)
    assert len(_CODE.findall(text)) == 1
    assert texts_to(folder, UNKNOWN) == []
    sent = outbox_messages(saldo.uow(), state="sent", limit=10)
    assert [message.recipient for message in sent] == [MOVISTAR]
    assert outbox_messages(saldo.uow(), state="pending", limit=10) == []


def test_the_portal_s_code_is_sent_before_the_worker_passes(
    development: tuple[Saldo, Path],
) -> None:
    saldo, folder = development
    portal = TestClient(create_app(saldo))

    asked = post_form(portal, "/sign-in", page="/sign-in", msisdn=MOVISTAR)

    assert asked.status_code == 303, asked.text
    [text] = texts_to(folder, MOVISTAR)
    code = _CODE.findall(text)[0]
    signed = post_form(
        portal, "/sign-in/code", page=asked.headers["location"], msisdn=MOVISTAR, code=code
    )
    assert signed.status_code == 303, signed.text
    assert signed.headers["location"] == "/"
