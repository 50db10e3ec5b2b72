"""One call on the hotline's SIP endpoint: PJSUA2's call object, whose callbacks become jobs
for the endpoint thread, and the session that carries out the dialogue's actions in order
(``Play`` with barge-in, ``Listen``, ``Transfer``, ``HangUp``) on that thread."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

import pjsua2 as pj

from saldo.channels.hotline.call import (
    Action,
    Caller,
    DialogueFactory,
    HangUp,
    Listen,
    Play,
    Transfer,
    TransferOutcome,
)
from saldo.channels.hotline.conversation import Conversation
from saldo.channels.hotline.endpoint_metrics import EndpointMetrics
from saldo.channels.hotline.sip_info import answer_dtmf_info

log = logging.getLogger("saldo.hotline")


class Switchboard(Protocol):
    """What a call needs of the endpoint (``saldo.channels.hotline.sip``)."""

    new_dialogue: DialogueFactory
    metrics: EndpointMetrics
    silences: tuple[str, str]  # played before and after every prompt

    def post(self, job: Callable[[], None]) -> None: ...

    def run_now(self, job: Callable[[], None]) -> None: ...

    def forget(self, session: CallSession) -> None: ...


class SipCall(pj.Call):  # type: ignore[misc]
    """PJSUA2's call: each callback becomes a job for the endpoint thread."""

    def __init__(self, account: Any, call_id: int, endpoint: Switchboard) -> None:
        super().__init__(account, call_id)
        self._endpoint = endpoint
        self.session: CallSession | None = None

    def _post(self, what: Callable[[CallSession], None]) -> None:
        session = self.session
        if session is not None:
            self._endpoint.post(lambda: what(session))

    def onCallState(self, prm: Any) -> None:
        # Read now: once the call is over, PJSUA no longer knows it.
        state = self.getInfo().state
        session = self.session
        if state == pj.PJSIP_INV_STATE_DISCONNECTED and session is not None:
            # Within this callback (SIP: the endpoint thread), after the jobs queued before
            # it: the session lets go of this object, which Python then deletes before PJSUA
            # frees the call's slot. Deleted later, PJSUA2's Call destructor would hang up
            # whichever new call has taken the slot (and its id) meanwhile, or, collected by
            # Python's garbage collector on another thread, abort the process.
            self._endpoint.run_now(lambda: session.state_changed(state))
            return
        self._post(lambda session: session.state_changed(state))

    def onCallMediaState(self, prm: Any) -> None:
        self._post(lambda session: session.media_changed())

    def onDtmfDigit(self, prm: Any) -> None:
        digit = str(prm.digit)
        self._post(lambda session: session.key(digit))

    def onCallTsxState(self, prm: Any) -> None:
        # On the endpoint thread, while the request is alive: it is answered here.
        digit = answer_dtmf_info(prm.e)
        if digit is not None:
            self._post(lambda session: session.key(digit))

    def onCallTransferStatus(self, prm: Any) -> None:
        code, final = int(prm.statusCode), bool(prm.finalNotify)
        if final:
            prm.cont = False  # no further NOTIFY wanted
        self._post(lambda session: session.transfer_status(code, final=final))


class Player(pj.AudioMediaPlayer):  # type: ignore[misc]
    """A prompt's player. It holds no reference back to itself (no cycle): a PJSUA object
    must be freed on the endpoint thread, never by Python's garbage collector elsewhere."""

    def __init__(self, on_end: Callable[[Player], None]) -> None:
        super().__init__()
        self._on_end = on_end

    def onEof2(self) -> None:
        self._on_end(self)


class CallSession:
    """One call: the actions waiting their turn and what is under way (a prompt playing, a
    wait for keys, a transfer). Lives on the endpoint thread only."""

    def __init__(self, endpoint: Switchboard, sip_call: SipCall, caller: Caller) -> None:
        self.endpoint = endpoint
        self.sip_call: SipCall | None = sip_call
        self.sip_call_id: int = sip_call.getId()
        self.caller = caller
        self.conversation = Conversation(endpoint.new_dialogue, caller, self._deliver)
        self.waiting: deque[Action] = deque()
        self.audio: Any = None
        self.player: Player | None = None
        self.interruptible = False
        self.listen_until: float | None = None
        self.transferring = False
        self.hanging_up = False
        self.answered_at: float | None = None
        self.early_keys: list[str] = []
        self.over = False

    def _deliver(self, actions: tuple[Action, ...]) -> None:
        # On the conversation's thread.
        self.endpoint.post(lambda: self.carry_out(actions))

    def state_changed(self, state: int) -> None:
        if state == pj.PJSIP_INV_STATE_CONFIRMED and self.answered_at is None:
            self.answered_at = time.monotonic()
            self.endpoint.metrics.answered.inc()
            self.conversation.begin()
            for digit in self.early_keys:
                self.key(digit)
            self.early_keys.clear()
        elif state == pj.PJSIP_INV_STATE_DISCONNECTED:
            self.finish()

    def media_changed(self) -> None:
        if self.sip_call is None or self.over:
            return
        try:
            info = self.sip_call.getInfo()
        except pj.Error:
            return  # the call is over; its DISCONNECTED state is on its way
        self.audio = None
        for media in info.media:
            if media.type == pj.PJMEDIA_TYPE_AUDIO and media.status == pj.PJSUA_CALL_MEDIA_ACTIVE:
                self.audio = self.sip_call.getAudioMedia(media.index)
                break
        self.advance()

    def carry_out(self, actions: tuple[Action, ...]) -> None:
        if self.over or self.hanging_up:
            return
        self.waiting.extend(actions)
        self.advance()

    def advance(self) -> None:
        """Start the waiting actions in order until one takes time (a prompt, a transfer)."""
        while (
            self.waiting
            and not self.over
            and not self.hanging_up
            and self.player is None
            and not self.transferring
        ):
            action = self.waiting[0]
            if isinstance(action, Play):
                if self.audio is None:
                    return  # the media is not up yet: media_changed comes back here
                self.waiting.popleft()
                self.listen_until = None
                self._play(action)
            elif isinstance(action, Listen):
                self.waiting.popleft()
                self.listen_until = time.monotonic() + action.seconds
            elif isinstance(action, Transfer):
                self.waiting.popleft()
                self.listen_until = None
                self._transfer(action.target)
            elif isinstance(action, HangUp):
                self.hang_up()

    def _play(self, play: Play) -> None:
        files = [str(Path(file)) for file in play.files]
        if not files:
            self.conversation.played()
            return
        player = Player(self._player_ended)
        lead_in, trail = self.endpoint.silences
        try:
            player.createPlaylist([lead_in, *files, trail], "prompt", pj.PJMEDIA_FILE_NO_LOOP)
            player.startTransmit(self.audio)
        except pj.Error as error:
            log.error(
                "hotline call %s: cannot play %s: %s", self.caller.call_id, files, error.reason
            )
            self.conversation.played()
            return
        self.player = player
        self.interruptible = play.interruptible

    def _player_ended(self, player: Player) -> None:
        # On the media thread.
        self.endpoint.post(lambda: self._play_ended(player))

    def _play_ended(self, player: Player) -> None:
        if self.player is not player:
            return  # stopped by a key already
        self._stop_player()
        self.conversation.played()
        self.advance()

    def _stop_player(self) -> None:
        player, self.player = self.player, None
        if player is not None and self.audio is not None:
            with suppress(pj.Error):  # the call's media is gone already
                player.stopTransmit(self.audio)

    def key(self, digit: str) -> None:
        if self.over or self.hanging_up:
            return
        if self.answered_at is None:
            # RTP may outrun the ACK (another socket, another thread): such a key waits for
            # the dialogue to begin.
            self.early_keys.append(digit)
            return
        if self.player is not None:
            if not self.interruptible:
                return  # dropped, as call.py promises
            self._stop_player()
            self.waiting.clear()  # the dialogue decides anew from the key
        self.listen_until = None
        self.conversation.key(digit)

    def tick(self, now: float) -> None:
        if self.listen_until is not None and now >= self.listen_until:
            self.listen_until = None
            self.conversation.silence()

    def _transfer(self, target: str) -> None:
        assert self.sip_call is not None
        self.transferring = True
        try:
            self.sip_call.xfer(target, pj.CallOpParam(True))
        except pj.Error as error:
            log.warning(
                "hotline call %s: cannot transfer to %s: %s",
                self.caller.call_id,
                target,
                error.reason,
            )
            self.transfer_status(500, final=True)

    def transfer_status(self, code: int, *, final: bool) -> None:
        if not final or not self.transferring or self.over:
            return
        self.transferring = False
        outcome = TransferOutcome.ACCEPTED if 200 <= code < 300 else TransferOutcome.FAILED
        log.info("hotline call %s: transfer %s (%d)", self.caller.call_id, outcome, code)
        self.conversation.transferred(outcome)
        if outcome is TransferOutcome.ACCEPTED:
            self.hang_up()  # the agent has the caller: Saldo leaves the call
        else:
            self.advance()

    def hang_up(self) -> None:
        if self.over or self.hanging_up or self.sip_call is None:
            return
        self.hanging_up = True
        self.waiting.clear()
        self.listen_until = None
        self._stop_player()
        try:
            self.sip_call.hangup(pj.CallOpParam(True))
        except pj.Error as error:
            log.warning("hotline call %s: hang-up: %s", self.caller.call_id, error.reason)

    def finish(self) -> None:
        """The call is over: its dialogue ends, once, and the PJSUA call object is let go."""
        if self.over:
            return
        self.over = True
        # The call's media is gone already: the player is let go (destroying it takes it off
        # the conference bridge) without a stopTransmit, which PJSIP would log as an error.
        self.player = None
        self.listen_until = None
        self.waiting.clear()
        if self.answered_at is not None:
            self.endpoint.metrics.call_seconds.observe(time.monotonic() - self.answered_at)
            self.conversation.ended()
        self.audio = None
        if self.sip_call is not None:
            self.sip_call.session = None
            self.sip_call = None
        self.endpoint.forget(self)
