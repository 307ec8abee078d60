"""Writes the file cases of the bad-input corpus into tests/corpus/files/ (run once; the files are committed).

.venv/bin/python tests/corpus/make_files.py
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

FILES = Path(__file__).parent / "files"


def feature(geometry: object, **props: object) -> dict:
    return {"type": "Feature", "properties": {"ten": "Trường", **props}, "geometry": geometry}


def collection(*features: dict) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)}, ensure_ascii=False)


POINT = {"type": "Point", "coordinates": [108.54, 11.78]}


def shapefile_parts() -> dict[str, bytes]:
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame(
        {"ten": ["Thạnh Mỹ", "Đạ Ròn"], "so_hs": [650, 320]},
        geometry=[shapely.Point(108.5, 11.8), shapely.Point(108.55, 11.75)],
        crs=4326,
    )
    buffer = FILES / "_tmp"
    buffer.mkdir(exist_ok=True)
    frame.to_file(buffer / "truong.shp", engine="pyogrio")
    parts = {ext: (buffer / f"truong.{ext}").read_bytes() for ext in ("shp", "shx", "dbf", "prj")}
    for p in buffer.iterdir():
        p.unlink()
    buffer.rmdir()
    return parts


def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out.getvalue()


# Crosswalks against the demo district's communes of 2025 (the "crosswalk" channel of files.yaml).
DEMO_COMMUNES = ["24928", "24931", "24934", "24937", "24940", "24943", "24949", "24952", "24955"]
CROSSWALK_HEADER = "ma_cu,ma_moi,ten_moi,ngay_hieu_luc,ty_le_dien_tich,ty_le_dan_so,can_cu\n"


def crosswalk(*changes: str, skip: str = "") -> str:
    """A crosswalk effective 01/01/2026: the given rows, then every other demo commune unchanged."""
    mentioned = {line.split(",")[0] for line in changes} | {skip}
    rest = [f"{c},{c},,01/01/2026,,," for c in DEMO_COMMUNES if c not in mentioned]
    return CROSSWALK_HEADER + "\n".join([*changes, *rest]) + "\n"


def write_crosswalks() -> None:
    """Only the crosswalk cases (the other files need not be rewritten to add these)."""
    texts = {
        "crosswalk-no-rows.csv": CROSSWALK_HEADER,
        "crosswalk-missing-columns.csv": "ma,ten\n24949,Ka Đơn\n",
        "crosswalk-is-a-geojson.geojson": collection(feature(POINT)),
        "crosswalk-cycle.csv": crosswalk("24949,24952,Xã Tu Tra,01/01/2026,,,", "24952,24949,Xã Ka Đơn,01/01/2026,,,"),
        "crosswalk-date-abc.csv": crosswalk("24949,24949,,abc,,,"),
        "crosswalk-share-150-percent.csv": crosswalk("24949,24949,,01/01/2026,150%,,"),
        "crosswalk-shares-not-one.csv": crosswalk(
            "24949,24949,,01/01/2026,60%,,", "24949,24952,Xã Tu Tra,01/01/2026,30%,,"
        ),
        "crosswalk-uncovered-and-unknown.csv": crosswalk("99999,24949,,01/01/2026,,,", skip="24937"),
    }
    for name, data in texts.items():
        (FILES / name).write_bytes(data.encode("utf-8"))


def main() -> None:
    FILES.mkdir(exist_ok=True)
    write_crosswalks()
    good = collection(feature(POINT))
    shp = shapefile_parts()
    texts: dict[str, str | bytes] = {
        "truncated.geojson": good[: len(good) // 2],
        "not-json.geojson": "Đây không phải JSON {",
        "empty.geojson": b"",
        "ring-of-two-points.geojson": collection(
            feature({"type": "Polygon", "coordinates": [[[108.5, 11.8], [108.6, 11.9]]]})
        ),
        "nan-coordinate.geojson": '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"ten":"a"},'
        '"geometry":{"type":"Point","coordinates":[NaN, 11.8]}}]}',
        "coordinates-1e15.geojson": collection(feature({"type": "Point", "coordinates": [1e15, 1e15]})),
        "line-of-one-point.geojson": collection(feature({"type": "LineString", "coordinates": [[108.5, 11.8]]})),
        "mixed-geometry-types.geojson": collection(
            feature(POINT), feature({"type": "LineString", "coordinates": [[108.5, 11.8], [108.6, 11.9]]})
        ),
        "nested-100000-arrays.geojson": '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Point","coordinates":' + "[" * 100_000 + "]" * 100_000 + "}}]}",
        "infinite-number.geojson": '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
        '"geometry":{"type":"Point","coordinates":[1e400, 11.8]}}]}',
        "broken.kml": '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark>'
        "<name>Trường</name><Point><coordinates>108.5,11.8",
        "coordinates-not-numbers.kml": '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>a</name><Point><coordinates>abc,def</coordinates></Point></Placemark></Document></kml>",
        "latitude-500.kml": '<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
        "<Placemark><name>a</name><Point><coordinates>108.5,500</coordinates></Point></Placemark></Document></kml>",
        "entity-expansion.kml": '<?xml version="1.0"?><!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Placemark><name>&c;</name>'
        "<Point><coordinates>108.5,11.8,0</coordinates></Point></Placemark></Document></kml>",
        "empty.csv": b"",
        "no-coordinate-columns.csv": "ten,so_hs\nTrường A,650\n",
        "coordinates-not-numbers.csv": "ten,lon,lat\nTrường A,abc,def\n",
        "longitude-500.csv": "ten,lon,lat\nTrường A,500,11.8\n",
        "binary-bytes.csv": bytes(range(256)) * 4,
        "broken-wkt.csv": "ten,wkt\nTrường A,POLYGON((108.5 11.8, 108.6\n",
        "zip-slip.zip": zipped({"data.geojson": good.encode(), "../../evil.geojson": good.encode()}),
        "empty.zip": zipped({}),
        "two-datasets.zip": zipped({"a.geojson": good.encode(), "b.geojson": good.encode()}),
        "shapefile-without-dbf.zip": zipped({f"truong.{e}": shp[e] for e in ("shp", "shx", "prj")}),
        "dbf-truncated.zip": zipped(
            {**{f"truong.{e}": shp[e] for e in ("shp", "shx", "prj")}, "truong.dbf": shp["dbf"][:40]}
        ),
        "dbf-record-count-2-billion.zip": zipped(
            {
                **{f"truong.{e}": shp[e] for e in ("shp", "shx", "prj")},
                "truong.dbf": shp["dbf"][:4] + struct.pack("<I", 2_000_000_000) + shp["dbf"][8:],
            }
        ),
        "truncated.gpkg": b"SQLite format 3\x00" + bytes(200),
        "program.exe": b"MZ\x90\x00" + bytes(500),
        "not-a-tiff.tif": b"II*\x00" + b"garbage" * 20,
        "not-an-image.jpg": "Đây là văn bản, không phải ảnh.",
        "truncated.jpg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb",
    }
    for name, data in texts.items():
        (FILES / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


if __name__ == "__main__":
    main()
