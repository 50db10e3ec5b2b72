"""The ECB's daily euro foreign exchange reference rates, ``eurofxref-daily.xml``:

    <gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
                     xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
      <Cube><Cube time='2026-11-20'><Cube currency='USD' rate='1.1632'/>...</Cube></Cube>
    </gesmes:Envelope>

The euro is the base of every rate (1 EUR = 1.1632 USD). The ECB publishes about thirty
currencies on TARGET working days, around 16:00 Frankfurt time; it publishes no ARS or COP.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import NoReturn
from xml.parsers import expat
from zoneinfo import ZoneInfo

from saldo.adapters.fx.errors import UnreadableRateFile
from saldo.domain.fx import ExchangeRate, InvalidRate, check_currency, parse_rate

ECB_SOURCE = "ecb"
_GESMES = "http://www.gesmes.org/xml/2002-08-01"
_EUROFXREF = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
# A day's reference rates count as fetched when the ECB publishes them: 16:00 in Frankfurt.
_PUBLISHED_AT = time(16, 0)
_FRANKFURT = ZoneInfo("Europe/Berlin")
_DECLARATIONS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def parse_ecb(data: bytes, *, file: str, source: str = ECB_SOURCE) -> list[ExchangeRate]:
    """The rates of one ECB daily file, EUR as their base, fetched at 16:00 Frankfurt time on
    the file's day.

    Raises UnreadableRateFile, naming the line, for anything else: a DTD or entity, XML that
    is not well-formed, another document, more or less than one day, a bad currency or rate,
    a currency given twice.
    """
    # defusedxml is not installed: the ECB's file has no DTD, so any DTD or entity
    # declaration is refused, in the bytes and again by expat's handlers below (entity
    # expansion is how "billion laughs" and external-entity attacks get in). expat is used
    # directly rather than ElementTree because it reports the line of every element.
    if _DECLARATIONS.search(data):
        raise UnreadableRateFile("DTDs and entity declarations are refused", file=file)
    reader = _EcbReader(file=file, source=source)
    try:
        reader.parser.Parse(data, True)
    except expat.ExpatError as error:
        raise UnreadableRateFile(
            f"not well-formed XML ({expat.ErrorString(error.code)})",
            file=file,
            where=f"line {error.lineno}",
        ) from None
    return reader.rates()


class _EcbReader:
    """Walks the elements as expat meets them and keeps the day's rates."""

    def __init__(self, *, file: str, source: str) -> None:
        self.file = file
        self.source = source
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartDoctypeDeclHandler = self._refuse_declaration
        self.parser.EntityDeclHandler = self._refuse_declaration
        self.parser.UnparsedEntityDeclHandler = self._refuse_declaration
        self.parser.ExternalEntityRefHandler = self._refuse_declaration
        self.parser.StartElementHandler = self._start
        self.parser.EndElementHandler = self._end
        self._open: list[tuple[str, str]] = []
        self._day: date | None = None
        self._fetched_at: datetime | None = None
        self._rates: dict[str, ExchangeRate] = {}

    def rates(self) -> list[ExchangeRate]:
        if self._day is None:
            raise UnreadableRateFile("no <Cube time='...'> with a day's rates", file=self.file)
        if not self._rates:
            raise UnreadableRateFile(f"the day {self._day} has no rates", file=self.file)
        return list(self._rates.values())

    def _fail(self, problem: str, *, field: str | None = None) -> NoReturn:
        where = f"line {self.parser.CurrentLineNumber}"
        raise UnreadableRateFile(
            problem, file=self.file, where=f"{where}, {field}" if field else where
        )

    def _refuse_declaration(self, *_: object) -> NoReturn:
        self._fail("DTDs and entity declarations are refused")

    def _start(self, name: str, attributes: dict[str, str]) -> None:
        namespace, _, local = name.rpartition(" ")
        if not self._open and (namespace, local) != (_GESMES, "Envelope"):
            self._fail(f"not the ECB's reference rates: <{local}> where <gesmes:Envelope> begins")
        if (namespace, local) == (_EUROFXREF, "Cube"):
            self._cube(attributes)
        self._open.append((namespace, local))

    def _end(self, _: str) -> None:
        self._open.pop()

    def _cube(self, attributes: dict[str, str]) -> None:
        parent = self._open[-1]
        level = sum(1 for element in self._open if element == (_EUROFXREF, "Cube"))
        if parent not in {(_GESMES, "Envelope"), (_EUROFXREF, "Cube")} or level > 2:
            self._fail("a <Cube> out of place")
        if level == 1:
            self._start_day(attributes)
        elif level == 2:
            self._add_rate(attributes)

    def _start_day(self, attributes: dict[str, str]) -> None:
        text = attributes.get("time")
        if text is None:
            self._fail("a <Cube> of rates without its day", field="time")
        if self._day is not None:
            self._fail(
                f"more than one day ({self._day}, {text}): load the daily file, "
                "eurofxref-daily.xml",
                field="time",
            )
        try:
            self._day = date.fromisoformat(text)
        except ValueError:
            self._fail(f"{text!r} is not a day like 2026-11-20", field="time")
        published = datetime.combine(self._day, _PUBLISHED_AT, tzinfo=_FRANKFURT)
        self._fetched_at = published.astimezone(UTC)

    def _add_rate(self, attributes: dict[str, str]) -> None:
        if self._fetched_at is None:
            self._fail("a rate outside a day's <Cube time='...'>")
        currency, rate = attributes.get("currency"), attributes.get("rate")
        if currency is None or rate is None:
            self._fail("a rate needs currency='...' and rate='...'")
        try:
            check_currency(currency)
        except InvalidRate as error:
            self._fail(error.message, field="currency")
        if currency == "EUR":
            self._fail("EUR is the base of every ECB rate, not one of them", field="currency")
        if currency in self._rates:
            self._fail(f"{currency} is given twice", field="currency")
        try:
            self._rates[currency] = ExchangeRate(
                base="EUR",
                quote=currency,
                rate=parse_rate(rate),
                source=self.source,
                fetched_at=self._fetched_at,
            )
        except InvalidRate as error:
            self._fail(error.message, field="rate")
