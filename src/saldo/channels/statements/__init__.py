"""A line's statement for a month, for people and for their records: CSV (stable columns, one
row per movement, ``CSV_COLUMNS``; docs/api.md) and PDF (fpdf2, in the line's language; a
Chinese statement is written with Noto Sans CJK SC, everything else with DejaVu Sans, both
from Debian: scripts/install-system-deps.sh). Both format a ``Statement`` the use case
already decided; ``view.py`` writes its strings."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

from saldo.channels.statements.pdf import FontMissing, statement_pdf
from saldo.domain.money import Money
from saldo.services.history import Movement, Statement

__all__ = ["CSV_COLUMNS", "FontMissing", "movement_record", "statement_csv", "statement_pdf"]

# The CSV's columns, in this order (documented in docs/api.md; scripts rely on them):
# date       the local time in the operator's zone, ISO 8601 with its offset
# kind       topup, voucher, plan, usage, adjustment, refund, forfeit, other
# item       the plan and add-on codes' names, the voucher serial, voice/sms/data, a reason
# channel    how it reached Saldo: sms, ussd, web, app, store, reseller, auto, staff, network…
# amount     what it was worth to the line, signed, in ``currency``'s decimals ("-9000.00")
# balance_change, balance_after   the main balance's change and the balance after it
# bonus_change                    the bonus money's change
# voice_seconds, sms, data_bytes  allowances granted (positive) or used (negative)
# receipt    the top-up's or order's receipt number
CSV_COLUMNS = (
    "date",
    "kind",
    "item",
    "channel",
    "amount",
    "currency",
    "balance_change",
    "balance_after",
    "bonus_change",
    "voice_seconds",
    "sms",
    "data_bytes",
    "receipt",
)


def movement_record(movement: Movement, *, timezone: str) -> dict[str, str]:
    """One movement as the CSV's (and scripts') plain values."""
    return {
        "date": movement.at.astimezone(ZoneInfo(timezone)).isoformat(),
        "kind": movement.kind.value,
        "item": _text(movement.item),
        "channel": movement.channel or "",
        "amount": movement.amount.canonical(),
        "currency": movement.amount.currency,
        "balance_change": movement.balance_change.canonical(),
        "balance_after": _plain(movement.balance_after),
        "bonus_change": movement.bonus.canonical(),
        "voice_seconds": str(movement.allowances.voice_seconds),
        "sms": str(movement.allowances.sms),
        "data_bytes": str(movement.allowances.data_bytes),
        "receipt": movement.receipt or "",
    }


def statement_csv(statement: Statement) -> str:
    """The statement's movements as CSV: a header of CSV_COLUMNS, then one row per movement
    (the statement sums a day's usage of each service into one), oldest first, lines ending in
    CRLF (RFC 4180)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for movement in statement.movements:
        writer.writerow(movement_record(movement, timezone=statement.shown.timezone))
    return out.getvalue()


def _text(value: str | None) -> str:
    """A free text (a reason staff typed) that a spreadsheet will not read as a formula."""
    if value and value[0] in "=+-@\t\r":
        return "'" + value
    return value or ""


def _plain(money: Money | None) -> str:
    return "" if money is None else money.canonical()
