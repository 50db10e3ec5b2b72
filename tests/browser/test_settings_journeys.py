"""A subscriber's settings in a real browser (tests/browser/conftest.py): the language of a
Proximus line changed to Dutch and the page following it, the reminder days set, an email
proven with the code read from the email the outbox wrote, and the calendar feed's address
copied from the page and fetched."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar

from saldo.channels.notifications import notification_renderer
from saldo.services.lines import NewLine, add_line, show_line
from saldo.services.outbox import deliver_outbox, outbox_messages
from tests.browser.conftest import Portal
from tests.conftest import NOW

PROXIMUS = "+32470123456"
EMAIL = "an.peeters@example.be"
_CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


def code_emailed_to(portal: Portal, address: str) -> str:
    """Deliver the outbox as the worker would (to the folder) and read the code in the last
    email written to ``address``."""
    render = notification_renderer(webhook_secret=portal.saldo.webhook_secret)
    for _ in range(100):
        deliver_outbox(
            portal.saldo.uow(),
            senders=portal.saldo.notification_senders(),
            render=render,
            now=portal.saldo.clock.now(),
        )
        waiting = outbox_messages(portal.saldo.uow(), state="pending", limit=100)
        if not [message for message in waiting if message.recipient == address]:
            break
        time.sleep(0.05)
    written = sorted(portal.outbox.glob("*.email.txt"), key=lambda path: path.stat().st_mtime)
    for path in reversed(written):
        headers, _, body = path.read_text(encoding="utf-8").partition("\n\n")
        if f"To: {address}" in headers.splitlines():
            found = _CODE.findall(body)
            assert len(found) == 1, body
            return str(found[0])
    raise AssertionError(f"no email to {address} in {portal.outbox}")


def test_a_subscriber_sets_language_reminders_email_and_calendar(
    portal: Portal, phone: Any
) -> None:
    portal.journey = "settings"
    add_line(
        portal.saldo.uow(),
        new_line=NewLine(msisdn=PROXIMUS, operator="proximus-be", language="fr"),
        now=NOW,
    )
    phone.goto(portal.url + "/sign-in")
    phone.locator("#msisdn").fill(PROXIMUS)
    phone.locator("form.card button").click()
    phone.wait_for_url("**/sign-in/code**")
    phone.locator("#code").fill(portal.code_sent_to(PROXIMUS))
    phone.locator("#code").press("Enter")
    phone.wait_for_url(portal.url + "/")

    phone.get_by_role("link", name=PROXIMUS).click()
    phone.wait_for_url("**/lines/**")
    phone.locator("a[href$='/settings']").click()
    phone.wait_for_url("**/settings")
    portal.check(phone, "settings")
    french = phone.get_by_role("heading", level=1).inner_text()

    general = phone.locator("section[aria-labelledby='general']")
    general.get_by_label("Langue des messages de cette ligne").select_option("nl")
    general.get_by_label("3 jours avant la fin de validité").uncheck()
    general.get_by_label("1 jour avant la fin de validité").uncheck()
    general.get_by_role("button").click()
    phone.wait_for_url("**/settings?done=saved")
    phone.locator("html[lang='nl']").wait_for(state="attached")
    portal.check(phone, "settings-nl")
    dutch = phone.get_by_role("heading", level=1).inner_text()
    ticked = [box.is_checked() for box in general.locator("input[type='checkbox']").all()]

    phone.get_by_role("link", name="E-mailadres toevoegen").click()
    phone.wait_for_url("**/email")
    portal.check(phone, "email")
    phone.get_by_label("E-mailadres").fill(EMAIL)
    phone.get_by_role("button", name="Stuur me een code").click()
    phone.wait_for_url("**/email/code")
    portal.check(phone, "email-code")
    phone.locator("#code").fill(code_emailed_to(portal, EMAIL))
    phone.locator("#code").press("Enter")
    phone.wait_for_url("**/settings?done=email")
    confirmed = phone.locator("section[aria-labelledby='email'] .address").inner_text()

    phone.get_by_role("button", name="Het adres van mijn agenda maken").click()
    phone.wait_for_url("**/settings?done=calendar")
    portal.check(phone, "calendar")
    address = phone.locator("#calendar-url").input_value()
    feed = phone.request.get(address)

    assert french == f"Réglages de {PROXIMUS}"
    assert dutch == f"Instellingen van {PROXIMUS}"
    assert ticked == [True, False, False]  # 7, 3 and 1 day before
    assert confirmed == EMAIL
    assert feed.status == 200
    events = {
        str(event["summary"]): event["dtstart"].dt
        for event in Calendar.from_ical(feed.body()).walk("VEVENT")
    }
    valid_until = show_line(portal.saldo.uow(), msisdn=PROXIMUS, now=NOW).valid_until
    last_day = (
        (valid_until - timedelta(microseconds=1)).astimezone(ZoneInfo("Europe/Brussels")).date()
    )
    assert events == {
        f"{PROXIMUS} verlengen (Proximus)": last_day - timedelta(days=7),
        f"Laatste dag van {PROXIMUS} (Proximus)": last_day,
    }
