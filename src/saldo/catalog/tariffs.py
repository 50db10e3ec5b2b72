"""The ``tariff:`` section of an operator's catalog entry: zones by E.164 prefix with their
prices, billing increments, and the zones each allowance covers.

Fields are checked here; how they fit together (unique zone names and prefixes, a default
zone, covered zones that exist) is checked by the domain ``Tariff`` itself, and the operator
spec reports its complaint under ``tariff.``.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from saldo.catalog.parts import AmountText, _Strict
from saldo.domain.money import Money
from saldo.domain.rating import PREFIX_PATTERN, Increment, Service, Tariff, Zone

ZoneName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


def _prefix(value: str) -> str:
    if not re.fullmatch(PREFIX_PATTERN, value):
        raise ValueError(f'{value!r} is not an E.164 prefix like "+54" or "+549" (or "+" alone)')
    return value


# E.164 prefixes ("+54", "+549"); "+" alone makes the default zone.
Prefix = Annotated[str, AfterValidator(_prefix)]


class IncrementSpec(_Strict):
    first: int = Field(gt=0, le=3600)
    next: int = Field(gt=0, le=3600)


class ZoneSpec(_Strict):
    name: ZoneName
    # The on_net zone has no prefixes: the operator knows its own lines.
    prefixes: list[Prefix] = Field(default_factory=list)
    voice_per_minute: AmountText | None = None
    sms_per_message: AmountText | None = None
    data_per_mb: AmountText | None = None


class CoverageSpec(_Strict):
    voice: list[ZoneName] = Field(default_factory=list)
    sms: list[ZoneName] = Field(default_factory=list)
    data: list[ZoneName] = Field(default_factory=list)


class TariffSpec(_Strict):
    # Seconds: {first: 60, next: 60} bills by the started minute, {first: 1, next: 1} by the second.
    voice_increment: IncrementSpec
    # Bytes: every data session is rounded up to whole steps of this size (at most 10 MB).
    data_increment: int = Field(gt=0, le=10 * 1_048_576)
    # The zone data is rated in.
    home_zone: ZoneName = "national"
    zones: list[ZoneSpec] = Field(min_length=1)
    covered_by_allowances: CoverageSpec = Field(default_factory=CoverageSpec)

    def amounts(self) -> list[tuple[str, str]]:
        """(field, amount) for every price, to be checked against the operator's currency."""
        return [
            (f"tariff.zones.{zone.name}.{name}", amount)
            for zone in self.zones
            for name in ("voice_per_minute", "sms_per_message", "data_per_mb")
            if (amount := getattr(zone, name)) is not None
        ]

    def to_domain(self, *, currency: str) -> Tariff:
        """The domain tariff, prices in ``currency``; raises InvalidTariff when the zones or the
        coverage contradict each other."""

        def money(text: str | None) -> Money | None:
            return None if text is None else Money.of(text, currency)

        return Tariff(
            zones=tuple(
                Zone(
                    name=zone.name,
                    prefixes=tuple(zone.prefixes),
                    voice_per_minute=money(zone.voice_per_minute),
                    sms_per_message=money(zone.sms_per_message),
                    data_per_mb=money(zone.data_per_mb),
                )
                for zone in self.zones
            ),
            voice_increment=Increment(
                first=self.voice_increment.first, next=self.voice_increment.next
            ),
            data_increment=Increment(first=self.data_increment, next=self.data_increment),
            covered_by_allowances={
                Service.VOICE: frozenset(self.covered_by_allowances.voice),
                Service.SMS: frozenset(self.covered_by_allowances.sms),
                Service.DATA: frozenset(self.covered_by_allowances.data),
            },
            home_zone=self.home_zone,
        )
