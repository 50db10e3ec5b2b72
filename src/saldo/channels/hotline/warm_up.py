"""Making the hotline's fixed prompts ahead of the first calls (docs/hotline-dialogue.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from saldo.channels.hotline import prompts
from saldo.channels.hotline.prompts import Voice
from saldo.channels.hotline.speech import Speech
from saldo.services.operators import list_operators

if TYPE_CHECKING:
    from saldo.bootstrap import Saldo


def warm_up(saldo: Saldo, *, speech: Speech) -> int:
    """Make every fixed prompt of every operator in each of its languages (about 20 each), so
    that the first calls find them in the cache; return how many there are. For the endpoint
    to run beside answering calls when it starts: a cold cache costs a call about 70 ms per
    sentence the first time it is said."""
    made = 0
    for operator in saldo.run(list_operators):
        for language in operator.languages:
            for saying in prompts.fixed(Voice(operator, language)):
                speech.wav(saying, operator=operator.slug)
                made += 1
    return made
