"""Amounts, quantities and days as people say them aloud, in words, per language: "treinta
mil pesos", "dos coma cinco gigas", "septante euros", "二十二日".

num2words speaks Spanish, French (Belgian French with septante and nonante), Dutch and
English; Chinese is a small rule of its own (``chinese_number``). The speech synthesiser gets
words, never digits or currency signs, so what a caller hears does not depend on how espeak
reads "$ 30.000" in each language.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Final

from num2words import num2words  # type: ignore[import-untyped]

from saldo.domain.money import Money

MB: Final = 1024 * 1024
GB: Final = 1024 * MB

# num2words' language for each of Saldo's, by locale first (fr_BE says septante), then language.
_NUM2WORDS: Final = {"fr_BE": "fr_BE", "es": "es", "fr": "fr", "nl": "nl", "en": "en"}

# A currency's unit and hundredth, singular and plural, per language.
_UNITS: Final[dict[str, dict[str, tuple[str, str, str, str]]]] = {
    "es": {
        "ARS": ("peso", "pesos", "centavo", "centavos"),
        "COP": ("peso", "pesos", "centavo", "centavos"),
        "EUR": ("euro", "euros", "céntimo", "céntimos"),
    },
    "fr": {
        "ARS": ("peso", "pesos", "centavo", "centavos"),
        "COP": ("peso", "pesos", "centavo", "centavos"),
        "EUR": ("euro", "euros", "cent", "cents"),
    },
    # Dutch counts euros and cents in the singular: "vijftien euro en vijftig cent".
    "nl": {
        "ARS": ("peso", "peso's", "centavo", "centavo's"),
        "COP": ("peso", "peso's", "centavo", "centavo's"),
        "EUR": ("euro", "euro", "cent", "cent"),
    },
    "en": {
        "ARS": ("peso", "pesos", "centavo", "centavos"),
        "COP": ("peso", "pesos", "centavo", "centavos"),
        "EUR": ("euro", "euros", "cent", "cents"),
    },
    "zh": {
        "ARS": ("比索", "比索", "分", "分"),
        "COP": ("比索", "比索", "分", "分"),
        "EUR": ("欧元", "欧元", "分", "分"),
    },
}
_AND: Final = {"es": "con", "fr": "et", "nl": "en", "en": "and", "zh": ""}
_POINT: Final = {"es": "coma", "fr": "virgule", "nl": "komma", "en": "point", "zh": "点"}
# Data as people say it: "gigas" in Spanish, "giga" in French and Dutch.
_DATA: Final = {
    "es": ("giga", "gigas", "mega", "megas"),
    "fr": ("giga", "gigas", "méga", "mégas"),
    "nl": ("gigabyte", "gigabyte", "megabyte", "megabyte"),
    "en": ("gigabyte", "gigabytes", "megabyte", "megabytes"),
    "zh": ("G", "G", "兆", "兆"),
}
_MINUTES: Final = {
    "es": ("minuto", "minutos"),
    "fr": ("minute", "minutes"),
    "nl": ("minuut", "minuten"),
    "en": ("minute", "minutes"),
    "zh": ("分钟", "分钟"),
}
_SMS: Final = {
    "es": ("mensaje", "mensajes"),
    "fr": ("SMS", "SMS"),
    "nl": ("sms", "sms'en"),
    "en": ("text message", "text messages"),
    "zh": ("条短信", "条短信"),
}
_DAYS: Final = {
    "es": ("día", "días"),
    "fr": ("jour", "jours"),
    "nl": ("dag", "dagen"),
    "en": ("day", "days"),
    "zh": ("天", "天"),
}
_MONTHS: Final = {
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "en": "January February March April May June July August September October November December",
}


def number_words(count: int, *, language: str, locale: str = "") -> str:
    """A whole number in words: "treinta mil", "septante et un" (fr_BE), "三万"."""
    if language == "zh":
        return chinese_number(count)
    said = str(num2words(count, lang=_NUM2WORDS.get(locale) or _NUM2WORDS.get(language, "en")))
    if language == "es":
        # Before "mil" Spanish says "veintiún mil", "treinta y un mil"; num2words, "uno mil".
        said = said.replace("veintiuno mil", "veintiún mil").replace("uno mil", "un mil")
    # num2words' Belgian French says "un millions".
    return said.replace("un millions", "un million")


def _before_noun(words: str, language: str) -> str:
    """A number as it is said before a masculine noun: Spanish "un peso", "veintiún pesos"."""
    if language == "es":
        if words.endswith("veintiuno"):
            return words[: -len("veintiuno")] + "veintiún"
        if words.endswith("uno"):
            return words[: -len("uno")] + "un"
        if words.endswith(("millón", "millones")):
            return words + " de"  # "un millón de pesos"
    if language == "fr" and words.endswith(("million", "millions")):
        return words + " d'"
    return words


def _counted(count: int, forms: tuple[str, str], *, language: str, locale: str) -> str:
    singular, plural = forms
    words = _before_noun(number_words(count, language=language, locale=locale), language)
    noun = singular if count == 1 else plural
    if language == "zh":
        # Two of something is 两: "两万比索", "两天".
        return f"{'两' if count == 2 else words}{noun}"
    if words.endswith("d'"):
        return f"{words}{noun}"
    return f"{words} {noun}"


def money_words(amount: Money, *, language: str, locale: str = "") -> str:
    """An amount in words, its hundredths said only when there are some: "treinta mil
    pesos", "fifteen euros and fifty cents", "十五欧元五十分". Currencies without hundredths
    (COP in the catalog) have none to say."""
    units = _UNITS.get(language, _UNITS["en"]).get(amount.currency)
    whole, cents = divmod(abs(amount.minor), 100) if amount.exponent == 2 else (amount.minor, 0)
    if units is None:  # a currency with no spoken name here: its code
        units = (amount.currency, amount.currency, "", "")
    said = _counted(whole, units[:2], language=language, locale=locale)
    if cents:
        hundredths = _counted(cents, units[2:], language=language, locale=locale)
        joined = _AND.get(language, "and")
        said = f"{said}{hundredths}" if language == "zh" else f"{said} {joined} {hundredths}"
    return said


def minutes_words(seconds: int, *, language: str, locale: str = "") -> str:
    """Voice time in whole minutes: "cien minutos", "one minute"."""
    return _counted(seconds // 60, _MINUTES[_known(language)], language=language, locale=locale)


def sms_words(count: int, *, language: str, locale: str = "") -> str:
    """SMS: "cincuenta mensajes", "fifty text messages"."""
    return _counted(count, _SMS[_known(language)], language=language, locale=locale)


def days_words(count: int, *, language: str, locale: str = "") -> str:
    """Days: "treinta días", "one day"."""
    return _counted(count, _DAYS[_known(language)], language=language, locale=locale)


def data_words(data_bytes: int, *, language: str, locale: str = "") -> str:
    """Data in gigabytes to a tenth from one gigabyte ("dos coma cinco gigas", "two point
    five gigabytes", "二点五G"), else in whole megabytes ("quinientos megas")."""
    language = _known(language)
    giga, gigas, mega, megas = _DATA[language]
    if data_bytes >= GB:
        tenths = int((Decimal(data_bytes) * 10 / GB).to_integral_value())
        whole, tenth = divmod(tenths, 10)
        if not tenth:
            return _counted(whole, (giga, gigas), language=language, locale=locale)
        words = number_words(whole, language=language, locale=locale)
        point = _POINT[language]
        decimal = number_words(tenth, language=language, locale=locale)
        if language == "zh":
            return f"{words}{point}{decimal}{gigas}"
        return f"{words} {point} {decimal} {gigas}"
    return _counted(data_bytes // MB, (mega, megas), language=language, locale=locale)


def day_words(day: date, *, language: str, locale: str = "") -> str:
    """A day of the year as it is said, without the year: "veintidós de diciembre", "premier
    janvier", "December twenty-second", "tweeëntwintig december", "十二月二十二日". French
    leaves the article to the sentence, which contracts it ("jusqu'au", "à partir du")."""
    language = _known(language)
    if language == "zh":
        return f"{chinese_number(day.month)}月{chinese_number(day.day)}日"
    month = _MONTHS[language].split()[day.month - 1]
    if language == "en":
        return f"{month} {num2words(day.day, lang='en', to='ordinal')}"
    if language == "fr":
        first = (
            "premier" if day.day == 1 else number_words(day.day, language=language, locale=locale)
        )
        return f"{first} {month}"
    days = number_words(day.day, language=language, locale=locale)
    if language == "es":
        return f"{'primero' if day.day == 1 else days} de {month}"
    return f"{days} {month}"


def digits_words(digits: str, *, language: str, locale: str = "") -> str:
    """Digits one by one, as a number is read back: "cinco, cinco, cero, uno"."""
    said = [number_words(int(digit), language=language, locale=locale) for digit in digits]
    return "".join(said) if language == "zh" else ", ".join(said)


_ZH_DIGITS: Final = "零一二三四五六七八九"


def chinese_number(count: int) -> str:
    """A whole number in Chinese characters, grouped by 万 and 亿 as it is said: 30000 → 三万,
    105 → 一百零五, 12 → 十二, 2200 → 二千二百."""
    if count < 0:
        return "负" + chinese_number(-count)
    if count == 0:
        return _ZH_DIGITS[0]
    groups = []
    while count:
        count, group = divmod(count, 10_000)
        groups.append(group)
    said = ""
    zero_pending = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_pending = bool(said)
            continue
        if said and (zero_pending or group < 1000):
            said += _ZH_DIGITS[0]
        said += _below_ten_thousand(group) + ("", "万", "亿", "万亿")[index]
        zero_pending = False
    # "十二", not "一十二", when a number starts with ten; "两万", "两千" as people say them.
    if said.startswith("一十"):
        return said[1:]
    return "两" + said[1:] if said[:2] in ("二千", "二万", "二亿") else said


def _below_ten_thousand(group: int) -> str:
    said = ""
    zero = False
    for power, name in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, group = divmod(group, power)
        if digit:
            if zero:
                said += _ZH_DIGITS[0]
            said += _ZH_DIGITS[digit] + name
            zero = False
        elif said:
            zero = group > 0
    return said


def _known(language: str) -> str:
    return language if language in _DAYS else "en"
