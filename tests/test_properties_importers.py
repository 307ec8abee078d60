"""Property tests of the import readers (GeoJSON, KML, CSV, Shapefile DBF): whatever a file holds, the preview
is a JSON document PostgreSQL can store (no NaN, no Infinity) or an ImportRefused with a message — never
another exception, which the upload page and the API would turn into a 500.

Strategies have explicit bounds: at most MAX_FEATURES features of at most MAX_VERTICES vertices, geometry
collections nested at most MAX_NESTING levels, coordinates within ±1e18 plus NaN/±inf, text up to 40
characters of any Unicode, DBF headers mutated in up to 6 bytes.
"""

from __future__ import annotations

import json
import math
import struct
import tempfile
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import geopandas as gpd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layers.importers.base import ImportOptions
from layers.importers.pipeline import open_source, preview
from layers.importers.safety import ImportRefused

MAX_FEATURES = 5
MAX_VERTICES = 6
MAX_NESTING = 3
READERS = settings(
    max_examples=40, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
COORD = st.one_of(
    st.floats(min_value=-1e18, max_value=1e18, allow_nan=False),
    st.floats(min_value=100, max_value=115),  # Vietnam's longitudes and latitudes: the happy path too
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, 1e15, 11.8, 108.5]),
)
TEXT = st.text(max_size=40)


def _preview(name: str, data: bytes, **options: object) -> dict | None:
    """Preview of a file as the upload page and the API make it; None when refused with a message."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            out = preview(open_source(path, name, ImportOptions(**options), Path(folder) / "work"))  # type: ignore[arg-type]
        except ImportRefused as exc:
            assert str(exc).strip()
            return None
    json.dumps(out, allow_nan=False)  # what the job's jsonb column will take
    return out


# --- GeoJSON ------------------------------------------------------------------------------------

POSITION = st.lists(COORD, min_size=0, max_size=3)
LINE = st.lists(POSITION, max_size=MAX_VERTICES)
SIMPLE_GEOMETRY = st.one_of(
    st.none(),
    POSITION.map(lambda p: {"type": "Point", "coordinates": p}),
    LINE.map(lambda c: {"type": "LineString", "coordinates": c}),
    st.lists(LINE, max_size=2).map(lambda c: {"type": "Polygon", "coordinates": c}),
    st.lists(st.lists(LINE, max_size=2), max_size=2).map(lambda c: {"type": "MultiPolygon", "coordinates": c}),
    st.sampled_from([{"type": "Point"}, {"type": "Circle", "coordinates": [1, 2]}, {"coordinates": []}, "POINT (1 2)"]),
)
GEOMETRY = st.recursive(
    SIMPLE_GEOMETRY,
    lambda inner: st.lists(inner, max_size=3).map(lambda g: {"type": "GeometryCollection", "geometries": g}),
    max_leaves=MAX_NESTING * 3,
)
PROPERTY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), COORD, TEXT)
FEATURE = st.builds(
    lambda g, props: {"type": "Feature", "geometry": g, "properties": props},
    GEOMETRY,
    st.dictionaries(st.sampled_from(["name", "pupils", "ten", "x", "Tên"]), PROPERTY_VALUE, max_size=4),
)


@READERS
@given(st.lists(FEATURE, max_size=MAX_FEATURES))
def test_any_geojson_previews_or_is_refused(features):
    text = json.dumps({"type": "FeatureCollection", "features": features})  # NaN/Infinity as JavaScript writes them
    out = _preview("data.geojson", text.encode())
    if out is not None:
        assert len(out["sample"]) <= len(features)


# --- KML ----------------------------------------------------------------------------------------

KML_COORDS = st.lists(
    st.tuples(COORD, COORD).map(lambda p: f"{p[0]!r},{p[1]!r}") | st.sampled_from(["1,2,3", ",", "x,y", "1e999,1"]),
    max_size=MAX_VERTICES,
).map(" ".join)
KML_SHAPE = st.one_of(
    KML_COORDS.map(lambda c: f"<Point><coordinates>{c}</coordinates></Point>"),
    KML_COORDS.map(lambda c: f"<LineString><coordinates>{c}</coordinates></LineString>"),
    KML_COORDS.map(
        lambda c: (
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{c}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
        )
    ),
)


@READERS
@given(
    st.lists(st.tuples(TEXT, KML_SHAPE), max_size=MAX_FEATURES),
    st.sampled_from(["", "<Folder>", "<!-- -->", "<?xml"]),
)
def test_any_kml_previews_or_is_refused(placemarks, noise):
    body = "".join(f"<Placemark><name>{escape(n)}</name>{shape}</Placemark>" for n, shape in placemarks)
    text = f'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>{noise}{body}</Document></kml>'
    _preview("data.kml", text.encode())


# --- CSV ----------------------------------------------------------------------------------------

CELL = st.one_of(
    COORD.map(repr), COORD.map(lambda v: repr(v).replace(".", ",")), TEXT.map(lambda t: t.replace("\x00", ""))
)


@READERS
@given(
    header=st.sampled_from([["name", "lon", "lat"], ["x", "y"], ["ten", "wkt"], ["a", "b"], ["lat", "lon", "lat"]]),
    rows=st.lists(st.lists(CELL, max_size=4), max_size=MAX_FEATURES),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_any_csv_previews_or_is_refused(header, rows, delimiter):
    lines = [delimiter.join(header)] + [
        delimiter.join(c.replace(delimiter, " ").replace("\n", " ") for c in r) for r in rows
    ]
    _preview("data.csv", "\n".join(lines).encode())


# --- Shapefile DBF ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shapefile_parts(tmp_path_factory) -> dict[str, bytes]:
    """A small valid point shapefile (text, integer and real fields) to damage."""
    folder = tmp_path_factory.mktemp("shp")
    frame = gpd.GeoDataFrame(
        {"ten": ["Thạnh Mỹ", "Đạ Ròn", "Ka Đô"], "so_hs": [650, 320, 150], "dien_tich": [1.5, 2.25, 3.0]},
        geometry=[shapely.Point(108.5, 11.8), shapely.Point(108.55, 11.75), shapely.Point(108.6, 11.7)],
        crs=4326,
    )
    frame.to_file(folder / "truong.shp", engine="pyogrio")
    return {ext: (folder / f"truong.{ext}").read_bytes() for ext in ("shp", "shx", "dbf", "prj")}


@READERS
@given(
    damage=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), min_size=1, max_size=6),
    record_count=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
    truncate=st.one_of(st.none(), st.integers(0, 300)),
)
def test_a_damaged_dbf_previews_or_is_refused(shapefile_parts, damage, record_count, truncate):
    dbf = bytearray(shapefile_parts["dbf"])
    for offset, value in damage:
        if offset < len(dbf):
            dbf[offset] = value
    if record_count is not None:
        dbf[4:8] = struct.pack("<I", record_count)
    if truncate is not None:
        dbf = dbf[:truncate]
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder) / "truong.zip"
        with zipfile.ZipFile(archive, "w") as zf:
            for ext, data in {**shapefile_parts, "dbf": bytes(dbf)}.items():
                zf.writestr(f"truong.{ext}", data)
        _preview("truong.zip", archive.read_bytes())
