"""A line's plan and the advice on it made into what the portal's plan page prints: what
the plan includes and costs, the verdict, the advice in a sentence and each step of its
arithmetic, in the page's language."""

from __future__ import annotations

from dataclasses import dataclass, replace

from saldo.channels.statements.advice import advice_text, option_name
from saldo.channels.web.views_history import Fact, Heading, heading, page_locale, say
from saldo.domain.money import format_money
from saldo.domain.operator import Allowances
from saldo.domain.periods import local_date
from saldo.domain.recommendation import MonthlyUse, Option, Verdict
from saldo.i18n import date_text, number_text, quantities
from saldo.services.plan_advice import PlanAdviceView


@dataclass(frozen=True, slots=True)
class PlanPage:
    heading: Heading
    plan: tuple[Fact, ...]  # empty: no plan bought
    verdict: str
    summary: str  # the advice with its arithmetic in a sentence
    arithmetic: tuple[Fact, ...]


def plan_page(view: PlanAdviceView, *, language: str) -> PlanPage:
    """The current plan (what it includes and costs) and the advice from the last 30 and 90
    days, with each step of its arithmetic."""
    shown, advice = view.shown, view.advice
    locale = page_locale(shown, language)
    names = {**view.names, **_names(advice.best, language), **_names(advice.current, language)}
    worded = replace(view, shown=replace(shown, locale=locale), names=names)
    plan: list[Fact] = []
    current = view.current
    if current is not None:
        months = (
            "portal_history_months_one" if current.months == 1 else "portal_history_months_other"
        )
        plan = [
            Fact(say("portal_history_plan_name", language), names.get(current.code, current.name)),
            Fact(
                say("portal_history_price", language),
                say(
                    months,
                    language,
                    price=format_money(current.price, locale=locale),
                    months=number_text(current.months, locale=locale),
                ),
            ),
            Fact(
                say("portal_history_includes", language), _use(current.allowances, language, locale)
            ),
        ]
        if current.addons:
            plan.append(Fact(say("portal_history_addons", language), ", ".join(current.addons)))
        if current.bought_at is not None:
            plan.append(
                Fact(
                    say("portal_history_bought", language),
                    date_text(
                        local_date(current.bought_at, timezone=shown.timezone), locale=locale
                    ),
                )
            )
    arithmetic = [
        Fact(say("portal_history_used_30", language), _use(advice.use_30, language, locale)),
        Fact(say("portal_history_used_90", language), _use(advice.use_90, language, locale)),
        Fact(say("portal_history_use_to_cover", language), _use(advice.use, language, locale)),
        Fact(say("portal_history_paid", language), format_money(advice.paid, locale=locale)),
    ]
    if advice.best is not None:
        arithmetic.append(
            Fact(
                say("portal_history_cheapest", language, option=option_name(advice.best, names)),
                say(
                    "portal_history_option_cost",
                    language,
                    cost=format_money(advice.best.monthly, locale=locale),
                    allowances=_use(advice.best.allowances, language, locale),
                ),
            )
        )
    if advice.verdict is Verdict.SWITCH and advice.saving is not None:
        arithmetic.append(
            Fact(say("portal_history_saving", language), format_money(advice.saving, locale=locale))
        )
    return PlanPage(
        heading=heading(view.msisdn, shown, page="plan", language=language),
        plan=tuple(plan),
        verdict=_verdict(view, language=language, locale=locale),
        summary=advice_text(worded, language=language),
        arithmetic=tuple(arithmetic),
    )


def _verdict(view: PlanAdviceView, *, language: str, locale: str) -> str:
    advice = view.advice
    if advice.verdict is Verdict.SWITCH and advice.saving is not None:
        return say("portal_history_verdict_switch", language,
                  saving=format_money(advice.saving, locale=locale))  # fmt: skip
    if advice.verdict is Verdict.NONE_COVERS:
        return say("portal_history_verdict_none", language)
    if view.current is not None and advice.best is advice.current:
        return say("portal_history_verdict_fits", language)
    return say("portal_history_verdict_keep", language)


def _names(option: Option | None, language: str) -> dict[str, str]:
    """The names of an option's plan and add-on in the page's language."""
    if option is None:
        return {}
    names = {option.plan.code: option.plan.name_in(language)}
    if option.addon is not None:
        names[option.addon.code] = option.addon.name_in(language)
    return names


def _use(use: MonthlyUse | Allowances, language: str, locale: str) -> str:
    written = quantities(
        locale=locale, voice_seconds=use.voice_seconds, sms=use.sms, data_bytes=use.data_bytes
    )
    return written or say("portal_history_nothing", language)
