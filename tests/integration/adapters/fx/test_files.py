"""Rate files read from disk (read_rates_file): the format known by the file's extension or
first character unless named, a byte order mark and CRLF accepted, and a file that cannot be
read as rates (unknown format, no source, not UTF-8, too large, missing) refused in one message
naming it. What each format's parser accepts is in tests/unit/adapters/fx/test_parsers.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from saldo.adapters.fx.errors import UnreadableRateFile
from saldo.adapters.fx.files import MAX_BYTES, read_rates_file
from saldo.domain.fx import InvalidRate
from tests.unit.adapters.fx.test_parsers import COP_JSON

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "eurofxref-daily.xml"
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def test_a_csv_file_may_have_a_byte_order_mark_blank_lines_spaces_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "ars.csv"
    path.write_bytes("\ufeffBase, Quote ,RATE\r\n\r\n USD , ARS , 1450.25 \r\n\r\n".encode())

    (rate,) = read_rates_file(path, fmt=None, source="bcra", now=NOW)

    assert (rate.pair, rate.rate) == ("USD/ARS", Decimal("1450.25"))


@pytest.mark.parametrize(
    ("name", "content", "pair"),
    [
        ("daily.xml", SAMPLE.read_bytes(), "EUR/USD"),
        ("ars.csv", b"base,quote,rate\nUSD,ARS,1450.25\n", "USD/ARS"),
        ("cop.json", json.dumps(COP_JSON).encode(), "USD/COP"),
        ("eurofxref-daily", SAMPLE.read_bytes(), "EUR/USD"),
        ("rates.txt", b"\xef\xbb\xbf " + json.dumps(COP_JSON).encode(), "USD/COP"),
        ("rates", b"base,quote,rate\nUSD,ARS,1450.25\n", "USD/ARS"),
    ],
)
def test_the_format_is_known_by_extension_or_first_character(
    tmp_path: Path, name: str, content: bytes, pair: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    rates = read_rates_file(path, fmt=None, source="given", now=NOW)

    assert (rates[0].pair, rates[0].source) == (pair, "given")


def test_a_named_format_wins_over_the_extension(tmp_path: Path) -> None:
    path = tmp_path / "rates.xml"
    path.write_text("base,quote,rate\nUSD,ARS,1450.25\n")

    (rate,) = read_rates_file(path, fmt="csv", source="bcra", now=NOW)

    assert rate.pair == "USD/ARS"


def test_an_ecb_file_is_named_ecb_unless_told_otherwise(tmp_path: Path) -> None:
    rates = read_rates_file(SAMPLE, fmt="ecb", source=None, now=NOW)

    assert {rate.source for rate in rates} == {"ecb"}


@pytest.mark.parametrize(
    ("name", "content", "fmt", "source", "expected"),
    [
        (
            "ars.csv",
            b"base,quote,rate\nUSD,ARS,1\n",
            "xls",
            "b",
            "unknown format 'xls': use ecb, csv or json",
        ),
        (
            "ars.csv",
            b"base,quote,rate\nUSD,ARS,1\n",
            None,
            None,
            "a CSV file does not name its source: give one (saldo fx load --source NAME)",
        ),
        (
            "ars.csv",
            b"base,quote,rate\nUSD,ARS,1\xff\n",
            None,
            "b",
            "is not UTF-8 text (byte offset 25)",
        ),
        (
            "big.csv",
            b"x" * (MAX_BYTES + 1),
            None,
            "b",
            "is larger than 1 MiB, far too large for rates",
        ),
    ],
)
def test_a_file_that_cannot_be_read_as_rates_is_refused(
    tmp_path: Path, name: str, content: bytes, fmt: str | None, source: str | None, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(UnreadableRateFile) as refused:
        read_rates_file(path, fmt=fmt, source=source, now=NOW)

    assert refused.value.message == f"{path}: {expected}"


def test_a_missing_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "missing.csv"

    with pytest.raises(UnreadableRateFile, match=r"missing\.csv: cannot be read \(No such file"):
        read_rates_file(path, fmt=None, source="bcra", now=NOW)


def test_a_blank_source_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidRate, match="names its source"):
        read_rates_file(SAMPLE, fmt=None, source=" ", now=NOW)
