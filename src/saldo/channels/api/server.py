"""Running the HTTP application with uvicorn."""

from __future__ import annotations

import errno
import logging
import re
import socket

import uvicorn

from saldo.bootstrap import Saldo
from saldo.channels.api.app import create_app
from saldo.domain.errors import SaldoError
from saldo.domain.numbering import mask_msisdn


class CannotListen(SaldoError):
    """The server could not take its address and port (another program has the port, or
    the address is not this machine's)."""

    code = "cannot_listen"


# A subscriber's number in a path (``/api/v1/lines/%2B5491133334444``, the portal's line
# pages): a plus sign, plain or percent-encoded, or none, then 7 to 15 digits.
_NUMBER_IN_PATH = re.compile(r"(?:%2[Bb]|\+)?(\d{7,15})(?=/|$|\.)")


class WithoutQueryStrings(logging.Filter):
    """Access log lines keep the path and drop the query string: on the gateway endpoints it
    carries subscribers' numbers, voucher PINs and the gateway token. A number in the path
    itself (the app API's and the portal's line routes) is masked as every log masks it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, version, status = record.args
            record.args = (client, method, masked_path(str(path)), version, status)
        return True


def masked_path(path: str) -> str:
    """``path`` without its query string, any subscriber's number in it masked."""
    return _NUMBER_IN_PATH.sub(lambda found: mask_msisdn(found.group(1)), path.split("?", 1)[0])


def listen(*, host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, taken before anything else is done, so a busy port
    is one clear error rather than uvicorn's start-up log. Raises CannotListen."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn does: a port left in TIME_WAIT by the last run can be taken again at once
    # (one another program listens on is still refused).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        why = "the port is in use" if error.errno == errno.EADDRINUSE else error.strerror
        raise CannotListen(
            f"cannot listen on {host}:{port}: {why}; choose another port with --port or SALDO_PORT"
        ) from None
    return sock


def serve(saldo: Saldo, *, listening: socket.socket) -> None:
    """Serve Saldo's HTTP application on ``listening`` (from ``listen``) until Ctrl-C."""
    host, port = listening.getsockname()[:2]
    config = uvicorn.Config(
        create_app(saldo), host=host, port=port, log_level=saldo.settings.log_level
    )
    # uvicorn has set its loggers up by now (Config does it); the filter goes on top.
    logging.getLogger("uvicorn.access").addFilter(WithoutQueryStrings())
    uvicorn.Server(config).run(sockets=[listening])
