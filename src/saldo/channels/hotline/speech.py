"""The hotline's prompts as telephone audio: a recorded file an operator dropped in, else the
sentence synthesised offline by ``espeak-ng`` and turned by ``sox`` into 8 kHz 16-bit mono
WAV, cached on disk.

A recorded prompt is ``<prompts folder>/<operator slug>/<language>/<prompt key>.wav``
(SALDO_HOTLINE_PROMPTS_FOLDER); only prompts said the same way on every call can be recorded
(``Saying.fixed``): a balance is always synthesised. Synthesised prompts are kept in
SALDO_HOTLINE_SPEECH_CACHE, one file per voice and text (named by their digest), written
under a temporary name and renamed, so concurrent calls never play half a file.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Final

from saldo.channels.hotline.prompts import Saying

# espeak-ng's voice per language; Belgian French by locale.
VOICES: Final = {"es": "es-419", "fr": "fr", "nl": "nl", "en": "en", "zh": "cmn"}
LOCALE_VOICES: Final = {"fr_BE": "fr-be"}
RATE: Final = 8000

Synthesiser = Callable[[str, str, Path], None]


def voice_for(*, language: str, locale: str) -> str:
    """The espeak-ng voice for a line: Latin American Spanish for Argentina and Colombia,
    Belgian French in Belgium, Dutch, English, Mandarin."""
    return LOCALE_VOICES.get(locale) or VOICES.get(language, "en")


def espeak_to_wav(text: str, voice: str, target: Path) -> None:
    """Synthesise ``text`` with ``voice`` into ``target``: 8 kHz, 16-bit signed, mono WAV.
    Raises subprocess.CalledProcessError when espeak-ng or sox fails."""
    spoken = subprocess.check_output(
        ["espeak-ng", "-v", voice, "--stdin", "--stdout"],
        input=text.encode("utf-8"),
        stderr=subprocess.DEVNULL,
        timeout=30,
    )
    telephone = ["-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed-integer"]
    subprocess.check_output(
        ["sox", "-q", "-t", "wav", "-", *telephone, str(target)],
        input=spoken,
        stderr=subprocess.DEVNULL,
        timeout=30,
    )


class Speech:
    """Finds or makes the WAV file of each saying."""

    def __init__(
        self, *, cache: Path, prompts: Path | None, synthesise: Synthesiser = espeak_to_wav
    ) -> None:
        self.cache = cache
        self.prompts = prompts
        self.synthesise = synthesise

    def wav(self, saying: Saying, *, operator: str) -> Path:
        """The file to play for ``saying`` on a call to ``operator`` (a slug)."""
        if saying.fixed and self.prompts is not None:
            recorded = self.prompts / operator / saying.language / f"{saying.key}.wav"
            if recorded.is_file():
                return recorded
        voice = voice_for(language=saying.language, locale=saying.locale)
        digest = hashlib.sha256(f"{voice}\0{saying.text}".encode()).hexdigest()
        target = self.cache / voice / f"{digest[:40]}.wav"
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.stem}.{os.getpid()}.{threading.get_ident()}.wav")
            try:
                self.synthesise(saying.text, voice, partial)
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
        return target
