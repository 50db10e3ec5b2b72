"""The portal's settings over HTTP, on SQLite and PostgreSQL: a line's language, reminders and
alert changed from its settings page (a refused field changes nothing), auto-renewal and auto
top-up, the email proven by the code sent to it, and the account's calendar feed (parsed
with icalendar; a new address makes the old one 404; an account sees only its lines)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from saldo.adapters.email.fake import FakeMailer
from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.channels.notifications import notification_renderer
from saldo.domain.access import TokenKind
from saldo.services.access.line_settings import LineSettings, line_settings
from saldo.services.lines import NewLine, add_line, line_record, show_line
from saldo.services.outbox import Senders, deliver_outbox
from tests.access import policy_of, signed_in_token
from tests.conftest import NOW
from tests.portal import csrf_of, post_form, sign_in

MOVISTAR = "+5491123456789"
PROXIMUS = "+32470123456"
STRANGER = "+5491155554444"
SETTINGS = f"/lines/{PROXIMUS}/settings"
# Where the forms send the browser next: the number quoted, as every link to a line.
SETTINGS_HREF = "/lines/%2B32470123456/settings"
_CODE = re.compile(r"(?<![0-9])[0-9]{6}(?![0-9])")


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
    client = TestClient(create_app(saldo), base_url="https://testserver")
    assert sign_in(client, saldo, PROXIMUS).status_code == 303
    return client


@pytest.fixture
def settings_of(saldo: Saldo) -> Callable[[], LineSettings]:
    """The Proximus line's settings as the app API reads them (one token for the test)."""
    token = signed_in_token(saldo, PROXIMUS, at=NOW)

    def read() -> LineSettings:
        return line_settings(
            saldo.uow(), policy=policy_of(saldo), token=token, kind=TokenKind.APP,
            msisdn=PROXIMUS, now=NOW,
        )  # fmt: skip

    return read


def email_of(saldo: Saldo, msisdn: str) -> str | None:
    uow = saldo.uow()
    with uow.reading():
        return line_record(uow, number=msisdn).line.email


def emailed_code(saldo: Saldo, *, to: str) -> str:
    mailer = FakeMailer()
    render = notification_renderer(webhook_secret=saldo.webhook_secret)
    deliver_outbox(saldo.uow(), senders=Senders(email=mailer), render=render, now=NOW)
    mine = [email for email in mailer.sent if email.to == to]
    assert mine, [email.to for email in mailer.sent]
    found = _CODE.findall(mine[-1].text)
    assert len(found) == 1, mine[-1].text
    return str(found[0])


# -- the page -------------------------------------------------------------------------------------


def test_without_a_session_the_settings_page_sends_to_sign_in(saldo: Saldo) -> None:
    add_line(saldo.uow(), new_line=NewLine(msisdn=PROXIMUS, operator="proximus-be"), now=NOW)
    client = TestClient(create_app(saldo), base_url="https://testserver")

    answer = client.get(SETTINGS, follow_redirects=False)

    assert (answer.status_code, answer.headers["location"]) == (303, "/sign-in")


def test_the_settings_page_shows_the_line_s_settings_in_its_language(portal: TestClient) -> None:
    page = portal.get(SETTINGS)

    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "Réglages de +32470123456" in page.text
    assert 'value="fr" lang="fr" selected' in page.text
    assert 'name="reminder_7" value="on" checked' in page.text
    assert "sous 2,00\u00a0€" in page.text  # Proximus's own alert, in fr_BE
    assert "Créer l&#39;adresse de mon calendrier" in page.text


def test_another_account_s_line_has_no_settings_page(portal: TestClient) -> None:
    shown = portal.get(f"/lines/{STRANGER}/settings")
    token = csrf_of(portal.get(SETTINGS))
    changed = portal.post(
        f"/lines/{STRANGER}/settings",
        data={"csrf": token, "part": "general", "language": "en", "threshold": ""},
        follow_redirects=False,
    )
    emailed = portal.post(
        f"/lines/{STRANGER}/email",
        data={"csrf": token, "email": "ana@example.org"},
        follow_redirects=False,
    )

    assert (shown.status_code, changed.status_code, emailed.status_code) == (404, 404, 404)
    assert "line_not_found" in shown.text


def test_a_change_without_its_form_token_is_a_403_and_changes_nothing(
    portal: TestClient, settings_of: Callable[[], LineSettings]
) -> None:
    answer = portal.post(
        SETTINGS, data={"part": "general", "language": "nl"}, follow_redirects=False
    )

    assert answer.status_code == 403
    assert settings_of().language == "fr"


def test_language_reminders_and_alert_are_saved_and_the_portal_follows_the_language(
    portal: TestClient, settings_of: Callable[[], LineSettings]
) -> None:
    answer = post_form(
        portal, SETTINGS, page=SETTINGS, part="general", locale="fr_BE", language="nl",
        reminder_7="on", reminder_1="on", threshold="5,50",
    )  # fmt: skip

    assert (answer.status_code, answer.headers["location"]) == (303, SETTINGS_HREF + "?done=saved")
    saved = settings_of()
    assert (saved.language, saved.reminder_days) == ("nl", (7, 1))
    assert saved.own_threshold and saved.low_balance_threshold is not None
    assert saved.low_balance_threshold.minor == 550
    page = portal.get(SETTINGS + "?done=saved")
    assert '<html lang="nl">' in page.text
    assert "Opgeslagen." in page.text
    assert 'value="5,50"' in page.text


def test_a_refused_field_answers_the_form_with_400_and_changes_nothing(
    portal: TestClient, settings_of: Callable[[], LineSettings]
) -> None:
    answer = post_form(
        portal, SETTINGS, page=SETTINGS, part="general", locale="fr_BE", language="nl",
        reminder_7="on", threshold="beaucoup",
    )  # fmt: skip

    assert answer.status_code == 400
    assert "invalid_amount" in answer.text
    assert "Ce montant est illisible" in answer.text
    assert 'value="beaucoup" aria-invalid="true"' in answer.text  # as typed, marked
    saved = settings_of()
    assert (saved.language, saved.reminder_days, saved.own_threshold) == ("fr", (7, 3, 1), False)


def test_a_reminder_day_the_operator_does_not_offer_is_refused(
    portal: TestClient, settings_of: Callable[[], LineSettings]
) -> None:
    answer = post_form(
        portal, SETTINGS, page=SETTINGS, part="general", language="fr", reminder_5="on"
    )

    assert answer.status_code == 400
    assert "unable_to_set_reminders" in answer.text
    assert settings_of().reminder_days == (7, 3, 1)


def test_auto_renewal_is_turned_on_with_its_plan_and_off_again(
    portal: TestClient, settings_of: Callable[[], LineSettings]
) -> None:
    page = portal.get(SETTINGS).text
    assert 'name="provider" value="balance"' in page  # no renewal yet: paid from the balance
    first_plan = re.search(r'<select id="plan" name="plan">\s*<option value="([^"]+)"', page)
    assert first_plan is not None

    turned_on = post_form(
        portal, SETTINGS, page=SETTINGS, part="renewal", auto_renewal="on",
        plan=first_plan.group(1), provider="balance",
    )  # fmt: skip
    on = settings_of().auto_renewal
    turned_off = post_form(portal, SETTINGS, page=SETTINGS, part="renewal", provider="")
    off = settings_of().auto_renewal

    assert (turned_on.status_code, turned_off.status_code) == (303, 303)
    assert on is not None and on.enabled and on.plan_code == first_plan.group(1)
    assert on.provider == "balance"
    assert off is not None and not off.enabled


def test_auto_top_up_without_its_amounts_is_refused(
    portal: TestClient, settings_of: Callable[[], LineSettings]
) -> None:
    answer = post_form(
        portal, SETTINGS, page=SETTINGS, part="topup", locale="fr_BE", auto_topup="on"
    )

    assert answer.status_code == 400
    assert "auto_topup_incomplete" in answer.text
    assert settings_of().auto_topup is None


# -- the email ------------------------------------------------------------------------------------


def test_an_email_is_kept_only_once_the_code_sent_to_it_is_typed(
    portal: TestClient, saldo: Saldo
) -> None:
    email_page = f"/lines/{PROXIMUS}/email"
    asked = post_form(portal, email_page, page=email_page, email="ana@example.org")
    before = email_of(saldo, PROXIMUS)
    code = emailed_code(saldo, to="ana@example.org")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    refused = post_form(portal, email_page + "/code", page=email_page + "/code", code=wrong)
    confirmed = post_form(portal, email_page + "/code", page=email_page + "/code", code=code)
    again = post_form(portal, email_page + "/code", page=email_page + "/code", code=code)

    assert (asked.status_code, asked.headers["location"]) == (
        303,
        "/lines/%2B32470123456/email/code",
    )
    assert before is None
    assert refused.status_code == 400
    assert "wrong_code" in refused.text
    assert (confirmed.status_code, confirmed.headers["location"]) == (
        303,
        SETTINGS_HREF + "?done=email",
    )
    assert email_of(saldo, PROXIMUS) == "ana@example.org"
    assert again.status_code == 400
    assert "code_used" in again.text
    assert "ana@example.org" in portal.get(SETTINGS).text


def test_an_address_that_is_not_one_is_a_400_and_sends_nothing(
    portal: TestClient, saldo: Saldo
) -> None:
    email_page = f"/lines/{PROXIMUS}/email"

    refused = post_form(portal, email_page, page=email_page, email="ana at example")

    assert refused.status_code == 400
    assert "invalid_email" in refused.text
    mailer = FakeMailer()
    render = notification_renderer(webhook_secret=saldo.webhook_secret)
    deliver_outbox(saldo.uow(), senders=Senders(email=mailer), render=render, now=NOW)
    assert mailer.sent == []


def test_a_fourth_email_code_in_fifteen_minutes_is_a_429(portal: TestClient) -> None:
    email_page = f"/lines/{PROXIMUS}/email"
    answers = [
        post_form(portal, email_page, page=email_page, email="ana@example.org").status_code
        for _ in range(4)
    ]

    assert answers == [303, 303, 303, 429]


# -- the calendar feed ----------------------------------------------------------------------------


def calendar_url(portal: TestClient) -> str:
    found = re.search(
        r'id="calendar-url" type="text" readonly value="([^"]+)"', portal.get(SETTINGS).text
    )
    assert found is not None
    return found.group(1).removeprefix("https://testserver")


def test_the_calendar_feed_has_each_line_s_renew_by_and_last_days(
    portal: TestClient, saldo: Saldo
) -> None:
    made = post_form(portal, "/calendar", page=SETTINGS, next=SETTINGS)
    url = calendar_url(portal)

    feed = portal.get(url)

    assert (made.status_code, made.headers["location"]) == (303, SETTINGS + "?done=calendar")
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(feed.content)
    events = {str(event["summary"]): event["dtstart"].dt for event in calendar.walk("VEVENT")}
    valid_until = show_line(saldo.uow(), msisdn=PROXIMUS, now=NOW).valid_until
    last_day = (
        (valid_until - timedelta(microseconds=1)).astimezone(ZoneInfo("Europe/Brussels")).date()
    )
    assert events == {
        f"Renouveler {PROXIMUS} (Proximus)": last_day - timedelta(days=7),
        f"Dernier jour de {PROXIMUS} (Proximus)": last_day,
    }
    assert all(isinstance(day, date) for day in events.values())
    assert all(event.walk("VALARM") for event in calendar.walk("VEVENT"))


def test_a_new_calendar_address_makes_the_old_one_404(portal: TestClient) -> None:
    post_form(portal, "/calendar", page=SETTINGS, next=SETTINGS)
    old = calendar_url(portal)
    post_form(portal, "/calendar", page=SETTINGS, next=SETTINGS)
    new = calendar_url(portal)

    assert old != new
    assert portal.get(old).status_code == 404
    assert portal.get(new).status_code == 200
    assert portal.get("/calendar/" + "0" * 32 + ".ics").status_code == 404


def test_another_account_s_calendar_never_shows_this_account_s_lines(
    portal: TestClient, saldo: Saldo
) -> None:
    post_form(portal, "/calendar", page=SETTINGS, next=SETTINGS)
    mine = portal.get(calendar_url(portal)).text
    other = TestClient(create_app(saldo), base_url="https://testserver")
    assert sign_in(other, saldo, STRANGER).status_code == 303
    stranger_settings = f"/lines/{STRANGER}/settings"
    post_form(other, "/calendar", page=stranger_settings, next=stranger_settings)
    found = re.search(
        r'readonly value="https://testserver([^"]+)"', other.get(stranger_settings).text
    )
    assert found is not None
    theirs = other.get(found.group(1)).text

    assert PROXIMUS in mine and STRANGER not in mine
    assert STRANGER in theirs and PROXIMUS not in theirs and MOVISTAR not in theirs


def test_making_a_calendar_address_needs_the_form_token(portal: TestClient) -> None:
    answer = portal.post("/calendar", data={"next": SETTINGS}, follow_redirects=False)

    assert answer.status_code == 403
    assert "calendar-url" not in portal.get(SETTINGS).text
