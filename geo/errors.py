"""Bilingual refusals.

Every refusal the platform gives a user is a typed exception carrying a Korean
and an English message that say what is wrong and what to do. Pages show
``message(lang)``, the CLI prints it, tests assert it.
"""
from __future__ import annotations


class Refusal(ValueError):
    """Base of every user-facing refusal.

    Parameters
    ----------
    code : str
        Stable machine-readable reason, e.g. ``"outside_city"``.
    ko, en : str
        The message in Korean and in English.
    """

    def __init__(self, code: str, ko: str, en: str) -> None:
        super().__init__(f"{ko} / {en}")
        self.code = code
        self.ko = ko
        self.en = en

    def message(self, lang: str = "ko") -> str:
        """The message in ``lang`` (``"ko"`` or ``"en"``)."""
        return self.en if lang == "en" else self.ko

    def __str__(self) -> str:  # both languages: the CLI and logs show both
        return f"{self.ko} / {self.en}"


class GeometryRefused(Refusal):
    """A drawn or uploaded geometry that cannot be accepted."""


class BoundaryImportError(Refusal):
    """An official boundary file that cannot be read or used."""
