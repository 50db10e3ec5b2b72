"""Operators built from their stored catalog entries are kept on disk for the next process
(saldo.adapters.db.operator_cache), and used only by the code that built them."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from saldo.adapters.db import operator_cache
from saldo.adapters.db.operator_cache import (
    cache_folder,
    keep_operator,
    kept_operator,
    sources_fingerprint,
)
from saldo.catalog.schema import OperatorSpec, bundled_specs
from saldo.domain.operator import Operator

SPEC_HASH = "ab" * 32


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def _built(operator_id: int = 3) -> Operator:
    return bundled_specs()[0].to_operator(operator_id=operator_id)


@pytest.mark.parametrize("spec", bundled_specs(), ids=lambda spec: spec.slug)
def test_every_bundled_operator_is_read_back_equal_to_the_one_kept(
    spec: OperatorSpec, cache_home: Path
) -> None:
    # given an operator built from a bundled catalog entry and kept
    built = spec.to_operator(operator_id=5)
    keep_operator(5, SPEC_HASH, built)

    # when the next process asks for it
    found = kept_operator(5, SPEC_HASH)

    # then it is the same operator, plans, promotions and tariff included
    assert found == built


def test_an_operator_is_kept_by_its_id_and_catalog_entry_only(cache_home: Path) -> None:
    # given an operator kept for id 3 and one entry
    keep_operator(3, SPEC_HASH, _built())

    # then another id or another entry finds nothing
    assert kept_operator(3, SPEC_HASH) is not None
    assert kept_operator(4, SPEC_HASH) is None
    assert kept_operator(3, "cd" * 32) is None


def test_the_files_are_private_to_their_owner(cache_home: Path) -> None:
    # when an operator is kept
    keep_operator(3, SPEC_HASH, _built())

    # then only its owner may read the file or write in the folder
    folder = cache_folder()
    assert folder == cache_home / "saldo" / "operators"
    assert folder.stat().st_mode & 0o777 == 0o700
    (kept,) = folder.iterdir()
    assert kept.stat().st_mode & 0o777 == 0o600


def test_an_operator_kept_by_other_code_is_built_again(cache_home: Path) -> None:
    # given a file kept by another version of Saldo's catalog or domain code
    keep_operator(3, SPEC_HASH, _built())
    (kept,) = cache_folder().iterdir()
    with kept.open("wb") as file:
        pickle.dump("another fingerprint", file)
        pickle.dump(_built(), file)

    # when this code asks for it, then it is not used
    assert kept_operator(3, SPEC_HASH) is None


@pytest.mark.parametrize(
    "content", [b"", b"not a pickle", pickle.dumps("only a fingerprint")], ids=repr
)
def test_a_damaged_file_is_no_operator(content: bytes, cache_home: Path) -> None:
    # given a damaged file where the operator would be kept
    keep_operator(3, SPEC_HASH, _built())
    (kept,) = cache_folder().iterdir()
    kept.write_bytes(content)

    # when it is asked for, then nothing is found and nothing raises
    assert kept_operator(3, SPEC_HASH) is None


def test_a_file_with_something_else_than_an_operator_is_no_operator(cache_home: Path) -> None:
    # given a file of the right code that holds something else
    keep_operator(3, SPEC_HASH, _built())
    (kept,) = cache_folder().iterdir()
    with kept.open("wb") as file:
        pickle.dump(operator_cache.code_fingerprint(), file)
        pickle.dump({"slug": "claro-co"}, file)

    # then it is not taken for an operator
    assert kept_operator(3, SPEC_HASH) is None


def test_a_folder_that_cannot_be_written_is_as_if_there_were_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a cache folder that cannot be made (a file is in its way)
    blocker = tmp_path / "cache"
    blocker.write_text("a file, not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))

    # when an operator is kept, then nothing raises, and nothing is found later
    keep_operator(3, SPEC_HASH, _built())
    assert kept_operator(3, SPEC_HASH) is None


def test_a_relative_cache_home_is_ignored_as_the_xdg_rules_say(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", "/home/someone")

    assert cache_folder() == Path("/home/someone/.cache/saldo/operators")


def test_the_fingerprint_changes_with_any_source_file_s_size_or_modification_time(
    tmp_path: Path,
) -> None:
    # given a folder of sources and its fingerprint
    source = tmp_path / "operator.py"
    source.write_text("x = 1\n")
    os.utime(source, ns=(1_000_000_000, 1_000_000_000))
    before = sources_fingerprint([tmp_path])

    # when a file is edited to the same size but at another time, or grows, or is added
    os.utime(source, ns=(2_000_000_000, 2_000_000_000))
    touched = sources_fingerprint([tmp_path])
    source.write_text("x = 10\n")
    os.utime(source, ns=(2_000_000_000, 2_000_000_000))
    grown = sources_fingerprint([tmp_path])
    (tmp_path / "money.py").write_text("")
    added = sources_fingerprint([tmp_path])

    # then each is another fingerprint, and the same files give the same one
    assert len({before, touched, grown, added}) == 4
    assert sources_fingerprint([tmp_path]) == added
