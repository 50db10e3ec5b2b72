"""What ``saldo orders`` and ``saldo lines alert|autotopup`` print, word for word, on both
databases: a transcript of one afternoon (the clock frozen) with orders quoted, placed, paid,
shown and reconciled, auto-renewal and auto top-up turned on and off, a low-balance threshold
chosen, and the refusals that are usage errors (exit 2) beside those that are not (exit 1).
Each command is one use case; what they print must not move when the use cases do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from saldo.bootstrap import Saldo
from saldo.services.lines import NewLine, add_line
from tests.cli import Cli
from tests.conftest import NOW

BE = "+32470123456"  # proximus-be, French: auto top-up offered
AR = "+5491155551234"  # movistar-ar, Spanish: pack-mensual-1m $9.000, card fee 3.5 %

COMMANDS = (
    ("orders", "quote", AR, "pack-mensual-1m", "--addon", "datos-5gb"),
    ("orders", "quote", AR, "pack-mensual-1m", "--pay-in", "USD", "--method", "paypal"),
    ("orders", "quote", "+5491100000000", "pack-mensual-1m"),
    ("orders", "create", BE, "mobile-smart-3m", "--email", "ana@example.org", "--key", "k1"),
    ("orders", "create", BE, "mobile-smart-3m", "--email", "ana@example.org", "--key", "k1"),
    ("orders", "pay", "1", "--provider", "stripe", "--card", "4242424242424242"),
    ("orders", "pay", "1", "--card", "4242424242424242"),
    ("orders", "show", "1"),
    ("orders", "show", "1", "--receipt"),
    ("orders", "create", AR, "pack-mensual-1m", "--method", "balance", "--key", "k2"),
    ("orders", "pay", "2"),
    ("orders", "create", AR, "pack-mensual-1m", "--pay-in", "USD", "--key", "k3"),
    ("orders", "pay", "3", "--card", "4000000000001000"),
    ("orders", "reconcile"),
    ("orders", "autorenew", AR, "--off"),
    ("orders", "autorenew", AR, "--plan", "pack-mensual-1m"),
    ("orders", "autorenew", AR, "--provider", "sandbox", "--token", "tok_approve",
     "--days-before", "5"),
    ("orders", "autorenew", AR, "--off"),
    ("orders", "autorenew", AR, "--provider", "stripe", "--token", "tok_approve"),
    ("lines", "alert", BE, "--below", "3,50"),
    ("lines", "alert", BE, "--below", "tres"),
    ("lines", "alert", BE, "--default"),
    ("lines", "alert", AR, "--below", "1.500"),
    ("lines", "autotopup", BE, "--off"),
    ("lines", "autotopup", BE, "--below", "2,00", "--amount", "10"),
    ("lines", "autotopup", BE, "--below", "2,00", "--amount", "10", "--token", "tok_approve"),
    ("lines", "autotopup", BE, "--off"),
    ("lines", "autotopup", AR, "--below", "2.000", "--amount", "10.000", "--token", "tok_approve"),
    ("lines", "autotopup", "+32470000000", "--off"),
    ("orders", "quote", AR, "pack-mensual-1m", "--pay-in", "USD", "--json"),
    ("orders", "create", BE, "mobile-smart-3m", "--key", "k4", "--json"),
    ("orders", "pay", "4", "--card", "4242424242424242", "--json"),
    ("orders", "show", "1", "--json"),
    ("orders", "list", "--line", BE, "--json"),
    ("orders", "reconcile", "--json"),
)  # fmt: skip

TRANSCRIPT = """\
$ saldo orders quote +5491155551234 pack-mensual-1m --addon datos-5gb
[0]
Pack Mensual 30 días + 5 GB extra
┌──────────────────────┬────────────┐
│ price (tax included) │ $13.500,00 │
│ net                  │ $11.157,02 │
│ tax (21 %)           │  $2.342,98 │
│ fee (card)           │    $472,50 │
│ total                │ $13.972,50 │
└──────────────────────┴────────────┘
$ saldo orders quote +5491155551234 pack-mensual-1m --pay-in USD --method paypal
[0]
Pack Mensual 30 días
┌──────────────────────────┬──────────────────────┐
│ price (tax included)     │            $9.000,00 │
│ net                      │            $7.438,02 │
│ tax (21 %)               │            $1.561,98 │
│ rate (less a 2 % spread) │ 1 USD = 1.421,24 ARS │
│ market rate              │ 1 USD = 1.450,25 ARS │
│ rate source              │        bcra, 1 h old │
│ in USD                   │              US$6,33 │
│ fee (paypal)             │              US$0,49 │
│ total                    │              US$6,82 │
└──────────────────────────┴──────────────────────┘
$ saldo orders quote +5491100000000 pack-mensual-1m
[1]
stderr: saldo: error: no line with number +5491100000000
$ saldo orders create +32470123456 mobile-smart-3m --email ana@example.org --key k1
[0]
Order 1: mobile-smart-3m for +32470123456, 43,47 € by card; quote valid until 2026-11-22 16:15 CET.
Pay it: saldo orders pay 1 --card 4242424242424242
$ saldo orders create +32470123456 mobile-smart-3m --email ana@example.org --key k1
[0]
Order 1: mobile-smart-3m for +32470123456, 43,47 € by card; quote valid until 2026-11-22 16:15 CET.
Pay it: saldo orders pay 1 --card 4242424242424242
$ saldo orders pay 1 --provider stripe --card 4242424242424242
[2]
stderr: saldo: error: Invalid value: --card is for sandbox test cards; give stripe a --token
$ saldo orders pay 1 --card 4242424242424242
[0]
Order 1 paid and fulfilled: receipt PROXIMUS-BE-2026-000001, valid until 2027-03-23 00:00 CET.
$ saldo orders show 1
[0]
Order 1 — mobile-smart-3m for +32470123456: fulfilled, 43,47 € by card, receipt PROXIMUS-BE-2026-000001
history
┏━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━┓
┃ when (UTC)        ┃ from             ┃ to               ┃ reason             ┃
┡━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━┩
│ 2026-11-22        │                  │ draft            │ placed             │
│ 15:00:00          │                  │                  │                    │
│ 2026-11-22        │ draft            │ awaiting_payment │ confirmed by the   │
│ 15:00:00          │                  │                  │ payer              │
│ 2026-11-22        │ awaiting_payment │ paid             │ paid with sandbox  │
│ 15:00:00          │                  │                  │                    │
│ 2026-11-22        │ paid             │ fulfilled        │ validity extended  │
│ 15:00:00          │                  │                  │ to 2027-03-22      │
│                   │                  │                  │ 23:00 UTC          │
└───────────────────┴──────────────────┴──────────────────┴────────────────────┘
┏━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━━━━┳━━━━━━┓
┃ provider ┃ reference                ┃ status    ┃ amount  ┃ card      ┃ note ┃
┡━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━━━━╇━━━━━━┩
│ sandbox  │ sbx_xxxxxxxxxxxxxxxxxxxx │ succeeded │ 43,47 € │ •••• 4242 │      │
│          │ xxxx                     │           │         │           │      │
└──────────┴──────────────────────────┴───────────┴─────────┴───────────┴──────┘
$ saldo orders show 1 --receipt
[0]
Proximus — Reçu de renouvellement d'offre

N° de reçu : PROXIMUS-BE-2026-000001
N° de commande : 1
Ligne : +32470123456
Payé le : 22 nov. 2026 16:00

Votre offre
  Offre : Mobile Smart 3 mois
  Durée : 3 mois
  Nouvelle validité : Valable jusqu'au 22 mars 2027

Montants
  Prix catalogue : 42,00 €
  Prix TVA comprise : 42,00 €
  Montant hors TVA : 34,71 €
  TVA (21 %) : 7,29 €

Paiement
  Moyen de paiement : Carte de crédit •••• 4242
  Frais de paiement : 1,47 €
  Total payé : 43,47 €

Des questions ? Appelez Proximus au 6000.

$ saldo orders create +5491155551234 pack-mensual-1m --method balance --key k2
[0]
Order 2: pack-mensual-1m for +5491155551234, $9.000,00 by balance; quote valid until 2026-11-22 12:15 -03.
Pay it: saldo orders pay 2
$ saldo orders pay 2
[1]
stderr: saldo: error: Pack Mensual 30 días costs 9000.00 ARS; the balance is 0.00 ARS
$ saldo orders create +5491155551234 pack-mensual-1m --pay-in USD --key k3
[0]
Order 3: pack-mensual-1m for +5491155551234, US$6,55 by card; quote valid until 2026-11-22 12:15 -03.
Pay it: saldo orders pay 3 --card 4242424242424242
$ saldo orders pay 3 --card 4000000000001000
[0]
Order 3 is awaiting_payment: the payment is pending at sandbox; `saldo orders reconcile` asks again.
$ saldo orders reconcile
[0]
0 payment(s) checked: 0 settled, 0 still pending; 0 refunded; 0 order(s) expired; 0 line(s) renewed automatically; 0 receipt(s) sent.
$ saldo orders autorenew +5491155551234 --off
[2]
stderr: saldo: error: Invalid value: --plan is needed to turn auto-renewal on
$ saldo orders autorenew +5491155551234 --plan pack-mensual-1m
[0]
Auto-renewal of +5491155551234: pack-mensual-1m, 3 day(s) before expiry, paid with balance.
$ saldo orders autorenew +5491155551234 --provider sandbox --token tok_approve --days-before 5
[0]
Auto-renewal of +5491155551234: pack-mensual-1m, 5 day(s) before expiry, paid with sandbox.
$ saldo orders autorenew +5491155551234 --off
[0]
Auto-renewal of +5491155551234 is off.
$ saldo orders autorenew +5491155551234 --provider stripe --token tok_approve
[1]
stderr: saldo: error: 'stripe' is not a payment provider here (balance, sandbox)
$ saldo lines alert +32470123456 --below 3,50
[0]
+32470123456 is warned below 3,50 € (its own threshold).
$ saldo lines alert +32470123456 --below tres
[1]
stderr: saldo: error: 'tres' is not an amount
$ saldo lines alert +32470123456 --default
[0]
+32470123456 is warned below 2,00 € (the operator's threshold).
$ saldo lines alert +5491155551234 --below 1.500
[0]
+5491155551234 is warned below $1.500,00 (its own threshold).
$ saldo lines autotopup +32470123456 --off
[2]
stderr: saldo: error: Invalid value: +32470123456 has no auto top-up
$ saldo lines autotopup +32470123456 --below 2,00 --amount 10
[2]
stderr: saldo: error: Invalid value: --below, --amount and --token turn auto top-up on
$ saldo lines autotopup +32470123456 --below 2,00 --amount 10 --token tok_approve
[0]
Auto top-up of +32470123456: 10,00 € whenever main money falls below 2,00 €, paid with sandbox.
$ saldo lines autotopup +32470123456 --off
[0]
Auto top-up of +32470123456 is off.
$ saldo lines autotopup +5491155551234 --below 2.000 --amount 10.000 --token tok_approve
[1]
stderr: saldo: error: Movistar does not offer auto top-up
$ saldo lines autotopup +32470000000 --off
[1]
stderr: saldo: error: no line with number +32470000000
$ saldo orders quote +5491155551234 pack-mensual-1m --pay-in USD --json
[0]
{
  "msisdn": "+5491155551234",
  "plan": "pack-mensual-1m",
  "addons": [],
  "gross": {
    "amount": "9000.00",
    "currency": "ARS",
    "minor": 900000
  },
  "promotion": null,
  "discount": {
    "amount": "0.00",
    "currency": "ARS",
    "minor": 0
  },
  "free_months": 0,
  "price": {
    "amount": "9000.00",
    "currency": "ARS",
    "minor": 900000
  },
  "tax_rate": "0.21",
  "net": {
    "amount": "7438.02",
    "currency": "ARS",
    "minor": 743802
  },
  "tax": {
    "amount": "1561.98",
    "currency": "ARS",
    "minor": 156198
  },
  "pay_in": "USD",
  "rate": {
    "base": "USD",
    "quote": "ARS",
    "rate": "1421.2450",
    "source": "bcra",
    "via": null,
    "fetched_at": "2026-11-22T14:00:00+00:00",
    "age_seconds": 3600
  },
  "market_rate": {
    "base": "USD",
    "quote": "ARS",
    "rate": "1450.25",
    "source": "bcra",
    "via": null,
    "fetched_at": "2026-11-22T14:00:00+00:00",
    "age_seconds": 3600
  },
  "spread": "0.02",
  "converted": {
    "amount": "6.33",
    "currency": "USD",
    "minor": 633
  },
  "method": "card",
  "fee": {
    "amount": "0.22",
    "currency": "USD",
    "minor": 22
  },
  "total": {
    "amount": "6.55",
    "currency": "USD",
    "minor": 655
  }
}
$ saldo orders create +32470123456 mobile-smart-3m --key k4 --json
[0]
{
  "id": 4,
  "msisdn": "+32470123456",
  "state": "draft",
  "plan": "mobile-smart-3m",
  "addons": [],
  "price": {
    "amount": "42.00",
    "currency": "EUR",
    "minor": 4200
  },
  "net": {
    "amount": "34.71",
    "currency": "EUR",
    "minor": 3471
  },
  "tax": {
    "amount": "7.29",
    "currency": "EUR",
    "minor": 729
  },
  "tax_rate": "0.21",
  "promotion": null,
  "pay_in": "EUR",
  "rate": null,
  "market_rate": null,
  "spread": null,
  "method": "card",
  "fee": {
    "amount": "1.47",
    "currency": "EUR",
    "minor": 147
  },
  "total": {
    "amount": "43.47",
    "currency": "EUR",
    "minor": 4347
  },
  "channel": "cli",
  "placed_by": "subscriber",
  "expires_at": "2026-11-22T15:15:00+00:00",
  "created_at": "2026-11-22T15:00:00+00:00",
  "paid_at": null,
  "fulfilled_at": null,
  "receipt_number": null,
  "valid_until": null
}
$ saldo orders pay 4 --card 4242424242424242 --json
[0]
{
  "id": 4,
  "msisdn": "+32470123456",
  "state": "fulfilled",
  "plan": "mobile-smart-3m",
  "addons": [],
  "price": {
    "amount": "42.00",
    "currency": "EUR",
    "minor": 4200
  },
  "net": {
    "amount": "34.71",
    "currency": "EUR",
    "minor": 3471
  },
  "tax": {
    "amount": "7.29",
    "currency": "EUR",
    "minor": 729
  },
  "tax_rate": "0.21",
  "promotion": null,
  "pay_in": "EUR",
  "rate": null,
  "market_rate": null,
  "spread": null,
  "method": "card",
  "fee": {
    "amount": "1.47",
    "currency": "EUR",
    "minor": 147
  },
  "total": {
    "amount": "43.47",
    "currency": "EUR",
    "minor": 4347
  },
  "channel": "cli",
  "placed_by": "subscriber",
  "expires_at": "2026-11-22T15:15:00+00:00",
  "created_at": "2026-11-22T15:00:00+00:00",
  "paid_at": "2026-11-22T15:00:00+00:00",
  "fulfilled_at": "2026-11-22T15:00:00+00:00",
  "receipt_number": "PROXIMUS-BE-2026-000004",
  "valid_until": "2027-06-22T22:00:00+00:00"
}
$ saldo orders show 1 --json
[0]
{
  "id": 1,
  "msisdn": "+32470123456",
  "state": "fulfilled",
  "plan": "mobile-smart-3m",
  "addons": [],
  "price": {
    "amount": "42.00",
    "currency": "EUR",
    "minor": 4200
  },
  "net": {
    "amount": "34.71",
    "currency": "EUR",
    "minor": 3471
  },
  "tax": {
    "amount": "7.29",
    "currency": "EUR",
    "minor": 729
  },
  "tax_rate": "0.21",
  "promotion": null,
  "pay_in": "EUR",
  "rate": null,
  "market_rate": null,
  "spread": null,
  "method": "card",
  "fee": {
    "amount": "1.47",
    "currency": "EUR",
    "minor": 147
  },
  "total": {
    "amount": "43.47",
    "currency": "EUR",
    "minor": 4347
  },
  "channel": "cli",
  "placed_by": "subscriber",
  "expires_at": "2026-11-22T15:15:00+00:00",
  "created_at": "2026-11-22T15:00:00+00:00",
  "paid_at": "2026-11-22T15:00:00+00:00",
  "fulfilled_at": "2026-11-22T15:00:00+00:00",
  "receipt_number": "PROXIMUS-BE-2026-000001",
  "valid_until": "2027-03-22T23:00:00+00:00",
  "history": [
    {
      "from_state": null,
      "to_state": "draft",
      "reason": "placed",
      "created_at": "2026-11-22T15:00:00+00:00"
    },
    {
      "from_state": "draft",
      "to_state": "awaiting_payment",
      "reason": "confirmed by the payer",
      "created_at": "2026-11-22T15:00:00+00:00"
    },
    {
      "from_state": "awaiting_payment",
      "to_state": "paid",
      "reason": "paid with sandbox",
      "created_at": "2026-11-22T15:00:00+00:00"
    },
    {
      "from_state": "paid",
      "to_state": "fulfilled",
      "reason": "validity extended to 2027-03-22 23:00 UTC",
      "created_at": "2026-11-22T15:00:00+00:00"
    }
  ],
  "payments": [
    {
      "provider": "sandbox",
      "reference": "sbx_xxxxxxxxxxxxxxxxxxxxxxxx",
      "status": "succeeded",
      "amount": {
        "amount": "43.47",
        "currency": "EUR",
        "minor": 4347
      },
      "decline_code": null,
      "card_last4": "4242",
      "refunded_at": null,
      "created_at": "2026-11-22T15:00:00+00:00"
    }
  ]
}
$ saldo orders list --line +32470123456 --json
[0]
[
  {
    "id": 4,
    "msisdn": "+32470123456",
    "state": "fulfilled",
    "plan": "mobile-smart-3m",
    "addons": [],
    "price": {
      "amount": "42.00",
      "currency": "EUR",
      "minor": 4200
    },
    "net": {
      "amount": "34.71",
      "currency": "EUR",
      "minor": 3471
    },
    "tax": {
      "amount": "7.29",
      "currency": "EUR",
      "minor": 729
    },
    "tax_rate": "0.21",
    "promotion": null,
    "pay_in": "EUR",
    "rate": null,
    "market_rate": null,
    "spread": null,
    "method": "card",
    "fee": {
      "amount": "1.47",
      "currency": "EUR",
      "minor": 147
    },
    "total": {
      "amount": "43.47",
      "currency": "EUR",
      "minor": 4347
    },
    "channel": "cli",
    "placed_by": "subscriber",
    "expires_at": "2026-11-22T15:15:00+00:00",
    "created_at": "2026-11-22T15:00:00+00:00",
    "paid_at": "2026-11-22T15:00:00+00:00",
    "fulfilled_at": "2026-11-22T15:00:00+00:00",
    "receipt_number": "PROXIMUS-BE-2026-000004",
    "valid_until": "2027-06-22T22:00:00+00:00"
  },
  {
    "id": 1,
    "msisdn": "+32470123456",
    "state": "fulfilled",
    "plan": "mobile-smart-3m",
    "addons": [],
    "price": {
      "amount": "42.00",
      "currency": "EUR",
      "minor": 4200
    },
    "net": {
      "amount": "34.71",
      "currency": "EUR",
      "minor": 3471
    },
    "tax": {
      "amount": "7.29",
      "currency": "EUR",
      "minor": 729
    },
    "tax_rate": "0.21",
    "promotion": null,
    "pay_in": "EUR",
    "rate": null,
    "market_rate": null,
    "spread": null,
    "method": "card",
    "fee": {
      "amount": "1.47",
      "currency": "EUR",
      "minor": 147
    },
    "total": {
      "amount": "43.47",
      "currency": "EUR",
      "minor": 4347
    },
    "channel": "cli",
    "placed_by": "subscriber",
    "expires_at": "2026-11-22T15:15:00+00:00",
    "created_at": "2026-11-22T15:00:00+00:00",
    "paid_at": "2026-11-22T15:00:00+00:00",
    "fulfilled_at": "2026-11-22T15:00:00+00:00",
    "receipt_number": "PROXIMUS-BE-2026-000001",
    "valid_until": "2027-03-22T23:00:00+00:00"
  }
]
$ saldo orders reconcile --json
[0]
{
  "checked": 0,
  "settled": 0,
  "still_pending": 0,
  "refunded": 0,
  "expired": 0,
  "auto_renewals": {
    "not_due": 0,
    "renewed": 0,
    "pending": 0,
    "retry_later": 0,
    "gave_up": 0
  },
  "receipts_sent": 0
}
"""  # noqa: E501 (lines as the commands print them)


# A sandbox payment's reference is random; the payments table wraps it after 24 characters.
REFERENCE = re.compile(r"sbx_[0-9a-f]{24}")
WRAPPED_REFERENCE = re.compile(r"sbx_[0-9a-f]{20}( │[^\n]*\n│ +│ )[0-9a-f]{4} ")


def without_references(text: str) -> str:
    text = REFERENCE.sub("sbx_" + "x" * 24, text)
    return WRAPPED_REFERENCE.sub(lambda found: f"sbx_{'x' * 20}{found[1]}xxxx ", text)


@pytest.fixture
def cli(
    saldo: Saldo,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Cli:
    monkeypatch.setenv("SALDO_FROZEN_NOW", NOW.isoformat())
    monkeypatch.setenv("SALDO_ENVIRONMENT", "test")
    for msisdn, operator in ((BE, "proximus-be"), (AR, "movistar-ar")):
        add_line(saldo.uow(), new_line=NewLine(msisdn=msisdn, operator=operator), now=NOW)
    cli = Cli(saldo, capsys)
    rates = tmp_path / "rates.csv"
    rates.write_text(
        "base,quote,rate,fetched_at\nUSD,ARS,1450.25,2026-11-22T14:00:00+00:00\n", encoding="utf-8"
    )
    cli.ok("fx", "load", str(rates), "--source", "bcra")
    return cli


def test_the_order_and_line_setting_commands_print_what_they_always_printed(cli: Cli) -> None:
    transcript = []
    for args in COMMANDS:
        code, out, err = cli(*args)
        transcript.append(f"$ saldo {' '.join(args)}\n[{code}]\n{out}{err and 'stderr: ' + err}")

    assert without_references("".join(transcript)) == TRANSCRIPT
