"""The hotline's prompts synthesised for real by espeak-ng and sox: 8 kHz 16-bit mono WAV,
cached by voice and text, recorded prompts first."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from saldo.channels.hotline.prompts import Saying
from saldo.channels.hotline.speech import Speech, espeak_to_wav, voice_for

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are installed by scripts/install-system-deps.sh",
)

ONE_PER_LANGUAGE = [
    ("es", "es_CO", "Su saldo es de cincuenta mil pesos.", "es-419"),
    ("fr", "fr_BE", "Votre solde est de septante et un euros.", "fr-be"),
    ("nl", "nl_BE", "Uw saldo is vijftien euro.", "nl"),
    ("en", "en", "Your balance is thirty thousand pesos.", "en"),
    ("zh", "zh_CN", "您的余额为三万比索。", "cmn"),
]


class Counting:
    """The real synthesiser, counting its runs."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []

    def __call__(self, text: str, voice: str, target: Path) -> None:
        self.runs.append((voice, text))
        espeak_to_wav(text, voice, target)


@pytest.mark.parametrize(("language", "locale", "text", "voice"), ONE_PER_LANGUAGE)
def test_a_prompt_is_telephone_audio_made_once(
    tmp_path: Path, language: str, locale: str, text: str, voice: str
) -> None:
    synthesiser = Counting()
    speech = Speech(cache=tmp_path / "cache", prompts=tmp_path / "prompts", synthesise=synthesiser)
    saying = Saying("money", text, language=language, locale=locale, fixed=False)

    first = speech.wav(saying, operator="claro-co")
    again = speech.wav(saying, operator="claro-co")

    with wave.open(str(first)) as audio:
        assert (audio.getframerate(), audio.getnchannels(), audio.getsampwidth()) == (8000, 1, 2)
        assert audio.getnframes() > 8000  # more than a second of speech
    assert again == first
    assert synthesiser.runs == [(voice, text)]
    assert first.parent.name == voice_for(language=language, locale=locale) == voice
    assert [path.name for path in first.parent.iterdir()] == [first.name]  # no partial file left


def test_a_recorded_prompt_takes_precedence_over_synthesis(tmp_path: Path) -> None:
    recorded = tmp_path / "prompts" / "claro-ar" / "es" / "menu.wav"
    recorded.parent.mkdir(parents=True)
    recorded.write_bytes(b"RIFF")
    synthesiser = Counting()
    speech = Speech(cache=tmp_path / "cache", prompts=tmp_path / "prompts", synthesise=synthesiser)

    menu = Saying("menu", "Para conocer su saldo, marque 1.", language="es", locale="es_AR")
    chosen = speech.wav(menu, operator="claro-ar")
    elsewhere = speech.wav(menu, operator="movistar-ar")

    assert chosen == recorded
    assert elsewhere != recorded and synthesiser.runs == [("es-419", menu.text)]


def test_a_sentence_that_varies_is_never_taken_from_a_recording(tmp_path: Path) -> None:
    recorded = tmp_path / "prompts" / "claro-ar" / "es" / "money.wav"
    recorded.parent.mkdir(parents=True)
    recorded.write_bytes(b"RIFF")
    speech = Speech(cache=tmp_path / "cache", prompts=tmp_path / "prompts")

    money = Saying("money", "Su saldo es de diez mil pesos.", "es", "es_AR", fixed=False)

    assert speech.wav(money, operator="claro-ar") != recorded
