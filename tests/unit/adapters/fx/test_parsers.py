"""Rate files: the ECB's daily XML (a saved sample), CSV and JSON. A good file gives exact
Decimal rates with their source and time; a bad one is refused whole, in one message naming
the file, where in it, and what is wrong. Reading them from disk is in
tests/integration/adapters/fx/test_files.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from saldo.adapters.fx.ecb import parse_ecb
from saldo.adapters.fx.errors import UnreadableRateFile
from saldo.adapters.fx.files import parse_csv, parse_json

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "eurofxref-daily.xml"
NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
ECB_PUBLISHED = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # 16:00 in Frankfurt (CET)


def ecb(cubes: str, *, day: str = "2026-11-20", prolog: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{prolog}"
        '<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" '
        'xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">\n'
        "<gesmes:subject>Reference rates</gesmes:subject>\n"
        "<Cube>\n"
        f"<Cube time='{day}'>\n"
        f"{cubes}\n"
        "</Cube>\n"
        "</Cube>\n"
        "</gesmes:Envelope>\n"
    ).encode()


def refused_ecb(data: bytes) -> str:
    with pytest.raises(UnreadableRateFile) as refused:
        parse_ecb(data, file="daily.xml")
    assert refused.value.code == "unreadable_rate_file"
    return refused.value.message


def refused_csv(text: str) -> str:
    with pytest.raises(UnreadableRateFile) as refused:
        parse_csv(text, file="ars.csv", source="bcra", now=NOW)
    return refused.value.message


def refused_json(text: str, *, source: str | None = None) -> str:
    with pytest.raises(UnreadableRateFile) as refused:
        parse_json(text, file="cop.json", source=source, now=NOW)
    return refused.value.message


# -- the ECB's daily reference rates ----------------------------------------------------------


def test_the_ecb_sample_gives_every_rate_against_the_euro_exactly() -> None:
    rates = parse_ecb(SAMPLE.read_bytes(), file=str(SAMPLE))

    by_currency = {rate.quote: rate for rate in rates}
    assert len(rates) == 29
    assert {rate.base for rate in rates} == {"EUR"}
    assert {rate.source for rate in rates} == {"ecb"}
    assert {rate.fetched_at for rate in rates} == {ECB_PUBLISHED}
    assert by_currency["USD"].rate == Decimal("1.1632")
    assert by_currency["CNY"].rate == Decimal("8.2450")
    assert str(by_currency["GBP"].rate) == "0.88135"
    assert {"GBP", "BRL", "MXN", "JPY", "CHF"} <= by_currency.keys()


def test_the_ecb_publishes_no_argentine_or_colombian_rate() -> None:
    quoted = {rate.quote for rate in parse_ecb(SAMPLE.read_bytes(), file=str(SAMPLE))}

    assert {"ARS", "COP"}.isdisjoint(quoted)


def test_an_ecb_summer_day_is_published_at_16_00_central_european_summer_time() -> None:
    (rate,) = parse_ecb(ecb("<Cube currency='USD' rate='1.1700'/>", day="2026-07-20"), file="x")

    assert rate.fetched_at == datetime(2026, 7, 20, 14, 0, tzinfo=UTC)


def test_the_ecb_source_can_be_renamed() -> None:
    (rate,) = parse_ecb(ecb("<Cube currency='USD' rate='1.1632'/>"), file="x", source="ecb-mirror")

    assert rate.source == "ecb-mirror"


BILLION_LAUGHS = '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>\n'
EXTERNAL = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'


@pytest.mark.parametrize("prolog", [BILLION_LAUGHS, EXTERNAL, "<!doctype html>\n"])
def test_an_ecb_file_with_a_dtd_or_entities_is_refused(prolog: str) -> None:
    message = refused_ecb(ecb("<Cube currency='USD' rate='1.1632'/>", prolog=prolog))

    assert message == "daily.xml: DTDs and entity declarations are refused"


def test_a_dtd_hidden_from_the_byte_check_is_refused_by_the_parser() -> None:
    # In UTF-16 the bytes do not spell "<!DOCTYPE"; expat's handler refuses it all the same.
    text = ecb("<Cube currency='USD' rate='1.1632'/>", prolog=EXTERNAL).decode()
    data = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")

    assert refused_ecb(data) == "daily.xml: line 2: DTDs and entity declarations are refused"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            ecb("<Cube currency='USD' rate='1.1632'/>")[:-40],
            "daily.xml: line 6: not well-formed XML (unclosed token)",
        ),
        (b"", "daily.xml: line 1: not well-formed XML (no element found)"),
        (
            b"<rates><rate currency='USD'>1.16</rate></rates>",
            "daily.xml: line 1: not the ECB's reference rates: <rates> where "
            "<gesmes:Envelope> begins",
        ),
        (
            ecb("<Cube currency='USD' rate='1.1632'/>").replace(b" time='2026-11-20'", b""),
            "daily.xml: line 5, time: a <Cube> of rates without its day",
        ),
        (
            ecb("<Cube currency='USD' rate='1.1632'/>", day="20/11/2026"),
            "daily.xml: line 5, time: '20/11/2026' is not a day like 2026-11-20",
        ),
        (
            ecb(
                "<Cube currency='USD' rate='1.1632'/></Cube>\n"
                "<Cube time='2026-11-19'><Cube currency='USD' rate='1.1601'/>"
            ),
            "daily.xml: line 7, time: more than one day (2026-11-20, 2026-11-19): load the "
            "daily file, eurofxref-daily.xml",
        ),
        (ecb(""), "daily.xml: the day 2026-11-20 has no rates"),
        (
            ecb("<Cube currency='USD'/>"),
            "daily.xml: line 6: a rate needs currency='...' and rate='...'",
        ),
        (
            ecb("<Cube currency='USD' rate='1,1632'/>"),
            "daily.xml: line 6, rate: '1,1632' is not a plain decimal rate like 1.0876",
        ),
        (
            ecb("<Cube currency='USD' rate='-1.16'/>"),
            "daily.xml: line 6, rate: '-1.16' is not a plain decimal rate like 1.0876",
        ),
        (
            ecb("<Cube currency='USD' rate='0.0000'/>"),
            "daily.xml: line 6, rate: a rate of zero is not a rate",
        ),
        (
            ecb("<Cube currency='USD' rate='1.1632e0'/>"),
            "daily.xml: line 6, rate: '1.1632e0' is not a plain decimal rate like 1.0876",
        ),
        (
            ecb("<Cube currency='usd' rate='1.1632'/>"),
            "daily.xml: line 6, currency: 'usd' is not an ISO 4217 code like USD",
        ),
        (
            ecb("<Cube currency='XYZ' rate='1.1632'/>"),
            "daily.xml: line 6, currency: XYZ is not an ISO 4217 currency",
        ),
        (
            ecb("<Cube currency='EUR' rate='1'/>"),
            "daily.xml: line 6, currency: EUR is the base of every ECB rate, not one of them",
        ),
        (
            ecb("<Cube currency='USD' rate='1.1632'/>\n<Cube currency='USD' rate='1.1633'/>"),
            "daily.xml: line 7, currency: USD is given twice",
        ),
        (
            ecb("<Cube currency='USD' rate='1.1632'><Cube currency='GBP' rate='0.88'/></Cube>"),
            "daily.xml: line 6: a <Cube> out of place",
        ),
        (
            ecb("<Cube currency='USD' rate='1.1632'/>")
            .replace(b"&", b"")
            .replace(b"1.1632", b"&amp1.1632"),
            "daily.xml: line 6: not well-formed XML (not well-formed (invalid token))",
        ),
    ],
)
def test_a_bad_ecb_file_is_refused_naming_the_line(data: bytes, expected: str) -> None:
    assert refused_ecb(data) == expected


# -- CSV --------------------------------------------------------------------------------------


def test_a_csv_file_gives_exact_rates_with_their_own_times() -> None:
    rates = parse_csv(
        "base,quote,rate,fetched_at\n"
        "USD,ARS,1450.25,2026-11-22T13:00:00Z\n"
        "EUR,ARS,1687.40,2026-11-22T10:00:00-03:00\n",
        file="ars.csv",
        source="bcra",
        now=NOW,
    )

    assert [(r.pair, str(r.rate), r.source, r.fetched_at) for r in rates] == [
        ("USD/ARS", "1450.25", "bcra", datetime(2026, 11, 22, 13, 0, tzinfo=UTC)),
        ("EUR/ARS", "1687.40", "bcra", datetime(2026, 11, 22, 13, 0, tzinfo=UTC)),
    ]


def test_csv_rates_without_a_time_count_as_fetched_when_loaded() -> None:
    (rate,) = parse_csv("base,quote,rate\nUSD,COP,3875.50\n", file="c", source="banrep", now=NOW)

    assert rate.fetched_at == NOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "ars.csv: is empty"),
        ("\n\n", "ars.csv: is empty"),
        ("base,quote,rate\n", "ars.csv: has no rates"),
        (
            "from,to,rate\nUSD,ARS,1450.25\n",
            "ars.csv: line 1: the header must be base,quote,rate or base,quote,rate,fetched_at, "
            "not from,to,rate",
        ),
        (
            "base,quote,rate\nUSD,ARS,1450,25\n",
            "ars.csv: line 2: 4 fields, the header has 3 (write rates with a decimal point: "
            "1.0876)",
        ),
        ("base,quote,rate\nUSD,ARS\n", "ars.csv: line 2: 2 fields, the header has 3"),
        (
            "base,quote,rate\nUSD,ARS,1450.25\nUSD,COP,\n",
            "ars.csv: line 3, rate: '' is not a plain decimal rate like 1.0876",
        ),
        (
            "base,quote,rate\nUSD,ARS,1.45e3\n",
            "ars.csv: line 2, rate: '1.45e3' is not a plain decimal rate like 1.0876",
        ),
        (
            "base,quote,rate\nUSD,ARS,-1450\n",
            "ars.csv: line 2, rate: '-1450' is not a plain decimal rate like 1.0876",
        ),
        ("base,quote,rate\nUSD,ARS,0\n", "ars.csv: line 2, rate: a rate of zero is not a rate"),
        (
            "base,quote,rate\nUSD,ARS,NaN\n",
            "ars.csv: line 2, rate: 'NaN' is not a plain decimal rate like 1.0876",
        ),
        (
            "base,quote,rate\nUSD,ARG,1450.25\n",
            "ars.csv: line 2, quote: ARG is not an ISO 4217 currency",
        ),
        (
            "base,quote,rate\nusd,ARS,1450.25\n",
            "ars.csv: line 2, base: 'usd' is not an ISO 4217 code like USD",
        ),
        (
            "base,quote,rate\nARS,ARS,1\n",
            "ars.csv: line 2: a rate links two currencies, not ARS to itself",
        ),
        (
            "base,quote,rate\nUSD,ARS,1450.25\nEUR,ARS,1687.40\nUSD,ARS,1451.00\n",
            "ars.csv: line 4: USD/ARS is already given (line 2)",
        ),
        (
            "base,quote,rate\nUSD,ARS,1460.00\nARS,USD,0.5\n",
            "ars.csv: line 3: ARS/USD is already given the other way round (line 2)",
        ),
        (
            "base,quote,rate,fetched_at\nUSD,ARS,1450.25,2026-11-22T13:00:00\n",
            "ars.csv: line 2, fetched_at: '2026-11-22T13:00:00' has no UTC offset: write it like "
            "2026-11-22T13:00:00Z",
        ),
        (
            "base,quote,rate,fetched_at\nUSD,ARS,1450.25,22/11/2026 13:00\n",
            "ars.csv: line 2, fetched_at: '22/11/2026 13:00' is not a time like "
            "2026-11-22T13:00:00Z",
        ),
        (
            'base,quote,rate\nUSD,ARS,"1450.25\n',
            "ars.csv: line 2: not valid CSV (unexpected end of data)",
        ),
    ],
)
def test_a_bad_csv_file_is_refused_naming_the_line_and_field(text: str, expected: str) -> None:
    assert refused_csv(text) == expected


# -- JSON -------------------------------------------------------------------------------------

COP_JSON = {
    "source": "banrep",
    "fetched_at": "2026-11-22T12:00:00Z",
    "rates": [
        {"base": "USD", "quote": "COP", "rate": "3875.50"},
        {"base": "EUR", "quote": "COP", "rate": "4507.98"},
    ],
}


def test_a_json_file_gives_exact_rates_with_its_source_and_time() -> None:
    rates = parse_json(json.dumps(COP_JSON), file="cop.json", source=None, now=NOW)

    assert [(r.pair, str(r.rate), r.source, r.fetched_at) for r in rates] == [
        ("USD/COP", "3875.50", "banrep", datetime(2026, 11, 22, 12, 0, tzinfo=UTC)),
        ("EUR/COP", "4507.98", "banrep", datetime(2026, 11, 22, 12, 0, tzinfo=UTC)),
    ]


def test_a_source_given_when_loading_replaces_the_files_own() -> None:
    rates = parse_json(json.dumps(COP_JSON), file="cop.json", source="treasury", now=NOW)

    assert {rate.source for rate in rates} == {"treasury"}


def test_json_rates_without_a_time_count_as_fetched_when_loaded() -> None:
    document = {"source": "banrep", "rates": [{"base": "USD", "quote": "COP", "rate": "3875.5"}]}

    (rate,) = parse_json(json.dumps(document), file="cop.json", source=None, now=NOW)

    assert rate.fetched_at == NOW


def with_rate(**changes: object) -> str:
    entry: dict[str, object] = {"base": "USD", "quote": "COP", "rate": "3875.50", **changes}
    return json.dumps({**COP_JSON, "rates": [entry]})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"source": "banrep", "rates": [{"base": "USD", "quote": "COP", "rate": 3875.50}]}',
            'cop.json: rates[0].rate: 3875.50 is a JSON number; write it as a string ("3875.50") '
            "so that no float rounds it",
        ),
        (
            '{"source": "banrep", "rates": [{"base": "USD", "quote": "COP", "rate": 3875}]}',
            'cop.json: rates[0].rate: 3875 is a JSON number; write it as a string ("3875") '
            "so that no float rounds it",
        ),
        (
            '{"source": "banrep", "rates": [{"base": "USD", "quote": "COP", "rate": NaN}]}',
            'cop.json: rates[0].rate: NaN is a JSON number; write it as a string ("NaN") '
            "so that no float rounds it",
        ),
        (
            '{"source": "banrep",\n "rates": [}',
            "cop.json: line 2: not valid JSON (Expecting value)",
        ),
        ("", "cop.json: line 1: not valid JSON (Expecting value)"),
        (
            "[]",
            'cop.json: must be an object: {"source": ..., "fetched_at": ..., "rates": [...]}',
        ),
        (
            '{"source": "banrep", "fetchedat": "2026-11-22T12:00:00Z", "rates": []}',
            "cop.json: fetchedat: unknown key: the keys are source, fetched_at and rates",
        ),
        (
            '{"rates": [{"base": "USD", "quote": "COP", "rate": "3875.50"}]}',
            'cop.json: no source: add "source": "..." to the file or give one when loading',
        ),
        ('{"source": "", "rates": []}', "cop.json: source: a rate names its source"),
        (
            '{"source": 7, "rates": []}',
            "cop.json: source: 7 is a JSON number; write it as a "
            'string ("7") so that no float rounds it',
        ),
        ('{"source": "banrep"}', "cop.json: rates: must be a list of rates"),
        ('{"source": "banrep", "rates": {}}', "cop.json: rates: must be a list of rates"),
        ('{"source": "banrep", "rates": []}', "cop.json: has no rates"),
        (
            '{"source": "banrep", "rates": ["USD,COP,3875.50"]}',
            'cop.json: rates[0]: must be an object {"base": ..., "quote": ..., "rate": ...}',
        ),
        (
            '{"source": "banrep", "source": "other", "rates": []}',
            "cop.json: the key 'source' appears twice in one object",
        ),
        (
            with_rate(rate=None),
            "cop.json: rates[0].rate: must be a string",
        ),
        (
            json.dumps({"source": "b", "rates": [{"base": "USD", "rate": "1"}]}),
            "cop.json: rates[0].quote: missing: a rate has base, quote and rate",
        ),
        (
            with_rate(fetched_at="2026-11-22T12:00:00Z"),
            "cop.json: rates[0].fetched_at: unknown key: a rate has base, quote and rate",
        ),
        (
            with_rate(rate="3.875,50"),
            "cop.json: rates[0], rate: '3.875,50' is not a plain decimal rate like 1.0876",
        ),
        (
            with_rate(quote="EUR", base="EUR"),
            "cop.json: rates[0]: a rate links two currencies, not EUR to itself",
        ),
        (
            with_rate(base="PESO"),
            "cop.json: rates[0], base: 'PESO' is not an ISO 4217 code like USD",
        ),
        (
            json.dumps({**COP_JSON, "fetched_at": "2026-11-22"}),
            "cop.json: fetched_at: '2026-11-22' has no UTC offset: write it like "
            "2026-11-22T13:00:00Z",
        ),
        (
            json.dumps({**COP_JSON, "rates": [COP_JSON["rates"][0], COP_JSON["rates"][0]]}),  # type: ignore[index]
            "cop.json: rates[1]: USD/COP is already given (rates[0])",
        ),
    ],
)
def test_a_bad_json_file_is_refused_naming_the_entry_and_field(text: str, expected: str) -> None:
    assert refused_json(text) == expected


# -- any rate file ----------------------------------------------------------------------------


def test_a_json_file_nested_deeper_than_any_rate_file_is_refused() -> None:
    assert "nested deeper than any rate file is" in refused_json("[" * 100_000 + "]" * 100_000)
