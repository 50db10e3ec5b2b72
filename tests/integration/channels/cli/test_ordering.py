"""``saldo orders create|pay|show|list|cancel|reconcile|autorenew`` on SQLite, end to end:
an order paid with a sandbox card, its receipt emailed through a real SMTP server (aiosmtpd)
and kept for ``saldo orders show``; bad input answered with one line on stderr."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from saldo.bootstrap import Saldo
from saldo.services.lines import NewLine, add_line
from tests.cli import Cli
from tests.smtp import SmtpServer, smtp_server

LINE = "+5491155551234"  # movistar-ar, Spanish: pack-mensual-1m $9.000, card fee 3.5 %


@pytest.fixture
def mail(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    with smtp_server() as running:
        monkeypatch.setenv("SALDO_SMTP_URL", running.url())
        yield running


@pytest.fixture
def cli(saldo_sqlite: Saldo, capsys: pytest.CaptureFixture[str]) -> Cli:
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn=LINE, operator="movistar-ar"),
        now=saldo_sqlite.clock.now(),
    )
    return Cli(saldo_sqlite, capsys)


def create(cli: Cli, *extra: str) -> dict[str, object]:
    created = cli.json("orders", "create", LINE, "pack-mensual-1m", *extra)
    assert isinstance(created, dict)
    return created


def test_an_order_paid_by_card_is_fulfilled_and_its_receipt_emailed(
    cli: Cli, mail: SmtpServer, tmp_path: Path
) -> None:
    order = create(cli, "--email", "ana@example.org")

    paid = cli.ok("orders", "pay", str(order["id"]), "--card", "4242424242424242")
    shown = cli.json("orders", "show", str(order["id"]))
    text = cli.ok("orders", "show", str(order["id"]), "--receipt")
    page = tmp_path / "receipt.html"
    code, _, err = cli("orders", "show", str(order["id"]), "--html", str(page))

    assert order["state"] == "draft"
    assert order["total"] == {"amount": "9315.00", "currency": "ARS", "minor": 931500}
    assert "paid and fulfilled: receipt MOVISTAR-AR-" in paid
    assert isinstance(shown, dict)
    assert [event["to_state"] for event in shown["history"]] == [
        "draft", "awaiting_payment", "paid", "fulfilled",
    ]  # fmt: skip
    assert shown["payments"][0]["card_last4"] == "4242"
    receipt_number = str(shown["receipt_number"])
    assert receipt_number in text and "$9.315,00" in text
    assert code == 0 and receipt_number in err
    assert receipt_number in page.read_text(encoding="utf-8")
    (email,) = mail.received
    assert email.rcpt_tos == ("ana@example.org",)
    assert receipt_number in email.body("plain") and receipt_number in email.body("html")
    assert email.message["Content-Language"] == "es-AR"
    database = Path(cli.saldo.settings.database_url.removeprefix("sqlite:///"))
    for file in database.parent.glob(database.name + "*"):  # with the WAL
        assert b"4242424242424242" not in file.read_bytes()  # no card number stored


def test_a_declined_card_is_one_line_and_the_order_stays_payable(cli: Cli) -> None:
    order = create(cli)

    refused = cli.refused("orders", "pay", str(order["id"]), "--card", "4000000000000002")
    paid = cli.ok("orders", "pay", str(order["id"]), "--card", "4242424242424242")

    assert refused.startswith("the payment was declined (card_declined)")
    assert "paid and fulfilled" in paid


def test_a_pending_card_waits_for_reconcile(cli: Cli) -> None:
    order = create(cli)

    pending = cli.ok("orders", "pay", str(order["id"]), "--card", "4000000000001000")
    summary = cli.json("orders", "reconcile")
    shown = cli.json("orders", "show", str(order["id"]))

    assert "is awaiting_payment: the payment is pending at sandbox" in pending
    assert summary == {
        "checked": 0, "settled": 0, "still_pending": 0, "refunded": 0, "expired": 0,
        "auto_renewals": {
            "not_due": 0, "renewed": 0, "pending": 0, "retry_later": 0, "gave_up": 0,
        },
        "receipts_sent": 0,
    }  # fmt: skip
    assert isinstance(shown, dict) and shown["payments"][0]["status"] == "pending"


def test_orders_are_listed_newest_first_and_cancelled(cli: Cli) -> None:
    first = create(cli, "--key", "first")
    second = create(cli, "--key", "second")

    cancelled = cli.ok("orders", "cancel", str(first["id"]), "--reason", "typo")
    listed = cli.json("orders", "list", "--line", LINE)
    drafts = cli.json("orders", "list", "--state", "draft")

    assert f"Order {first['id']} is cancelled." in cancelled
    assert isinstance(listed, list) and [o["id"] for o in listed] == [second["id"], first["id"]]
    assert isinstance(drafts, list) and [o["id"] for o in drafts] == [second["id"]]


def test_auto_renewal_is_set_with_a_token_and_refuses_a_card_number(cli: Cli) -> None:
    on = cli.ok(
        "orders", "autorenew", LINE, "--plan", "pack-mensual-1m",
        "--provider", "sandbox", "--token", "tok_approve", "--fallback-to-balance",
    )  # fmt: skip
    refused = cli.refused(
        "orders", "autorenew", LINE, "--provider", "sandbox", "--token", "4242424242424242"
    )
    off = cli.ok("orders", "autorenew", LINE, "--off")

    assert "pack-mensual-1m, 3 day(s) before expiry, paid with sandbox (then the balance)" in on
    assert "card number" in refused
    assert "is off" in off


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("orders", "pay", "999"), "there is no order 999"),
        (("orders", "show", "999"), "there is no order 999"),
        (("orders", "create", LINE, "nope"), "Movistar has no plan 'nope'"),
        (("orders", "create", LINE, "pack-mensual-1m", "--pay-in", "XYZ"), "XYZ"),
    ],
)
def test_bad_input_is_one_line_on_stderr(cli: Cli, args: tuple[str, ...], message: str) -> None:
    assert message in cli.refused(*args)


def test_a_receipt_of_an_unpaid_order_is_refused(cli: Cli) -> None:
    order = create(cli)

    assert "receipts come with fulfilment" in cli.refused(
        "orders", "show", str(order["id"]), "--receipt"
    )


def test_a_receipt_to_a_path_that_cannot_be_written_is_one_line(cli: Cli, tmp_path: Path) -> None:
    order = create(cli)
    cli.ok("orders", "pay", str(order["id"]), "--card", "4242424242424242")

    code, _, err = cli(
        "orders", "show", str(order["id"]), "--html", str(tmp_path / "nowhere" / "r.html")
    )

    assert code == 1
    assert err.count("\n") == 1 and "cannot be written" in err and "Traceback" not in err


@pytest.mark.parametrize("address", ["bad@@x", "a@b.c\nBcc: x@y.z", "not-an-address"])
def test_an_order_for_an_email_that_cannot_receive_its_receipt_is_refused(
    cli: Cli, address: str
) -> None:
    refused = cli.refused("orders", "create", LINE, "pack-mensual-1m", "--email", address)

    assert "is not an email address" in refused
    assert cli.json("orders", "list", "--line", LINE) == []
