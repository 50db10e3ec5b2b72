"""Rating: what a call, an SMS or some data costs under an operator's tariff.

Rules (docs/operators.md, "Tariffs"):

- a destination is an E.164 number (``+5491123456789``); its zone is the zone with the
  LONGEST matching prefix (``+549`` beats ``+54`` beats ``+``). Every tariff has a default
  zone, the one with the prefix ``+``, so every well-formed number has a zone;
- a call or SMS to a line of the same operator is rated in the ``on_net`` zone when the tariff
  has one, whatever the prefix (the caller says so; only it knows the operator's numbers);
- data has no destination: it is rated in the tariff's home zone;
- voice is billed by increments "first/next" in seconds (60/60, 30/6, 1/1): nothing for 0
  seconds, ``first`` seconds for 1 up to ``first``, then whole steps of ``next``, rounded up.
  Data is billed likewise in bytes; SMS by the message;
- the price of the billable units is the zone's price per minute (per MB, 1 MB being
  1,048,576 bytes) times the billable units, rounded HALF UP to the currency's precision
  (whole pesos for COP), once per rated event: half a cent or more is charged as a whole cent;
- allowance buckets (plan minutes, SMS, data) cover a service only in the zones the tariff
  lists for it; what they cover is counted in billable units.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP
from typing import Final

from saldo.domain.buckets import BucketKind
from saldo.domain.errors import SaldoError
from saldo.domain.money import Money, smallest_amount

# Usage never rounds in the subscriber's favour below half a minor unit, nor against it above.
RATING_ROUNDING: Final = ROUND_HALF_UP

SECONDS_PER_MINUTE: Final = 60
# A megabyte of data is a binary one (2**20 bytes), as allowances in the catalog count it.
BYTES_PER_MB: Final = 1_048_576

ON_NET: Final = "on_net"
DEFAULT_PREFIX: Final = "+"
# "+" alone (the default zone) or "+" and up to 15 digits of an E.164 number.
PREFIX_PATTERN: Final = r"^\+([1-9][0-9]{0,14})?$"

_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_PREFIX = re.compile(PREFIX_PATTERN)


class Service(enum.StrEnum):
    VOICE = "voice"
    SMS = "sms"
    DATA = "data"


# The allowance bucket that may pay for each service.
ALLOWANCE_KINDS: Final[Mapping[Service, BucketKind]] = {
    Service.VOICE: BucketKind.VOICE,
    Service.SMS: BucketKind.SMS,
    Service.DATA: BucketKind.DATA,
}


class InvalidTariff(SaldoError, ValueError):
    """A tariff contradicts itself; the message starts with the field at fault."""

    code = "invalid_tariff"


class UnableToRate(SaldoError, ValueError):
    """Some usage could not be rated."""

    code = "unable_to_rate"


class UnknownDestination(UnableToRate):
    """The destination is not an E.164 number, or is missing (or given) where it must not be."""

    code = "unknown_destination"


class UnknownZone(UnableToRate):
    """The tariff has no zone of that name."""

    code = "unknown_zone"


class NegativeQuantity(UnableToRate):
    """Seconds, messages or bytes below zero."""

    code = "negative_quantity"


class ServiceNotPriced(UnableToRate):
    """The zone has no price for the service: it is not offered there."""

    code = "service_not_priced"


@dataclass(frozen=True, slots=True)
class Increment:
    """Billing increments: the first ``first`` units are charged whole, then steps of ``next``."""

    first: int
    next: int

    def __post_init__(self) -> None:
        if self.first < 1 or self.next < 1:
            raise InvalidTariff(f"increments must be positive, not {self.first}/{self.next}")


def billable_seconds(*, duration: int, increment: Increment) -> int:
    """The seconds charged for a call of ``duration`` seconds: 0 for 0; ``first`` for 1 up to
    ``first``; then ``first`` plus whole steps of ``next``, rounded up. Raises
    NegativeQuantity."""
    return _billable(duration, increment=increment, unit="seconds")


def billable_bytes(*, volume: int, increment: Increment) -> int:
    """The bytes charged for ``volume`` bytes of data, by the same rule as seconds."""
    return _billable(volume, increment=increment, unit="bytes")


def _billable(used: int, *, increment: Increment, unit: str) -> int:
    if used < 0:
        raise NegativeQuantity(f"{used} {unit} cannot be rated")
    if used == 0:
        return 0
    if used <= increment.first:
        return increment.first
    steps = -(-(used - increment.first) // increment.next)
    return increment.first + steps * increment.next


# An SMS is billed by the whole message.
_PER_MESSAGE: Final = Increment(first=1, next=1)


@dataclass(frozen=True, slots=True)
class Zone:
    """Destinations sharing prices. A price left out means the service is not offered there."""

    name: str
    prefixes: tuple[str, ...] = ()
    voice_per_minute: Money | None = None
    sms_per_message: Money | None = None
    data_per_mb: Money | None = None

    def price_for(self, service: Service) -> Money:
        """The price of one minute, message or MB; raises ServiceNotPriced."""
        price = {
            Service.VOICE: self.voice_per_minute,
            Service.SMS: self.sms_per_message,
            Service.DATA: self.data_per_mb,
        }[service]
        if price is None:
            raise ServiceNotPriced(f"{service} is not priced in zone {self.name!r}")
        return price

    def prices(self) -> tuple[Money, ...]:
        found = (self.voice_per_minute, self.sms_per_message, self.data_per_mb)
        return tuple(price for price in found if price is not None)


@dataclass(frozen=True, slots=True)
class Tariff:
    """An operator's prices for usage, by zone, and what allowances cover."""

    zones: tuple[Zone, ...]
    voice_increment: Increment
    data_increment: Increment
    # Per service, the zones in which allowance buckets pay for it; elsewhere money does.
    covered_by_allowances: Mapping[Service, frozenset[str]]
    # Where data is rated: data has no destination.
    home_zone: str = "national"
    _by_prefix: Mapping[str, Zone] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [zone.name for zone in self.zones]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise InvalidTariff(f"zones: zone names must be unique: {', '.join(repeated)}")
        by_prefix: dict[str, Zone] = {}
        for zone in self.zones:
            self._check_prefixes(zone)
            for prefix in zone.prefixes:
                if prefix in by_prefix:
                    raise InvalidTariff(
                        f"zones: prefix {prefix} is in both {by_prefix[prefix].name!r}"
                        f" and {zone.name!r}"
                    )
                by_prefix[prefix] = zone
        if DEFAULT_PREFIX not in by_prefix:
            raise InvalidTariff('zones: one zone must be the default, with the prefix "+"')
        if self.home_zone not in names:
            raise InvalidTariff(f"home_zone: no zone is named {self.home_zone!r}")
        for service, covered in self.covered_by_allowances.items():
            unknown = sorted(covered - set(names))
            if unknown:
                raise InvalidTariff(
                    f"covered_by_allowances.{service}: no zone is named {', '.join(unknown)}"
                )
        currencies = {price.currency for zone in self.zones for price in zone.prices()}
        if len(currencies) > 1:
            raise InvalidTariff(f"zones: prices mix currencies: {', '.join(sorted(currencies))}")
        if any(price.is_negative() for zone in self.zones for price in zone.prices()):
            raise InvalidTariff("zones: prices cannot be negative")
        object.__setattr__(self, "_by_prefix", by_prefix)

    @staticmethod
    def _check_prefixes(zone: Zone) -> None:
        if zone.name == ON_NET and zone.prefixes:
            raise InvalidTariff("zones: the on_net zone is chosen by the operator, not by prefix")
        if zone.name != ON_NET and not zone.prefixes:
            raise InvalidTariff(f"zones: zone {zone.name!r} has no prefixes")
        for prefix in zone.prefixes:
            if not _PREFIX.fullmatch(prefix):
                raise InvalidTariff(f"zones: {prefix!r} is not a prefix like +54 or +549")

    def zone(self, name: str) -> Zone:
        """The zone called ``name``; raises UnknownZone."""
        for zone in self.zones:
            if zone.name == name:
                return zone
        raise UnknownZone(f"the tariff has no zone {name!r}")

    def zone_for(self, destination: str) -> Zone:
        """The zone of an E.164 number: the longest matching prefix. Raises
        UnknownDestination when ``destination`` is not E.164."""
        if not _E164.fullmatch(destination):
            raise UnknownDestination(f"{destination!r} is not an E.164 number like +5491123456789")
        for end in range(len(destination), 0, -1):
            zone = self._by_prefix.get(destination[:end])
            if zone is not None:
                return zone
        raise AssertionError("unreachable: every tariff has the default prefix")


@dataclass(frozen=True, slots=True)
class Rated:
    """One event rated: where, how much is billed, and for what price.

    ``allowance`` is the bucket kind that may pay for it in this zone, before money (None: only
    money can); the charging use case takes what it can from those buckets, in billable units,
    and prices the rest with ``price_of``.
    """

    service: Service
    zone: str
    used: int
    billable: int
    price: Money
    allowance: BucketKind | None


def rate(
    *, tariff: Tariff, service: Service, destination: str | None, quantity: int, on_net: bool
) -> Rated:
    """Rate ``quantity`` seconds (voice), messages (SMS) or bytes (data).

    Voice and SMS need an E.164 ``destination``; ``on_net`` (the destination is a line of the
    same operator) selects the ``on_net`` zone when the tariff has one. Data takes neither and
    is rated in the home zone. Raises UnknownDestination, NegativeQuantity, ServiceNotPriced.
    """
    zone = _zone_of(tariff=tariff, service=service, destination=destination, on_net=on_net)
    if service is Service.VOICE:
        billable = billable_seconds(duration=quantity, increment=tariff.voice_increment)
    elif service is Service.DATA:
        billable = billable_bytes(volume=quantity, increment=tariff.data_increment)
    else:
        billable = _billable(quantity, increment=_PER_MESSAGE, unit="messages")
    return Rated(
        service=service,
        zone=zone.name,
        used=quantity,
        billable=billable,
        price=price_of(tariff=tariff, service=service, zone=zone.name, billable=billable),
        allowance=allowance_for(tariff=tariff, service=service, zone=zone.name),
    )


def price_of(*, tariff: Tariff, service: Service, zone: str, billable: int) -> Money:
    """The price of ``billable`` units (seconds, messages, bytes) already rounded to increments,
    e.g. the 60 seconds left of a 180-second call after allowances paid 120. Rounded half up
    to the currency's precision (whole pesos for COP). Raises UnknownZone, ServiceNotPriced,
    NegativeQuantity."""
    if billable < 0:
        raise NegativeQuantity(f"{billable} billable units cannot be priced")
    unit_price = tariff.zone(zone).price_for(service)
    per = {Service.VOICE: SECONDS_PER_MINUTE, Service.SMS: 1, Service.DATA: BYTES_PER_MB}[service]
    step = smallest_amount(unit_price.currency)
    # RATING_ROUNDING (half up) in whole numbers, exactly: a price and a quantity are never
    # negative (the tariff refuses negative prices), so half up is floor(n / d + 1/2).
    assert RATING_ROUNDING == ROUND_HALF_UP and unit_price.minor >= 0
    whole, divisor = unit_price.minor * billable, per * step
    steps = (2 * whole + divisor) // (2 * divisor)
    return Money(steps * step, unit_price.currency)


def allowance_for(*, tariff: Tariff, service: Service, zone: str) -> BucketKind | None:
    """The allowance bucket kind that pays for ``service`` in ``zone``, or None when only money
    does there. Raises UnknownZone."""
    tariff.zone(zone)
    if zone in tariff.covered_by_allowances.get(service, frozenset()):
        return ALLOWANCE_KINDS[service]
    return None


def _zone_of(*, tariff: Tariff, service: Service, destination: str | None, on_net: bool) -> Zone:
    if service is Service.DATA:
        if destination is not None or on_net:
            raise UnknownDestination("data is rated without a destination")
        return tariff.zone(tariff.home_zone)
    if destination is None:
        raise UnknownDestination(f"{service} needs a destination number")
    zone = tariff.zone_for(destination)
    if on_net:
        return next((z for z in tariff.zones if z.name == ON_NET), zone)
    return zone
