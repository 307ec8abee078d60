"""What a channel showed (Observed), what the policy allows (built from the oracle) and how the two are
compared. Decoders read each answer back the way a client would: GeoJSON, CSV, XLSX, GeoPackage,
Shapefile, KML, MVT."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.leak_matrix import oracle


@dataclass
class Observed:
    """What one cell shows. `absent`: the channel answered "no such layer" (404, LayerNotDefined, not
    listed). Any of rows (ids), count, fields, communes is None when the channel does not reveal it."""

    absent: bool
    status: int | None = None
    rows: frozenset[str] | None = None
    count: int | None = None
    fields: frozenset[str] | None = None
    communes: frozenset[str] | None = None
    note: str = ""

    def describe(self) -> str:
        parts = [f"absent={self.absent}", f"status={self.status}"]
        for name in ("rows", "count", "fields", "communes"):
            value = getattr(self, name)
            if value is not None:
                parts.append(f"{name}={sorted(value) if isinstance(value, frozenset) else value}")
        return ", ".join(parts) + (f" ({self.note})" if self.note else "")


@dataclass
class Expected:
    """What the policy allows in one cell. `visible`: the layer exists for this user on this channel."""

    visible: bool
    rows: frozenset[str] = frozenset()
    fields: frozenset[str] = frozenset()
    communes: frozenset[str] = frozenset()
    meta: bool = False  # a metadata channel (TileJSON, capabilities): presence and fields, no rows
    nothing: bool = False  # a door that must serve nothing of any layer, to anyone (raw /media/)
    # Fields the user may see at all; `fields` are those that must show (a format leaving out empty
    # values shows only the fields holding one). None: the same as `fields`.
    allowed_fields: frozenset[str] | None = None
    may_hide: bool = False  # a door for some roles only (field app, admin widget): absent is no finding
    denial_ok: bool = False  # a door that names no layer (the desk): 401/403 reveal nothing
    notes: list[str] = field(default_factory=list)


DENIED_BUT_REVEALED = {401, 403}


def compare(expected: Expected, seen: Observed) -> list[str]:
    """Sentences naming each difference (empty list: the cell holds)."""
    problems: list[str] = []
    if expected.nothing:
        if not seen.absent:
            problems.append(f"served raw files: {seen.describe()}")
        return problems
    if not expected.visible:
        if not seen.absent:
            problems.append(f"served a layer this user may not see: {seen.describe()}")
        elif seen.status in DENIED_BUT_REVEALED and not expected.denial_ok:
            problems.append(f"answered {seen.status} (reveals that the layer exists) instead of 404")
        return problems
    if seen.absent:
        if (expected.meta or expected.rows) and not expected.may_hide:
            problems.append(f"hid a layer the user may see (status {seen.status})")
        return problems
    if expected.meta:
        if seen.fields is not None and seen.fields - expected.fields:
            problems.append(f"fields not allowed: {sorted(seen.fields - expected.fields)}")
        if seen.fields is not None and expected.fields - seen.fields:
            problems.append(f"fields missing: {sorted(expected.fields - seen.fields)}")
        return problems
    if seen.rows is not None and seen.rows != expected.rows:
        extra, missing = seen.rows - expected.rows, expected.rows - seen.rows
        if extra:
            problems.append(f"rows not allowed: {sorted(extra)}")
        if missing:
            problems.append(f"rows missing: {sorted(missing)}")
    if seen.rows is None and seen.count is not None and seen.count != len(expected.rows):
        problems.append(f"{seen.count} rows where the policy allows {len(expected.rows)}")
    if seen.fields is not None:
        allowed = expected.fields if expected.allowed_fields is None else expected.allowed_fields
        extra = seen.fields - allowed
        if extra:
            problems.append(f"fields not allowed: {sorted(extra)}")
        missing = expected.fields - seen.fields
        if missing and expected.rows:
            problems.append(f"fields missing: {sorted(missing)}")
    if seen.communes is not None:
        extra = seen.communes - expected.communes
        if extra:
            problems.append(f"communes not allowed: {sorted(extra)}")
        if expected.communes - seen.communes and seen.rows is None:
            problems.append(f"communes missing: {sorted(expected.communes - seen.communes)}")
    return problems


# --- decoders -------------------------------------------------------------------------------------------
def communes_of(geoms: Iterable[Any], parse: str) -> frozenset[str]:
    """Communes the geometries lie in (GeoJSON dicts/text, WKT, or EWKB)."""
    items = [json.dumps(g) if isinstance(g, dict) else g for g in geoms if g]
    return frozenset(c for c, _p in oracle.geo_communes(items, parse) if c)


def geojson_features(body: bytes | str) -> Observed:
    """A FeatureCollection: ids, property names, communes of the geometries."""
    data = json.loads(body)
    feats = data.get("features", [])
    ids = frozenset(str(f.get("id")) for f in feats)
    names: set[str] = set()
    for f in feats:
        names.update((f.get("properties") or {}).keys())
    geoms = [f.get("geometry") for f in feats if f.get("geometry")]
    return Observed(False, 200, ids, len(feats), frozenset(names), communes_of(geoms, "ST_GeomFromGeoJSON"))


def csv_table(body: bytes, id_column: str | None, wkt_column: str) -> Observed:
    text = body.decode("utf-8-sig")
    reader = list(csv.reader(io.StringIO(text)))
    header, data = (reader[0], reader[1:]) if reader else ([], [])
    return table(header, data, id_column, wkt_column)


def table(header: list[str], data: list[list[Any]], id_column: str | None, wkt_column: str) -> Observed:
    """A header and rows with an optional id column and a WKT geometry column."""
    header = [str(h) for h in header]
    idx = {name: i for i, name in enumerate(header)}
    ids = frozenset(str(r[idx[id_column]]) for r in data) if id_column and id_column in idx else None
    wkts = [r[idx[wkt_column]] for r in data if wkt_column in idx and r[idx[wkt_column]]]
    names = frozenset(h for h in header if h not in {id_column, wkt_column})
    return Observed(False, 200, ids, len(data), names, communes_of(wkts, "ST_GeomFromText"))


def xlsx_table(body: bytes) -> Observed:
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    header, data = (values[0], values[1:]) if values else ([], [])
    return table([str(h) for h in header], data, None, "wkt")


def ogr_file(body: bytes, suffix: str, folder: Path) -> Observed:
    """A GeoPackage or zipped Shapefile read back with GDAL (pyogrio)."""
    import pyogrio

    path = folder / f"export{suffix}"
    path.write_bytes(body)
    if suffix == ".zip":
        with zipfile.ZipFile(path) as zf:
            zf.extractall(folder / "shp")
        path = next((folder / "shp").glob("*.shp"))
    frame = pyogrio.read_dataframe(path)
    wkts = [g.wkt for g in frame.geometry if g is not None]
    names = frozenset(c for c in frame.columns if c != "geometry")
    return Observed(False, 200, None, len(frame), names, communes_of(wkts, "ST_GeomFromText"))


def kml_file(body: bytes, folder: Path) -> Observed:
    """KML: field names from each Placemark's SimpleData (and name/description), geometries through GDAL."""
    import pyogrio
    from lxml import etree

    root = etree.fromstring(body)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = root.findall(".//k:Placemark", ns)
    names: set[str] = set()
    for mark in marks:
        names.update(d.get("name") for d in mark.findall(".//k:SimpleData", ns))
        # GDAL writes the fields called name and description as the Placemark's own elements.
        names.update(tag for tag in ("name", "description") if mark.find(f"k:{tag}", ns) is not None)
    wkts: list[str] = []
    if marks:
        path = folder / "export.kml"
        path.write_bytes(body)
        wkts = [g.wkt for g in pyogrio.read_dataframe(path).geometry if g is not None]
    return Observed(False, 200, None, len(marks), frozenset(names), communes_of(wkts, "ST_GeomFromText"))


def mvt_features(body: bytes, layer_name: str) -> tuple[set[str], set[str], int]:
    """(feature ids, property names, feature count) of one layer of an MVT tile."""
    import mapbox_vector_tile

    if not body:
        return set(), set(), 0
    decoded = mapbox_vector_tile.decode(body)
    feats = decoded.get(layer_name, {}).get("features", [])
    names: set[str] = set()
    for f in feats:
        names.update(f.get("properties", {}).keys())
    return {str(f.get("id")) for f in feats}, names, len(feats)
