"""Keys sent in SIP INFO requests, the fallback for switches that do not relay RFC 4733.

PJSUA reads ``application/dtmf-relay`` itself (``Signal=5``), answers 200 and reports the key
like an RFC 4733 one (``Call.onDtmfDigit``). ``application/dtmf`` (the body is the key) it
leaves to the application, and PJSUA2 has no way to answer a request inside a call: left
alone, the dialog answers 500. ``answer_dtmf_info`` reads such a request in
``Call.onCallTsxState`` and answers it 200 through PJSIP's own C function (``sip_pjsip``),
inside the callback, while the request is alive.
"""

from __future__ import annotations

import re
from typing import Any

import pjsua2 as pj

from saldo.channels.hotline.sip_pjsip import answer_ok

_KEYS = frozenset("0123456789*#ABCD")


def answer_dtmf_info(event: Any) -> str | None:
    """The key of an incoming ``application/dtmf`` INFO seen by ``Call.onCallTsxState``
    (a PJSUA2 ``SipEvent``), the request answered 200; None for any other event. Call it on
    the thread the callback came on."""
    if event.type != pj.PJSIP_EVENT_TSX_STATE:
        return None
    state = event.body.tsxState
    tsx = state.tsx
    if (
        state.type != pj.PJSIP_EVENT_RX_MSG
        or tsx.method != "INFO"
        or tsx.role != pj.PJSIP_ROLE_UAS
        or tsx.state != pj.PJSIP_TSX_STATE_TRYING
    ):
        return None
    key = key_of_dtmf_info(state.src.rdata.wholeMsg)
    if key is not None:
        answer_ok(tsx.pjTransaction, state.src.rdata.pjRxData)
    return key


_CONTENT_TYPE = re.compile(r"^(?:content-type|c)\s*:\s*([^;\s]+)", re.IGNORECASE | re.MULTILINE)


def key_of_dtmf_info(message: str) -> str | None:
    """The key of an INFO request's text whose body is ``application/dtmf`` (``5``); None
    for any other body."""
    head, _, body = message.replace("\r\n", "\n").partition("\n\n")
    found = _CONTENT_TYPE.search(head)
    if found is None or found.group(1).lower() != "application/dtmf":
        return None
    key = body.strip().upper()
    return key if key in _KEYS else None
