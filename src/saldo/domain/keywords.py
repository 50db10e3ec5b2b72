"""Matching what subscribers type to an operator's SMS keywords.

Matching ignores case, accents and extra spaces: "saldo", "SALDO ", "Sáldo" and "mis   datos"
all match. A keyword may be several words ("MIS DATOS"); whatever follows it is the argument
("RECARGA 1234 5678 9012" → argument "1234 5678 9012").
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

# Words that confirm a pending action, in every language Saldo speaks.
CONFIRM_WORDS = frozenset({"SI", "S", "OK", "OUI", "JA", "YES", "Y", "是", "确认"})


def normalize(text: str) -> str:
    """Upper case, no accents, no control characters, single spaces."""
    if text.isascii() and text.isprintable():
        return " ".join(text.upper().split())
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(
        " " if char.isspace() else char
        for char in decomposed
        if char.isspace()
        or (not unicodedata.combining(char) and unicodedata.category(char)[0] != "C")
    )
    return " ".join(kept.upper().split())


@cache
def _candidates(keywords: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, str]]:
    """An operator's keywords, normalized, longest first (computed once per catalog)."""
    return sorted(
        ((normalize(word), action) for action, words in keywords for word in words),
        key=lambda pair: len(pair[0]),
        reverse=True,
    )


@dataclass(frozen=True, slots=True)
class Command:
    action: str  # balance, topup, plans, renew, help, confirm, or unknown
    argument: str = ""


def match_keyword(text: str, *, keywords: Mapping[str, tuple[str, ...]]) -> Command:
    """The command in ``text`` for an operator's ``keywords`` (action → words).

    The longest matching keyword wins, so "MIS DATOS" is not mistaken for a shorter word.
    """
    typed = normalize(text)
    if not typed:
        return Command("unknown")
    if typed in CONFIRM_WORDS:
        return Command("confirm")
    for word, action in _candidates(tuple(keywords.items())):
        if typed == word:
            return Command(action)
        if typed.startswith(word + " "):
            return Command(action, typed[len(word) + 1 :])
    return Command("unknown", typed)
