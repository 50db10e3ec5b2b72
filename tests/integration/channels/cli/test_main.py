"""The ``saldo`` command line, driven in-process through ``run(argv)``.

Every bad input ends the same way: a non-zero exit code, exactly one line on stderr starting
with ``saldo: error: ``, nothing on stdout, and nothing written to the database (every table's
row count, every account's balance, every line's validity and every operator's catalog entry
are the same before and after). The CLI runs on the real clock, so lines are registered
through the CLI itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from saldo.adapters.db.tables import accounts, lines, metadata, operators
from saldo.bootstrap import Saldo
from saldo.catalog.schema import BUNDLED_DIR
from saldo.channels.cli.main import run

LINE = "+573001234567"  # a Claro Colombia line, as stored (E.164)
NATIONAL = "3001234567"  # the same number as people type it in Colombia
OTHER_LINE = "+573001234500"
BELGIAN_LINE = "+32470123456"

SEVEN_SLUGS = {
    "claro-ar",
    "claro-co",
    "movistar-ar",
    "movistar-co",
    "personal-ar",
    "proximus-be",
    "tigo-co",
}


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


class Cli:
    """``saldo --database-url URL ...`` run in-process, its output captured."""

    def __init__(self, url: str, capsys: pytest.CaptureFixture[str]) -> None:
        self.url = url
        self._capsys = capsys

    def __call__(self, *args: str) -> Result:
        self._capsys.readouterr()
        code = run(["--database-url", self.url, *args])
        captured = self._capsys.readouterr()
        return Result(code=code, out=captured.out, err=captured.err)

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.code == 0, result.err
        return result


@pytest.fixture
def cli(saldo_sqlite: Saldo, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The CLI on SQLite, with the seven demo operators loaded."""
    return Cli(saldo_sqlite.settings.database_url, capsys)


@pytest.fixture
def cli_each(saldo: Saldo, capsys: pytest.CaptureFixture[str]) -> Cli:
    """The CLI on SQLite and on PostgreSQL, with the seven demo operators loaded."""
    return Cli(saldo.settings.database_url, capsys)


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything a bad command could have written: row counts of every table, the balance of
    every account, the validity of every line and the catalog entry of every operator."""
    with engine.connect() as connection:
        return {
            "counts": {
                table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in metadata.sorted_tables
            },
            "balances": dict(
                connection.execute(
                    select(accounts.c.id, accounts.c.balance).order_by(accounts.c.id)
                ).all()
            ),
            "lines": connection.execute(
                select(lines.c.msisdn, lines.c.state, lines.c.valid_until).order_by(lines.c.id)
            ).all(),
            "operators": connection.execute(
                select(operators.c.slug, operators.c.spec_hash).order_by(operators.c.id)
            ).all(),
        }


def assert_one_line_error(result: Result, *, code: int | None = None) -> None:
    assert result.code != 0
    if code is not None:
        assert result.code == code
    assert result.err.startswith("saldo: error: "), result.err
    assert result.err.endswith("\n")
    assert result.err.count("\n") == 1, result.err
    assert "Traceback" not in result.err
    assert result.out == ""


def main_balance(cli: Cli, msisdn: str = LINE) -> int:
    view = cli.ok("balance", msisdn, "--json").json()
    return int(view["main"]["minor"])


def given_claro_line(cli: Cli, *, balance: str | None = "50.000") -> None:
    """A Claro Colombia line, topped up with ``balance`` (es_CO text) unless None."""
    cli.ok("lines", "add", NATIONAL, "--operator", "claro-co")
    if balance is not None:
        cli.ok("topup", LINE, balance)


# -- the database --------------------------------------------------------------------------


def test_db_upgrade_creates_a_fresh_database_and_can_be_repeated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a file that does not exist yet
    cli = Cli(f"sqlite:///{tmp_path / 'fresh.db'}", capsys)

    # when the schema is upgraded twice
    first = cli("db", "upgrade")
    second = cli("db", "upgrade")

    # then both succeed and the database is usable (and empty)
    assert (first.code, first.err) == (0, "")
    assert (second.code, second.err) == (0, "")
    assert "up to date" in second.out
    assert cli.ok("operators", "list", "--json").json() == []


def test_a_command_on_an_unmigrated_database_says_to_run_db_upgrade(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a database file with no schema
    cli = Cli(f"sqlite:///{tmp_path / 'fresh.db'}", capsys)

    # when a command needs the schema
    result = cli("operators", "list")

    # then it fails in one line that says what to do
    assert_one_line_error(result, code=1)
    assert "saldo db upgrade" in result.err


# -- happy paths ---------------------------------------------------------------------------


def test_database_url_leaves_the_environment_s_read_replica_behind(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The replica in the environment is another database's: with SQLite it would be refused.
    monkeypatch.setenv("SALDO_READ_DATABASE_URL", "postgresql+psycopg://saldo@127.0.0.1:1/saldo")

    assert len(cli.ok("operators", "list", "--json").json()) == 7


def test_operators_list_json_lists_the_seven_demo_operators(cli: Cli) -> None:
    # when the operators are listed for a script
    listed = cli.ok("operators", "list", "--json").json()

    # then the seven demo operators are there, with their currency and top-up bounds
    assert {op["slug"] for op in listed} == SEVEN_SLUGS
    claro = next(op for op in listed if op["slug"] == "claro-co")
    assert claro["currency"] == "COP"
    assert claro["minimum_topup"] == {"amount": "1000.00", "currency": "COP", "minor": 100000}
    assert claro["maximum_topup"] == {"amount": "500000.00", "currency": "COP", "minor": 50000000}


def test_lines_add_accepts_a_national_number_and_stores_it_in_e164(cli: Cli) -> None:
    # when a Colombian number is registered as people type it
    added = cli.ok("lines", "add", NATIONAL, "--operator", "claro-co", "--json").json()

    # then it is stored in international format, active, with an empty main balance
    assert added["msisdn"] == LINE
    assert added["state"] == "active"
    assert added["sim_kind"] == "physical"
    assert added["language"] == "es"
    assert main_balance(cli) == 0


def test_lines_add_prints_the_number_for_people(cli: Cli) -> None:
    # when a line is added without --json
    result = cli.ok("lines", "add", NATIONAL, "--operator", "claro-co")

    # then the confirmation names the stored number and the operator
    assert f"Added {LINE} on claro-co" in result.out
    assert result.err == ""


def test_lines_show_json_returns_the_line(cli: Cli) -> None:
    # given a line
    given_claro_line(cli, balance=None)

    # when it is shown for a script
    shown = cli.ok("lines", "show", LINE, "--json").json()

    # then every field is there, the operator by its slug
    assert shown["msisdn"] == LINE
    assert shown["operator"] == "claro-co"
    assert set(shown) == {
        "msisdn",
        "operator",
        "iccid",
        "sim_kind",
        "language",
        "state",
        "activated_at",
        "valid_until",
    }
    assert datetime.fromisoformat(shown["valid_until"]) > datetime.now(UTC)


def test_lines_list_json_shows_only_the_lines_of_the_operator_asked_for(cli: Cli) -> None:
    # given a Claro line and a Tigo line
    cli.ok("lines", "add", NATIONAL, "--operator", "claro-co")
    cli.ok("lines", "add", "3001234500", "--operator", "tigo-co")

    # when the Claro lines are listed
    listed = cli.ok("lines", "list", "--operator", "claro-co", "--json").json()

    # then only the Claro line is there
    assert [line["msisdn"] for line in listed] == [LINE]


def test_balance_json_shows_main_money_state_validity_and_days_before_recycling(
    cli: Cli,
) -> None:
    # given a Claro line topped up with 50.000 COP (90 days of validity)
    given_claro_line(cli, balance="50.000")

    # when its balance is asked for
    view = cli.ok("balance", LINE, "--json").json()

    # then it shows the money, the state, the validity and the days before recycling
    assert view["msisdn"] == LINE
    assert view["operator"] == "claro-co"
    assert view["main"] == {"amount": "50000.00", "currency": "COP", "minor": 5000000}
    assert view["state"] == "active"
    valid_until = datetime.fromisoformat(view["valid_until"])
    recycles_at = datetime.fromisoformat(view["recycles_at"])
    assert valid_until - datetime.now(UTC) > timedelta(days=89)
    # claro-co: 30 days of grace, then 60 suspended, then the number is recycled
    assert recycles_at - valid_until == timedelta(days=90)
    assert 179 <= view["days_until_recycling"] <= 181
    assert [bucket["kind"] for bucket in view["buckets"]] == ["main"]


def test_balance_prints_a_table_for_people(cli: Cli) -> None:
    # given a Claro line with 50.000 COP
    given_claro_line(cli, balance="50.000")

    # when its balance is asked for without --json
    result = cli.ok("balance", LINE)

    # then the amount is written as Colombians write it
    assert "$50.000" in result.out
    assert "state: active" in result.out


def test_topup_json_receipt_then_audit_is_clean(cli: Cli) -> None:
    # given a Claro line with no money
    given_claro_line(cli, balance=None)

    # when 30.000 COP are topped up
    receipt = cli.ok("topup", LINE, "30.000", "--key", "store-42-0001", "--json").json()

    # then the receipt says so
    assert receipt["receipt_number"].startswith("CLARO-CO-T-")
    assert receipt["msisdn"] == LINE
    assert receipt["amount"] == {"amount": "30000.00", "currency": "COP", "minor": 3000000}
    assert receipt["balance"]["minor"] == 3000000
    assert receipt["channel"] == "cli"
    assert receipt["replayed"] is False
    # and the ledger agrees with every balance
    audit = cli.ok("audit")
    assert "Ledger clean" in audit.out
    assert audit.err == ""


def test_topup_of_30000_on_a_line_with_50000_leaves_80000(cli: Cli) -> None:
    # given a Claro line with 50.000 COP
    given_claro_line(cli, balance="50.000")

    # when 30.000 COP are topped up
    receipt = cli.ok("topup", LINE, "30.000", "--json").json()

    # then the new balance is 80.000 COP
    assert receipt["balance"] == {"amount": "80000.00", "currency": "COP", "minor": 8000000}
    assert main_balance(cli) == 8000000


def test_topup_prints_the_receipt_for_people(cli: Cli) -> None:
    # given a Claro line with 50.000 COP
    given_claro_line(cli, balance="50.000")

    # when 30.000 COP are topped up without --json
    result = cli.ok("topup", LINE, "30.000")

    # then the receipt shows the amounts in es_CO
    assert "top-up: $30.000" in result.out
    assert "new balance: $80.000" in result.out


def test_topup_shows_the_bonus_of_a_promotion_for_people_and_in_json(cli: Cli) -> None:
    # given a Personal line (10 % bonus on top-ups of $5.000 or more)
    cli.ok("lines", "add", "+5491123456789", "--operator", "personal-ar")

    # when $5.000 and then $6.000 are topped up
    shown = cli.ok("topup", "+5491123456789", "5.000")
    receipt = cli.ok("topup", "+5491123456789", "6.000", "--json").json()

    # then the receipt shows the bonus apart from the main balance
    assert "new balance: $5.000,00" in shown.out
    assert "bonus: $500,00" in shown.out
    assert receipt["bonus"] == {"amount": "600.00", "currency": "ARS", "minor": 60000}
    assert receipt["balance"]["minor"] == 1100000


def test_topup_repeated_with_the_same_key_and_amount_is_replayed_not_applied_twice(
    cli_each: Cli, saldo: Saldo
) -> None:
    # given a Claro line topped up with 30.000 COP under key K
    given_claro_line(cli_each, balance=None)
    first = cli_each.ok("topup", LINE, "30.000", "--key", "K-0001", "--json").json()
    before = snapshot(saldo.engine)

    # when the same top-up is sent again with the same key
    again = cli_each("topup", LINE, "30.000", "--key", "K-0001")

    # then it succeeds, says it was replayed, and changes nothing
    assert (again.code, again.err) == (0, "")
    assert "replayed" in again.out
    assert first["receipt_number"] in again.out
    assert snapshot(saldo.engine) == before
    assert main_balance(cli_each) == 3000000


def test_adjust_credits_the_main_balance_with_a_reason(cli: Cli) -> None:
    # given a Claro line with 50.000 COP
    given_claro_line(cli, balance="50.000")

    # when staff credit 5.000 COP
    receipt = cli.ok(
        "adjust", LINE, "5.000", "--reason", "network outage", "--actor", "ana", "--json"
    ).json()

    # then the balance is 55.000 COP and the ledger is clean
    assert receipt["balance"] == 5500000
    assert main_balance(cli) == 5500000
    cli.ok("audit")


# -- JSON for every read command ---------------------------------------------------------

READ_COMMANDS = [
    pytest.param(["operators", "list", "--json"], id="operators-list"),
    pytest.param(["lines", "list", "--json"], id="lines-list"),
    pytest.param(["lines", "list", "--operator", "claro-co", "--json"], id="lines-list-operator"),
    pytest.param(["lines", "show", LINE, "--json"], id="lines-show"),
    pytest.param(["balance", LINE, "--json"], id="balance"),
    pytest.param(["audit", "--json"], id="audit"),
]


@pytest.mark.parametrize("argv", READ_COMMANDS)
def test_every_read_command_prints_valid_json(cli: Cli, argv: list[str]) -> None:
    # given a Claro line with 50.000 COP
    given_claro_line(cli, balance="50.000")

    # when a read command is asked for JSON
    result = cli.ok(*argv)

    # then stdout is exactly one JSON document and stderr is empty
    assert isinstance(result.json(), dict | list)
    assert result.err == ""


def test_audit_json_says_clean(cli: Cli) -> None:
    # given a Claro line with 50.000 COP
    given_claro_line(cli, balance="50.000")

    # when the ledger is audited for a script
    report = cli.ok("audit", "--json").json()

    # then it is clean
    assert report["clean"] is True
    assert report["drifted"] == []
    assert report["unbalanced"] == []
    assert report["buckets"] == 1


# -- audit ---------------------------------------------------------------------------------


def test_audit_fails_naming_the_line_when_a_cached_balance_was_tampered_with(
    cli: Cli, saldo_sqlite: Saldo
) -> None:
    # given a Claro line with 50.000 COP whose cached balance is changed behind the ledger
    given_claro_line(cli, balance="50.000")
    with saldo_sqlite.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE accounts SET balance = balance + 1 WHERE kind = 'main' AND line_id = "
                "(SELECT id FROM lines WHERE msisdn = :msisdn)"
            ),
            {"msisdn": LINE},
        )

    # when the ledger is audited
    result = cli("audit")

    # then it exits 1 with one line naming the line and both amounts
    assert_one_line_error(result, code=1)
    assert LINE in result.err
    assert "5000001" in result.err
    assert "5000000" in result.err


# -- usage errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["bogus"], id="unknown-command"),
        pytest.param(["--bogus"], id="unknown-root-option"),
        pytest.param(["balance", LINE, "--bogus"], id="unknown-command-option"),
        pytest.param(["lines", "bogus"], id="unknown-subcommand"),
        pytest.param(["balance"], id="missing-argument"),
    ],
)
def test_an_unknown_command_or_option_is_a_one_line_usage_error(
    cli: Cli, saldo_sqlite: Saldo, argv: list[str]
) -> None:
    # given a Claro line with 50.000 COP
    given_claro_line(cli, balance="50.000")
    before = snapshot(saldo_sqlite.engine)

    # when the CLI is called wrongly
    result = cli(*argv)

    # then it exits 2 with one line and writes nothing
    assert_one_line_error(result, code=2)
    assert snapshot(saldo_sqlite.engine) == before


def test_adjust_without_a_reason_is_a_one_line_usage_error(cli: Cli, saldo_sqlite: Saldo) -> None:
    # given a Claro line with 50.000 COP
    given_claro_line(cli, balance="50.000")
    before = snapshot(saldo_sqlite.engine)

    # when staff adjust without saying why
    result = cli("adjust", LINE, "5.000", "--actor", "ana")

    # then it exits 2 naming the missing option, and nothing is written
    assert_one_line_error(result, code=2)
    assert "--reason" in result.err
    assert snapshot(saldo_sqlite.engine) == before
    assert main_balance(cli) == 5000000


# -- bad inputs: nothing is written --------------------------------------------------------

BAD_INPUTS = [
    pytest.param(
        ["lines", "add", "123", "--operator", "claro-co"],
        "not a valid phone number",
        id="lines-add-invalid-msisdn",
    ),
    pytest.param(
        ["lines", "add", "+5491123456789", "--operator", "claro-co"],
        "is a number of AR, not of CO",
        id="lines-add-foreign-msisdn",
    ),
    pytest.param(
        ["lines", "add", "3001234500", "--operator", "nope"],
        "no operator 'nope'",
        id="lines-add-unknown-operator",
    ),
    pytest.param(
        ["lines", "add", NATIONAL, "--operator", "claro-co"],
        "already belongs to a live line",
        id="lines-add-existing-line",
    ),
    pytest.param(["topup", "12ab", "1000"], "not a phone number", id="topup-invalid-msisdn"),
    pytest.param(["topup", "+573001234599", "1.000"], "no line", id="topup-unknown-line"),
    pytest.param(["topup", LINE, "999"], "minimum top-up is 1000.00 COP", id="topup-below-min"),
    pytest.param(["topup", LINE, "999", "--json"], "minimum top-up", id="topup-below-minimum-json"),
    pytest.param(["topup", LINE, "1e3"], "not an amount", id="topup-exponent"),
    pytest.param(["topup", LINE, "1E3"], "not an amount", id="topup-exponent-upper"),
    pytest.param(["topup", LINE, "30,555"], "amounts in COP are whole units", id="topup-centavos"),
    pytest.param(["topup", LINE, "-5"], "negative", id="topup-negative"),
    pytest.param(["topup", LINE, "-5.000"], "negative", id="topup-negative-grouped"),
    pytest.param(["topup", LINE, "0"], "minimum top-up", id="topup-zero"),
    pytest.param(["topup", LINE, "abc"], "not an amount", id="topup-not-a-number"),
    pytest.param(["topup", LINE, "1_000"], "not an amount", id="topup-underscore"),
    pytest.param(
        ["topup", LINE, "500.001"], "maximum top-up is 500000.00 COP", id="topup-above-maximum"
    ),
    pytest.param(
        ["topup", LINE, "99999999999999999"],
        "more than any amount Saldo takes",
        id="topup-beyond-any-amount",
    ),
    pytest.param(["topup", LINE, "30.000", "--key", ""], "idempotency key", id="topup-empty-key"),
    pytest.param(
        ["topup", LINE, "30.000", "--key", "not a key!"],
        "idempotency key",
        id="topup-invalid-key",
    ),
    pytest.param(
        ["topup", LINE, "30.000", "--locale", "xx_NOPE"],
        "'xx_NOPE' is not a supported locale",
        id="topup-bad-locale",
    ),
    pytest.param(
        ["adjust", LINE, "60.000", "--debit", "--reason", "refund", "--actor", "ana"],
        "lower than",
        id="adjust-debit-beyond-balance",
    ),
    pytest.param(
        ["adjust", LINE, "1e3", "--reason", "goodwill", "--actor", "ana"],
        "not an amount",
        id="adjust-exponent",
    ),
    pytest.param(
        ["adjust", LINE, "5.000", "--reason", "  ", "--actor", "ana"],
        "reason",
        id="adjust-blank-reason",
    ),
    pytest.param(
        ["adjust", LINE, "9.000.000.000.000.000.000", "--reason", "x", "--actor", "ana"],
        "more than any amount Saldo takes",
        id="adjust-beyond-any-amount",
    ),
    pytest.param(
        ["adjust", LINE, "1_0", "--reason", "goodwill", "--actor", "ana"],
        "not an amount",
        id="adjust-underscore",
    ),
    pytest.param(["balance", "12ab"], "not a phone number", id="balance-invalid-msisdn"),
    pytest.param(["lines", "show", "+573001234599"], "no line", id="lines-show-unknown-line"),
    pytest.param(
        ["lines", "list", "--operator", "nope"], "no operator 'nope'", id="lines-list-unknown-op"
    ),
]


@pytest.mark.parametrize(("argv", "reason"), BAD_INPUTS)
def test_a_bad_input_is_refused_in_one_line_and_writes_nothing(
    cli_each: Cli, saldo: Saldo, argv: list[str], reason: str
) -> None:
    # given a Claro line with 50.000 COP
    given_claro_line(cli_each, balance="50.000")
    before = snapshot(saldo.engine)

    # when the CLI is given bad input
    result = cli_each(*argv)

    # then it exits non-zero with one line saying why, and nothing was written
    assert_one_line_error(result)
    assert reason in result.err
    assert snapshot(saldo.engine) == before
    assert main_balance(cli_each) == 5000000


def test_topup_reusing_a_key_with_another_amount_is_refused_and_writes_nothing(
    cli_each: Cli, saldo: Saldo
) -> None:
    # given a Claro line topped up with 30.000 COP under key K
    given_claro_line(cli_each, balance=None)
    cli_each.ok("topup", LINE, "30.000", "--key", "K-0001")
    before = snapshot(saldo.engine)

    # when 31.000 COP are sent with the same key
    result = cli_each("topup", LINE, "31.000", "--key", "K-0001")

    # then it is refused in one line naming the key, and the balance is the first top-up's
    assert_one_line_error(result, code=1)
    assert "K-0001" in result.err
    assert snapshot(saldo.engine) == before
    assert main_balance(cli_each) == 3000000


# -- wrong currency ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [
        pytest.param("10.000 EUR", id="code-after"),
        pytest.param("EUR 10.000", id="code-before"),
        pytest.param("USD 10.000", id="usd-code-before"),
        pytest.param("US$10.000", id="usd-symbol"),
        pytest.param("€10.000", id="euro-sign-before"),
        pytest.param("10.000 €", id="euro-sign-after"),
    ],
)
def test_topup_in_a_foreign_currency_is_refused_and_writes_nothing(
    cli_each: Cli, saldo: Saldo, amount: str
) -> None:
    # given a Claro Colombia line (COP) with 50.000 COP
    given_claro_line(cli_each, balance="50.000")
    before = snapshot(saldo.engine)

    # when a top-up is typed in another currency
    result = cli_each("topup", LINE, amount)

    # then it is refused in one line and nothing is written
    assert_one_line_error(result, code=1)
    assert snapshot(saldo.engine) == before
    assert main_balance(cli_each) == 5000000


def test_topup_in_dollars_on_a_euro_operator_is_refused_and_writes_nothing(
    cli_each: Cli, saldo: Saldo
) -> None:
    # given a Proximus (EUR) line with 20,00 €
    cli_each.ok("lines", "add", BELGIAN_LINE, "--operator", "proximus-be")
    cli_each.ok("topup", BELGIAN_LINE, "20,00")
    before = snapshot(saldo.engine)

    # when a top-up is typed in dollars
    result = cli_each("topup", BELGIAN_LINE, "$10")

    # then it is refused in one line and nothing is written
    assert_one_line_error(result, code=1)
    assert snapshot(saldo.engine) == before
    assert main_balance(cli_each, BELGIAN_LINE) == 2000


@pytest.mark.parametrize("amount", ["10.000 EUR", "USD 10.000"])
def test_a_foreign_currency_refusal_names_the_currency_the_operator_takes(
    cli: Cli, amount: str
) -> None:
    # given a Claro Colombia line (COP)
    given_claro_line(cli, balance=None)

    # when a top-up is typed in another currency
    result = cli("topup", LINE, amount)

    # then the one line says top-ups are in COP, not just that the text is no amount
    assert_one_line_error(result, code=1)
    assert "COP" in result.err


def test_topup_with_the_operators_own_currency_code_or_symbol_is_accepted(cli: Cli) -> None:
    # given a Claro Colombia line (COP)
    given_claro_line(cli, balance=None)

    # when top-ups are typed with "$" and with "COP"
    cli.ok("topup", LINE, "$10.000")
    cli.ok("topup", LINE, "10.000 COP")

    # then both are credited
    assert main_balance(cli) == 2000000


# -- the catalog ---------------------------------------------------------------------------


def _catalog_file(tmp_path: Path, *, replace: str, by: str) -> Path:
    """claro-co.yaml as a new operator ``acme-co``, with one piece of text replaced."""
    source = (BUNDLED_DIR / "claro-co.yaml").read_text(encoding="utf-8")
    assert replace in source
    path = tmp_path / "acme-co.yaml"
    path.write_text(
        source.replace(replace, by).replace("slug: claro-co", "slug: acme-co"), encoding="utf-8"
    )
    return path


@pytest.mark.parametrize(
    ("replace", "by", "field"),
    [
        pytest.param('minimum: "1000"', "minimum: 1000.5", "topup.minimum", id="float-amount"),
        pytest.param(
            '{amount: "5000", validity_days: 30}',
            "{amount: 5000.0, validity_days: 30}",
            "topup.denominations.1.amount",
            id="float-denomination",
        ),
        pytest.param("timezone: America/Bogota\n", "", "timezone", id="missing-timezone"),
        pytest.param("currency: COP\n", "", "currency", id="missing-currency"),
        pytest.param("currency: COP", "currency: XYZ", "currency", id="unknown-currency"),
        pytest.param('tax_rate: "0.19"', "tax_rate: 0.19", "tax_rate", id="float-rate"),
        pytest.param('ussd_code: "*611#"', "ussd_code: [unclosed", "line", id="not-yaml"),
    ],
)
def test_operators_load_refuses_a_malformed_catalog_file_naming_file_and_field(
    cli_each: Cli, saldo: Saldo, tmp_path: Path, replace: str, by: str, field: str
) -> None:
    # given a catalog file for a new operator with one mistake
    path = _catalog_file(tmp_path, replace=replace, by=by)
    before = snapshot(saldo.engine)

    # when it is loaded
    result = cli_each("operators", "load", str(path))

    # then it is refused in one line naming the file and the field, and nothing is written
    assert_one_line_error(result, code=1)
    assert "acme-co.yaml" in result.err
    assert f": {field}" in result.err
    assert snapshot(saldo.engine) == before


def test_operators_load_of_a_missing_file_is_one_line(cli: Cli, tmp_path: Path) -> None:
    # when a file that does not exist is loaded
    result = cli("operators", "load", str(tmp_path / "nowhere.yaml"))

    # then it is refused in one line naming the file
    assert_one_line_error(result, code=1)
    assert "nowhere.yaml" in result.err


def test_operators_load_of_a_good_file_adds_the_operator(cli: Cli, tmp_path: Path) -> None:
    # given a valid catalog file for a new operator
    path = _catalog_file(tmp_path, replace="name: Claro", by="name: Acme")

    # when it is loaded
    loaded = cli.ok("operators", "load", str(path), "--json").json()

    # then it is listed with the others
    assert loaded["slug"] == "acme-co"
    slugs = {op["slug"] for op in cli.ok("operators", "list", "--json").json()}
    assert slugs == {*SEVEN_SLUGS, "acme-co"}


def test_operators_load_refuses_to_move_an_operator_with_lines_to_another_country(
    cli_each: Cli, saldo: Saldo, tmp_path: Path
) -> None:
    # given an operator loaded from a file, with a line holding money
    path = _catalog_file(tmp_path, replace="name: Claro", by="name: Acme")
    cli_each.ok("operators", "load", str(path))
    cli_each.ok("lines", "add", "+573001239999", "--operator", "acme-co")
    cli_each.ok("topup", "+573001239999", "5.000", "--key", "acme-1")
    # and the same file moved to Ecuador and its dollars
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(_place("CO", "COP"), _place("EC", "USD")), encoding="utf-8")
    before = snapshot(saldo.engine)

    # when it is loaded again
    result = cli_each("operators", "load", str(path))

    # then it is refused in one line naming the file and the field, and nothing is written
    assert_one_line_error(result, code=1)
    assert (
        "acme-co.yaml: country: acme-co has lines or vouchers kept in CO, so its country"
        in result.err
    )
    assert snapshot(saldo.engine) == before
    assert "Ledger clean" in cli_each.ok("audit").out


def _place(country: str, currency: str) -> str:
    return f"country: {country}\ncurrency: {currency}"


def test_operators_load_may_change_the_currency_of_an_operator_without_lines(
    cli: Cli, tmp_path: Path
) -> None:
    # given an operator loaded from a file, with no line yet
    path = _catalog_file(tmp_path, replace="name: Claro", by="name: Acme")
    cli.ok("operators", "load", str(path))

    # when it is loaded again in another country and currency
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(_place("CO", "COP"), _place("EC", "USD")), encoding="utf-8")
    loaded = cli.ok("operators", "load", str(path), "--json").json()

    # then the update is taken
    assert (loaded["country"], loaded["currency"]) == ("EC", "USD")


# -- CSV import ----------------------------------------------------------------------------

GOOD_AND_BAD_ROWS = """\
msisdn,operator,iccid,sim_kind,language
3001234500,claro-co,,,
123,claro-co,,,
3001234568,nope,,,
+5491123456789,claro-co,,,
3001234569,claro-co,,satellite,
+573001234567,claro-co,,,
,claro-co,,,
+5491123456780,personal-ar,,esim,
"""

EXPECTED_REJECTIONS = {
    3: "'123' is not a valid phone number",
    4: "no operator 'nope'",
    5: "is a number of AR, not of CO",
    6: "sim_kind 'satellite' is not physical or esim",
    7: "already belongs to a live line",
    8: "msisdn and operator are required",
}


def test_lines_import_adds_the_valid_rows_and_reports_each_bad_row(
    cli_each: Cli, saldo: Saldo, tmp_path: Path
) -> None:
    # given a Claro line with 50.000 COP, and a CSV of two good rows and six bad ones
    given_claro_line(cli_each, balance="50.000")
    path = tmp_path / "lines.csv"
    path.write_text(GOOD_AND_BAD_ROWS, encoding="utf-8")
    before = snapshot(saldo.engine)

    # when it is imported
    result = cli_each("lines", "import", str(path))

    # then it exits 3, with one stderr line per bad row giving its row number and reason
    assert result.code == 3
    assert "Traceback" not in result.err
    reported = result.err.splitlines()
    assert len(reported) == len(EXPECTED_REJECTIONS)
    for line, (row, reason) in zip(reported, sorted(EXPECTED_REJECTIONS.items()), strict=True):
        assert line.startswith(f"row {row}: "), line
        assert reason in line
    assert "Imported 2 line(s); rejected 6." in result.out
    # and only the two valid rows were written: a line and its main bucket each
    after = snapshot(saldo.engine)
    assert after["counts"] == {
        **before["counts"],
        "lines": before["counts"]["lines"] + 2,
        "accounts": before["counts"]["accounts"] + 2,
    }
    assert [row.msisdn for row in after["lines"]] == [
        *(row.msisdn for row in before["lines"]),
        OTHER_LINE,
        "+5491123456780",
    ]
    assert main_balance(cli_each) == 5000000
    esim = cli_each.ok("lines", "show", "+5491123456780", "--json").json()
    assert esim["sim_kind"] == "esim"


def test_lines_import_json_reports_the_rejected_rows(cli: Cli, tmp_path: Path) -> None:
    # given a Claro line, and a CSV of two good rows and six bad ones
    given_claro_line(cli, balance=None)
    path = tmp_path / "lines.csv"
    path.write_text(GOOD_AND_BAD_ROWS, encoding="utf-8")

    # when it is imported for a script
    result = cli("lines", "import", str(path), "--json")

    # then it exits 3 and the JSON lists every rejected row
    assert result.code == 3
    report = result.json()
    assert report["imported"] == 2
    assert [item["row"] for item in report["rejected"]] == sorted(EXPECTED_REJECTIONS)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("number,operator\n3001234500,claro-co\n", id="no-msisdn-column"),
        pytest.param("msisdn\n3001234500\n", id="no-operator-column"),
        pytest.param("", id="empty-file"),
    ],
)
def test_lines_import_of_a_csv_without_the_required_columns_is_one_line_and_writes_nothing(
    cli_each: Cli, saldo: Saldo, tmp_path: Path, content: str
) -> None:
    # given a Claro line with 50.000 COP, and a CSV the import cannot read
    given_claro_line(cli_each, balance="50.000")
    path = tmp_path / "lines.csv"
    path.write_text(content, encoding="utf-8")
    before = snapshot(saldo.engine)

    # when it is imported
    result = cli_each("lines", "import", str(path))

    # then it is refused in one line naming the file, and nothing is written
    assert_one_line_error(result, code=1)
    assert "lines.csv" in result.err
    assert snapshot(saldo.engine) == before


def test_lines_import_reads_a_spreadsheet_csv_with_a_byte_order_mark(
    cli: Cli, tmp_path: Path
) -> None:
    # given a CSV saved as "CSV UTF-8" by a spreadsheet: it starts with a byte-order mark
    path = tmp_path / "lines.csv"
    path.write_text("msisdn,operator\n3001230011,claro-co\n", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")

    # when it is imported
    result = cli("lines", "import", str(path))

    # then its row is imported like any other
    assert result.code == 0, result.err
    assert "Imported 1 line(s); rejected 0." in result.out
    assert cli.ok("lines", "show", "+573001230011", "--json").json()["operator"] == "claro-co"


def test_lines_import_reports_the_line_of_the_file_even_after_blank_lines(
    cli: Cli, tmp_path: Path
) -> None:
    # given a CSV with a blank line 3 and a bad row on line 5 (line 4 is good)
    path = tmp_path / "lines.csv"
    path.write_text(
        "msisdn,operator,sim_kind\n"
        "3001230011,claro-co,esim\n"
        "\n"
        "3001230012,claro-co,physical\n"
        "3001230013,claro-co,satellite\n",
        encoding="utf-8",
    )

    # when it is imported
    result = cli("lines", "import", str(path), "--json")

    # then the bad row is reported as line 5, where an editor shows it
    assert result.code == 3
    assert result.json()["rejected"] == [
        {"row": 5, "reason": "sim_kind 'satellite' is not physical or esim"}
    ]


def test_lines_import_of_a_file_that_is_not_utf8_is_one_line(
    cli: Cli, saldo_sqlite: Saldo, tmp_path: Path
) -> None:
    # given a CSV in Latin-1
    path = tmp_path / "lines.csv"
    path.write_bytes("msisdn,operator,language\n3001234500,claro-co,español\n".encode("latin-1"))
    before = snapshot(saldo_sqlite.engine)

    # when it is imported
    result = cli("lines", "import", str(path))

    # then it is refused in one line and nothing is written
    assert_one_line_error(result, code=1)
    assert "UTF-8" in result.err
    assert snapshot(saldo_sqlite.engine) == before
