"""A subscriber's journeys through the portal in a real browser (tests/browser/conftest.py):
signing in with the code from the SMS and out again; two lines on one account, with
JavaScript off; the language switched to Chinese and to Dutch."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from saldo.domain.buckets import BucketKind
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.services.adjust_balance import adjust_balance
from saldo.services.auto_renewal import set_auto_renewal
from saldo.services.lines import NewLine, add_line
from saldo.services.top_up import top_up
from tests.browser.conftest import PHONE, Portal
from tests.conftest import NOW

MOVISTAR = "+5491123456789"
CLARO_CO = "+573001234567"
MB = 1024 * 1024


def given_lines(portal: Portal) -> None:
    """A Movistar Argentina line with a plan on auto-renewal and some of its allowances, and
    a Claro Colombia line four days from the end of its validity."""
    uow = portal.saldo.uow
    add_line(uow(), new_line=NewLine(msisdn=MOVISTAR, operator="movistar-ar"), now=NOW)
    add_line(
        uow(),
        new_line=NewLine(msisdn=CLARO_CO, operator="claro-co"),
        now=NOW - timedelta(days=26),
    )
    top_up(
        uow(),
        msisdn=MOVISTAR,
        amount=Money.of("1500", "ARS"),
        channel=Channel.STORE,
        idempotency_key="seed",
        now=NOW,
    )
    # Money without new validity: the Claro line keeps its first 30 days.
    adjust_balance(
        uow(),
        msisdn=CLARO_CO,
        kind=BucketKind.MAIN,
        amount=Money.of("12000", "COP").minor,
        reason="goodwill",
        actor="test",
        idempotency_key="claro-goodwill",
        now=NOW,
    )
    for kind, units in ((BucketKind.DATA, 1536 * MB), (BucketKind.VOICE, 42 * 60)):
        adjust_balance(
            uow(),
            msisdn=MOVISTAR,
            kind=kind,
            amount=units,
            reason="welcome pack",
            actor="test",
            idempotency_key=f"pack-{kind.value}",
            expires_at=NOW + timedelta(days=30),
            now=NOW,
        )
    set_auto_renewal(
        uow(),
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


def sign_in(page: Any, portal: Portal, msisdn: str, *, photographed: bool = False) -> None:
    page.goto(portal.url + "/")
    if photographed:
        portal.check(page, "sign-in")
    page.locator("#msisdn").fill(msisdn)
    page.locator("form.card button").click()
    page.wait_for_url("**/sign-in/code**")
    if photographed:
        portal.check(page, "code")
    page.locator("#code").fill(portal.code_sent_to(msisdn))
    page.locator("#code").press("Enter")
    page.wait_for_url(portal.url + "/")


def test_a_subscriber_signs_in_with_the_code_from_the_sms_and_out_again(
    portal: Portal, phone: Any
) -> None:
    portal.journey = "sign-in"
    given_lines(portal)

    sign_in(phone, portal, MOVISTAR, photographed=True)
    portal.check(phone, "lines")
    phone.get_by_role("link", name=MOVISTAR).click()
    phone.wait_for_url("**/lines/**")
    portal.check(phone, "line")
    phone.get_by_role("button", name="Cerrar sesión").click()
    phone.wait_for_url("**/sign-in?bye=1")
    portal.check(phone, "signed-out")
    phone.goto(portal.url + "/")

    assert phone.url == portal.url + "/sign-in"
    assert phone.get_by_role("heading", level=1).inner_text() == "Sign in"


def test_two_lines_on_one_account_without_javascript(portal: Portal, browser: Any) -> None:
    portal.journey = "two-lines"
    given_lines(portal)
    context = browser.new_context(viewport=PHONE, java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    try:
        sign_in(page, portal, CLARO_CO)
        page.locator("nav a[href='/add-line']").click()
        portal.check(page, "add-line", without_javascript=browser)
        page.locator("#msisdn").fill(MOVISTAR)
        page.locator("form.card button").click()
        page.locator("#code").fill(portal.code_sent_to(MOVISTAR))
        page.locator("form.card button").click()
        page.wait_for_url("**/lines/%2B5491123456789")
        page.locator("nav a[href='/']").click()
        portal.check(page, "lines", without_javascript=browser)
        numbers = page.locator(".lines h2").all_inner_texts()
        warned = page.locator(".lines li:has(.warning) h2").all_inner_texts()
        page.get_by_role("link", name=CLARO_CO).click()
        portal.check(page, "line-to-renew", without_javascript=browser)
        page.locator("a[href$='/remove']").click()
        portal.check(page, "remove", without_javascript=browser)
    finally:
        context.close()

    assert sorted(numbers) == sorted([CLARO_CO, MOVISTAR])
    assert warned == [CLARO_CO]  # four days before the end of its validity


def test_the_language_switches_to_chinese_and_to_dutch(portal: Portal, phone: Any) -> None:
    portal.journey = "language"
    given_lines(portal)

    sign_in(phone, portal, MOVISTAR)
    phone.get_by_role("button", name="中文").click()
    phone.locator("html[lang='zh-Hans']").wait_for(state="attached")
    portal.check(phone, "lines-zh")
    phone.get_by_role("link", name=MOVISTAR).click()
    phone.wait_for_url("**/lines/**")
    portal.check(phone, "line-zh")
    chinese = phone.get_by_role("heading", level=2).all_inner_texts()
    phone.get_by_role("button", name="Nederlands").click()
    phone.locator("html[lang='nl']").wait_for(state="attached")
    portal.check(phone, "line-nl")
    dutch = phone.get_by_role("heading", level=2).all_inner_texts()
    phone.reload()

    assert chinese[0] == "余额明细"
    assert dutch[0] == "Tegoeden"
    assert phone.locator("html").get_attribute("lang") == "nl"  # kept in its cookie
