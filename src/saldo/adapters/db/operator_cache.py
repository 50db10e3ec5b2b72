"""Operators as built from their stored catalog entries, kept on disk between processes.

Every command that looks a line up needs the line's operator as a domain value, built from
the catalog entry stored with it by the catalog's Pydantic schema (``saldo.catalog.schema``).
Importing that schema, PyYAML and phonenumbers with it, was about a tenth of what ``saldo
balance`` spent to start (docs/performance.md, "CLI start"); an operator once built is
therefore kept in a file and read back by the next process.

It stays correct through its key. A built operator depends on its stored entry and on the
code that builds it, and on nothing else: a file is named by the operator's id and its
entry's hash (``operators.spec_hash``), and holds a fingerprint of that code: the size and
modification time of every source file of ``saldo.catalog`` and ``saldo.domain`` (what
Python itself checks before reusing a module's bytecode), the version of Python and the
size and modification time of Pydantic's ``version.py`` (read without importing Pydantic,
which a balance inquiry otherwise never loads: installing another Pydantic rewrites it).
A file with another fingerprint is built again and replaced. A missing, unreadable or
damaged file, or a folder that cannot be written, is as if there were no cache.

The files live in ``$XDG_CACHE_HOME/saldo/operators`` (``~/.cache/saldo/operators``), in a
folder only its owner may write to and read, as pickles: never point XDG_CACHE_HOME at a
folder that others can write.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import saldo.catalog
import saldo.domain
from saldo.domain.operator import Operator

_fingerprint: str | None = None

# Rebuilding an Operator validates its whole catalog entry again. A spec changes only with
# `operators load`, so each (id, spec hash) is built once, kept for the next processes and
# looked up in this one.
_built: dict[tuple[int, str], Operator] = {}


def known_operator(operator_id: int, spec_hash: str) -> Operator | None:
    """The operator with this id and entry, as built in this process or kept by an earlier
    one; None when it must be built from its entry (``built_operator``)."""
    operator = _built.get((operator_id, spec_hash))
    if operator is None:
        operator = kept_operator(operator_id, spec_hash)
        if operator is not None:
            _built[(operator_id, spec_hash)] = operator
    return operator


def built_operator(operator_id: int, spec_hash: str, spec: dict[str, Any]) -> Operator:
    """The operator with this id and stored catalog entry ``spec`` (whose hash is
    ``spec_hash``): known, or built now and kept."""
    operator = known_operator(operator_id, spec_hash)
    if operator is None:
        # The catalog's schema is imported only to build an operator that was not kept.
        from saldo.catalog.schema import OperatorSpec

        operator = OperatorSpec.model_validate(spec).to_operator(operator_id=operator_id)
        _built[(operator_id, spec_hash)] = operator
        keep_operator(operator_id, spec_hash, operator)
    return operator


def kept_operator(operator_id: int, spec_hash: str) -> Operator | None:
    """The operator kept for this id and catalog entry by this code, or None."""
    try:
        with _file(operator_id, spec_hash).open("rb") as file:
            # The fingerprint first: an operator kept by other code is not even read.
            if pickle.load(file) != code_fingerprint():
                return None
            operator = pickle.load(file)
    except Exception:
        # Whatever a missing, truncated or foreign file raises, it is no cache.
        return None
    return operator if isinstance(operator, Operator) else None


def keep_operator(operator_id: int, spec_hash: str, operator: Operator) -> None:
    """Keep ``operator`` for the next process; quietly nothing when the folder cannot be
    written."""
    partial = None
    try:
        target = _file(operator_id, spec_hash)
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}")
        with open(partial, "wb", opener=_private) as file:
            pickle.dump(code_fingerprint(), file, protocol=pickle.HIGHEST_PROTOCOL)
            pickle.dump(operator, file, protocol=pickle.HIGHEST_PROTOCOL)
        # A reader sees the old file or the whole new one, never a part.
        os.replace(partial, target)
    except (OSError, RuntimeError):
        # RuntimeError: no home folder to keep it in.
        if partial is not None:
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)


def code_fingerprint() -> str:
    """What the code that builds operators is, in this process: see the module's docstring."""
    global _fingerprint
    if _fingerprint is None:
        folders = [Path(package.__path__[0]) for package in (saldo.catalog, saldo.domain)]
        _fingerprint = f"{sys.version}\n{_installed('pydantic')}\n{sources_fingerprint(folders)}"
    return _fingerprint


def _installed(package: str) -> str:
    """Which copy of ``package`` is installed, told by its ``version.py`` file's path, size
    and modification time, without importing the package."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return f"{package}: not installed"
    version_file = Path(next(iter(spec.submodule_search_locations))) / "version.py"
    found = version_file.stat()
    return f"{version_file}:{found.st_size}:{found.st_mtime_ns}"


def sources_fingerprint(folders: list[Path]) -> str:
    """The name, size and modification time of every Python source file in ``folders``."""
    parts = []
    for folder in folders:
        for source in sorted(folder.glob("*.py")):
            found = source.stat()
            parts.append(f"{source}:{found.st_size}:{found.st_mtime_ns}")
    return "\n".join(parts)


def cache_folder() -> Path:
    """Where built operators are kept. Raises RuntimeError when there is no home folder."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or "")
    if not base.is_absolute():  # unset, empty or relative: the XDG default
        base = Path.home() / ".cache"
    return base / "saldo" / "operators"


def _file(operator_id: int, spec_hash: str) -> Path:
    return cache_folder() / f"{operator_id}-{spec_hash}.pickle"


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
