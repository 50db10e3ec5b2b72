"""Rate files in CSV and JSON, for the rates the ECB does not publish (ARS, COP), and
``read_rates_file``, which reads a rate file of any of the three formats.

CSV, one rate per row under a header (``fetched_at`` optional)::

    base,quote,rate,fetched_at
    USD,ARS,1450.25,2026-11-22T13:00:00Z

JSON, ``fetched_at`` optional::

    {"source": "bcra", "fetched_at": "2026-11-22T13:00:00Z",
     "rates": [{"base": "USD", "quote": "ARS", "rate": "1450.25"}]}

Rates are text, read exactly; JSON numbers are refused because they may pass through floats.
A rate without ``fetched_at`` counts as fetched when the file is loaded. A file with one bad
row is refused whole, naming the line (CSV) or the entry (JSON).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, NoReturn

from saldo.adapters.fx.ecb import ECB_SOURCE, parse_ecb
from saldo.adapters.fx.errors import UnreadableRateFile
from saldo.domain.fx import ExchangeRate, InvalidRate, check_currency, check_source, parse_rate
from saldo.domain.periods import impossible_day

FORMATS: Final[tuple[str, ...]] = ("ecb", "csv", "json")
# A day's rates are a few kilobytes; a file far larger is not a rate file.
MAX_BYTES: Final = 1024 * 1024

_CSV_HEADERS = (("base", "quote", "rate"), ("base", "quote", "rate", "fetched_at"))
_JSON_KEYS = frozenset({"source", "fetched_at", "rates"})
_JSON_RATE_KEYS = frozenset({"base", "quote", "rate"})


def read_rates_file(
    path: Path, *, fmt: str | None, source: str | None, now: datetime
) -> list[ExchangeRate]:
    """The rates in the file at ``path``, in ``fmt`` (ecb, csv or json; None: by the file's
    extension, else by its first character). ``source`` names where the rates come from; it
    is required for CSV, replaces a JSON file's own, and defaults to "ecb" for the ECB's XML.
    Rates without a time of their own count as fetched at ``now``.

    Raises UnreadableRateFile naming the file, and the line or entry, for any problem;
    InvalidRate for a bad ``source``.
    """
    file = str(path)
    if source is not None:
        check_source(source)
    if fmt is not None and fmt not in FORMATS:
        raise UnreadableRateFile(f"unknown format {fmt!r}: use ecb, csv or json", file=file)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise UnreadableRateFile(f"cannot be read ({error.strerror or error})", file=file) from None
    if len(data) > MAX_BYTES:
        raise UnreadableRateFile("is larger than 1 MiB, far too large for rates", file=file)
    kind = fmt or _sniff(path, data)
    if kind == "ecb":
        return parse_ecb(data, file=file, source=source or ECB_SOURCE)
    try:
        # utf-8-sig: spreadsheets save CSV with a byte-order mark.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableRateFile(
            f"is not UTF-8 text (byte offset {error.start})", file=file
        ) from None
    if kind == "csv":
        if source is None:
            raise UnreadableRateFile(
                "a CSV file does not name its source: give one (saldo fx load --source NAME)",
                file=file,
            )
        return parse_csv(text, file=file, source=source, now=now)
    return parse_json(text, file=file, source=source, now=now)


def _sniff(path: Path, data: bytes) -> str:
    by_extension = {".xml": "ecb", ".csv": "csv", ".json": "json"}
    if path.suffix.lower() in by_extension:
        return by_extension[path.suffix.lower()]
    start = data.removeprefix(b"\xef\xbb\xbf").lstrip()
    if start.startswith(b"<"):
        return "ecb"
    if start.startswith(b"{"):
        return "json"
    return "csv"


def parse_csv(text: str, *, file: str, source: str, now: datetime) -> list[ExchangeRate]:
    """The rates of a CSV file with a ``base,quote,rate[,fetched_at]`` header; blank lines
    are skipped. Raises UnreadableRateFile naming the line and the field."""
    rates = _Rates(file=file)
    header: Sequence[str] | None = None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row in reader:
            where = f"line {reader.line_num}"
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if header is None:
                header = tuple(cell.lower() for cell in cells)
                if header not in _CSV_HEADERS:
                    rates.fail(
                        f"the header must be base,quote,rate or base,quote,rate,fetched_at, "
                        f"not {','.join(cells)}",
                        where=where,
                    )
                continue
            if len(cells) != len(header):
                hint = " (write rates with a decimal point: 1.0876)" if len(cells) > 3 else ""
                rates.fail(f"{len(cells)} fields, the header has {len(header)}{hint}", where=where)
            values = dict(zip(header, cells, strict=True))
            fetched_at = (
                _instant(values["fetched_at"], rates=rates, where=f"{where}, fetched_at")
                if "fetched_at" in values
                else now
            )
            rates.add(
                base=values["base"],
                quote=values["quote"],
                rate=values["rate"],
                source=source,
                fetched_at=fetched_at,
                where=where,
            )
    except csv.Error as error:
        rates.fail(f"not valid CSV ({error})", where=f"line {reader.line_num}")
    if header is None:
        rates.fail("is empty")
    return rates.all()


def parse_json(text: str, *, file: str, source: str | None, now: datetime) -> list[ExchangeRate]:
    """The rates of a JSON file ``{"source", "fetched_at", "rates": [{"base", "quote",
    "rate"}]}``; ``source`` replaces the file's own. Raises UnreadableRateFile naming the
    entry and field (``rates[2].rate``)."""
    rates = _Rates(file=file)
    try:
        document = json.loads(
            text,
            parse_float=_Number,
            parse_int=_Number,
            parse_constant=_Number,
            object_pairs_hook=_object,
        )
    except json.JSONDecodeError as error:
        rates.fail(f"not valid JSON ({error.msg})", where=f"line {error.lineno}")
    except RecursionError:
        rates.fail("nested deeper than any rate file is")
    except _RepeatedKey as error:
        rates.fail(f"the key {error.key!r} appears twice in one object")
    if not isinstance(document, dict):
        rates.fail('must be an object: {"source": ..., "fetched_at": ..., "rates": [...]}')
    for key in document:
        if key not in _JSON_KEYS:
            rates.fail("unknown key: the keys are source, fetched_at and rates", where=key)
    named = document.get("source")
    if named is not None:
        _text(named, rates=rates, where="source")
    source = source or named
    if source is None:
        rates.fail('no source: add "source": "..." to the file or give one when loading')
    try:
        check_source(source)
    except InvalidRate as error:
        rates.fail(error.message, where="source")
    fetched_at = now
    if "fetched_at" in document:
        fetched_at = _instant(
            _text(document["fetched_at"], rates=rates, where="fetched_at"),
            rates=rates,
            where="fetched_at",
        )
    entries = document.get("rates")
    if not isinstance(entries, list):
        rates.fail("must be a list of rates", where="rates")
    for index, entry in enumerate(entries):
        where = f"rates[{index}]"
        if not isinstance(entry, dict):
            rates.fail('must be an object {"base": ..., "quote": ..., "rate": ...}', where=where)
        for key in sorted(set(entry) ^ _JSON_RATE_KEYS):
            problem = "unknown key" if key in entry else "missing"
            rates.fail(f"{problem}: a rate has base, quote and rate", where=f"{where}.{key}")
        rates.add(
            base=_text(entry["base"], rates=rates, where=f"{where}.base"),
            quote=_text(entry["quote"], rates=rates, where=f"{where}.quote"),
            rate=_text(entry["rate"], rates=rates, where=f"{where}.rate"),
            source=source,
            fetched_at=fetched_at,
            where=where,
        )
    return rates.all()


class _Rates:
    """The rates read so far from one file, and how that file's problems are reported."""

    def __init__(self, *, file: str) -> None:
        self.file = file
        self._found: dict[tuple[str, str, datetime], tuple[str, ExchangeRate]] = {}

    def fail(self, problem: str, *, where: str | None = None) -> NoReturn:
        raise UnreadableRateFile(problem, file=self.file, where=where)

    def add(
        self, *, base: str, quote: str, rate: str, source: str, fetched_at: datetime, where: str
    ) -> None:
        for field, code in (("base", base), ("quote", quote)):
            try:
                check_currency(code)
            except InvalidRate as error:
                self.fail(error.message, where=f"{where}, {field}")
        if base == quote:
            self.fail(f"a rate links two currencies, not {base} to itself", where=where)
        try:
            value = parse_rate(rate)
        except InvalidRate as error:
            self.fail(error.message, where=f"{where}, rate")
        key = (base, quote, fetched_at)
        if key in self._found:
            first = self._found[key][0]
            self.fail(f"{base}/{quote} is already given ({first})", where=where)
        inverse = (quote, base, fetched_at)
        if inverse in self._found:  # one pair, one rate: two would contradict each other
            first = self._found[inverse][0]
            self.fail(f"{base}/{quote} is already given the other way round ({first})", where=where)
        found = ExchangeRate(
            base=base, quote=quote, rate=value, source=source, fetched_at=fetched_at
        )
        self._found[key] = (where, found)

    def all(self) -> list[ExchangeRate]:
        if not self._found:
            self.fail("has no rates")
        return [rate for _, rate in self._found.values()]


def _instant(text: str, *, rates: _Rates, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        why = impossible_day(text)
        rates.fail(why or f"{text!r} is not a time like 2026-11-22T13:00:00Z", where=where)
    if moment.tzinfo is None or moment.utcoffset() is None:
        rates.fail(f"{text!r} has no UTC offset: write it like 2026-11-22T13:00:00Z", where=where)
    return moment.astimezone(UTC)


def _text(value: Any, *, rates: _Rates, where: str) -> str:
    if isinstance(value, _Number):
        rates.fail(
            f'{value.text} is a JSON number; write it as a string ("{value.text}") so that '
            "no float rounds it",
            where=where,
        )
    if not isinstance(value, str):
        rates.fail("must be a string", where=where)
    return value.strip()


class _Number:
    """A number as written in the JSON text, kept so that it can be refused by name."""

    def __init__(self, text: str) -> None:
        self.text = text


class _RepeatedKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _RepeatedKey(key)
        found[key] = value
    return found
