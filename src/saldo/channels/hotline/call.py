"""What a hotline call's dialogue tells the SIP endpoint to do, and what the endpoint tells it.

The endpoint creates one ``Dialogue`` per answered call (``DialogueFactory``), calls
``begin`` with who is calling, then calls ``key``, ``played``, ``silence`` and
``transferred`` as those things happen, and ``ended`` once when the call is over, whoever
hung up. Each of them returns the actions to carry out next, in order. The endpoint calls a
dialogue from one thread at a time, never from the SIP stack's own callback thread, so a
dialogue may make a use-case call (which takes milliseconds) while it answers.

Actions:

- ``Play``: play the WAV files (8 kHz, 16-bit mono) one after another. When ``interruptible``,
  a key pressed while they play stops them at once (barge-in) and is passed to ``key``; the
  rest is not played and ``played`` is not called. Otherwise keys pressed while playing are
  dropped. When the last file ends, ``played`` is called.
- ``Listen``: wait for keys for up to ``seconds`` after the last ``Play`` has ended; every
  key goes to ``key``; with no key in time, ``silence`` is called. A new ``Play`` or
  ``Listen`` replaces a pending wait.
- ``Transfer``: hand the call to ``target`` (a SIP URI) with a REFER; the outcome goes to
  ``transferred``. After an accepted transfer Saldo leaves the call.
- ``HangUp``: say goodbye in SIP (BYE); ``ended`` follows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Caller:
    """Who called which hotline number.

    ``number``: the caller's number from P-Asserted-Identity, else From, in E.164 (``+…``)
    when it parses as a phone number; None when withheld or not a number.
    ``dialled``: the request URI's user part, the hotline number as the switch routed it
    (``"121"``). ``call_id``: the SIP Call-ID, unique per call.
    """

    number: str | None
    dialled: str
    call_id: str


@dataclass(frozen=True, slots=True)
class Play:
    files: tuple[Path, ...]
    interruptible: bool = True


@dataclass(frozen=True, slots=True)
class Listen:
    seconds: float


@dataclass(frozen=True, slots=True)
class Transfer:
    target: str


@dataclass(frozen=True, slots=True)
class HangUp:
    pass


Action = Play | Listen | Transfer | HangUp


class TransferOutcome(StrEnum):
    ACCEPTED = "accepted"  # the agent's side answered (NOTIFY 200): Saldo leaves the call
    FAILED = "failed"  # refused, busy, no answer or unreachable: the caller is still here


class Dialogue(Protocol):
    def begin(self, caller: Caller) -> Sequence[Action]: ...

    def key(self, digit: str) -> Sequence[Action]: ...

    def played(self) -> Sequence[Action]: ...

    def silence(self) -> Sequence[Action]: ...

    def transferred(self, outcome: TransferOutcome) -> Sequence[Action]: ...

    def ended(self) -> None: ...


DialogueFactory = Callable[[], Dialogue]
