"""The plan advice in words, in the line's language: "You used 3 GB, 42 min a month. Yearly
Pack 12 months covers it for $7.916,67 a month, $1.083,33 less than the $9.000,00 you paid."
"""

from __future__ import annotations

from saldo.domain.money import format_money
from saldo.domain.recommendation import Option, Verdict
from saldo.i18n import quantities, translate
from saldo.services.plan_advice import PlanAdviceView


def option_name(option: Option, names: dict[str, str]) -> str:
    """A plan's name, with its add-on's ("Pack Mensual + 5 GB extra ×2")."""
    plan = names.get(option.plan.code, option.plan.name)
    if option.addon is None:
        return plan
    addon = names.get(option.addon.code, option.addon.name)
    times = f" ×{option.addon_times}" if option.addon_times > 1 else ""
    return f"{plan} + {addon}{times}"


def advice_text(view: PlanAdviceView, *, language: str) -> str:
    """The advice with its arithmetic, in ``language`` and the line's locale."""
    advice, locale = view.advice, view.shown.locale
    use = advice.use
    used = quantities(
        locale=locale, voice_seconds=use.voice_seconds, sms=use.sms, data_bytes=use.data_bytes
    )
    said = [translate("advice_use", language=language, use=used)] if used else []
    if advice.verdict is Verdict.SWITCH and advice.best is not None and advice.saving is not None:
        said.append(
            translate(
                "advice_switch",
                language=language,
                option=option_name(advice.best, view.names),
                cost=format_money(advice.best.monthly, locale=locale),
                saving=format_money(advice.saving, locale=locale),
                paid=format_money(advice.paid, locale=locale),
            )
        )
    elif advice.verdict is Verdict.NONE_COVERS:
        said.append(translate("advice_none", language=language))
    elif view.current is None or advice.best is not advice.current:
        said.append(translate("advice_keep", language=language))
    else:
        said.append(translate("advice_fits", language=language))
    return " ".join(said)
