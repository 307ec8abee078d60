"""Vietnamese text helpers: NFC normalisation and accent folding."""

from __future__ import annotations

import unicodedata

# đ/Đ are letters of their own, not d plus a combining mark, so NFD does not strip them.
_EXTRA = str.maketrans({"đ": "d", "Đ": "D"})


def nfc(value: str | None) -> str:
    """Return the text NFC-normalised and stripped (how Vietnamese text is stored)."""
    return unicodedata.normalize("NFC", (value or "").strip())


def fold(value: str | None) -> str:
    """Return lower-case ASCII text without Vietnamese accents ("Thạnh Mỹ" -> "thanh my")."""
    decomposed = unicodedata.normalize("NFD", (value or "").translate(_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower().strip()


def ascii_name(value: str | None) -> str:
    """Return the name without accents, keeping its capitals ("Đạ Ròn" -> "Da Ron")."""
    decomposed = unicodedata.normalize("NFD", (value or "").translate(_EXTRA))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()
