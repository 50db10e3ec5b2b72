"""Who is calling the hotline, and whether they are who they say (issue 15).

A call is identified by the number dialled (the operator whose catalog ``hotline.number`` it
is; two operators may share one, as both Claros answer 123) and the caller's number (a line
of one of those operators). A withheld or unknown number is asked to key the line's number
in. Then the operator's verification runs, where its catalog sets one:

- ``last4``: the last four digits of the line's number (Claro Argentina);
- ``voice_menu`` (Personal): the last four digits of the SIM card's number (its ICCID, printed
  on the card) when the line has one on record, else those of the line's number. Saldo keeps
  no PIN of the subscriber's nor an ID document, the other identity checks Personal uses.

Each check allows MAX_TRIES tries per call; the dialogue counts them and hangs up politely
after the last.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from saldo.domain.numbering import InvalidMsisdn, lookup_msisdn, normalize_msisdn
from saldo.domain.operator import Operator
from saldo.domain.periods import require_aware
from saldo.services.lines import LineNotFound, LineRecycled, line_record, live_line_with_buckets
from saldo.services.operators import list_operators
from saldo.services.ports import UnitOfWork

MAX_TRIES: Final = 3


class Verification(StrEnum):
    """What a caller keys to be let in."""

    LAST4 = "last4"  # the last four digits of the line's number
    SIM4 = "sim4"  # the last four digits of the SIM card's number (ICCID)


class Known(StrEnum):
    """How far the call's identification got."""

    NO_SERVICE = "no_service"  # no operator answers the number dialled
    UNKNOWN = "unknown"  # no line of those operators has the caller's number (or none given)
    RECYCLED = "recycled"  # the number's line has expired for good
    LINE = "line"  # the caller's line


@dataclass(frozen=True, slots=True)
class HotlineCaller:
    """The call as identified: how far (``known``), the ``language`` to speak, the operator
    whose hotline answers (None with NO_SERVICE, or UNKNOWN when several answer the number
    dialled), the line's number (with LINE), the ``verification`` still to pass (None: none),
    and after a number keyed in that was no line's, the ``tries_left`` (0: hang up)."""

    known: Known
    language: str
    operator: Operator | None = None
    msisdn: str | None = None
    verification: Verification | None = None
    tries_left: int = MAX_TRIES


def identify_hotline_caller(
    uow: UnitOfWork,
    *,
    dialled: str,
    number: str | None,
    keyed: bool = False,
    failed_before: int = 0,
    now: datetime,
) -> HotlineCaller:
    """The call to hotline ``dialled`` from ``number`` (E.164 from the caller id; with
    ``keyed``, digits the caller keyed in, in the operator's national format or international
    with 00; ``failed_before``: numbers keyed in this call that were no line's). Never raises
    for what a caller can send."""
    now = require_aware(now)
    answering = [op for op in list_operators(uow) if _answers(op, dialled)]
    if not answering:
        return HotlineCaller(Known.NO_SERVICE, language="en")
    first_languages = {operator.languages[0] for operator in answering}
    language = first_languages.pop() if len(first_languages) == 1 else "en"
    only = answering[0] if len(answering) == 1 else None
    for candidate in _candidates(number, answering):
        try:
            with uow.reading():
                found = live_line_with_buckets(uow, number=candidate, now=now)
        except LineNotFound:
            continue
        except LineRecycled as recycled:
            return HotlineCaller(Known.RECYCLED, language=recycled.language, operator=only)
        if found.operator.slug in {operator.slug for operator in answering}:
            return HotlineCaller(
                Known.LINE,
                language=found.line.language,
                operator=found.operator,
                msisdn=found.line.msisdn,
                verification=_verification(found.operator, iccid=found.line.iccid),
            )
    tries_left = MAX_TRIES - failed_before - 1 if keyed else MAX_TRIES
    return HotlineCaller(Known.UNKNOWN, language=language, operator=only, tries_left=tries_left)


def _answers(operator: Operator, dialled: str) -> bool:
    return dialled.strip().lstrip("+") == operator.hotline.number


def _candidates(number: str | None, answering: list[Operator]) -> list[str]:
    """The E.164 numbers ``number`` may be: as given, or national in each answering
    operator's country."""
    if not number or not number.strip():
        return []
    found = []
    with contextlib.suppress(InvalidMsisdn):
        found.append(lookup_msisdn(number))
    for country in dict.fromkeys(operator.country for operator in answering):
        try:
            found.append(normalize_msisdn(number, country=country))
        except InvalidMsisdn:
            continue
    return list(dict.fromkeys(found))


def _verification(operator: Operator, *, iccid: str | None) -> Verification | None:
    if operator.hotline.verification == "last4":
        return Verification.LAST4
    if operator.hotline.verification == "voice_menu":
        return Verification.SIM4 if iccid else Verification.LAST4
    return None


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Whether the digits keyed were right, and the tries left when not (0: hang up)."""

    passed: bool
    tries_left: int


def verify_hotline_caller(
    uow: UnitOfWork, *, msisdn: str, digits: str, failed_before: int, now: datetime
) -> VerificationResult:
    """Check the digits the caller keyed against the line's verification (its operator's
    catalog), ``failed_before`` tries having failed in this call. Raises LineNotFound."""
    require_aware(now)
    with uow.reading():
        record = line_record(uow, number=lookup_msisdn(msisdn))
    check = _verification(record.operator, iccid=record.line.iccid)
    expected = record.line.iccid if check is Verification.SIM4 else record.line.msisdn
    if check is None or (_four_digits(digits) and digits == (expected or "")[-4:]):
        return VerificationResult(passed=True, tries_left=MAX_TRIES - failed_before)
    return VerificationResult(passed=False, tries_left=max(0, MAX_TRIES - failed_before - 1))


def _four_digits(digits: str) -> bool:
    """True for four ASCII digits: anything else is a wrong answer, never an error."""
    return len(digits) == 4 and digits.isascii() and digits.isdigit()
