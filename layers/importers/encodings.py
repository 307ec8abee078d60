"""Vietnamese text encodings as they arrive in DBF files: UTF-8, Windows-1258, TCVN3 (ABC) and VNI-Windows.

Python has codecs for UTF-8 and cp1258 only; TCVN3 and VNI-Windows are font encodings of the 1990s (".VnTime",
"VNI-Times") still found in cadastral DBF files. They are written here as tables:

- TCVN3 (ABC) is single-byte: every lowercase letter with diacritics has one byte in 0xA1–0xFE, the seven
  uppercase base letters Ă Â Ê Ô Ơ Ư Đ have their own bytes, and uppercase letters *with tones* reuse the
  lowercase bytes (they were drawn by a second font, ".VnTimeH"). Decoding therefore yields lowercase
  toned letters, and a word written in capitals is restored to capitals afterwards.
- VNI-Windows writes a base ASCII letter followed by one "mark" byte (â ê ô and tone combined into one
  byte), with a few letters as single bytes (đ ơ ư and the i-family).

Detection decodes a sample with every candidate and keeps the one whose words are most often valid
Vietnamese syllables.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

UTF8 = "utf-8"
CP1258 = "cp1258"
TCVN3 = "tcvn3"
VNI = "vni"
ENCODINGS = (UTF8, CP1258, TCVN3, VNI)
ENCODING_LABELS = {
    UTF8: "UTF-8 (Unicode)",
    CP1258: "Windows-1258",
    TCVN3: "TCVN3 (ABC, .VnTime)",
    VNI: "VNI-Windows (VNI-Times)",
}

# --- TCVN3 --------------------------------------------------------------------------------------
# Lowercase letters in the order of the TCVN3 byte string that follows; then the uppercase base letters.
_TCVN3_CHARS = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵĂÂÊÔƠƯĐ"
_TCVN3_BYTES = bytes(
    [0xB5, 0xB8, 0xB6, 0xB7, 0xB9]
    + [0xA8, 0xBB, 0xBE, 0xBC, 0xBD, 0xC6]
    + [0xA9, 0xC7, 0xCA, 0xC8, 0xC9, 0xCB]
    + [0xAE]
    + [0xCC, 0xD0, 0xCE, 0xCF, 0xD1]
    + [0xAA, 0xD2, 0xD5, 0xD3, 0xD4, 0xD6]
    + [0xD7, 0xDD, 0xD8, 0xDC, 0xDE]
    + [0xDF, 0xE3, 0xE1, 0xE2, 0xE4]
    + [0xAB, 0xE5, 0xE8, 0xE6, 0xE7, 0xE9]
    + [0xAC, 0xEA, 0xED, 0xEB, 0xEC, 0xEE]
    + [0xEF, 0xF3, 0xF1, 0xF2, 0xF4]
    + [0xAD, 0xF5, 0xF8, 0xF6, 0xF7, 0xF9]
    + [0xFA, 0xFD, 0xFB, 0xFC, 0xFE]
    + [0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7]
)
assert len(_TCVN3_CHARS) == len(_TCVN3_BYTES) == 74  # noqa: S101 - guards the hand-written table

TCVN3_DECODE: dict[int, str] = {b: c for b, c in zip(_TCVN3_BYTES, _TCVN3_CHARS, strict=True)}
TCVN3_ENCODE: dict[str, int] = {c: b for b, c in TCVN3_DECODE.items()}
# Uppercase toned letters are written with the lowercase byte (the capital font draws them).
for _c, _b in list(TCVN3_ENCODE.items()):
    if _c.upper() not in TCVN3_ENCODE:
        TCVN3_ENCODE[_c.upper()] = _b

# --- VNI-Windows --------------------------------------------------------------------------------
_VNI_TONE = {"\u0301": "ù", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}  # on a plain vowel
_VNI_CIRC = {"": "â", "\u0301": "á", "\u0300": "à", "\u0309": "å", "\u0303": "ã", "\u0323": "ä"}  # â ê ô + tone
_VNI_BREVE = {"": "ê", "\u0301": "é", "\u0300": "è", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë"}  # ă + tone
_VNI_I = {"": "i", "\u0301": "í", "\u0300": "ì", "\u0309": "æ", "\u0303": "ó", "\u0323": "ò"}  # i is one byte
_VNI_SINGLE = {"đ": "ñ", "ơ": "ô", "ư": "ö", "ỵ": "î"}
_VIET_LOWER = "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"


def _vni_lower(ch: str) -> str:
    """VNI spelling (as Latin-1 characters) of one lowercase Vietnamese letter."""
    if ch in _VNI_SINGLE:
        return _VNI_SINGLE[ch]
    base, *marks = list(unicodedata.normalize("NFD", ch))  # one letter, then its combining marks
    tone = next((m for m in marks if m in _VNI_TONE), "")
    if base == "i":
        return _VNI_I[tone]
    if "\u0302" in marks:  # circumflex
        return base + _VNI_CIRC[tone]
    if "\u0306" in marks:  # breve
        return base + _VNI_BREVE[tone]
    if "\u031b" in marks:  # horn: ơ ư are single bytes, the tone follows
        return _VNI_SINGLE[unicodedata.normalize("NFC", base + "\u031b")] + (_VNI_TONE[tone] if tone else "")
    return base + (_VNI_TONE[tone] if tone else "")


VNI_ENCODE: dict[str, str] = {}
for _ch in _VIET_LOWER:
    _seq = _vni_lower(_ch)
    if not _ch.isascii():
        VNI_ENCODE[_ch] = _seq
        VNI_ENCODE[_ch.upper()] = _seq.upper()
VNI_DECODE: dict[str, str] = {seq: ch for ch, seq in VNI_ENCODE.items()}
# Lowercase base followed by an uppercase mark (or the reverse) occurs in hand-typed data: accept it.
for _seq, _ch in list(VNI_DECODE.items()):
    if len(_seq) == 2:
        for variant in (_seq[0] + _seq[1].swapcase(),):
            VNI_DECODE.setdefault(variant, _ch if _seq[0].islower() == variant[0].islower() else _ch.swapcase())
_VNI_PATTERN = re.compile("|".join(re.escape(s) for s in sorted(VNI_DECODE, key=len, reverse=True)))


# --- codecs -------------------------------------------------------------------------------------
def _recapitalise(text: str) -> str:
    """Restore capitals lost by TCVN3, whose toned capitals share the lowercase bytes.

    A value with no lowercase ASCII letter was typed in capitals ("XÃ ĐẠ RÒN"): all of it goes to capitals.
    Otherwise a word with three or more capitals and no lowercase ASCII letter ("DƯỜNG" arrives as D, Ư, ờ,
    N, G) does; shorter mixed words ("KNớ", a K'Ho name) are left as they are.
    """
    ascii_letters = [c for c in text if c.isascii() and c.isalpha()]
    if ascii_letters and not any(c.islower() for c in ascii_letters):
        return text.upper()

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        upper = sum(1 for c in word if c.isupper())
        if upper >= 3 and not any(c.islower() and c.isascii() for c in word):
            return word.upper()
        return word

    return re.sub(r"\w+", fix, text)


def decode_tcvn3(data: bytes) -> str:
    """Decode TCVN3 (ABC) bytes to NFC text; unknown high bytes become U+FFFD."""
    out = "".join(chr(b) if b < 0x80 else TCVN3_DECODE.get(b, "\ufffd") for b in data)
    return unicodedata.normalize("NFC", _recapitalise(out))


def encode_tcvn3(text: str) -> bytes:
    """Encode text to TCVN3 (ABC); raises ValueError for a character TCVN3 cannot hold."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if ord(ch) < 0x80:
            out.append(ord(ch))
        elif ch in TCVN3_ENCODE:
            out.append(TCVN3_ENCODE[ch])
        else:
            raise ValueError(f"TCVN3 cannot encode {ch!r}")
    return bytes(out)


def decode_vni(data: bytes) -> str:
    """Decode VNI-Windows bytes to NFC text."""
    text = data.decode("latin-1")
    return unicodedata.normalize("NFC", _VNI_PATTERN.sub(lambda m: VNI_DECODE[m.group(0)], text))


def encode_vni(text: str) -> bytes:
    """Encode text to VNI-Windows; raises ValueError for a character VNI cannot hold."""
    parts = []
    for ch in unicodedata.normalize("NFC", text):
        if ord(ch) < 0x80:
            parts.append(ch)
        elif ch in VNI_ENCODE:
            parts.append(VNI_ENCODE[ch])
        else:
            raise ValueError(f"VNI cannot encode {ch!r}")
    return "".join(parts).encode("latin-1")


def encode_cp1258(text: str) -> bytes:
    """Encode to Windows-1258, which spells toned vowels as base letter + combining tone (NFD-like)."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            base, *marks = list(unicodedata.normalize("NFD", ch))  # one letter, then its combining marks
            head = unicodedata.normalize("NFC", base + "".join(m for m in marks if m in "\u0302\u0306\u031b"))
            tail = "".join(m for m in marks if m not in "\u0302\u0306\u031b")
            out += (head + tail).encode("cp1258")
    return bytes(out)


def decode(data: bytes, encoding: str) -> str:
    """Decode bytes in one of ENCODINGS (or any Python codec) to NFC text."""
    if encoding == TCVN3:
        return decode_tcvn3(data)
    if encoding == VNI:
        return decode_vni(data)
    return unicodedata.normalize("NFC", data.decode(encoding, errors="replace"))


def encode(text: str, encoding: str) -> bytes:
    """Encode text in one of ENCODINGS (used to build legacy test files and exports)."""
    if encoding == TCVN3:
        return encode_tcvn3(text)
    if encoding == VNI:
        return encode_vni(text)
    if encoding == CP1258:
        return encode_cp1258(text)
    return text.encode(encoding)


# --- detection ----------------------------------------------------------------------------------
_ONSETS = ("ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr", *"bcdđghklmnpqrstvx", "")
_CODAS = ("ch", "ng", "nh", "c", "m", "n", "p", "t", "")
# Vowel nuclei (tone marks removed) that may be followed by a final consonant, and those that may not.
_NUCLEI_OPEN = set("a ă â e ê i o ô ơ u ư y iê yê oa oă oe uâ uê uô ươ uy uyê oo".split())
_NUCLEI_CLOSED = set(
    "ai ao au ay âu ây eo êu ia iu oi ôi ơi ua ui ưa ưi ưu iêu yêu oai oao oay oeo uây uôi ươi ươu uya uyu uơ".split()
)
_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"
_VOWELS = set("aăâeêioôơuưy")


def _strip_tone(word: str) -> tuple[str, int]:
    """The word without tone marks (other diacritics kept) and the number of tone marks removed."""
    nfd = unicodedata.normalize("NFD", word)
    tones = sum(1 for c in nfd if c in _TONE_MARKS)
    return unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONE_MARKS)), tones


def is_vietnamese_syllable(word: str) -> bool:
    """A plausible Vietnamese syllable: onset + a known vowel nucleus + coda, at most one tone mark."""
    bare, tones = _strip_tone(word.lower())
    if tones > 1 or not bare.isalpha():
        return False
    for onset in _ONSETS:
        if not bare.startswith(onset):
            continue
        rest = bare[len(onset) :]
        for coda in _CODAS:
            if coda and not rest.endswith(coda):
                continue
            nucleus = rest[: len(rest) - len(coda)] if coda else rest
            if not nucleus or any(c not in _VOWELS for c in nucleus):
                continue
            if nucleus in _NUCLEI_OPEN or (not coda and nucleus in _NUCLEI_CLOSED):
                return True
    return False


def score_text(text: str) -> float:
    """Share of non-ASCII words that are valid syllables, minus a penalty for stray symbols."""
    words = re.findall(r"[^\W\d_]+", text)
    accented = [w for w in words if not w.isascii()]
    if not accented:
        return 0.0
    valid = sum(1 for w in accented if is_vietnamese_syllable(w))
    stray = sum(1 for c in text if c == "\ufffd" or (ord(c) > 127 and not c.isalpha()) or 0x80 <= ord(c) < 0xA0)
    return valid / len(accented) - stray / max(len(text), 1) * 5


@dataclass
class EncodingGuess:
    encoding: str
    confidence: float
    scores: dict[str, float]
    from_cpg: bool = False

    @property
    def label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)


def detect(samples: Iterable[bytes], cpg: str | None = None) -> EncodingGuess:
    """Guess the encoding of raw text values; a `.cpg` declaration wins when present and understood."""
    if cpg:
        declared = normalise_cpg(cpg)
        if declared:
            return EncodingGuess(declared, 1.0, {declared: 1.0}, from_cpg=True)
    blob = b"\n".join(s for s in samples if s)
    if blob.isascii():
        return EncodingGuess(UTF8, 1.0, {UTF8: 1.0})
    scores: dict[str, float] = {}
    try:
        scores[UTF8] = score_text(unicodedata.normalize("NFC", blob.decode("utf-8"))) + 0.5  # valid UTF-8: strong
    except UnicodeDecodeError:
        scores[UTF8] = -1.0
    for enc in (CP1258, TCVN3, VNI):
        scores[enc] = score_text(decode(blob, enc))
    # Ties (a short sample readable both ways) go to the legacy encodings that district files really use.
    priority = {UTF8: 3, TCVN3: 2, VNI: 1, CP1258: 0}
    best = max(scores, key=lambda k: (round(scores[k], 6), priority[k]))
    return EncodingGuess(best, max(0.0, min(1.0, scores[best])), scores)


def normalise_cpg(cpg: str) -> str | None:
    """Map a `.cpg` declaration ("UTF-8", "65001", "1258", "TCVN3", "VNI"…) to an encoding name."""
    value = cpg.strip().lower().replace("_", "-")
    if value in ("utf-8", "utf8", "65001"):
        return UTF8
    if value in ("1258", "cp1258", "windows-1258", "ansi 1258"):
        return CP1258
    if value in ("tcvn3", "tcvn", "abc", "tcvn-3"):
        return TCVN3
    if value in ("vni", "vni-windows", "vniwin"):
        return VNI
    try:
        import codecs

        return codecs.lookup(value).name
    except LookupError:
        return None
