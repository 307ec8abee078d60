"""A minimal dBase III reader/writer for the attribute part of shapefiles.

GDAL decodes DBF text with iconv, which knows neither TCVN3 nor VNI-Windows. So the importer reads the raw
bytes here, detects the encoding, and — when it is a legacy one — writes a UTF-8 copy of the DBF (text
fields widened as needed) that GDAL then reads normally. The writer also builds legacy test files.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from layers.importers import encodings
from layers.importers.safety import ImportRefused


@dataclass
class DbfField:
    name: str
    type: str  # C (text), N (number), F (float), L (logical), D (date)
    length: int
    decimals: int = 0


# Distinct text values kept decoded while transcoding a legacy DBF (~100 bytes each: ~50 MB at most).
DECODE_CACHE = 500_000


class DbfError(ImportRefused):
    """A damaged DBF: refused like any other unreadable upload, with the reason."""


def read_header(path: Path) -> tuple[list[DbfField], int, int, int]:
    """(fields, record count, header length, record length) of a DBF file."""
    with open(path, "rb") as fh:
        head = fh.read(32)
        if len(head) < 32:
            raise DbfError(_("%(name)s: tệp DBF bị cắt cụt (thiếu phần đầu)") % {"name": path.name})
        nrec, hlen, rlen = struct.unpack("<IHH", head[4:12])
        raw = fh.read(max(hlen - 32, 0))
    fields = []
    for off in range(0, len(raw) - 31, 32):
        desc = raw[off : off + 32]
        if desc[0] == 0x0D:
            break
        name = desc[:11].split(b"\0", 1)[0].decode("latin-1").strip()
        fields.append(DbfField(name, chr(desc[11]), desc[16], desc[17]))
    return fields, nrec, hlen, rlen


def iter_records(path: Path, limit: int | None = None) -> Iterator[list[bytes]]:
    """Raw field values (bytes, right-stripped) of each non-deleted record."""
    fields, nrec, hlen, rlen = read_header(path)
    with open(path, "rb") as fh:
        fh.seek(hlen)
        for i in range(nrec if limit is None else min(nrec, limit)):
            rec = fh.read(rlen)
            if len(rec) < rlen:
                raise DbfError(_("%(name)s: bản ghi %(n)d bị cắt cụt") % {"name": path.name, "n": i + 1})
            if rec[:1] == b"*":
                continue
            pos, values = 1, []
            for f in fields:
                values.append(rec[pos : pos + f.length].rstrip(b" \0"))
                pos += f.length
            yield values


def text_samples(path: Path, limit: int = 2000) -> list[bytes]:
    """Non-ASCII text values of the first records: the input of encoding detection."""
    fields, *_ = read_header(path)
    text_idx = [i for i, f in enumerate(fields) if f.type == "C"]
    out: list[bytes] = []
    for rec in iter_records(path, limit):
        out.extend(rec[i] for i in text_idx if rec[i] and not rec[i].isascii())
    return out


def write_dbf(path: Path, fields: list[DbfField], records: Iterable[list[bytes]], ldid: int = 0) -> None:
    """Write a DBF from already-encoded values (text left-aligned, numbers right-aligned), streaming."""
    hlen = 32 + 32 * len(fields) + 1
    rlen = 1 + sum(f.length for f in fields)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<B3BIHH", 0x03, 126, 1, 1, 0, hlen, rlen))  # count patched below
        fh.write(b"\0" * 17 + bytes([ldid]) + b"\0\0")
        for f in fields:
            name = f.name.encode("latin-1")[:10].ljust(11, b"\0")
            fh.write(name + f.type.encode() + b"\0" * 4 + bytes([f.length, f.decimals]) + b"\0" * 14)
        fh.write(b"\x0d")
        count = 0
        for rec in records:
            fh.write(b" ")
            for f, value in zip(fields, rec, strict=True):
                value = value[: f.length]
                fh.write(value.ljust(f.length) if f.type in "CLD" else value.rjust(f.length))
            count += 1
        fh.write(b"\x1a")
        fh.seek(4)
        fh.write(struct.pack("<I", count))


def transcode_to_utf8(src: Path, dest: Path, encoding: str, limit: int | None = None) -> None:
    """Copy a DBF re-encoding its text fields from `encoding` to UTF-8 (NFC), widening them to fit.

    With `limit` (a preview), only the first `limit` records are decoded; later text values are left blank,
    so a preview of a large legacy file costs a streamed copy, not a full decode.
    """
    fields, *_ = read_header(src)
    text_idx = [i for i, f in enumerate(fields) if f.type == "C"]
    # Two passes (widths, then records) would decode every value twice; values repeat a lot in cadastral
    # files (land-use codes, place names), so each distinct value is decoded once, up to a memory bound.
    decoded: dict[bytes, bytes] = {}

    def utf8(raw: bytes) -> bytes:
        out = decoded.get(raw)
        if out is None:
            out = encodings.decode(raw, encoding).encode("utf-8")
            if len(decoded) < DECODE_CACHE:
                decoded[raw] = out
        return out

    def converted() -> Iterator[list[bytes]]:
        for n, rec in enumerate(iter_records(src)):
            for i in text_idx:
                if limit is not None and n >= limit:
                    rec[i] = b""
                elif rec[i]:
                    rec[i] = utf8(rec[i])
            yield rec

    widths = {i: max(fields[i].length, 1) for i in text_idx}
    for rec in converted():
        for i in text_idx:
            widths[i] = max(widths[i], len(rec[i]))
    for i in text_idx:
        fields[i].length = min(254, widths[i])
    write_dbf(dest, fields, converted())
