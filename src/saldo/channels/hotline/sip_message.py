"""Who is calling which number, read from an INVITE as the operator's switch sent it.

Pure text handling (no SIP stack): the endpoint hands over the whole request it received.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from saldo.channels.hotline.call import Caller
from saldo.domain.numbering import InvalidMsisdn, parse_msisdn

# Compact header forms (RFC 3261 §7.3.3) that a switch may use.
_COMPACT = {"f": "from", "i": "call-id"}
_ANGLED_URI = re.compile(r"<([^>]*)>")
_BARE_URI = re.compile(r"^\s*([^;,\s]+)")
_USER = re.compile(r"^(?:sips?|tel):([^@;?]*)", re.IGNORECASE)
_WITHHELD = {"anonymous", "unknown", "restricted", "withheld", "unavailable", "private"}


def caller_of(invite: str) -> Caller:
    """The ``Caller`` of an INVITE's text: the number from the first P-Asserted-Identity
    (the operator's network asserts it), else from From; ``dialled`` is the request URI's
    user part; ``call_id`` the Call-ID. A number is E.164 when it parses as an international
    number (``+5491133334444``, ``5491133334444``); an anonymous or withheld identity, or one
    that is not a number, gives ``number=None``."""
    request_line, headers = _split(invite)
    parts = request_line.split()
    request_uri = parts[1] if len(parts) >= 2 else ""
    asserted = headers.get("p-asserted-identity", [])
    identity = asserted[0] if asserted else (headers.get("from") or [""])[0]
    return Caller(
        number=_number(_user_of(_uri_of(identity))),
        dialled=_user_of(request_uri),
        call_id=(headers.get("call-id") or [""])[0].strip(),
    )


def _split(message: str) -> tuple[str, dict[str, list[str]]]:
    lines = message.replace("\r\n", "\n").split("\n")
    head: list[str] = []
    for line in lines[1:]:
        if not line.strip():
            break
        if line[:1] in (" ", "\t") and head:
            head[-1] += " " + line.strip()  # a folded header line continues the last one
        else:
            head.append(line)
    headers: dict[str, list[str]] = {}
    for line in head:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        key = _COMPACT.get(key, key)
        # Several values may share one header line (P-Asserted-Identity may carry a sip and
        # a tel URI); the first comes first either way.
        headers.setdefault(key, []).append(value.strip())
    return lines[0], headers


def _uri_of(name_addr: str) -> str:
    """The URI of a name-addr (``"Ana" <sip:…>``) or of a bare addr-spec (``sip:…;tag=1``)."""
    found = _ANGLED_URI.search(name_addr) or _BARE_URI.search(name_addr)
    return found.group(1) if found else ""


def _user_of(uri: str) -> str:
    found = _USER.match(uri.strip())
    return unquote(found.group(1)) if found else ""


def _number(user: str) -> str | None:
    if not user or user.lower() in _WITHHELD:
        return None
    digits = user.split(";", 1)[0]  # tel:+54...;phone-context=... keeps its number first
    try:
        return parse_msisdn(digits)
    except InvalidMsisdn:
        return None
