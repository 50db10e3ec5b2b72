"""Rating usage under a tariff: billing increments, zones by the longest prefix, on-net calls,
SMS and data rounding, the price of what allowances leave, and the errors."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.domain.buckets import BucketKind
from saldo.domain.money import Money
from saldo.domain.rating import (
    BYTES_PER_MB,
    Increment,
    InvalidTariff,
    NegativeQuantity,
    Rated,
    Service,
    ServiceNotPriced,
    Tariff,
    UnableToRate,
    UnknownDestination,
    UnknownZone,
    Zone,
    allowance_for,
    billable_bytes,
    billable_seconds,
    price_of,
    rate,
)

PER_MINUTE = Increment(first=60, next=60)
THIRTY_SIX = Increment(first=30, next=6)
PER_SECOND = Increment(first=1, next=1)
HUNDRED_KB = Increment(first=102_400, next=102_400)


def ars(amount: str) -> Money:
    return Money.of(amount, "ARS")


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


ON_NET = Zone(name="on_net", voice_per_minute=ars("100"), sms_per_message=ars("45"))
NATIONAL = Zone(
    name="national",
    prefixes=("+54",),
    voice_per_minute=ars("150"),
    sms_per_message=ars("60"),
    data_per_mb=ars("12"),
)
MOBILE = Zone(name="mobile", prefixes=("+549",), voice_per_minute=ars("165"))
INTERNATIONAL = Zone(
    name="international",
    prefixes=("+",),
    voice_per_minute=ars("950"),
    sms_per_message=ars("300"),
)

ARGENTINA = Tariff(
    zones=(ON_NET, NATIONAL, MOBILE, INTERNATIONAL),
    voice_increment=PER_MINUTE,
    data_increment=HUNDRED_KB,
    covered_by_allowances={
        Service.VOICE: frozenset({"on_net", "national", "mobile"}),
        Service.SMS: frozenset({"national"}),
        Service.DATA: frozenset({"national"}),
    },
)

BELGIUM = Tariff(
    zones=(
        Zone(
            name="national",
            prefixes=("+32",),
            voice_per_minute=eur("0.15"),
            data_per_mb=eur("0.05"),
        ),
        Zone(name="international", prefixes=("+",), voice_per_minute=eur("1.20")),
    ),
    voice_increment=PER_SECOND,
    data_increment=Increment(first=1024, next=1024),
    covered_by_allowances={},
)

LANDLINE = "+541143210000"
CELL = "+5491123456789"
PARIS = "+33142685300"


# -- billing increments -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "per_minute", "thirty_six", "per_second"),
    [
        (0, 0, 0, 0),
        (1, 60, 30, 1),
        (30, 60, 30, 30),
        (31, 60, 36, 31),
        (36, 60, 36, 36),
        (37, 60, 42, 37),
        (60, 60, 60, 60),
        (61, 120, 66, 61),
    ],
)
def test_a_call_is_billed_by_its_first_increment_then_whole_next_steps_rounded_up(
    duration: int, per_minute: int, thirty_six: int, per_second: int
) -> None:
    assert billable_seconds(duration=duration, increment=PER_MINUTE) == per_minute
    assert billable_seconds(duration=duration, increment=THIRTY_SIX) == thirty_six
    assert billable_seconds(duration=duration, increment=PER_SECOND) == per_second


increments = st.builds(
    Increment, first=st.integers(min_value=1, max_value=120), next=st.integers(1, 120)
)


@given(duration=st.integers(min_value=0, max_value=100_000), increment=increments)
def test_billable_seconds_never_fall_short_of_the_call_and_waste_less_than_one_step(
    duration: int, increment: Increment
) -> None:
    """Proves: billable ≥ duration; a call within the first increment pays exactly it; a
    longer one pays the first increment plus whole steps, less than one step more than used."""
    billable = billable_seconds(duration=duration, increment=increment)

    assert billable >= duration
    if duration == 0:
        assert billable == 0
    elif duration <= increment.first:
        assert billable == increment.first
    else:
        assert billable < duration + increment.next
        assert (billable - increment.first) % increment.next == 0


def test_data_is_rounded_up_to_whole_data_increments() -> None:
    assert billable_bytes(volume=0, increment=HUNDRED_KB) == 0
    assert billable_bytes(volume=1, increment=HUNDRED_KB) == 102_400
    assert billable_bytes(volume=102_400, increment=HUNDRED_KB) == 102_400
    assert billable_bytes(volume=102_401, increment=HUNDRED_KB) == 204_800


# -- zones ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "zone"),
    [(CELL, "mobile"), (LANDLINE, "national"), (PARIS, "international")],
)
def test_the_longest_matching_prefix_decides_the_zone(destination: str, zone: str) -> None:
    assert ARGENTINA.zone_for(destination).name == zone


def test_a_call_to_a_line_of_the_same_operator_is_on_net_whatever_its_prefix() -> None:
    rated = rate(
        tariff=ARGENTINA, service=Service.VOICE, destination=CELL, quantity=60, on_net=True
    )

    assert rated.zone == "on_net"
    assert rated.price == ars("100")


def test_without_an_on_net_zone_an_on_net_call_is_rated_by_its_prefix() -> None:
    rated = rate(
        tariff=BELGIUM, service=Service.VOICE, destination="+32470123456", quantity=60, on_net=True
    )

    assert rated.zone == "national"


# -- prices -------------------------------------------------------------------------------------


def test_a_61_second_national_call_at_60_60_costs_two_minutes() -> None:
    rated = rate(
        tariff=ARGENTINA, service=Service.VOICE, destination=LANDLINE, quantity=61, on_net=False
    )

    assert rated == Rated(
        service=Service.VOICE,
        zone="national",
        used=61,
        billable=120,
        price=ars("300"),
        allowance=BucketKind.VOICE,
    )


def test_a_61_second_call_at_30_6_costs_66_seconds() -> None:
    tariff = replace(ARGENTINA, voice_increment=THIRTY_SIX)

    rated = rate(
        tariff=tariff, service=Service.VOICE, destination=LANDLINE, quantity=61, on_net=False
    )

    assert rated.billable == 66
    assert rated.price == ars("165")


@pytest.mark.parametrize(
    ("seconds", "price"),
    [(60, "0.15"), (61, "0.15"), (58, "0.15"), (62, "0.16"), (2, "0.01"), (1, "0.00")],
)
def test_per_second_prices_are_rounded_half_up_to_the_cent(seconds: int, price: str) -> None:
    # 0.15 EUR a minute is 0.25 cents a second: 58 s cost 14.5 cents, charged as 15.
    rated = rate(
        tariff=BELGIUM,
        service=Service.VOICE,
        destination="+3225551234",
        quantity=seconds,
        on_net=False,
    )

    assert rated.price == eur(price)


def test_a_call_of_no_seconds_costs_nothing() -> None:
    rated = rate(
        tariff=ARGENTINA, service=Service.VOICE, destination=CELL, quantity=0, on_net=False
    )

    assert (rated.billable, rated.price) == (0, ars("0"))


def test_sms_are_priced_by_the_message_in_their_zone() -> None:
    national = rate(
        tariff=ARGENTINA, service=Service.SMS, destination=LANDLINE, quantity=3, on_net=False
    )
    abroad = rate(
        tariff=ARGENTINA, service=Service.SMS, destination=PARIS, quantity=1, on_net=False
    )

    assert (national.billable, national.price, national.allowance) == (
        3,
        ars("180"),
        BucketKind.SMS,
    )
    assert (abroad.zone, abroad.price, abroad.allowance) == ("international", ars("300"), None)


def test_data_is_priced_per_binary_megabyte_in_the_home_zone() -> None:
    rated = rate(
        tariff=BELGIUM, service=Service.DATA, destination=None, quantity=1_500_000, on_net=False
    )

    # 1,465 KB = 1,500,160 bytes at 0.05 EUR per 1,048,576 bytes = 7.15 cents.
    assert rated.zone == "national"
    assert rated.billable == 1_500_160
    assert rated.price == eur("0.07")


def test_one_byte_of_data_is_charged_a_whole_data_increment() -> None:
    rated = rate(tariff=ARGENTINA, service=Service.DATA, destination=None, quantity=1, on_net=False)

    # 100 KB is 0.09765625 MB; at 12 ARS a MB that is 1.171875 ARS.
    assert rated.billable == 102_400
    assert rated.price == ars("1.17")
    assert rated.allowance is BucketKind.DATA


def test_a_whole_megabyte_costs_the_price_per_megabyte() -> None:
    assert price_of(
        tariff=ARGENTINA, service=Service.DATA, zone="national", billable=BYTES_PER_MB
    ) == ars("12")


def test_what_allowances_leave_of_a_call_is_priced_on_its_own() -> None:
    rated = rate(
        tariff=ARGENTINA, service=Service.VOICE, destination=LANDLINE, quantity=170, on_net=False
    )
    covered = 120  # the seconds left in the line's minutes bucket

    rest = price_of(
        tariff=ARGENTINA,
        service=Service.VOICE,
        zone=rated.zone,
        billable=rated.billable - covered,
    )

    assert rated.billable == 180
    assert rest == ars("150")


# -- allowances -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "zone", "kind"),
    [
        (Service.VOICE, "national", BucketKind.VOICE),
        (Service.VOICE, "on_net", BucketKind.VOICE),
        (Service.VOICE, "mobile", BucketKind.VOICE),
        (Service.VOICE, "international", None),
        (Service.SMS, "national", BucketKind.SMS),
        (Service.SMS, "on_net", None),
        (Service.DATA, "national", BucketKind.DATA),
    ],
)
def test_allowances_cover_a_service_only_in_the_zones_the_tariff_lists(
    service: Service, zone: str, kind: BucketKind | None
) -> None:
    assert allowance_for(tariff=ARGENTINA, service=service, zone=zone) is kind


def test_a_tariff_that_lists_no_coverage_leaves_everything_to_money() -> None:
    assert allowance_for(tariff=BELGIUM, service=Service.DATA, zone="national") is None


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("destination", ["5491123456789", "+054911", "+54 9 11", "+", "", "+54a"])
def test_a_destination_that_is_not_e164_cannot_be_rated(destination: str) -> None:
    with pytest.raises(UnknownDestination) as raised:
        rate(
            tariff=ARGENTINA,
            service=Service.VOICE,
            destination=destination,
            quantity=60,
            on_net=False,
        )

    assert raised.value.code == "unknown_destination"


def test_a_call_without_a_destination_cannot_be_rated() -> None:
    with pytest.raises(UnknownDestination, match="voice needs a destination"):
        rate(tariff=ARGENTINA, service=Service.VOICE, destination=None, quantity=60, on_net=False)


@pytest.mark.parametrize(("destination", "on_net"), [(CELL, False), (None, True)])
def test_data_with_a_destination_or_on_net_cannot_be_rated(
    destination: str | None, on_net: bool
) -> None:
    with pytest.raises(UnknownDestination, match="without a destination"):
        rate(
            tariff=ARGENTINA,
            service=Service.DATA,
            destination=destination,
            quantity=1,
            on_net=on_net,
        )


@pytest.mark.parametrize("service", list(Service))
def test_negative_quantities_cannot_be_rated(service: Service) -> None:
    destination = None if service is Service.DATA else CELL

    with pytest.raises(NegativeQuantity) as raised:
        rate(
            tariff=ARGENTINA,
            service=service,
            destination=destination,
            quantity=-1,
            on_net=False,
        )

    assert raised.value.code == "negative_quantity"


def test_a_negative_remainder_cannot_be_priced() -> None:
    with pytest.raises(NegativeQuantity):
        price_of(tariff=ARGENTINA, service=Service.VOICE, zone="national", billable=-60)


def test_a_service_the_zone_does_not_price_cannot_be_rated() -> None:
    with pytest.raises(ServiceNotPriced) as raised:
        rate(tariff=ARGENTINA, service=Service.SMS, destination=CELL, quantity=1, on_net=False)

    assert raised.value.code == "service_not_priced"
    assert raised.value.message == "sms is not priced in zone 'mobile'"


def test_a_tariff_without_data_prices_cannot_rate_data() -> None:
    tariff = replace(ARGENTINA, home_zone="mobile")

    with pytest.raises(ServiceNotPriced):
        rate(tariff=tariff, service=Service.DATA, destination=None, quantity=1, on_net=False)


def test_an_unknown_zone_cannot_be_priced() -> None:
    with pytest.raises(UnknownZone) as raised:
        price_of(tariff=ARGENTINA, service=Service.VOICE, zone="roaming", billable=60)

    assert raised.value.code == "unknown_zone"


def test_every_rating_error_is_unable_to_rate() -> None:
    for error in (UnknownDestination, UnknownZone, NegativeQuantity, ServiceNotPriced):
        assert issubclass(error, UnableToRate)


# -- tariffs that contradict themselves ---------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (
            {"zones": (NATIONAL, replace(MOBILE, name="national"), INTERNATIONAL)},
            "names must be unique",
        ),
        ({"zones": (ON_NET, NATIONAL, MOBILE)}, 'prefix "+"'),
        ({"zones": (NATIONAL, replace(MOBILE, prefixes=("+54",)), INTERNATIONAL)}, "both"),
        (
            {"zones": (replace(ON_NET, prefixes=("+549",)), NATIONAL, INTERNATIONAL)},
            "not by prefix",
        ),
        ({"zones": (NATIONAL, replace(MOBILE, prefixes=()), INTERNATIONAL)}, "no prefixes"),
        ({"zones": (NATIONAL, replace(MOBILE, prefixes=("549",)), INTERNATIONAL)}, "not a prefix"),
        (
            {
                "zones": (
                    ON_NET,
                    NATIONAL,
                    replace(MOBILE, voice_per_minute=eur("1")),
                    INTERNATIONAL,
                )
            },
            "prices mix currencies",
        ),
        (
            {
                "zones": (
                    ON_NET,
                    NATIONAL,
                    replace(MOBILE, voice_per_minute=ars("-1")),
                    INTERNATIONAL,
                )
            },
            "prices cannot be negative",
        ),
        ({"home_zone": "home"}, "home_zone: no zone is named 'home'"),
        (
            {"covered_by_allowances": {Service.VOICE: frozenset({"roaming"})}},
            "covered_by_allowances.voice: no zone is named roaming",
        ),
    ],
)
def test_a_tariff_that_contradicts_itself_is_refused(
    change: dict[str, object], problem: str
) -> None:
    with pytest.raises(InvalidTariff) as raised:
        replace(ARGENTINA, **change)

    assert problem in raised.value.message


@pytest.mark.parametrize(("first", "next_"), [(0, 60), (60, 0), (-1, 1)])
def test_increments_must_be_positive(first: int, next_: int) -> None:
    with pytest.raises(InvalidTariff, match="positive"):
        Increment(first=first, next=next_)
