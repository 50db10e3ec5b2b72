"""The few PJSIP C functions PJSUA2 does not wrap, called with ``ctypes`` on the symbols the
pjsua2 extension module exports (it is already loaded: ``CDLL`` gets the same handle)."""

from __future__ import annotations

import ctypes
from functools import cache
from typing import Any

import pjsua2 as pj


@cache
def _library() -> ctypes.CDLL:
    library = ctypes.CDLL(pj._pjsua2.__file__)
    library.pj_log_set_level.argtypes = [ctypes.c_int]
    library.pj_log_set_level.restype = None
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


def set_log_level(level: int) -> None:
    """PJSIP's log level before ``libCreate``, which otherwise prints its start-up at 5."""
    _library().pj_log_set_level(level)


def answer_ok(transaction: Any, rx_data: Any) -> bool:
    """Answer the request ``rx_data`` (``SipRxData.pjRxData``) of the server transaction
    ``transaction`` (``SipTransaction.pjTransaction``) with 200. Only while the callback
    that handed them over runs; True when the answer was sent."""
    library = _library()
    response = ctypes.c_void_p()
    endpoint = library.pjsua_get_pjsip_endpt()
    if library.pjsip_endpt_create_response(endpoint, int(rx_data), 200, None, response) != 0:
        return False
    return bool(library.pjsip_tsx_send_msg(int(transaction), response) == 0)
