"""Subscribers' access rules: verification codes and their attempts, rate limits over a
sliding window, tokens, and the "renew at least a week before" warning."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.domain.access import (
    CODE_VALID_FOR,
    WRONG_TRIES,
    CodeAttempt,
    CodeExpired,
    CodePurpose,
    CodeUsed,
    NoCodeAsked,
    RateLimit,
    StoredToken,
    TokenKind,
    TooManyCodes,
    TooManyTries,
    Verdict,
    WrongCode,
    admit,
    judge,
    kept_until,
    keyed_hash,
    refusal,
    same_code,
)
from saldo.domain.lifecycle import LifecycleRules, LineState, renewal_due

NOW = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
KEY = b"k" * 32
THREE_IN_15 = RateLimit(limit=3, period=timedelta(minutes=15))
TEN_A_DAY = RateLimit(limit=10, period=timedelta(days=1))


def attempt(**changes: object) -> CodeAttempt:
    fields: dict[str, object] = {
        "id": 1,
        "msisdn": "+5491123456789",
        "purpose": CodePurpose.SIGN_IN,
        "account_id": None,
        "line_id": 7,
        "code_hash": keyed_hash("123456", key=KEY, purpose="code"),
        "created_at": NOW,
        "expires_at": NOW + CODE_VALID_FOR,
    }
    fields.update(changes)
    return CodeAttempt(**fields)  # type: ignore[arg-type]


# -- codes ------------------------------------------------------------------------------------


def test_a_code_is_recognised_only_with_the_key_it_was_hashed_with() -> None:
    stored = keyed_hash("123456", key=KEY, purpose="code")

    assert same_code("123456", stored_hash=stored, key=KEY)
    assert not same_code("123457", stored_hash=stored, key=KEY)
    assert not same_code("123456", stored_hash=stored, key=b"another key")


def test_a_hash_kept_for_one_purpose_is_not_the_hash_of_another() -> None:
    assert keyed_hash("x", key=KEY, purpose="code") != keyed_hash("x", key=KEY, purpose="token")
    assert len(keyed_hash("x", key=KEY, purpose="code")) == 64


def test_the_right_code_within_ten_minutes_is_accepted() -> None:
    verdict = judge(attempt(), matches=True, now=NOW + timedelta(minutes=9, seconds=59))

    assert verdict is Verdict.ACCEPTED


def test_a_wrong_code_is_counted_and_the_fifth_ends_the_attempt() -> None:
    verdicts = [judge(attempt(tries=tries), matches=False, now=NOW) for tries in range(5)]

    assert verdicts == [Verdict.WRONG] * 4 + [Verdict.LAST_WRONG]


def test_a_wrong_code_says_how_many_tries_are_left_and_the_last_says_ask_again() -> None:
    wrong = refusal(Verdict.WRONG, attempt=attempt(tries=1))
    last = refusal(Verdict.LAST_WRONG, attempt=attempt(tries=4))

    assert isinstance(wrong, WrongCode) and wrong.tries_left == 3
    assert isinstance(last, TooManyTries) and last.code == "too_many_tries"


@pytest.mark.parametrize(
    ("changes", "at", "refused"),
    [
        ({}, NOW + CODE_VALID_FOR, CodeExpired),
        ({"used_at": NOW}, NOW, CodeUsed),
        ({"tries": WRONG_TRIES, "ended_at": NOW}, NOW, TooManyTries),
        ({"ended_at": NOW}, NOW, CodeExpired),  # a newer code was asked for
    ],
)
def test_an_attempt_that_takes_no_more_codes_refuses_even_the_right_one(
    changes: dict[str, object], at: datetime, refused: type[Exception]
) -> None:
    with pytest.raises(refused):
        judge(attempt(**changes), matches=True, now=at)


def test_a_code_for_a_number_that_asked_for_none_is_refused() -> None:
    with pytest.raises(NoCodeAsked):
        judge(None, matches=False, now=NOW)


# -- rate limits ------------------------------------------------------------------------------


def test_three_codes_in_fifteen_minutes_are_admitted_and_the_fourth_is_refused() -> None:
    hits: tuple[datetime, ...] = ()
    for minute in (0, 1, 2):
        hits = admit(hits, limits=[THREE_IN_15], now=NOW + timedelta(minutes=minute), what="x")

    with pytest.raises(TooManyCodes) as refused:
        admit(hits, limits=[THREE_IN_15], now=NOW + timedelta(minutes=5), what="this number")

    # The first request leaves the window at minute 15: ten minutes after minute 5.
    assert refused.value.retry_after == timedelta(minutes=10)
    assert refused.value.retry_after_seconds == 600
    assert refused.value.code == "too_many_codes"
    assert "this number" in refused.value.message


def test_once_the_oldest_request_leaves_the_window_another_is_admitted() -> None:
    hits = (NOW, NOW + timedelta(minutes=1), NOW + timedelta(minutes=2))

    kept = admit(hits, limits=[THREE_IN_15], now=NOW + timedelta(minutes=15), what="x")

    assert kept == (*hits[1:], NOW + timedelta(minutes=15))


def test_the_wait_is_the_longest_any_limit_asks() -> None:
    # Ten codes over the last day, none in the last 15 minutes: the daily limit refuses.
    hits = tuple(NOW - timedelta(hours=hours) for hours in range(1, 11))

    with pytest.raises(TooManyCodes) as refused:
        admit(hits, limits=[THREE_IN_15, TEN_A_DAY], now=NOW, what="x")

    assert refused.value.retry_after == timedelta(hours=14)


def test_requests_are_remembered_as_long_as_the_longest_limit_counts_them() -> None:
    hits = (NOW - timedelta(days=2), NOW - timedelta(hours=3))

    kept = admit(hits, limits=[THREE_IN_15, TEN_A_DAY], now=NOW, what="x")

    assert kept == (NOW - timedelta(hours=3), NOW)
    assert kept_until(kept, limits=[THREE_IN_15, TEN_A_DAY]) == NOW + timedelta(days=1)


@given(st.lists(st.integers(min_value=0, max_value=3600), max_size=40))
def test_no_window_of_the_period_ever_holds_more_admitted_requests_than_the_limit(
    seconds: list[int],
) -> None:
    """Whatever the order and spacing of requests, those admitted never number more than
    the limit inside any window of the period: the sliding window is exact."""
    hits: tuple[datetime, ...] = ()
    admitted: list[datetime] = []
    for offset in sorted(seconds):
        moment = NOW + timedelta(seconds=offset)
        try:
            hits = admit(hits, limits=[THREE_IN_15], now=moment, what="x")
        except TooManyCodes as refused:
            assert refused.retry_after > timedelta(0)
            continue
        admitted.append(moment)
    for start in admitted:
        inside = [hit for hit in admitted if start <= hit < start + THREE_IN_15.period]
        assert len(inside) <= THREE_IN_15.limit


def test_a_rate_limit_allows_at_least_one_request_in_a_positive_period() -> None:
    with pytest.raises(ValueError):
        RateLimit(limit=0, period=timedelta(minutes=1))


# -- tokens -----------------------------------------------------------------------------------


def test_a_token_opens_its_kind_until_it_expires_or_is_revoked() -> None:
    token = StoredToken(
        id=1, account_id=2, kind=TokenKind.APP, created_at=NOW, expires_at=NOW + timedelta(days=30)
    )
    revoked = replace(token, revoked_at=NOW)

    assert token.opens(kind=TokenKind.APP, now=NOW + timedelta(days=29))
    assert not token.opens(kind=TokenKind.APP, now=NOW + timedelta(days=30))
    assert not token.opens(kind=TokenKind.WEB, now=NOW)
    assert not revoked.opens(kind=TokenKind.APP, now=NOW)


# -- renewal warning --------------------------------------------------------------------------

RULES = LifecycleRules(grace_days=30, suspension_days=60, timezone="America/Bogota")
VALID_UNTIL = datetime(2026, 12, 23, 5, 0, tzinfo=UTC)  # midnight in Bogotá


@pytest.mark.parametrize(
    ("now", "state", "due"),
    [
        (VALID_UNTIL - timedelta(days=7, seconds=1), LineState.ACTIVE, False),
        (VALID_UNTIL - timedelta(days=7), LineState.ACTIVE, True),
        (VALID_UNTIL - timedelta(hours=1), LineState.ACTIVE, True),
        (VALID_UNTIL + timedelta(days=3), LineState.GRACE, True),
        (VALID_UNTIL + timedelta(days=100), LineState.RECYCLED, False),
    ],
)
def test_renewal_is_due_from_a_week_before_expiry_until_the_line_is_recycled(
    now: datetime, state: LineState, due: bool
) -> None:
    assert renewal_due(state=state, valid_until=VALID_UNTIL, rules=RULES, now=now) is due
