"""One call's dialogue, run on a thread of its own.

The SIP endpoint never calls a dialogue itself: its thread must keep serving the SIP stack
while a dialogue makes a use-case call. It hands each event to the call's ``Conversation``,
which calls the dialogue on its own thread, one event at a time and in the order they came,
and passes the actions back through ``deliver`` (the endpoint queues them for its thread).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence

from saldo.channels.hotline.call import (
    Action,
    Caller,
    Dialogue,
    DialogueFactory,
    HangUp,
    TransferOutcome,
)

log = logging.getLogger("saldo.hotline")

Event = Callable[[Dialogue], Sequence[Action]]


class Conversation:
    """Calls one dialogue from one thread. ``deliver`` receives each answer's actions (on the
    conversation's thread); a dialogue that raises is logged and its call hung up."""

    def __init__(
        self,
        new_dialogue: DialogueFactory,
        caller: Caller,
        deliver: Callable[[tuple[Action, ...]], None],
    ) -> None:
        self._new_dialogue = new_dialogue
        self._caller = caller
        self._deliver = deliver
        self._events: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(
            target=self._run, name=f"hotline-call-{caller.call_id[:12]}", daemon=True
        )

    def begin(self) -> None:
        self._thread.start()

    def key(self, digit: str) -> None:
        self._events.put(lambda dialogue: dialogue.key(digit))

    def played(self) -> None:
        self._events.put(lambda dialogue: dialogue.played())

    def silence(self) -> None:
        self._events.put(lambda dialogue: dialogue.silence())

    def transferred(self, outcome: TransferOutcome) -> None:
        self._events.put(lambda dialogue: dialogue.transferred(outcome))

    def ended(self) -> None:
        """The call is over: the dialogue's ``ended`` is called after every event before it,
        and the thread stops."""
        self._events.put(None)

    def join(self, timeout: float) -> bool:
        """Wait for the thread to stop; False when it is still running after ``timeout``."""
        if self._thread.ident is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        call_id = self._caller.call_id
        try:
            dialogue = self._new_dialogue()
            self._deliver(tuple(dialogue.begin(self._caller)))
        except Exception:
            log.exception("hotline call %s: the dialogue failed to begin; hanging up", call_id)
            self._deliver((HangUp(),))
            self._drain()
            return
        while (event := self._events.get()) is not None:
            try:
                self._deliver(tuple(event(dialogue)))
            except Exception:
                log.exception("hotline call %s: the dialogue failed; hanging up", call_id)
                self._deliver((HangUp(),))
        try:
            dialogue.ended()
        except Exception:
            log.exception("hotline call %s: the dialogue failed to end", call_id)

    def _drain(self) -> None:
        while self._events.get() is not None:
            pass
