"""The portal over HTTP, on SQLite and PostgreSQL: signing in with the code the outbox sent,
the session cookie's flags, CSRF refusals that change nothing, 429 with Retry-After, a line
of another account answered as a 404 page, adding and removing a line, the language, signing
out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from saldo.adapters.clock import FixedClock
from saldo.adapters.db.engine import make_engine
from saldo.adapters.sms.fake import FakeSmsSender
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.config import Settings
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.auto_renewal import set_auto_renewal
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up
from tests.access import sent_code
from tests.conftest import NOW
from tests.portal import csrf_of, post_form, sign_in

MOVISTAR = "+5491123456789"
PROXIMUS = "+32470123456"
STRANGER = "+5491155554444"


@pytest.fixture
def portal(saldo: Saldo) -> TestClient:
    for msisdn, operator, language in (
        (MOVISTAR, "movistar-ar", "es"),
        (PROXIMUS, "proximus-be", "fr"),
        (STRANGER, "movistar-ar", "es"),
    ):
        add_line(
            saldo.uow(),
            new_line=NewLine(msisdn=msisdn, operator=operator, language=language),
            now=NOW,
        )
    top_up(
        saldo.uow(),
        msisdn=MOVISTAR,
        amount=Money.of("1500", "ARS"),
        channel=Channel.STORE,
        idempotency_key="seed",
        now=NOW,
    )
    return TestClient(create_app(saldo), base_url="https://testserver")


def signed_in(portal: TestClient, saldo: Saldo, msisdn: str = MOVISTAR) -> TestClient:
    answer = sign_in(portal, saldo, msisdn)
    assert answer.status_code == 303, answer.text
    return portal


def outbox_rows(saldo: Saldo) -> int:
    with saldo.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM outbox")).scalar_one())


def account_rows(saldo: Saldo) -> int:
    with saldo.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM account_lines")).scalar_one())


# -- signing in -----------------------------------------------------------------------------------


def test_the_sign_in_page_sets_a_signed_form_cookie_and_private_headers(
    portal: TestClient,
) -> None:
    page = portal.get("/sign-in", headers={"Accept-Language": "nl-BE,nl;q=0.9"})

    assert page.status_code == 200
    assert '<html lang="nl">' in page.text
    assert "Aanmelden" in page.text
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("saldo_csrf=")
    assert all(flag in cookie for flag in ("HttpOnly", "SameSite=lax", "Secure", "Path=/"))
    assert csrf_of(page) == portal.cookies["saldo_csrf"]
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


def test_a_code_read_from_the_sms_opens_a_session_cookie_with_its_flags(
    portal: TestClient, saldo: Saldo
) -> None:
    answer = sign_in(portal, saldo, MOVISTAR)

    assert answer.status_code == 303
    assert answer.headers["location"] == "/"
    session = next(c for c in answer.headers.get_list("set-cookie") if "saldo_session=" in c)
    assert all(
        flag in session for flag in ("HttpOnly", "SameSite=lax", "Secure", "Max-Age=2592000")
    )
    lines = portal.get("/")
    assert lines.status_code == 200
    assert MOVISTAR in lines.text
    assert "$1.500,00" in lines.text  # es_AR: the line's own language


def test_each_sign_in_opens_a_new_session(portal: TestClient, saldo: Saldo) -> None:
    first = sign_in(portal, saldo, MOVISTAR).cookies["saldo_session"]
    saldo.clock.set(NOW + timedelta(minutes=1))  # type: ignore[attr-defined]
    second = sign_in(portal, saldo, MOVISTAR).cookies["saldo_session"]

    assert first != second


def test_in_development_the_cookies_are_not_secure(database_url: str, clock: FixedClock) -> None:
    saldo = Saldo(
        settings=Settings(database_url=database_url, environment="development"),
        engine=make_engine(database_url),
        clock=clock,
    )
    try:
        page = TestClient(create_app(saldo)).get("/sign-in")
    finally:
        saldo.close()

    assert "Secure" not in page.headers["set-cookie"]
    assert "HttpOnly" in page.headers["set-cookie"]


def test_an_unknown_number_gets_the_same_answer_as_a_known_one(portal: TestClient) -> None:
    known = post_form(portal, "/sign-in", page="/sign-in", msisdn=MOVISTAR)
    unknown = post_form(portal, "/sign-in", page="/sign-in", msisdn="+5491199998888")

    assert (known.status_code, unknown.status_code) == (303, 303)
    known_page = portal.get(known.headers["location"]).text
    unknown_page = portal.get(unknown.headers["location"]).text
    assert known_page.replace("5491123456789", "N") == unknown_page.replace("5491199998888", "N")


def test_a_fourth_code_in_fifteen_minutes_is_a_429_page_with_retry_after(
    portal: TestClient, clock: FixedClock
) -> None:
    for minute in range(3):
        clock.set(NOW + timedelta(minutes=minute))
        post_form(portal, "/sign-in", page="/sign-in", msisdn=MOVISTAR)

    clock.set(NOW + timedelta(minutes=5))
    refused = post_form(portal, "/sign-in", page="/sign-in", msisdn=MOVISTAR)

    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "600"
    assert "too_many_codes" in refused.text
    assert "10 minutes" in refused.text


def test_a_number_that_cannot_be_read_is_a_400_page_and_nothing_is_sent(
    portal: TestClient, saldo: Saldo
) -> None:
    refused = post_form(portal, "/sign-in", page="/sign-in", msisdn="not a number")

    assert refused.status_code == 400
    assert "invalid_msisdn" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert outbox_rows(saldo) == 0


def test_a_wrong_code_is_a_400_page_and_signs_nobody_in(portal: TestClient, saldo: Saldo) -> None:
    asked = post_form(portal, "/sign-in", page="/sign-in", msisdn=MOVISTAR)
    code = sent_code(saldo, FakeSmsSender(), to=MOVISTAR, at=NOW)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    refused = post_form(
        portal, "/sign-in/code", page=asked.headers["location"], msisdn=MOVISTAR, code=wrong
    )

    assert refused.status_code == 400
    assert "wrong_code" in refused.text
    assert "saldo_session" not in portal.cookies
    assert portal.get("/", follow_redirects=False).headers["location"] == "/sign-in"


# -- CSRF -----------------------------------------------------------------------------------------


def test_a_post_without_its_form_token_is_a_403_and_sends_no_code(
    portal: TestClient, saldo: Saldo
) -> None:
    portal.get("/sign-in")

    missing = portal.post("/sign-in", data={"msisdn": MOVISTAR}, follow_redirects=False)
    forged = portal.post(
        "/sign-in", data={"msisdn": MOVISTAR, "csrf": "forged.value"}, follow_redirects=False
    )

    assert (missing.status_code, forged.status_code) == (403, 403)
    assert "invalid_form" in missing.text
    assert outbox_rows(saldo) == 0


def test_a_signed_in_form_needs_the_session_s_own_token(portal: TestClient, saldo: Saldo) -> None:
    signed_in(portal, saldo)
    before_sign_in = TestClient(create_app(saldo), base_url="https://testserver")
    stranger_token = csrf_of(before_sign_in.get("/sign-in"))

    refused = portal.post(
        f"/lines/{MOVISTAR}/remove", data={"csrf": stranger_token}, follow_redirects=False
    )

    assert refused.status_code == 403
    assert account_rows(saldo) == 1
    assert MOVISTAR in portal.get("/").text


# -- my lines, a line -----------------------------------------------------------------------------


def test_the_lines_closest_to_loss_come_first_with_the_week_before_warning(
    portal: TestClient, saldo: Saldo, clock: FixedClock
) -> None:
    signed_in(portal, saldo)
    added = post_form(portal, "/add-line", page="/add-line", msisdn=PROXIMUS)
    code = sent_code(saldo, FakeSmsSender(), to=PROXIMUS, at=NOW)
    post_form(portal, "/add-line/code", page=added.headers["location"], msisdn=PROXIMUS, code=code)
    top_up(
        saldo.uow(),
        msisdn=PROXIMUS,
        amount=Money.of("50", "EUR"),
        channel=Channel.STORE,
        idempotency_key="a-year",
        now=NOW,
    )

    clock.set(NOW + timedelta(days=25))
    page = portal.get("/", headers={"Accept-Language": "en"})

    assert page.status_code == 200
    assert page.text.index(MOVISTAR) < page.text.index(PROXIMUS)
    movistar = page.text[page.text.index(MOVISTAR) : page.text.index(PROXIMUS)]
    assert "Renová ya:" in movistar  # the first line's language: Spanish
    assert "esta línea vence el 22 dic 2026" in movistar
    assert "Renová ya:" not in page.text[page.text.index(PROXIMUS) :]
    assert 'fill="#fdda24"' in page.text  # the Belgian flag
    assert "Bélgica" in page.text


def test_a_line_s_page_shows_its_buckets_against_the_plan_and_the_apn(
    portal: TestClient, saldo: Saldo
) -> None:
    set_auto_renewal(
        saldo.uow(),
        msisdn=MOVISTAR,
        plan_code="pack-mensual-1m",
        provider="balance",
        token=None,
        providers=(),
        fallback_to_balance=True,
        days_before=3,
        email=None,
        enabled=True,
        now=NOW,
    )
    signed_in(portal, saldo)

    page = portal.get(f"/lines/{MOVISTAR}")

    assert page.status_code == 200
    assert "<h1>+5491123456789</h1>" in page.text
    assert "$1.500,00" in page.text
    assert "<meter" in page.text
    assert "internet.gprs.unifon.com.ar" in page.text
    assert "Activada:" in page.text
    assert 'aria-current="step"' in page.text
    assert "Por SMS el 16 dic 2026" in page.text


def test_another_account_s_line_is_a_404_page(portal: TestClient, saldo: Saldo) -> None:
    signed_in(portal, saldo)

    theirs = portal.get(f"/lines/{STRANGER}")
    nobody_s = portal.get("/lines/+5491100000000")
    garbage = portal.get("/lines/garbage")
    remove = portal.get(f"/lines/{STRANGER}/remove")

    assert [theirs.status_code, nobody_s.status_code, garbage.status_code] == [404, 404, 404]
    assert remove.status_code == 404
    assert "Movistar" not in theirs.text  # nothing of the line itself
    assert "line_not_found" in theirs.text


def test_a_page_without_a_session_sends_to_the_sign_in_page(portal: TestClient) -> None:
    for path in ("/", f"/lines/{MOVISTAR}", "/add-line"):
        answer = portal.get(path, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in")


# -- adding and removing lines --------------------------------------------------------------------


def test_a_line_is_added_with_the_code_sent_to_it_and_removed_without_touching_it(
    portal: TestClient, saldo: Saldo
) -> None:
    signed_in(portal, saldo)
    asked = post_form(portal, "/add-line", page="/add-line", msisdn=PROXIMUS)
    code = sent_code(saldo, FakeSmsSender(), to=PROXIMUS, at=NOW)
    added = post_form(
        portal, "/add-line/code", page=asked.headers["location"], msisdn=PROXIMUS, code=code
    )
    before = inquire_balance(saldo.uow(), msisdn=PROXIMUS, now=NOW)

    confirm = portal.get(f"/lines/{PROXIMUS}/remove")
    removed = post_form(portal, f"/lines/{PROXIMUS}/remove", page=f"/lines/{PROXIMUS}/remove")

    assert asked.status_code == 303
    assert (added.status_code, added.headers["location"]) == (303, "/lines/%2B32470123456")
    assert confirm.status_code == 200
    assert (removed.status_code, removed.headers["location"]) == (303, "/?done=removed")
    assert PROXIMUS not in portal.get("/").text
    assert portal.get(f"/lines/{PROXIMUS}").status_code == 404
    assert inquire_balance(saldo.uow(), msisdn=PROXIMUS, now=NOW) == before


def test_a_wrong_code_for_a_line_adds_nothing(portal: TestClient, saldo: Saldo) -> None:
    signed_in(portal, saldo)
    asked = post_form(portal, "/add-line", page="/add-line", msisdn=PROXIMUS)
    code = sent_code(saldo, FakeSmsSender(), to=PROXIMUS, at=NOW)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    refused = post_form(
        portal, "/add-line/code", page=asked.headers["location"], msisdn=PROXIMUS, code=wrong
    )

    assert refused.status_code == 400
    assert "wrong_code" in refused.text
    assert account_rows(saldo) == 1


# -- language, signing out ------------------------------------------------------------------------


def test_the_language_chosen_is_kept_and_every_page_speaks_it(
    portal: TestClient, saldo: Saldo
) -> None:
    signed_in(portal, saldo)

    chosen = post_form(portal, "/language", page="/", language="zh", next=f"/lines/{MOVISTAR}")
    page = portal.get(f"/lines/{MOVISTAR}")

    assert (chosen.status_code, chosen.headers["location"]) == (303, f"/lines/{MOVISTAR}")
    assert "saldo_language=zh" in chosen.headers["set-cookie"]
    assert '<html lang="zh-Hans">' in page.text
    assert "余额明细" in page.text
    assert "2026年12月22日" in page.text


def test_an_unknown_language_is_a_400_and_a_foreign_next_goes_home(
    portal: TestClient, saldo: Saldo
) -> None:
    refused = post_form(portal, "/language", page="/sign-in", language="de", next="/")
    away = post_form(portal, "/language", page="/sign-in", language="fr", next="//evil.test/")

    assert refused.status_code == 400
    assert "saldo_language" not in refused.headers.get("set-cookie", "")
    assert away.headers["location"] == "/"


def test_signing_out_revokes_the_session(portal: TestClient, saldo: Saldo) -> None:
    signed_in(portal, saldo)
    session = portal.cookies["saldo_session"]

    out = post_form(portal, "/sign-out", page="/")
    again = TestClient(create_app(saldo), base_url="https://testserver")
    again.cookies.set("saldo_session", session)
    replayed = again.get("/", follow_redirects=False)

    assert (out.status_code, out.headers["location"]) == (303, "/sign-in?bye=1")
    assert 'saldo_session=""' in out.headers["set-cookie"]
    assert (replayed.status_code, replayed.headers["location"]) == (303, "/sign-in")
