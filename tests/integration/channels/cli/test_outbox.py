"""``saldo outbox list|retry|secret`` on SQLite: messages listed with their recipients masked,
a dead message put back to pending, and the secret an operator checks its webhooks with."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from saldo.adapters.sms.fake import FakeSmsSender
from saldo.bootstrap import Saldo
from saldo.channels.notifications import notification_renderer
from saldo.services.access.sign_in import request_sign_in_code
from saldo.services.lines import NewLine, add_line
from saldo.services.notifications import queue
from saldo.services.outbox import Senders, deliver_outbox
from tests.access import ADDRESS, deliver_sms, policy_of
from tests.cli import Cli

LINE = "+5491155551234"


@pytest.fixture
def cli(saldo_sqlite: Saldo, capsys: pytest.CaptureFixture[str]) -> Cli:
    """A Movistar line with an expiry reminder by email waiting, and one by SMS queued without
    its date, which died on its first attempt."""
    saldo = saldo_sqlite
    now = saldo.clock.now()
    line = add_line(saldo.uow(), new_line=NewLine(msisdn=LINE, operator="movistar-ar"), now=now)
    reminder = {"kind": "expiry_reminder", "valid_until": line.valid_until.isoformat(), "days": 7}
    with saldo.uow() as uow:
        for channel, recipient, payload in (
            ("sms", LINE, {"kind": "expiry_reminder", "days": 7}),
            ("email", "ana.garcia@example.org", reminder),
        ):
            queue(
                uow,
                operator_id=line.operator_id,
                line_id=line.id,
                channel=channel,
                key=f"expiry-{line.id}-7-{channel}",
                recipient=recipient,
                payload=payload,
                now=now,
            )
        uow.commit()
    render = notification_renderer(webhook_secret=saldo.webhook_secret)
    deliver_outbox(saldo.uow(), senders=Senders(sms=FakeSmsSender()), render=render, now=now)
    return Cli(saldo, capsys)


def test_the_outbox_lists_messages_newest_first_with_recipients_masked(cli: Cli) -> None:
    listed = cli.json("outbox", "list")
    table = cli.ok("outbox", "list")

    assert isinstance(listed, list)
    assert [(m["channel"], m["state"], m["recipient"]) for m in listed] == [
        ("email", "pending", "a***@example.org"),
        ("sms", "dead", "+54911*****234"),
    ]
    dead = listed[1]
    assert dead["attempts"] == 1
    assert dead["kind"] == "expiry_reminder"
    assert dead["next_attempt_at"] is None
    assert dead["last_error"] == "the payload has no valid_until"
    assert LINE not in json.dumps(listed) and "ana.garcia" not in json.dumps(listed)
    assert "+54911*****234" in table and LINE not in table and "ana.garcia" not in table


def test_the_outbox_lists_only_the_state_asked_for(cli: Cli) -> None:
    dead = cli.json("outbox", "list", "--state", "dead", "--limit", "5")
    code, _, err = cli("outbox", "list", "--state", "lost")

    assert isinstance(dead, list)
    assert [message["state"] for message in dead] == ["dead"]
    assert code == 2 and "lost" in err


def test_a_dead_message_is_put_back_to_pending_and_a_pending_one_is_refused(cli: Cli) -> None:
    listed = cli.json("outbox", "list")
    assert isinstance(listed, list)
    email_id, sms_id = listed[0]["id"], listed[1]["id"]

    retried = cli.ok("outbox", "retry", str(sms_id))
    code, out, err = cli("outbox", "retry", str(email_id))
    after = cli.json("outbox", "list", "--state", "pending")

    assert retried == (
        f"Outbox message {sms_id} (expiry-1-7-sms, sms to +54911*****234) is pending again.\n"
    )
    assert (code, out) == (1, "")
    assert err == f"saldo: error: outbox message {email_id} is pending, not dead\n"
    assert isinstance(after, list)
    assert sorted(message["id"] for message in after) == sorted([email_id, sms_id])
    assert [m["attempts"] for m in after if m["id"] == sms_id] == [0]


def test_the_webhook_secret_of_an_operator_is_printed_for_it_to_check_signatures(
    cli: Cli,
) -> None:
    code, out, err = cli("outbox", "secret", "proximus-be")
    shown = cli.json("outbox", "secret", "tigo-co")

    assert code == 0
    assert out == cli.saldo.webhook_secret("proximus-be") + "\n"
    assert len(out.strip()) == 64 and out.strip() != cli.saldo.webhook_secret("tigo-co")
    assert "no webhook_url" in err
    assert shown == {
        "operator": "tigo-co",
        "webhook_url": None,
        "secret": cli.saldo.webhook_secret("tigo-co"),
    }


def test_outbox_show_prints_what_the_subscriber_receives_with_the_address_masked(
    cli: Cli,
) -> None:
    listed = cli.json("outbox", "list")
    assert isinstance(listed, list)
    email_id = listed[0]["id"]

    shown = cli.ok("outbox", "show", str(email_id))
    as_json = cli.json("outbox", "show", str(email_id))

    heading, to, subject, blank, _ = shown.split("\n", 4)
    assert heading == f"Outbox message {email_id}: email expiry_reminder, pending"
    assert to == "To: a***@example.org"
    assert blank == ""
    assert isinstance(as_json, dict)
    assert subject == f"Subject: {as_json['subject']}"
    assert as_json["text"].strip() and as_json["text"].strip() in shown
    assert "ana.garcia" not in shown


def test_outbox_show_of_an_unknown_or_unwritable_message_is_one_line(cli: Cli) -> None:
    listed = cli.json("outbox", "list")
    assert isinstance(listed, list)
    sms_id = listed[1]["id"]

    assert cli.refused("outbox", "show", "999") == "there is no outbox message 999"
    assert cli.refused("outbox", "show", str(sms_id)) == "the payload has no valid_until"


def test_a_sign_in_code_waiting_in_the_outbox_is_shown_hidden(cli: Cli) -> None:
    saldo = cli.saldo
    now = datetime.now(UTC)  # the CLI reads the real clock
    request_sign_in_code(
        saldo.uow(), policy=policy_of(saldo), msisdn=LINE, address=ADDRESS, now=now
    )
    waiting = [m for m in cli.json("outbox", "list") if m["state"] == "pending"]
    code_message = max(waiting, key=lambda m: m["id"])

    shown = cli.ok("outbox", "show", str(code_message["id"]))
    as_json = cli.json("outbox", "show", str(code_message["id"]))

    assert "••••••" in shown and not re.search(r"\d{6}", shown)
    assert isinstance(as_json, dict)
    assert "••••••" in as_json["text"] and not re.search(r"\d{6}", as_json["text"])
    # The subscriber still gets the code itself.
    sms = FakeSmsSender()
    assert re.search(r"(?<!\d)\d{6}(?!\d)", sent_code_text(saldo, sms, to=LINE, at=now))


def sent_code_text(saldo: Saldo, sms: FakeSmsSender, *, to: str, at: datetime) -> str:
    deliver_sms(saldo, sms, at=at)
    return [message for message in sms.sent if message.to == to][-1].text
