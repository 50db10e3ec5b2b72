"""The double-entry ledger: every transaction sums to zero in each unit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from saldo.domain.ledger import Posting, UnbalancedTransaction, check_balanced, transfer

LINE_MAIN = 1
LINE_DATA = 2
OPERATOR_TOPUPS = 10
OPERATOR_PROMOTIONS = 11


def test_a_balanced_transaction_in_several_units_is_accepted() -> None:
    postings = [
        Posting(account_id=OPERATOR_TOPUPS, unit="ARS", amount=-500000),
        Posting(account_id=LINE_MAIN, unit="ARS", amount=500000),
        Posting(account_id=OPERATOR_PROMOTIONS, unit="BYTES", amount=-1_073_741_824),
        Posting(account_id=LINE_DATA, unit="BYTES", amount=1_073_741_824),
    ]

    check_balanced(postings)


def test_a_transaction_that_does_not_sum_to_zero_in_one_unit_is_refused() -> None:
    postings = [
        Posting(account_id=OPERATOR_TOPUPS, unit="ARS", amount=-500000),
        Posting(account_id=LINE_MAIN, unit="ARS", amount=500000),
        Posting(account_id=OPERATOR_PROMOTIONS, unit="BYTES", amount=-1000),
        Posting(account_id=LINE_DATA, unit="BYTES", amount=999),
    ]

    with pytest.raises(UnbalancedTransaction, match="BYTES"):
        check_balanced(postings)


def test_amounts_in_different_units_do_not_balance_each_other() -> None:
    postings = [
        Posting(account_id=OPERATOR_TOPUPS, unit="ARS", amount=-500000),
        Posting(account_id=LINE_MAIN, unit="COP", amount=500000),
    ]

    with pytest.raises(UnbalancedTransaction):
        check_balanced(postings)


@pytest.mark.parametrize(
    "postings",
    [[], [Posting(account_id=LINE_MAIN, unit="ARS", amount=0)]],
    ids=["none", "one"],
)
def test_a_transaction_with_fewer_than_two_postings_is_refused(postings: list[Posting]) -> None:
    with pytest.raises(UnbalancedTransaction, match="at least two postings"):
        check_balanced(postings)


def test_a_transfer_takes_from_one_account_and_gives_to_the_other() -> None:
    postings = transfer(
        from_account=OPERATOR_TOPUPS, to_account=LINE_MAIN, unit="COP", amount=3000000
    )

    assert postings == [
        Posting(account_id=OPERATOR_TOPUPS, unit="COP", amount=-3000000),
        Posting(account_id=LINE_MAIN, unit="COP", amount=3000000),
    ]
    check_balanced(postings)


@pytest.mark.parametrize("amount", [0, -1])
def test_a_transfer_of_nothing_or_less_is_refused(amount: int) -> None:
    with pytest.raises(ValueError, match="positive amount"):
        transfer(from_account=OPERATOR_TOPUPS, to_account=LINE_MAIN, unit="ARS", amount=amount)


transfers = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=1000),
        st.integers(min_value=1, max_value=1000),
        st.sampled_from(["ARS", "COP", "EUR", "SECONDS", "SMS", "BYTES"]),
        st.integers(min_value=1, max_value=10**15),
    ),
    min_size=1,
    max_size=20,
)


@given(transfers)
def test_any_list_of_transfers_makes_a_balanced_transaction(
    moves: list[tuple[int, int, str, int]],
) -> None:
    """Proves that postings built only from transfers, in any accounts, units and positive
    amounts, always pass check_balanced when put together in one transaction."""
    postings = [
        posting
        for from_account, to_account, unit, amount in moves
        for posting in transfer(
            from_account=from_account, to_account=to_account, unit=unit, amount=amount
        )
    ]

    check_balanced(postings)
