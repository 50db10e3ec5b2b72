"""A statement and a line's movements as people read them: labels in the line's language and
every amount, date and time written for its locale and the operator's zone. The CSV and the
PDF only lay these strings out."""

from __future__ import annotations

from dataclasses import dataclass

from saldo.domain.money import Money, format_money
from saldo.domain.statement import MovementKind
from saldo.i18n import date_text, local_moment, quantities, translate
from saldo.services.history import Movement, Statement


@dataclass(frozen=True, slots=True)
class MovementRow:
    moment: str
    description: str
    channel: str
    amount: str
    balance: str


@dataclass(frozen=True, slots=True)
class StatementText:
    lang: str
    title: str
    header: tuple[tuple[str, str], ...]  # (label, value)
    columns: tuple[str, str, str, str, str]
    rows: tuple[MovementRow, ...]
    nothing: str  # said when there are no rows
    totals: tuple[tuple[str, str], ...]
    made: str
    questions: str


def description(movement: Movement, *, language: str, locale: str) -> str:
    """What a movement was, in ``language``: "Plan: Monthly Pack 30 days", "Usage: data
    (3 GB)", "Voucher top-up 0000123", "Adjustment: goodwill"."""
    kind = translate(f"movement_{movement.kind.value}", language=language)
    item = movement.item
    if movement.kind is MovementKind.USAGE and item in ("voice", "sms", "data"):
        item = translate(f"service_{item}", language=language)
        used = quantities(
            locale=locale,
            voice_seconds=-movement.allowances.voice_seconds,
            sms=-movement.allowances.sms,
            data_bytes=-movement.allowances.data_bytes,
        )
        if used:
            item = f"{item} ({used})"
    return f"{kind}: {item}" if item else kind


def movement_row(movement: Movement, *, language: str, locale: str, timezone: str) -> MovementRow:
    return MovementRow(
        moment=local_moment(movement.at, timezone=timezone, locale=locale),
        description=description(movement, language=language, locale=locale),
        channel=movement.channel or "",
        amount=format_money(movement.amount, locale=locale),
        balance=_money(movement.balance_after, locale),
    )


def statement_text(statement: Statement) -> StatementText:
    shown, language = statement.shown, statement.language
    locale, timezone = shown.locale, shown.timezone

    def say(key: str, **values: str) -> str:
        return translate(key, language=language, **values)

    return StatementText(
        lang=locale.replace("_", "-"),
        title=say("statement_title", month=statement.month, operator=statement.operator_name),
        header=(
            (say("statement_line"), statement.msisdn_masked),
            (
                say("statement_period"),
                say(
                    "statement_period_value",
                    first=date_text(statement.first_day, locale=locale),
                    last=date_text(statement.last_day, locale=locale),
                ),
            ),
            (say("statement_opening"), format_money(statement.opening, locale=locale)),
            (say("statement_closing"), format_money(statement.closing, locale=locale)),
        ),
        columns=(
            say("statement_date"),
            say("statement_description"),
            say("statement_channel"),
            say("statement_amount"),
            say("statement_balance"),
        ),
        rows=tuple(
            movement_row(m, language=language, locale=locale, timezone=timezone)
            for m in statement.movements
        ),
        nothing=say("statement_nothing"),
        totals=(
            (say("statement_credits"), format_money(statement.totals.credits, locale=locale)),
            (say("statement_debits"), format_money(statement.totals.debits, locale=locale)),
        ),
        made=say(
            "statement_made",
            moment=local_moment(statement.made_at, timezone=timezone, locale=locale),
        ),
        questions=say(
            "statement_questions", operator=statement.operator_name, hotline=statement.hotline
        ),
    )


def _money(money: Money | None, locale: str) -> str:
    return "" if money is None else format_money(money, locale=locale)
