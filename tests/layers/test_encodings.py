"""Vietnamese legacy encodings: our TCVN3 and VNI-Windows codecs round-trip real words, match the bytes the
old fonts used, and detection tells UTF-8, cp1258, TCVN3 and VNI apart on real place names."""

from __future__ import annotations

import json
import unicodedata

import pytest

from layers.importers import encodings as enc
from tests.conftest import shared_file

WORDS = [
    "Đơn Dương",
    "Lâm Đồng",
    "Thạnh Mỹ",
    "Quảng Lập",
    "Ka Đơn",
    "Đạ Ròn",
    "Lạc Xuân",
    "Nguyễn Thị Hường",
    "Trần Văn Đức",
    "đất chuyên trồng lúa nước",
    "Đất ở tại nông thôn",
    "Trường THCS Lạc Lâm",
    "nghiêng ngửa khuỷu tay quyết giường",
    "ĐƠN DƯƠNG",
    "HUYỆN ĐƠN DƯƠNG, TỈNH LÂM ĐỒNG",
]


@pytest.mark.parametrize("encoding", enc.ENCODINGS)
@pytest.mark.parametrize("word", WORDS)
def test_real_words_round_trip_through_every_codec(word: str, encoding: str) -> None:
    data = enc.encode(word, encoding)
    assert enc.decode(data, encoding) == word
    assert unicodedata.is_normalized("NFC", enc.decode(data, encoding))


def test_the_bytes_are_those_of_the_old_fonts() -> None:
    # .VnTime (TCVN3/ABC): ơ=0xAC, ư=0xAD, Đ=0xA7, ồ=0xE5, â=0xA9; VNI-Times: Đ=0xD1, ơ=0xF4, ư=0xF6, o+à=ồ.
    assert enc.encode("Đơn Dương", enc.TCVN3) == b"\xa7\xacn D\xad\xacng"
    assert enc.encode("Lâm Đồng", enc.TCVN3) == b"L\xa9m \xa7\xe5ng"
    assert enc.encode("Đơn Dương", enc.VNI) == b"\xd1\xf4n D\xf6\xf4ng"
    assert enc.encode("Lâm Đồng", enc.VNI) == b"La\xe2m \xd1o\xe0ng"
    assert enc.encode("Thạnh Mỹ", enc.VNI) == b"Tha\xefnh My\xf5"
    assert enc.decode(b"B\xb6o Th\xbeng", enc.TCVN3) == "Bảo Thắng"
    # cp1258 writes the tone as a combining mark: decoding gives NFC all the same.
    assert enc.encode("Thạnh", enc.CP1258) == b"Tha\xf2nh"


def test_capitals_with_tones_lost_by_tcvn3_are_restored_for_all_caps_words() -> None:
    assert enc.decode(enc.encode("XÃ ĐẠ RÒN", enc.TCVN3), enc.TCVN3) == "XÃ ĐẠ RÒN"
    assert enc.decode(enc.encode("Đạ Ròn", enc.TCVN3), enc.TCVN3) == "Đạ Ròn"


def test_characters_outside_a_legacy_encoding_are_refused_when_encoding() -> None:
    with pytest.raises(ValueError, match="TCVN3 cannot encode"):
        enc.encode("€", enc.TCVN3)
    with pytest.raises(ValueError, match="VNI cannot encode"):
        enc.encode("€", enc.VNI)


@pytest.mark.parametrize("encoding", enc.ENCODINGS)
def test_detection_on_every_commune_name_of_lam_dong(encoding: str) -> None:
    features = json.loads(shared_file("lam_dong_communes.geojson").read_text(encoding="utf-8"))["features"]
    names = [f["properties"]["full_name"] + ", " + f["properties"]["district_full"] for f in features]
    samples = [enc.encode(n, encoding) for n in names]
    guess = enc.detect(samples)
    assert guess.encoding == encoding, guess.scores
    assert [enc.decode(s, guess.encoding) for s in samples] == [unicodedata.normalize("NFC", n) for n in names]


@pytest.mark.parametrize(
    ("cpg", "expected"),
    [("UTF-8", "utf-8"), ("65001", "utf-8"), ("1258", "cp1258"), ("TCVN3", "tcvn3"), ("VNI", "vni")],
)
def test_a_cpg_declaration_wins(cpg: str, expected: str) -> None:
    guess = enc.detect([enc.encode("Đơn Dương", enc.TCVN3)], cpg=cpg)
    assert (guess.encoding, guess.from_cpg) == (expected, True)


def test_plain_ascii_is_utf8_and_syllables_are_checked() -> None:
    assert enc.detect([b"Tu Tra", b"Ka Do"]).encoding == enc.UTF8
    assert all(enc.is_vietnamese_syllable(w) for w in ["nghiêng", "khuỷu", "quyết", "giường", "Đơn", "thuở"])
    assert not any(enc.is_vietnamese_syllable(w) for w in ["thaùnh", "myừ", "đơnn", "lầmá"])
