"""Map channels of the leak matrix: vector tiles, composite tiles, TileJSON, the MapLibre style, raster
tiles and point values, MapProxy (WMS, WMTS, TMS and the aliases MapProxy answers) and raw `/media/`."""

from __future__ import annotations

import gzip
import io
import math
from typing import Any

from lxml import etree

from tests.leak_matrix.channels import Cell, Channel, absent
from tests.leak_matrix.observe import Expected, Observed, mvt_features

DISTRICT_POINT = (108.52, 11.78)  # inside the world rasters and the district


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    """The XYZ tile holding a WGS84 point."""
    n = 1 << z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return z, x, y


def _body(response: Any) -> bytes:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return body


def layer_tiles(cell: Cell) -> list[tuple[int, int, int]]:
    """One tile per row (holding a point of it) at a zoom the layer is drawn at."""
    layer = cell.layer
    z = min(max(12, layer.min_zoom), layer.max_zoom)
    points = [r.point for r in cell.all_rows() if r.point]
    return sorted({tile_of(lon, lat, z) for lon, lat in points})


class VectorTile(Channel):
    """/tiles/<slug>/z/x/y.mvt decoded with mapbox_vector_tile; rows by feature id."""

    name = "mvt"
    policy = "tiles"
    omits_nulls = True
    routes = ("tiles/<slug:slug>/<str:z>/<str:x>/<str:y>.mvt",)

    def serves(self, cell: Cell) -> bool:
        return cell.source().has_geometry

    def url(self, cell: Cell, z: int, x: int, y: int) -> str:
        return f"/tiles/{cell.slug}/{z}/{x}/{y}.mvt"

    def fetch(self, cell: Cell) -> Observed:
        tiles = layer_tiles(cell)
        if not tiles:  # no geometry: ask for any tile of the district
            tiles = [tile_of(*DISTRICT_POINT, min(max(12, cell.layer.min_zoom), cell.layer.max_zoom))]
        ids: set[str] = set()
        names: set[str] = set()
        statuses = set()
        for z, x, y in tiles:
            r = cell.client.get(self.url(cell, z, x, y))
            statuses.add(r.status_code)
            if r.status_code not in (200, 204):
                continue
            found, props, _n = mvt_features(_body(r), cell.slug)
            ids |= found
            names |= props
        if statuses - {200, 204}:
            # A tile refused while another was served would itself be a finding; report the refusal.
            if not statuses & {200, 204}:
                return absent(max(statuses))
        return Observed(False, 200, frozenset(ids), len(ids), frozenset(names))


class CompositeTile(VectorTile):
    name = "composite"
    routes = ("tiles/composite/<str:z>/<str:x>/<str:y>.mvt",)

    def url(self, cell: Cell, z: int, x: int, y: int) -> str:
        return f"/tiles/composite/{z}/{x}/{y}.mvt?layers={cell.slug}"


class TileJSON(Channel):
    name = "tilejson"
    policy = "tiles"
    meta = True
    kinds = frozenset({"vector", "raster"})
    routes = ("tiles/<slug:slug>.json",)

    def serves(self, cell: Cell) -> bool:
        return cell.layer.kind == "raster" or cell.source().has_geometry

    def expect(self, cell: Cell) -> Expected:
        expected = super().expect(cell)
        if cell.layer.kind == "raster":
            expected.fields = frozenset()
        return expected

    def fetch(self, cell: Cell) -> Observed:
        r = cell.client.get(f"/tiles/{cell.slug}.json")
        if r.status_code != 200:
            return absent(r.status_code)
        doc = r.json()
        names: set[str] = set()
        for vl in doc.get("vector_layers", []):
            names.update(vl.get("fields", {}).keys())
        return Observed(False, 200, fields=frozenset(names))


class Style(Channel):
    """/tiles/style.json: a source per layer the user may see."""

    name = "style"
    meta = True
    kinds = frozenset({"vector", "raster"})
    routes = ("tiles/style.json",)

    def serves(self, cell: Cell) -> bool:
        return cell.layer.kind == "raster" or cell.source().has_geometry

    def expect(self, cell: Cell) -> Expected:
        expected = super().expect(cell)
        expected.fields = frozenset()
        return expected

    def fetch(self, cell: Cell) -> Observed:
        doc = cell.memo("style", lambda: cell.client.get("/tiles/style.json").json())
        if cell.slug not in doc.get("sources", {}):
            return absent(404, "not in the style")
        return Observed(False, 200, fields=frozenset())


class BaseStyle(Channel):
    """/tiles/basemap/style.json: the offline base map draws the communes and the hillshade raster, each only
    for those who may see that layer (every other layer never enters it)."""

    name = "base-style"
    meta = True
    kinds = frozenset({"vector", "raster"})
    routes = ("tiles/basemap/style.json",)

    def serves(self, cell: Cell) -> bool:
        from tiles.styles import HILLSHADE_SLUG

        return cell.slug in {"communes", HILLSHADE_SLUG}

    def expect(self, cell: Cell) -> Expected:
        expected = super().expect(cell)
        expected.fields = frozenset()
        return expected

    def fetch(self, cell: Cell) -> Observed:
        doc = cell.memo("base-style", lambda: cell.client.get("/tiles/basemap/style.json").json())
        urls = [url for source in doc.get("sources", {}).values() for url in source.get("tiles", [])]
        if not any(f"/tiles/{cell.slug}/" in url or f"/tiles/raster/{cell.slug}/" in url for url in urls):
            return absent(404, "not in the base style")
        return Observed(False, 200, fields=frozenset())


# --- rasters ----------------------------------------------------------------------------------------------
class RasterTile(Channel):
    name = "raster-tile"
    kinds = frozenset({"raster"})
    meta = True
    routes = ("tiles/raster/<slug:slug>/<str:z>/<str:x>/<str:y>.png",)

    def fetch(self, cell: Cell) -> Observed:
        z, x, y = tile_of(*DISTRICT_POINT, 11)
        r = cell.client.get(f"/tiles/raster/{cell.slug}/{z}/{x}/{y}.png")
        if r.status_code != 200 or not r.content.startswith(b"\x89PNG"):
            return absent(r.status_code)
        return Observed(False, 200, fields=frozenset())


class VectorPNG(Channel):
    """/tiles/<slug>/z/x/y.png: the vector tile drawn as a picture (tiles/render.py), for the same user."""

    name = "vector-png"
    policy = "tiles"
    meta = True
    routes = ("tiles/<slug:slug>/<str:z>/<str:x>/<str:y>.png",)

    def serves(self, cell: Cell) -> bool:
        return cell.source().has_geometry

    def fetch(self, cell: Cell) -> Observed:
        z = min(max(12, cell.layer.min_zoom), cell.layer.max_zoom)
        z, x, y = (layer_tiles(cell) or [tile_of(*DISTRICT_POINT, z)])[0]
        r = cell.client.get(f"/tiles/{cell.slug}/{z}/{x}/{y}.png")
        if r.status_code != 200 or not r.content.startswith(b"\x89PNG"):
            return absent(r.status_code)
        return Observed(False, 200, fields=frozenset())

    def expect(self, cell: Cell) -> Expected:
        expected = super().expect(cell)
        expected.fields = frozenset()  # a picture shows no attribute
        return expected


class RasterPoint(Channel):
    name = "raster-point"
    kinds = frozenset({"raster"})
    meta = True
    routes = ("tiles/raster/<slug:slug>/point",)

    def fetch(self, cell: Cell) -> Observed:
        lon, lat = DISTRICT_POINT
        r = cell.client.get(f"/tiles/raster/{cell.slug}/point", {"lon": lon, "lat": lat})
        if r.status_code != 200 or r.json().get("value") is None:
            return absent(r.status_code)
        return Observed(False, 200, fields=frozenset())


# --- MapProxy ---------------------------------------------------------------------------------------------
WMS = "/mapproxy/service?SERVICE=WMS&VERSION=1.3.0&REQUEST="
NS = {"wms": "http://www.opengis.net/wms", "ows": "http://www.opengis.net/ows/1.1"}


def slug_colour(slug: str) -> tuple[int, int, int]:
    """The colour the fake upstream paints a layer's tiles with (tells which layer MapProxy drew)."""
    import hashlib

    digest = hashlib.blake2b(slug.encode(), digest_size=3).digest()
    return (digest[0] | 0x40, digest[1] | 0x40, digest[2] | 0x40)


def painted(body: bytes, slug: str) -> bool:
    """Is this image (mostly) painted in the layer's colour?"""
    from PIL import Image

    try:
        image = Image.open(io.BytesIO(body)).convert("RGBA")
    except Exception:  # noqa: BLE001 - an XML exception document is not an image
        return False
    r, g, b, a = image.getpixel((image.width // 2, image.height // 2))
    want = slug_colour(slug)
    return a > 0 and max(abs(r - want[0]), abs(g - want[1]), abs(b - want[2])) <= 8


class MapProxyChannel(Channel):
    kinds = frozenset({"raster", "vector"})
    meta = True
    routes = ("^mapproxy/(?P<path>.*)$",)

    def serves(self, cell: Cell) -> bool:
        # MapProxy's cache is shared by every user: rasters behind the gate, vector layers only when public.
        layer = cell.layer
        return layer.kind == "raster" or (layer.visibility == "public" and bool(layer.geometry_type))

    def expect(self, cell: Cell) -> Expected:
        expected = super().expect(cell)
        expected.fields = frozenset()
        return expected


class WMSCapabilities(MapProxyChannel):
    name = "wms-capabilities"

    def fetch(self, cell: Cell) -> Observed:
        body = cell.memo("wms-caps", lambda: cell.client.get(WMS + "GetCapabilities").content)
        names = {el.text for el in etree.fromstring(body).iter("{http://www.opengis.net/wms}Name")}
        return Observed(False, 200, fields=frozenset()) if cell.slug in names else absent(404, "not listed")


def _getmap(cell: Cell, layers: str) -> Any:
    # The district in EPSG:3857, one 256-pixel square, so MapProxy draws from one source tile level.
    return cell.client.get(
        WMS + f"GetMap&{layers}&STYLES=&CRS=EPSG:3857&BBOX=12080000,1320000,12090000,1330000"
        "&WIDTH=64&HEIGHT=64&FORMAT=image/png&TRANSPARENT=TRUE"
    )


class WMSGetMap(MapProxyChannel):
    name = "wms-getmap"

    def fetch(self, cell: Cell) -> Observed:
        r = _getmap(cell, f"LAYERS={cell.slug}")
        return Observed(False, 200, fields=frozenset()) if painted(r.content, cell.slug) else absent(404, "not drawn")


class WMSGetMapRepeatedKey(MapProxyChannel):
    """The layer named among repeated LAYERS keys of two cases: MapProxy draws every value of every case
    (the last on top); the gate must read the request the same way, not the last value of one key."""

    name = "wms-getmap-repeated-key"
    may_hide = True  # an ambiguous request may be refused outright; it must never draw a hidden layer

    def fetch(self, cell: Cell) -> Observed:
        r = _getmap(cell, f"layers=lm-elevation&LAYERS=lm-elevation&layers={cell.slug}")
        return Observed(False, 200, fields=frozenset()) if painted(r.content, cell.slug) else absent(404, "not drawn")


class WMTSCapabilities(MapProxyChannel):
    name = "wmts-capabilities"

    def fetch(self, cell: Cell) -> Observed:
        def both() -> set[str]:
            found: set[str] = set()
            for url in (
                "/mapproxy/wmts/1.0.0/WMTSCapabilities.xml",
                "/mapproxy/service?SERVICE=WMTS&REQUEST=GetCapabilities",
            ):
                body = cell.client.get(url).content
                found |= {el.text for el in etree.fromstring(body).iter("{http://www.opengis.net/ows/1.1}Identifier")}
            return found

        names = cell.memo("wmts-caps", both)
        return Observed(False, 200, fields=frozenset()) if cell.slug in names else absent(404, "not listed")


def _xyz() -> tuple[int, int, int]:
    return tile_of(108.52, 11.78, 11)


class WMTSTile(MapProxyChannel):
    name = "wmts-tile"

    def fetch(self, cell: Cell) -> Observed:
        z, x, y = _xyz()
        r = cell.client.get(f"/mapproxy/wmts/{cell.slug}/webmercator/{z}/{x}/{y}.png")
        return Observed(False, 200, fields=frozenset()) if painted(r.content, cell.slug) else absent(r.status_code)


class TMSCapabilities(MapProxyChannel):
    name = "tms-capabilities"

    def fetch(self, cell: Cell) -> Observed:
        body = cell.memo("tms-caps", lambda: cell.client.get("/mapproxy/tms/1.0.0/").content.decode())
        return Observed(False, 200, fields=frozenset()) if f"/{cell.slug}/" in body else absent(404, "not listed")


class TMSTile(MapProxyChannel):
    name = "tms-tile"

    def fetch(self, cell: Cell) -> Observed:
        z, x, y = _xyz()
        # TMS 1.0.0 global-mercator profile: level = z - 1, rows counted from the south.
        r = cell.client.get(f"/mapproxy/tms/1.0.0/{cell.slug}/webmercator/{z - 1}/{x}/{(1 << z) - 1 - y}.png")
        return Observed(False, 200, fields=frozenset()) if painted(r.content, cell.slug) else absent(r.status_code)


class TilesAliasTile(MapProxyChannel):
    """MapProxy also answers tiles under /tiles/<layer>/<grid>/z/x/y (its own XYZ form of TMS)."""

    name = "mapproxy-tiles-alias"

    def fetch(self, cell: Cell) -> Observed:
        z, x, y = _xyz()
        r = cell.client.get(f"/mapproxy/tiles/{cell.slug}/webmercator/{z}/{x}/{y}.png", {"origin": "nw"})
        return Observed(False, 200, fields=frozenset()) if painted(r.content, cell.slug) else absent(r.status_code)


# --- raw files --------------------------------------------------------------------------------------------
class Media(Channel):
    """`/media/<path>` and `/static/<path>` with `make demo`'s settings (IOC_SERVE_STATIC): no file of any
    layer may be served raw, to anyone (tile caches, COGs, photos live in the private data root and go
    through views that ask the policy)."""

    name = "media"
    kinds = frozenset({"vector", "raster"})
    routes = ("^media/(?P<path>.*)$", "^static/(?P<path>.*)$")

    def expect(self, cell: Cell) -> Expected:
        return Expected(False, nothing=True)

    def fetch(self, cell: Cell) -> Observed:
        root = cell.world.media_root
        if cell.layer.kind == "vector" and cell.source().has_geometry:
            admin = cell.world.persona("administrator")
            for z, x, y in layer_tiles(cell):  # the administrator's tiles land in the cache
                admin.client.get(f"/tiles/{cell.slug}/{z}/{x}/{y}.mvt")
        files = [p for p in (root / "tilecache" / cell.slug).rglob("*") if p.is_file()]
        files += [p for p in (root / "rasters").glob(f"{cell.slug}.tif")]
        if cell.layer.source_model == "petitions.Petition":
            from petitions.models import Attachment

            for att in Attachment.objects.filter(petition__isnull=False):
                files += [root / att.original.name, root / att.public.name]
        served = []
        for path in files:
            for prefix in ("/media/", "/static/", "/static/../media/"):
                r = cell.client.get(prefix + str(path.relative_to(root)))
                if r.status_code == 200:
                    served.append(prefix + str(path.relative_to(root)))
        if not served:
            return absent(404, f"{len(files)} files tried")
        return Observed(False, 200, rows=frozenset(served), count=len(served))


MAP_CHANNELS: list[type[Channel]] = [
    VectorTile,
    CompositeTile,
    TileJSON,
    Style,
    BaseStyle,
    RasterTile,
    VectorPNG,
    RasterPoint,
    WMSCapabilities,
    WMSGetMap,
    WMSGetMapRepeatedKey,
    WMTSCapabilities,
    WMTSTile,
    TMSCapabilities,
    TMSTile,
    TilesAliasTile,
    Media,
]
