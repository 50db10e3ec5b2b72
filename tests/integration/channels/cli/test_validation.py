"""Input the CLI refuses, on SQLite, each in one line on stderr that names what was typed and
what is wrong with it; and numbers typed without their ``+``, which are read as
international."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from saldo.bootstrap import Saldo
from saldo.services.lines import NewLine, add_line
from tests.cli import Cli

CLARO_CO = "+573001234567"


@pytest.fixture
def cli(saldo_sqlite: Saldo, capsys: pytest.CaptureFixture[str]) -> Cli:
    """A Claro Colombia line, added now (the CLI runs on the real clock)."""
    add_line(
        saldo_sqlite.uow(),
        new_line=NewLine(msisdn=CLARO_CO, operator="claro-co"),
        now=datetime.now(UTC),
    )
    return Cli(saldo_sqlite, capsys)


def usage_error(cli: Cli, *args: str) -> str:
    """The one line on stderr of a command refused as a usage error (exit 2)."""
    code, out, err = cli(*args)
    assert (code, out, err.count("\n")) == (2, "", 1), err
    return err.removeprefix("saldo: error: ").rstrip("\n")


def test_a_number_typed_without_its_plus_is_read_as_international(cli: Cli) -> None:
    # given a line +573001234567
    # when it is topped up as 573001234567
    shown = cli.ok("topup", "573001234567", "30.000")

    # then the top-up is the line's
    assert f"to {CLARO_CO}" in shown


@pytest.mark.parametrize(
    ("number", "refusal"),
    [
        ("3001234567", "'3001234567' is not a valid phone number"),
        ("+573001234567 ext 5", "'+573001234567 ext 5' is not a phone number"),
        ("+57300123456A", "'+57300123456A' is not a phone number"),
    ],
)
def test_a_national_number_letters_or_an_extension_are_refused(
    cli: Cli, number: str, refusal: str
) -> None:
    # given a line +573001234567
    # when it is named nationally, with a letter or with an extension
    refused = cli.refused("topup", number, "30.000")

    # then nothing is topped up and the refusal shows what was typed
    assert refused.startswith(refusal)


def test_a_locale_saldo_does_not_support_is_refused(cli: Cli) -> None:
    # given a locale with something after it
    # when a top-up and a conversion are read in it
    topup = usage_error(cli, "topup", CLARO_CO, "30.000", "--locale", "es_CO;rm")
    convert = usage_error(cli, "fx", "convert", "10", "--from", "USD", "--to", "EUR",
                          "--locale", "de_DE")  # fmt: skip

    # then both are refused, naming the locales that are
    assert topup == (
        "Invalid value for '--locale': 'es_CO;rm' is not a supported locale "
        "(es_AR, es_CO, fr_BE, nl_BE, en, zh_CN)"
    )
    assert "'de_DE' is not a supported locale" in convert


def test_an_adjustment_of_minutes_or_sms_is_bounded_as_a_person_could_use_them(cli: Cli) -> None:
    # given a million minutes of talk, and a million SMS
    million_minutes = str(1_000_000 * 60)

    # when one more second, or one more SMS, is given by hand
    voice = cli.refused("adjust", CLARO_CO, str(1_000_000 * 60 + 1), "--bucket", "voice",
                        "--reason", "typo", "--actor", "ana")  # fmt: skip
    sms = cli.refused("adjust", CLARO_CO, "1000001", "--bucket", "sms", "--reason", "typo",
                      "--actor", "ana")  # fmt: skip
    at_the_bound = cli.ok("adjust", CLARO_CO, million_minutes, "--bucket", "voice",
                          "--reason", "goodwill", "--actor", "ana")  # fmt: skip

    # then both are refused, and the bound itself is given
    assert voice == (
        "an allowance is at most 1,000,000 minutes (60,000,000 seconds) in one adjustment"
    )
    assert sms == "an allowance is at most 1,000,000 SMS in one adjustment"
    assert "voice bucket now" in at_the_bound


def test_a_reason_longer_than_200_characters_is_refused(cli: Cli) -> None:
    # given a reason of 201 characters, and an actor of 129
    # when an adjustment is made with them
    reason = cli.refused("adjust", CLARO_CO, "500", "--reason", "r" * 201, "--actor", "ana")
    actor = cli.refused("adjust", CLARO_CO, "500", "--reason", "outage", "--actor", "a" * 129)
    kept = cli.ok("adjust", CLARO_CO, "500", "--reason", "r" * 200, "--actor", "a" * 128)

    # then they are refused with their length; 200 and 128 are kept
    assert reason == "a reason is at most 200 characters (this one has 201)"
    assert actor == "an actor's name is at most 128 characters (this one has 129)"
    assert kept.startswith("Adjustment ")


def test_vouchers_expire_at_most_five_years_ahead(cli: Cli, tmp_path: Path) -> None:
    # given a day six years ahead
    far = (datetime.now(UTC) + timedelta(days=6 * 366)).date().isoformat()

    # when vouchers are generated to expire then
    out = str(tmp_path / "v.csv")
    refused = cli.refused("vouchers", "generate", "-o", "claro-co", "--value", "10.000",
                          "--count", "1", "--expires", far, "--out", out)  # fmt: skip

    # then none are made and no file is written
    assert refused.startswith("vouchers expire at most 5 years ahead (by ")
    assert not (tmp_path / "v.csv").exists()


@pytest.mark.parametrize(
    ("typed", "refusal"),
    [
        ("2026-02-30", "2026-02-30 does not exist: February 2026 has 28 days"),
        ("2028-02-30", "2028-02-30 does not exist: February 2028 has 29 days"),
        ("2026-13-01", "2026-13-01 does not exist: there is no month 13"),
        ("31/12/2026", "'31/12/2026' is not a date written YYYY-MM-DD"),
        ("9999-12-31", "9999-12-31 is not a day Saldo takes (years 2000 to 2199)"),
    ],
)
def test_a_day_that_does_not_exist_is_told_apart_from_a_date_written_otherwise(
    cli: Cli, typed: str, refusal: str, tmp_path: Path
) -> None:
    # given a day typed for an expiry
    # when a bonus and a voucher batch are to expire then
    bonus = usage_error(cli, "adjust", CLARO_CO, "5", "--bucket", "bonus", "--reason", "x",
                        "--actor", "ana", "--expires", typed)  # fmt: skip
    out = str(tmp_path / "v.csv")
    vouchers = usage_error(cli, "vouchers", "generate", "-o", "claro-co", "--value", "10.000",
                           "--count", "1", "--expires", typed, "--out", out)  # fmt: skip

    # then each refusal says which it is
    assert bonus == f"Invalid value for '--expires': {refusal}"
    assert vouchers == f"Invalid value for '--expires': {refusal}"


def test_an_email_address_refused_is_shown_as_typed_and_cut_when_long(cli: Cli) -> None:
    # given an address without its @, and a paste of 300 characters
    # when each is given as the line's email
    short = cli.refused("lines", "email", CLARO_CO, "ana.example.org")
    long = cli.refused("lines", "email", CLARO_CO, "x" * 300)

    # then the refusal shows what was typed, the long one cut with its length
    assert short == "'ana.example.org' is not an email address"
    assert long == f"'{'x' * 40}…' (300 characters) is not an email address"


def test_a_cdr_file_without_some_columns_names_them_in_words(cli: Cli, tmp_path: Path) -> None:
    # given a file with only two of the columns
    file = tmp_path / "cdrs.csv"
    file.write_text("msisdn,quantity\n+573001234567,1\n", encoding="utf-8")

    # when it is imported
    refused = cli.refused("cdr", "import", str(file))

    # then the missing columns are named as a sentence, not as a Python list
    assert refused.endswith("; missing the columns record_id, type, start_time")
    assert "[" not in refused


def test_a_cdr_dated_in_the_future_is_refused_as_such(cli: Cli, tmp_path: Path) -> None:
    # given a record of a call in 2030
    file = tmp_path / "cdrs.csv"
    file.write_text(
        "record_id,msisdn,type,start_time,quantity,destination\n"
        f"f1,{CLARO_CO},voice,2030-01-01T10:00:00-05:00,60,+5716000000\n",
        encoding="utf-8",
    )

    # when it is imported
    code, _, err = cli("cdr", "import", str(file))

    # then the row is rejected for being in the future, not for the line being inactive
    assert code == 3
    assert "row 2: the record starts at 2030-01-01 15:00 UTC, which is in the future" in err


def test_a_replayed_day_that_does_not_exist_is_told_apart_from_a_time_written_otherwise(
    cli: Cli,
) -> None:
    # given a worker pass replayed on 30 February, and on a time that is no time
    # when each is given as --now
    impossible = usage_error(cli, "worker", "--once", "--now", "2027-02-30T12:00:00+01:00")
    garbled = usage_error(cli, "worker", "--once", "--now", "noon")

    # then the first says the day does not exist, the second that it is not ISO 8601
    assert impossible == ("Invalid value: 2027-02-30 does not exist: February 2027 has 28 days")
    assert garbled == "Invalid value: 'noon' is not an ISO 8601 time"


def test_a_cdr_on_a_day_that_does_not_exist_says_so(cli: Cli, tmp_path: Path) -> None:
    # given a record of a call on 31 April
    file = tmp_path / "cdrs.csv"
    file.write_text(
        "record_id,msisdn,type,start_time,quantity,destination\n"
        f"a1,{CLARO_CO},voice,2026-04-31T10:00:00-05:00,60,+5716000000\n",
        encoding="utf-8",
    )

    # when it is imported
    code, _, err = cli("cdr", "import", str(file))

    # then the row is rejected for its day, not for its format
    assert code == 3
    assert "row 2: start_time 2026-04-31 does not exist: April 2026 has 30 days" in err
