"""Checks on uploaded files before GDAL sees them: size, emptiness, extension vs content, and safe unzipping
(zip slip, zip bombs). Every refusal is an ImportError_ with a message a person can act on."""

from __future__ import annotations

import shutil
import stat
import struct
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.utils.translation import gettext as _


class ImportRefused(ValueError):
    """The file cannot be imported; the message says why, in words a GIS officer can act on."""


def setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def max_upload_bytes() -> int:
    """The upload size limit (settings.IOC_IMPORT_MAX_BYTES, default 500 MB)."""
    return setting("IOC_IMPORT_MAX_BYTES", 500 * 1024 * 1024)


# Magic numbers of the formats we accept, checked against the extension the user gave.
KNOWN_EXTENSIONS = {
    ".geojson": "geojson",
    ".json": "geojson",
    ".zip": "zip",
    ".gpkg": "gpkg",
    ".kml": "kml",
    ".kmz": "zip",
    ".csv": "text",
    ".txt": "text",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".xlsx": "zip",
}


def sniff(head: bytes) -> str:
    """What the first bytes say the file is."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"SQLite format 3\0"):
        return "gpkg"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"):
        return "tiff"
    if stripped.startswith(b"{"):
        return "geojson"
    if stripped.startswith(b"<"):
        return "kml" if b"<kml" in head or b"opengis.net/kml" in head else "xml"
    return "text"


def check_upload(path: Path, name: str | None = None) -> str:
    """Refuse empty, oversized or mislabelled files; return the sniffed kind."""
    name = name or path.name
    size = path.stat().st_size
    if size == 0:
        raise ImportRefused(_("Tệp %(name)s rỗng (0 byte).") % {"name": name})
    limit = max_upload_bytes()
    if size > limit:
        raise ImportRefused(
            _("Tệp %(name)s lớn %(size)d MB, vượt giới hạn %(limit)d MB.")
            % {"name": name, "size": size // 2**20, "limit": limit // 2**20}
        )
    ext = Path(name).suffix.lower()
    if ext == ".shp" or ext in (".dbf", ".shx", ".prj"):
        raise ImportRefused(_("Tệp shapefile phải được nén .zip cùng các tệp .shp, .shx, .dbf (và .prj, .cpg nếu có)."))
    if ext not in KNOWN_EXTENSIONS:
        raise ImportRefused(
            _("Không nhận dạng được định dạng của %(name)s (phần mở rộng %(ext)s). Hỗ trợ: %(list)s.")
            % {"name": name, "ext": ext or "—", "list": ", ".join(sorted(KNOWN_EXTENSIONS))}
        )
    with open(path, "rb") as fh:
        head = fh.read(4096)
    kind = sniff(head)
    expected = KNOWN_EXTENSIONS[ext]
    compatible = (
        kind == expected
        or (expected == "text" and kind in ("text", "geojson"))
        or (expected == "kml" and kind in ("kml", "xml"))
    )
    if not compatible:
        raise ImportRefused(
            _("Nội dung tệp %(name)s không khớp với phần mở rộng %(ext)s (nội dung giống %(kind)s).")
            % {"name": name, "ext": ext, "kind": kind}
        )
    if kind == "gpkg":
        check_sqlite_complete(path, name)
    return kind


def check_sqlite_complete(path: Path, name: str) -> None:
    """A GeoPackage cut short in transfer: the SQLite header states the page count, the file is smaller."""
    with open(path, "rb") as fh:
        head = fh.read(100)
    if len(head) < 100:
        raise ImportRefused(_("Tệp GeoPackage %(name)s bị cắt cụt.") % {"name": name})
    page_size = struct.unpack(">H", head[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    pages = struct.unpack(">I", head[28:32])[0]
    if pages and path.stat().st_size < page_size * pages:
        raise ImportRefused(
            _("Tệp GeoPackage %(name)s bị cắt cụt (%(have)d/%(want)d byte); hãy tải lên lại.")
            % {"name": name, "have": path.stat().st_size, "want": page_size * pages}
        )


def safe_extract(archive: Path, dest: Path) -> list[Path]:
    """Extract a zip refusing path tricks and bombs: caps on entries, total size and compression ratio.

    Sizes in the central directory can lie, so the bytes actually written are counted as well.
    """
    max_entries = setting("IOC_IMPORT_ZIP_MAX_ENTRIES", 1000)
    max_total = setting("IOC_IMPORT_ZIP_MAX_BYTES", 4 * 1024**3)
    max_ratio = setting("IOC_IMPORT_ZIP_MAX_RATIO", 200)
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise ImportRefused(_("Tệp nén %(name)s bị hỏng: %(err)s") % {"name": archive.name, "err": exc}) from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > max_entries:
            raise ImportRefused(
                _("Tệp nén có %(n)d mục, vượt giới hạn %(max)d.") % {"n": len(infos), "max": max_entries}
            )
        declared = sum(i.file_size for i in infos)
        # Compressed sizes can lie upwards to pass the ratio test: no entry holds more bytes than the archive.
        compressed = min(sum(i.compress_size for i in infos), archive.stat().st_size) or 1
        if declared > max_total or declared / compressed > max_ratio:
            raise ImportRefused(_("Tệp nén bị từ chối: dung lượng giải nén hoặc tỉ lệ nén bất thường (zip bomb)."))
        dest_root = dest.resolve()
        written, out = 0, []
        for info in infos:
            pure = PurePosixPath(info.filename.replace("\\", "/"))
            mode = info.external_attr >> 16
            if pure.is_absolute() or ".." in pure.parts or stat.S_ISLNK(mode) or ":" in info.filename:
                raise ImportRefused(
                    _("Tệp nén chứa đường dẫn không an toàn: %(entry)s (zip slip).") % {"entry": info.filename}
                )
            target = (dest_root / pure).resolve()
            if not target.is_relative_to(dest_root):
                raise ImportRefused(_("Tệp nén chứa đường dẫn không an toàn: %(entry)s.") % {"entry": info.filename})
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        written += len(chunk)
                        if written > max_total or written > max_ratio * compressed:
                            raise ImportRefused(_("Tệp nén bị từ chối: dung lượng giải nén vượt giới hạn (zip bomb)."))
                        dst.write(chunk)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                # A size in the directory that disagrees with the data ends in a CRC error: refuse, do not crash.
                raise ImportRefused(
                    _("Tệp nén %(name)s bị hỏng: %(err)s") % {"name": archive.name, "err": exc}
                ) from exc
            out.append(target)
        return out


def clean_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
