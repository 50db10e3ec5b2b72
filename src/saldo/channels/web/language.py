"""Which language a portal page speaks: the one chosen with the switcher (a cookie), else the
line's own language (the one its SMS use), else the browser's Accept-Language, else English;
and the locale a line's amounts and dates are written in for that language."""

from __future__ import annotations

from saldo.i18n import LANGUAGES, LOCALES

DEFAULT_LANGUAGE = "en"


def page_language(*, chosen: str | None, line_language: str | None, accept: str) -> str:
    """The language of a page, from the switcher's cookie, the line's language and the
    request's Accept-Language header, in that order."""
    if chosen in LANGUAGES:
        return str(chosen)
    if line_language in LANGUAGES:
        return str(line_language)
    return accepted_language(accept)


def accepted_language(header: str) -> str:
    """The first of Saldo's languages in an Accept-Language header, by its weight ("nl-BE,
    nl;q=0.9, en;q=0.8" → nl); English when it names none."""
    weighted = []
    for position, part in enumerate(header.split(",")):
        tag, _, parameters = part.strip().partition(";")
        weight = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        language = tag.strip().lower().replace("_", "-").split("-")[0]
        if language in LANGUAGES and weight > 0:
            weighted.append((-weight, position, language))
    return min(weighted)[2] if weighted else DEFAULT_LANGUAGE


def language_of(locale: str) -> str:
    return locale.split("_")[0]


def locale_for(language: str, *, country: str | None) -> str:
    """The locale that writes amounts and dates for a reader of ``language``: the language's
    own in the line's country when Saldo has it (es + AR → es_AR, nl + BE → nl_BE), else the
    language's general one (zh → zh_CN, en)."""
    if country is not None and f"{language}_{country}" in LOCALES:
        return f"{language}_{country}"
    return {"zh": "zh_CN"}.get(language, language)
