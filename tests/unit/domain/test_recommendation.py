"""The plan advice: the cheapest plan (or plan and add-on) that covers a line's use a month,
with what it would have saved; "your plan already fits"; "no plan covers it"."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from saldo.domain.money import Money
from saldo.domain.operator import AddOn, Allowances, Plan
from saldo.domain.recommendation import MonthlyUse, Verdict, monthly_use, options, recommend

GB = 1024**3
MINUTE = 60


def plan(code: str, price: int, months: int = 1, *, minutes: int = 0, sms: int = 0,
         gb: int = 0) -> Plan:  # fmt: skip
    return Plan(
        code=code,
        name=code.title(),
        months=months,
        price=Money(price, "ARS"),
        allowances=Allowances(voice_seconds=minutes * MINUTE, sms=sms, data_bytes=gb * GB),
    )


def addon(code: str, price: int, days: int = 30, *, minutes: int = 0, gb: int = 0) -> AddOn:
    return AddOn(
        code=code,
        name=code.title(),
        price=Money(price, "ARS"),
        allowances=Allowances(voice_seconds=minutes * MINUTE, data_bytes=gb * GB),
        validity_days=days,
    )


SMALL = plan("small", 500_000, minutes=100, sms=50, gb=2)
LARGE = plan("large", 900_000, minutes=1000, sms=500, gb=10)
QUARTER = plan("quarter", 2_400_000, 3, minutes=3000, sms=1500, gb=30)
DATA = addon("data-5gb", 200_000, 15, gb=5)


def advise(used: MonthlyUse, *, paid: int = 900_000, current: str | None = "large",
           plans: tuple[Plan, ...] = (SMALL, LARGE), addons: tuple[AddOn, ...] = ()):  # type: ignore[no-untyped-def]  # fmt: skip
    return recommend(
        used_30=used,
        used_90=MonthlyUse(used.voice_seconds * 3, used.sms * 3, used.data_bytes * 3),
        paid_30=Money(paid, "ARS"),
        paid_90=Money(paid * 3, "ARS"),
        plans=plans,
        addons=addons,
        current_plan=current,
    )


def test_a_smaller_plan_that_covers_the_use_is_advised_with_what_it_saves() -> None:
    advice = advise(MonthlyUse(voice_seconds=42 * MINUTE, sms=10, data_bytes=GB))

    assert advice.verdict is Verdict.SWITCH
    assert advice.best is not None and advice.best.code == "small"
    assert advice.saving == Money(400_000, "ARS")


def test_the_current_plan_fits_when_nothing_cheaper_covers_the_use() -> None:
    advice = advise(MonthlyUse(voice_seconds=500 * MINUTE, data_bytes=8 * GB))

    assert advice.verdict is Verdict.FITS
    assert advice.best is advice.current
    assert advice.saving is None


def test_no_plan_covers_a_use_beyond_every_allowance() -> None:
    advice = advise(MonthlyUse(data_bytes=50 * GB))

    assert advice.verdict is Verdict.NONE_COVERS
    assert advice.best is None


def test_an_add_on_of_15_days_is_bought_twice_a_month() -> None:
    advice = advise(MonthlyUse(data_bytes=11 * GB), current=None, addons=(DATA,))

    assert advice.best is not None and advice.best.code == "small+data-5gb"
    assert advice.best.addon_times == 2
    assert advice.best.monthly == Money(900_000, "ARS")  # 500.000 + 2 × 200.000
    assert advice.best.allowances.data_bytes == 12 * GB


def test_a_plan_of_three_months_costs_a_third_a_month() -> None:
    advice = advise(MonthlyUse(data_bytes=9 * GB), plans=(LARGE, QUARTER))

    assert advice.best is not None and advice.best.code == "quarter"
    assert advice.best.cost == Fraction(800_000)
    assert advice.saving == Money(100_000, "ARS")


def test_a_busy_month_counts_even_in_a_quiet_quarter() -> None:
    use = monthly_use(used_30=MonthlyUse(data_bytes=6 * GB), used_90=MonthlyUse(data_bytes=7 * GB))
    quiet = monthly_use(used_30=MonthlyUse(sms=1), used_90=MonthlyUse(sms=301))

    assert use.data_bytes == 6 * GB
    assert quiet.sms == 101  # a third of 301, rounded up


def test_paying_less_than_any_covering_plan_already_fits() -> None:
    advice = advise(MonthlyUse(sms=10), paid=100_000, current=None)

    assert advice.verdict is Verdict.FITS
    assert advice.best is not None and advice.best.code == "small"


prices = st.integers(min_value=1, max_value=10_000_000)
amounts = st.integers(min_value=0, max_value=2000)
plans = st.builds(
    plan,
    st.sampled_from(["a", "b", "c", "d", "e"]),
    prices,
    st.sampled_from([1, 3, 12]),
    minutes=amounts,
    sms=amounts,
    gb=st.integers(min_value=0, max_value=100),
)
addons = st.builds(
    addon, st.sampled_from(["x", "y"]), prices, st.sampled_from([7, 15, 30]),
    minutes=amounts, gb=st.integers(min_value=0, max_value=20),
)  # fmt: skip
uses = st.builds(
    MonthlyUse,
    voice_seconds=st.integers(min_value=0, max_value=3000 * MINUTE),
    sms=st.integers(min_value=0, max_value=2000),
    data_bytes=st.integers(min_value=0, max_value=100 * GB),
)


@given(
    used=uses,
    plans=st.lists(plans, min_size=1, max_size=5, unique_by=lambda p: p.code).map(tuple),
    addons=st.lists(addons, max_size=2, unique_by=lambda a: a.code).map(tuple),
    paid=st.integers(min_value=0, max_value=20_000_000),
)
def test_the_advice_is_never_dearer_than_another_option_that_covers_the_use(
    used: MonthlyUse, plans: tuple[Plan, ...], addons: tuple[AddOn, ...], paid: int
) -> None:
    """Whatever the plans, add-ons and use: the option advised covers the use, and no option
    that covers it costs less; when none is advised, none covers it."""
    advice = advise(used, paid=paid, current=plans[0].code, plans=plans, addons=addons)

    covering = [o for o in options(plans=plans, addons=addons) if o.allowances.covers(advice.use)]
    if advice.verdict is Verdict.NONE_COVERS:
        assert covering == []
    else:
        assert advice.best is not None and advice.best.allowances.covers(advice.use)
        assert all(advice.best.cost <= other.cost for other in covering)
    if advice.verdict is Verdict.SWITCH:
        assert advice.saving is not None and advice.saving.minor >= 0
