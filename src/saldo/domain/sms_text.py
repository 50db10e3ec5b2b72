"""How a text travels as SMS: GSM-7 (160 characters, 153 per part when split) or UCS-2
(70, and 67 per part) when any character is outside the GSM 03.38 alphabet."""

from __future__ import annotations

from typing import Final

GSM7_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Characters of the extension table cost two septets (an escape and the character).
GSM7_EXTENSION: Final = frozenset("^{}\\[~]|€\f")

MAX_PARTS: Final = 3


GSM7: Final = GSM7_BASIC | GSM7_EXTENSION

# CLDR writes no-break spaces ("5,00 €" in fr_BE, "1 234" in fr); none of them is in the GSM
# alphabet, and one would make a whole SMS UCS-2, halving what it holds.
_PLAIN_SPACES: Final = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


def plain_spaces(text: str) -> str:
    """``text`` with plain spaces where it has no-break or thin ones."""
    return text.translate(_PLAIN_SPACES)


def is_gsm7(text: str) -> bool:
    return GSM7.issuperset(text)


def sms_parts(text: str) -> int:
    """How many SMS ``text`` takes, counted as a handset splits it: a part never ends between
    an escape and its extension character, nor between the two halves of a surrogate pair."""
    gsm = is_gsm7(text)
    if len(text) <= (80 if gsm else 35):
        return 1  # even at two septets (or UTF-16 units) a character, it fits in one
    if gsm:
        sizes = [2 if char in GSM7_EXTENSION else 1 for char in text]
        single, per_part = 160, 153
    else:
        # UCS-2 counts UTF-16 code units: characters beyond the BMP take two.
        if len(text.encode("utf-16-le")) <= 140:
            return 1
        sizes = [2 if ord(char) > 0xFFFF else 1 for char in text]
        single, per_part = 70, 67
    if sum(sizes) <= single:
        return 1
    parts, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts


def fit_sms(text: str, *, max_parts: int = MAX_PARTS) -> str:
    """``text`` cut (with an ellipsis) so that it takes at most ``max_parts`` SMS."""
    if sms_parts(text) <= max_parts:
        return text
    ellipsis = "..." if is_gsm7(text) else "…"
    cut = len(text)
    while cut > 0 and sms_parts(text[:cut].rstrip() + ellipsis) > max_parts:
        cut -= 1
    return text[:cut].rstrip() + ellipsis
