"""Scratch-card vouchers through the use cases, on SQLite and PostgreSQL: generating a batch
(only keyed hashes stored), redeeming a PIN once, voiding a batch, and the block after five
wrong PINs within 24 hours."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from saldo.adapters.clock import FixedClock
from saldo.adapters.db import tables as t
from saldo.bootstrap import Saldo
from saldo.catalog.schema import OperatorSpec, bundled_specs
from saldo.domain.lines import Channel
from saldo.domain.money import Money
from saldo.domain.topup import (
    AmountAboveMaximum,
    AmountBelowMinimum,
    TopUpReceipt,
    WrongCurrency,
)
from saldo.domain.vouchers import MAX_WRONG_PINS, format_pin, pin_hash, read_pin
from saldo.services.audit import audit_ledger
from saldo.services.inquire_balance import inquire_balance
from saldo.services.lines import NewLine, add_line
from saldo.services.operators import UnknownOperator, register_operator
from saldo.services.top_up import top_up
from saldo.services.vouchers import (
    GeneratedBatch,
    RedemptionBlocked,
    UnableToGenerate,
    UnknownBatch,
    VoucherAlreadyUsed,
    VoucherExpired,
    VoucherVoided,
    WrongPin,
    generate_vouchers,
    list_batches,
    redeem_voucher,
    void_batch,
)

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
IN_A_YEAR = datetime(2027, 11, 22, 15, 0, tzinfo=UTC)
CLARO = "+573001234567"
CLARO_OTHER = "+573001234568"
TIGO = "+573101234567"

# Payloads whose Luhn check digits are published (test card numbers), so the PINs handed out
# can be checked against a source other than our own Luhn code.
VISA_DIGITS, VISA = "411111111111111", "4111111111111111"
ZEROS_DIGITS, ZEROS = "400000000000000", "4000000000000002"
MASTERCARD_DIGITS, MASTERCARD = "555555555555444", "5555555555554444"
# A PIN with a valid check digit that no voucher in these tests has.
NOBODYS_PIN = "6011111111111117"


def cop(amount: str) -> Money:
    return Money.of(amount, "COP")


def digits(*payloads: str) -> Callable[[], str]:
    """A ``random_digits`` that hands out these 15-digit payloads, in order."""
    remaining = iter(payloads)
    return lambda: next(remaining)


def numbered(first: int) -> Callable[[], str]:
    """A ``random_digits`` that hands out first, first + 1, ... as 15-digit payloads."""
    counter = iter(range(first, first + 1_000))
    return lambda: f"{next(counter):015d}"


def given_line(saldo: Saldo, msisdn: str = CLARO, operator: str = "claro-co") -> int:
    add_line(saldo.uow(), new_line=NewLine(msisdn=msisdn, operator=operator), now=NOW)
    with saldo.engine.connect() as connection:
        return int(
            connection.execute(select(t.lines.c.id).where(t.lines.c.msisdn == msisdn)).scalar_one()
        )


def given_batch(
    saldo: Saldo,
    random_digits: Callable[[], str],
    *,
    count: int = 1,
    value: Money | None = None,
    operator: str = "claro-co",
    expires_at: datetime = IN_A_YEAR,
) -> GeneratedBatch:
    return generate_vouchers(
        saldo.uow(),
        operator=operator,
        value=value or cop("10000"),
        count=count,
        expires_at=expires_at,
        created_by="ops@claro.example",
        pin_key=saldo.pin_key,
        now=NOW,
        random_digits=random_digits,
    )


def redeem(
    saldo: Saldo, pin: str, msisdn: str = CLARO, channel: Channel = Channel.VOUCHER
) -> TopUpReceipt:
    return redeem_voucher(
        saldo.uow(),
        msisdn=msisdn,
        pin=pin,
        channel=channel,
        pin_key=saldo.pin_key,
        now=saldo.clock.now(),
    )


def main_balance(saldo: Saldo, msisdn: str = CLARO) -> Money:
    return inquire_balance(saldo.uow(), msisdn=msisdn, now=saldo.clock.now()).main


def voucher_rows(saldo: Saldo) -> list[dict[str, object]]:
    with saldo.engine.connect() as connection:
        rows = connection.execute(select(t.vouchers).order_by(t.vouchers.c.id)).mappings()
        return [dict(row) for row in rows]


def voucher_row(saldo: Saldo, pin: str) -> dict[str, object]:
    hashed = pin_hash(pin, key=saldo.pin_key)
    return next(row for row in voucher_rows(saldo) if row["pin_hash"] == hashed)


def count_rows(saldo: Saldo, table: object) -> int:
    with saldo.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


# -- generating ------------------------------------------------------------------------------


def test_a_generated_batch_hands_out_the_pins_with_their_check_digit(saldo: Saldo) -> None:
    batch = given_batch(
        saldo, digits(VISA_DIGITS, ZEROS_DIGITS, MASTERCARD_DIGITS), count=3, value=cop("5000")
    )

    assert [voucher.pin for voucher in batch.vouchers] == [VISA, ZEROS, MASTERCARD]
    for voucher in batch.vouchers:
        assert len(voucher.pin) == 16 and voucher.pin.isdigit()
        assert read_pin(voucher.pin) == voucher.pin
    assert batch.operator == "claro-co"
    assert batch.value == cop("5000")
    assert batch.expires_at == IN_A_YEAR


def test_a_generated_batch_stores_only_keyed_hashes_of_its_pins(saldo: Saldo) -> None:
    batch = given_batch(saldo, digits(VISA_DIGITS, ZEROS_DIGITS, MASTERCARD_DIGITS), count=3)
    pins = [voucher.pin for voucher in batch.vouchers]

    rows = voucher_rows(saldo)

    assert len(rows) == 3
    with saldo.engine.connect() as connection:
        batch_rows = [dict(r) for r in connection.execute(select(t.voucher_batches)).mappings()]
    for row in rows + batch_rows:
        for column, stored in row.items():
            for pin in pins:
                assert pin not in str(stored), f"{column} holds a PIN"
                assert format_pin(pin) not in str(stored), f"{column} holds a PIN"
    assert [row["pin_hash"] for row in rows] == [pin_hash(pin, key=saldo.pin_key) for pin in pins]


def test_a_generated_batch_is_stored_active_with_its_value_and_expiry(saldo: Saldo) -> None:
    batch = given_batch(saldo, numbered(1), count=3, value=cop("20000"))

    rows = voucher_rows(saldo)

    assert {row["state"] for row in rows} == {"active"}
    assert {row["value"] for row in rows} == {cop("20000").minor}
    assert {row["currency"] for row in rows} == {"COP"}
    assert {row["expires_at"] for row in rows} == {IN_A_YEAR}
    assert {row["batch_id"] for row in rows} == {batch.batch_id}
    assert [row["serial"] for row in rows] == [voucher.serial for voucher in batch.vouchers]
    assert {row["redeemed_at"] for row in rows} == {None}


def test_serials_are_unique_within_and_across_batches(saldo: Saldo) -> None:
    first = given_batch(saldo, numbered(1), count=3)
    second = given_batch(saldo, numbered(100), count=3)

    serials = [voucher.serial for voucher in first.vouchers + second.vouchers]

    assert len(set(serials)) == 6


def test_a_batch_never_holds_the_same_pin_twice(saldo: Saldo) -> None:
    batch = given_batch(saldo, digits(VISA_DIGITS, VISA_DIGITS, ZEROS_DIGITS), count=2)

    assert [voucher.pin for voucher in batch.vouchers] == [VISA, ZEROS]
    assert len(voucher_rows(saldo)) == 2


def test_a_pin_already_sold_in_an_earlier_batch_is_not_handed_out_again(saldo: Saldo) -> None:
    given_batch(saldo, digits(VISA_DIGITS))

    batch = given_batch(saldo, digits(VISA_DIGITS, ZEROS_DIGITS))

    assert [voucher.pin for voucher in batch.vouchers] == [ZEROS]
    assert len(voucher_rows(saldo)) == 2


@pytest.mark.parametrize(
    ("change", "refusal"),
    [
        ({"operator": "no-such-operator"}, UnknownOperator),
        ({"value": Money.of("10000", "ARS")}, WrongCurrency),
        ({"value": cop("999")}, AmountBelowMinimum),
        ({"value": cop("500001")}, AmountAboveMaximum),
        ({"count": 0}, UnableToGenerate),
        ({"expires_at": NOW - timedelta(days=1)}, UnableToGenerate),
        ({"expires_at": NOW}, UnableToGenerate),
    ],
    ids=[
        "unknown-operator",
        "wrong-currency",
        "below-minimum",
        "above-maximum",
        "no-vouchers",
        "past",
        "now",
    ],
)
def test_a_batch_that_cannot_be_sold_is_refused_and_nothing_is_written(
    saldo: Saldo, change: dict[str, object], refusal: type[Exception]
) -> None:
    request: dict[str, object] = {
        "operator": "claro-co",
        "value": cop("10000"),
        "count": 2,
        "expires_at": IN_A_YEAR,
    } | change

    with pytest.raises(refusal):
        generate_vouchers(
            saldo.uow(),
            created_by="ops@claro.example",
            pin_key=saldo.pin_key,
            now=NOW,
            random_digits=numbered(1),
            **request,  # type: ignore[arg-type]
        )

    assert count_rows(saldo, t.voucher_batches) == 0
    assert count_rows(saldo, t.vouchers) == 0


def test_a_voucher_of_exactly_the_minimum_top_up_is_accepted(saldo: Saldo) -> None:
    batch = given_batch(saldo, numbered(1), value=cop("1000"))

    assert batch.value == cop("1000")


# -- redeeming -------------------------------------------------------------------------------


def test_redeeming_a_pin_tops_the_line_up_with_the_voucher_value(saldo: Saldo) -> None:
    given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS), value=cop("10000"))

    receipt = redeem(saldo, VISA)

    assert receipt.amount == cop("10000")
    assert receipt.balance == cop("10000")
    assert receipt.channel is Channel.VOUCHER
    assert receipt.msisdn == CLARO
    assert not receipt.replayed
    assert main_balance(saldo) == cop("10000")
    report = audit_ledger(saldo.uow())
    assert report.clean and report.transactions == 1


def test_a_redeemed_voucher_is_marked_with_the_line_and_the_topup(saldo: Saldo) -> None:
    line_id = given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS))

    receipt = redeem(saldo, VISA)

    row = voucher_row(saldo, VISA)
    assert row["state"] == "redeemed"
    assert row["redeemed_line_id"] == line_id
    assert row["topup_id"] == receipt.topup_id
    assert row["redeemed_at"] == NOW
    with saldo.engine.connect() as connection:
        topup = connection.execute(select(t.topups).where(t.topups.c.id == receipt.topup_id)).one()
    assert topup.channel == "voucher"
    assert topup.amount == cop("10000").minor


def test_a_voucher_redeemed_by_sms_keeps_the_sms_channel_on_its_receipt(saldo: Saldo) -> None:
    given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS))

    receipt = redeem(saldo, VISA, channel=Channel.SMS)

    assert receipt.channel is Channel.SMS
    with saldo.engine.connect() as connection:
        stored = connection.execute(
            select(t.topups.c.channel).where(t.topups.c.id == receipt.topup_id)
        ).scalar_one()
    assert stored == "sms"


def test_a_voucher_extends_validity_like_a_top_up_of_the_same_amount(saldo: Saldo) -> None:
    given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS), value=cop("50000"))

    receipt = redeem(saldo, VISA)

    # 50.000 COP grants 90 days: to the end of 20 February 2027 in Bogotá (UTC-5).
    assert receipt.valid_until == datetime(2027, 2, 21, 5, 0, tzinfo=UTC)


def test_a_pin_is_redeemed_as_typed_on_a_handset(saldo: Saldo) -> None:
    given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS))

    receipt = redeem(saldo, "4111 1111-1111 1111")

    assert receipt.amount == cop("10000")


def test_the_same_pin_again_from_the_same_line_gets_its_receipt_and_moves_no_money(
    saldo: Saldo, clock: FixedClock
) -> None:
    # a gateway's retry, or a subscriber sending the PIN twice
    given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS))
    first = redeem(saldo, VISA)
    clock.advance(timedelta(minutes=5))

    again = redeem(saldo, VISA)

    assert again.replayed
    assert (again.topup_id, again.amount, again.receipt_number) == (
        first.topup_id,
        first.amount,
        first.receipt_number,
    )
    assert main_balance(saldo) == cop("10000")
    assert audit_ledger(saldo.uow()).transactions == 1


def test_a_pin_sent_again_many_times_by_its_line_never_blocks_the_line(saldo: Saldo) -> None:
    given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS, MASTERCARD_DIGITS), count=2)
    redeem(saldo, VISA)
    for _ in range(MAX_WRONG_PINS + 1):
        assert redeem(saldo, VISA).replayed

    redeem(saldo, MASTERCARD)  # the line may still redeem

    assert main_balance(saldo) == cop("20000")


def test_a_pin_used_by_one_line_is_refused_to_another(saldo: Saldo) -> None:
    given_line(saldo)
    given_line(saldo, CLARO_OTHER)
    given_batch(saldo, digits(VISA_DIGITS))
    redeem(saldo, VISA)

    with pytest.raises(VoucherAlreadyUsed):
        redeem(saldo, VISA, msisdn=CLARO_OTHER)

    assert main_balance(saldo, CLARO_OTHER) == cop("0")
    assert main_balance(saldo) == cop("10000")


def test_another_operators_pin_reads_as_a_wrong_pin_and_stays_usable(saldo: Saldo) -> None:
    given_line(saldo)
    given_line(saldo, TIGO, operator="tigo-co")
    given_batch(saldo, digits(VISA_DIGITS), operator="tigo-co")

    with pytest.raises(WrongPin) as refused:
        redeem(saldo, VISA)

    assert refused.value.attempts_left == 4
    assert main_balance(saldo) == cop("0")
    assert voucher_row(saldo, VISA)["state"] == "active"
    assert redeem(saldo, VISA, msisdn=TIGO).amount == cop("10000")


def test_a_pin_no_voucher_has_is_a_wrong_pin(saldo: Saldo) -> None:
    given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS))

    with pytest.raises(WrongPin) as refused:
        redeem(saldo, NOBODYS_PIN)

    assert refused.value.attempts_left == 4
    assert main_balance(saldo) == cop("0")


def test_a_pin_with_a_typing_mistake_counts_as_a_wrong_pin(saldo: Saldo) -> None:
    given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS))

    with pytest.raises(WrongPin) as refused:
        redeem(saldo, "4111 1111 1111 1112")

    assert refused.value.attempts_left == 4


def test_an_expired_voucher_is_refused(saldo: Saldo, clock: FixedClock) -> None:
    given_line(saldo)
    expires_at = NOW + timedelta(days=1)
    given_batch(saldo, digits(VISA_DIGITS), expires_at=expires_at)
    clock.set(expires_at + timedelta(seconds=1))

    with pytest.raises(VoucherExpired):
        redeem(saldo, VISA)

    assert main_balance(saldo) == cop("0")
    assert audit_ledger(saldo.uow()).transactions == 0
    with saldo.engine.connect() as connection:
        states = connection.execute(text("SELECT state FROM vouchers")).scalars().all()
    assert states == ["expired"]
    assert list_batches(saldo.uow(), now=clock.now())[0].expired == 1


def test_a_voucher_is_expired_from_the_instant_it_expires(saldo: Saldo, clock: FixedClock) -> None:
    given_line(saldo)
    expires_at = NOW + timedelta(days=1)
    given_batch(saldo, digits(VISA_DIGITS, ZEROS_DIGITS), count=2, expires_at=expires_at)
    clock.set(expires_at - timedelta(seconds=1))
    redeem(saldo, VISA)
    clock.set(expires_at)

    with pytest.raises(VoucherExpired):
        redeem(saldo, ZEROS)


def test_a_top_up_whose_key_looks_like_a_vouchers_does_not_stop_the_voucher(
    saldo: Saldo,
) -> None:
    given_line(saldo)
    serial = given_batch(saldo, digits(VISA_DIGITS)).vouchers[0].serial
    top_up(
        saldo.uow(),
        msisdn=CLARO,
        amount=cop("5000"),
        channel=Channel.STORE,
        idempotency_key=f"voucher-{serial}",
        now=NOW,
    )

    receipt = redeem(saldo, VISA)

    assert receipt.amount == cop("10000")
    assert main_balance(saldo) == cop("15000")
    assert voucher_row(saldo, VISA)["state"] == "redeemed"


# -- voiding ---------------------------------------------------------------------------------


def test_voiding_a_batch_voids_its_active_vouchers_and_leaves_redeemed_ones(
    saldo: Saldo,
) -> None:
    given_line(saldo)
    batch = given_batch(saldo, digits(VISA_DIGITS, ZEROS_DIGITS, MASTERCARD_DIGITS), count=3)
    redeem(saldo, VISA)

    voided = void_batch(saldo.uow(), batch_id=batch.batch_id, now=NOW)

    assert voided == 2
    assert voucher_row(saldo, VISA)["state"] == "redeemed"
    assert voucher_row(saldo, ZEROS)["state"] == "void"
    assert voucher_row(saldo, MASTERCARD)["state"] == "void"
    assert main_balance(saldo) == cop("10000")


def test_a_pin_of_a_voided_batch_is_refused(saldo: Saldo) -> None:
    given_line(saldo)
    batch = given_batch(saldo, digits(VISA_DIGITS))
    void_batch(saldo.uow(), batch_id=batch.batch_id, now=NOW)

    with pytest.raises(VoucherVoided):
        redeem(saldo, VISA)

    assert main_balance(saldo) == cop("0")
    assert audit_ledger(saldo.uow()).transactions == 0


def test_voiding_a_batch_twice_voids_nothing_the_second_time(saldo: Saldo) -> None:
    batch = given_batch(saldo, numbered(1), count=2)
    void_batch(saldo.uow(), batch_id=batch.batch_id, now=NOW)

    assert void_batch(saldo.uow(), batch_id=batch.batch_id, now=NOW) == 0


def test_voiding_a_batch_again_keeps_the_time_it_was_first_voided(saldo: Saldo) -> None:
    batch = given_batch(saldo, numbered(1), count=2)
    void_batch(saldo.uow(), batch_id=batch.batch_id, now=NOW)

    void_batch(saldo.uow(), batch_id=batch.batch_id, now=NOW + timedelta(days=1))

    assert list_batches(saldo.uow(), now=saldo.clock.now())[0].voided_at == NOW


def test_voiding_an_unknown_batch_is_refused(saldo: Saldo) -> None:
    batch = given_batch(saldo, numbered(1))

    with pytest.raises(UnknownBatch):
        void_batch(saldo.uow(), batch_id=batch.batch_id + 1000, now=NOW)

    assert voucher_rows(saldo)[0]["state"] == "active"


def test_an_operator_cannot_void_another_operators_batch(saldo: Saldo) -> None:
    batch = given_batch(saldo, numbered(1), operator="tigo-co")

    with pytest.raises(UnknownBatch):
        void_batch(saldo.uow(), batch_id=batch.batch_id, operator="claro-co", now=NOW)

    assert voucher_rows(saldo)[0]["state"] == "active"


def test_a_unit_of_work_scoped_to_one_operator_cannot_make_or_void_anothers_vouchers(
    saldo: Saldo,
) -> None:
    with saldo.uow().reading() as uow:
        claro = uow.operators.get_by_slug("claro-co")
    assert claro is not None
    batch = generate_vouchers(
        saldo.uow(),
        operator="tigo-co",
        value=Money.of("10000", "COP"),
        count=2,
        expires_at=saldo.clock.now().replace(year=2027),
        created_by="tigo staff",
        pin_key=saldo.pin_key,
        now=saldo.clock.now(),
    )

    with pytest.raises(PermissionError):
        generate_vouchers(
            saldo.uow(operator_id=claro.id),
            operator="tigo-co",
            value=Money.of("10000", "COP"),
            count=2,
            expires_at=saldo.clock.now().replace(year=2027),
            created_by="claro staff",
            pin_key=saldo.pin_key,
            now=saldo.clock.now(),
        )
    with pytest.raises(UnknownBatch):
        void_batch(
            saldo.uow(operator_id=claro.id),
            batch_id=batch.batch_id,
            operator="tigo-co",
            now=saldo.clock.now(),
        )

    batches = list_batches(saldo.uow(), now=saldo.clock.now())
    assert [(b.count, b.voided_at) for b in batches] == [(2, None)]


# -- wrong PINs ------------------------------------------------------------------------------


def given_wrong_pins(saldo: Saldo, clock: FixedClock, count: int) -> list[int]:
    """Type ``count`` wrong PINs a minute apart; the attempts left each refusal reported."""
    left = []
    for _ in range(count):
        with pytest.raises(WrongPin) as refused:
            redeem(saldo, NOBODYS_PIN)
        left.append(refused.value.attempts_left)
        clock.advance(timedelta(minutes=1))
    return left


def test_each_wrong_pin_says_how_many_are_left(saldo: Saldo, clock: FixedClock) -> None:
    given_line(saldo)

    left = given_wrong_pins(saldo, clock, 4)

    assert left == [4, 3, 2, 1]


def test_the_fifth_wrong_pin_within_24_hours_blocks_the_line_for_24_hours(
    saldo: Saldo, clock: FixedClock
) -> None:
    given_line(saldo)
    given_wrong_pins(saldo, clock, 4)
    fifth_at = clock.now()

    with pytest.raises(RedemptionBlocked) as blocked:
        redeem(saldo, NOBODYS_PIN)

    assert blocked.value.until == fifth_at + timedelta(hours=24)


def test_a_blocked_line_cannot_redeem_even_the_right_pin(saldo: Saldo, clock: FixedClock) -> None:
    given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS))
    given_wrong_pins(saldo, clock, 4)
    fifth_at = clock.now()
    with pytest.raises(RedemptionBlocked):
        redeem(saldo, NOBODYS_PIN)
    clock.set(fifth_at + timedelta(hours=24) - timedelta(seconds=1))

    with pytest.raises(RedemptionBlocked) as blocked:
        redeem(saldo, VISA)

    assert blocked.value.until == fifth_at + timedelta(hours=24)
    assert main_balance(saldo) == cop("0")
    assert voucher_row(saldo, VISA)["state"] == "active"
    assert audit_ledger(saldo.uow()).transactions == 0


def test_the_right_pin_works_once_the_24_hours_are_over(saldo: Saldo, clock: FixedClock) -> None:
    given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS))
    given_wrong_pins(saldo, clock, 4)
    fifth_at = clock.now()
    with pytest.raises(RedemptionBlocked):
        redeem(saldo, NOBODYS_PIN)
    clock.set(fifth_at + timedelta(hours=24))

    receipt = redeem(saldo, VISA)

    assert receipt.amount == cop("10000")
    assert main_balance(saldo) == cop("10000")
    assert audit_ledger(saldo.uow()).clean


def test_wrong_pins_spread_over_more_than_24_hours_do_not_block(
    saldo: Saldo, clock: FixedClock
) -> None:
    given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS))
    given_wrong_pins(saldo, clock, 4)
    clock.set(NOW + timedelta(hours=25))

    with pytest.raises(WrongPin) as refused:
        redeem(saldo, NOBODYS_PIN)

    assert refused.value.attempts_left == 4
    assert redeem(saldo, VISA).amount == cop("10000")


def test_one_lines_wrong_pins_do_not_block_another_line(saldo: Saldo, clock: FixedClock) -> None:
    given_line(saldo)
    given_line(saldo, CLARO_OTHER)
    given_batch(saldo, digits(VISA_DIGITS))
    given_wrong_pins(saldo, clock, 4)
    with pytest.raises(RedemptionBlocked):
        redeem(saldo, NOBODYS_PIN)

    receipt = redeem(saldo, VISA, msisdn=CLARO_OTHER)

    assert receipt.amount == cop("10000")


# -- listing ---------------------------------------------------------------------------------


def test_list_batches_reports_each_batch_with_its_count_and_redeemed(saldo: Saldo) -> None:
    given_line(saldo)
    first = given_batch(saldo, digits(VISA_DIGITS, ZEROS_DIGITS, MASTERCARD_DIGITS), count=3)
    second = given_batch(saldo, numbered(1), count=2, value=cop("5000"))
    redeem(saldo, VISA)
    redeem(saldo, ZEROS)

    batches = list_batches(saldo.uow(), now=saldo.clock.now())

    assert [(b.id, b.count, b.redeemed) for b in batches] == [
        (first.batch_id, 3, 2),
        (second.batch_id, 2, 0),
    ]
    assert [(b.value, b.currency) for b in batches] == [
        (cop("10000").minor, "COP"),
        (cop("5000").minor, "COP"),
    ]
    assert {b.voided_at for b in batches} == {None}


def test_list_batches_shows_a_voided_batch_and_filters_by_operator(saldo: Saldo) -> None:
    claro = given_batch(saldo, numbered(1), count=2)
    given_batch(saldo, numbered(100), count=1, operator="tigo-co")
    void_batch(saldo.uow(), batch_id=claro.batch_id, now=NOW)

    batches = list_batches(saldo.uow(), operator="claro-co", now=saldo.clock.now())

    assert [b.id for b in batches] == [claro.batch_id]
    assert batches[0].voided_at == NOW
    assert batches[0].redeemed == 0
    assert len(list_batches(saldo.uow(), now=saldo.clock.now())) == 2


def test_a_voucher_sold_under_bounds_that_changed_since_is_still_honoured(saldo: Saldo) -> None:
    # a 500.000 COP voucher, sold while Claro Colombia took top-ups up to 500.000
    given_line(saldo)
    given_batch(saldo, digits(VISA_DIGITS), value=cop("500000"))
    # then Claro lowers its maximum top-up to 100.000 COP
    spec = next(s for s in bundled_specs() if s.slug == "claro-co").model_dump(mode="json")
    spec["topup"]["maximum"] = "100000"
    lowered = OperatorSpec.model_validate(spec)
    register_operator(saldo.uow(), operator=lowered.to_operator(), spec=spec, now=NOW)

    receipt = redeem(saldo, VISA)

    assert receipt.amount == cop("500000")
    assert main_balance(saldo) == cop("500000")
    assert audit_ledger(saldo.uow()).clean
