"""Keys sent in SIP INFO requests, the fallback for switches that do not relay RFC 4733.

PJSUA reads ``application/dtmf-relay`` itself (``Signal=5``), answers 200 and reports the key
like an RFC 4733 one (``Call.onDtmfDigit``). ``application/dtmf`` (the body is the key) it
leaves to the application, and PJSUA2 has no way to answer a request inside a call: left
alone, the dialog answers 500. ``answer_dtmf_info`` reads such a request in
``Call.onCallTsxState`` and answers it 200 through PJSIP's own C functions (``ctypes`` on the
symbols the pjsua2 extension exports), inside the callback, while the request is alive.
"""

from __future__ import annotations

import ctypes
import re
from functools import cache
from typing import Any

import pjsua2 as pj

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
        _answer_ok(tsx.pjTransaction, state.src.rdata.pjRxData)
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


@cache
def _pjsip() -> ctypes.CDLL:
    library = ctypes.CDLL(pj._pjsua2.__file__)  # already loaded: the same handle
    library.pjsua_get_pjsip_endpt.restype = ctypes.c_void_p
    library.pjsip_endpt_create_response.argtypes = [
        ctypes.c_void_p,
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_void_p),
    ]
    library.pjsip_endpt_create_response.restype = ctypes.c_int
    library.pjsip_tsx_send_msg.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    library.pjsip_tsx_send_msg.restype = ctypes.c_int
    return library


def _answer_ok(transaction: Any, rx_data: Any) -> None:
    library = _pjsip()
    response = ctypes.c_void_p()
    endpoint = library.pjsua_get_pjsip_endpt()
    if library.pjsip_endpt_create_response(endpoint, int(rx_data), 200, None, response) == 0:
        library.pjsip_tsx_send_msg(int(transaction), response)
