"""The channels of the leak matrix: one small class per door, each with `fetch(cell) -> Observed` (what a
client gets, read back as a client would) and `expect(cell) -> Expected` (the policy, from the oracle).

A channel lists the URL routes it covers (`routes`); test_every_url_route_is_in_the_matrix fails for a
route of the URL conf that no channel covers and that is not listed as carrying no layer data, so a new
endpoint cannot be forgotten. Adding a channel = adding a class to CHANNELS.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from tests.leak_matrix import oracle
from tests.leak_matrix.observe import (
    Expected,
    Observed,
    csv_table,
    geojson_features,
    kml_file,
    ogr_file,
    xlsx_table,
)
from tests.leak_matrix.world import ANONYMOUS, World

START, END = "2015-01-01", None  # a range covering every row of the world (temporal layers)


@dataclass
class Cell:
    """One cell: the world, a catalog layer and a persona."""

    world: World
    layer: Any
    persona: Any

    @property
    def user(self) -> Any:
        return self.persona.user

    @property
    def client(self) -> Any:
        return self.persona.client

    @property
    def slug(self) -> str:
        return self.layer.slug

    def all_rows(self) -> list[oracle.Row]:
        key = ("rows", self.slug)
        if key not in self.world.memo:
            self.world.memo[key] = oracle.rows(self.layer)
        return self.world.memo[key]

    def source(self) -> oracle.Source:
        key = ("source", self.slug)
        if key not in self.world.memo:
            self.world.memo[key] = oracle.source(self.layer)
        return self.world.memo[key]

    def visible_rows(self) -> list[oracle.Row]:
        return oracle.visible_rows(self.user, self.layer, self.all_rows())

    def memo(self, key: Any, compute: Any) -> Any:
        """A per-persona answer shared by the cells of every layer (one request, many cells)."""
        full = (self.persona.name, *key) if isinstance(key, tuple) else (self.persona.name, key)
        if full not in self.world.memo:
            self.world.memo[full] = compute()
        return self.world.memo[full]


def absent(status: int | None, note: str = "") -> Observed:
    return Observed(True, status, note=note)


class Channel:
    """A door to layer data. Subclasses set name, routes, policy and implement fetch."""

    name: ClassVar[str]
    routes: ClassVar[tuple[str, ...]] = ()
    kinds: ClassVar[frozenset[str]] = frozenset({"vector"})
    policy: ClassVar[str] = "rest"  # the channel name given to permissions.visible_fields
    omits_nulls: ClassVar[bool] = False  # a property without value is left out (MVT)
    meta: ClassVar[bool] = False  # presence and fields only (TileJSON, capabilities, style)
    # Doors that serve named layers only (Open311: petitions): cells of other layers are not generated.
    only_slugs: ClassVar[frozenset[str] | None] = None
    person_only: ClassVar[bool] = False  # the door acts for a named person (notebooks): nothing for anonymous
    may_hide: ClassVar[bool] = False  # a door for some roles only: not serving a visible layer is no finding
    denial_ok: ClassVar[bool] = False  # a door naming no layer: 401/403 instead of 404 reveal nothing

    @classmethod
    def covers(cls, slug: str) -> bool:
        """Does the matrix have a cell for this layer on this door?"""
        return cls.only_slugs is None or slug in cls.only_slugs

    def serves(self, cell: Cell) -> bool:
        """Can this door serve this layer at all (structure, not permission)? Default: any layer of its kinds."""
        return True

    def fetch(self, cell: Cell) -> Observed:
        raise NotImplementedError

    def field_names(self, names: frozenset[str], cell: Cell) -> frozenset[str]:
        """The policy's field names as this format writes them (Shapefile cuts them to 10 characters)."""
        return names

    def expect(self, cell: Cell) -> Expected:
        user, layer = cell.user, cell.layer
        refused = Expected(False, denial_ok=self.denial_ok)
        if not self.serves(cell) or not oracle.can_view(user, layer):
            return refused
        if self.person_only and cell.persona.name == ANONYMOUS:
            return refused
        names = oracle.fields(user, layer, self.policy)
        if self.meta:
            return Expected(True, fields=self.field_names(names, cell), meta=True, may_hide=self.may_hide)
        rows = cell.visible_rows()
        allowed = self.field_names(names, cell)
        if self.omits_nulls:
            names = names & frozenset().union(*(r.non_null for r in rows))
        communes = frozenset(r.geo_commune for r in rows if r.geo_commune)
        return Expected(
            True, frozenset(r.id for r in rows), self.field_names(names, cell), communes,
            allowed_fields=allowed, may_hide=self.may_hide, denial_ok=self.denial_ok,
        )  # fmt: skip


def _geometry(cell: Cell) -> bool:
    return cell.source().has_geometry


# --- feature APIs ---------------------------------------------------------------------------------------
class RestList(Channel):
    name = "rest-list"
    routes = ("api/v1/layers/<slug:slug>/features/",)

    def fetch(self, cell: Cell) -> Observed:
        r = cell.client.get(f"/api/v1/layers/{cell.slug}/features/", {"limit": 10000})
        if r.status_code != 200:
            return absent(r.status_code)
        return geojson_features(r.content)


class RestDetail(Channel):
    name = "rest-detail"
    routes = ("api/v1/layers/<slug:slug>/features/<str:fid>/",)
    url = "/api/v1/layers/{slug}/features/{fid}/"

    def fetch(self, cell: Cell) -> Observed:
        ids: set[str] = set()
        names: set[str] = set()
        geoms = []
        statuses = set()
        for row in cell.all_rows():
            r = cell.client.get(self.url.format(slug=cell.slug, fid=row.id), {"f": "json"})
            statuses.add(r.status_code)
            if r.status_code != 200:
                continue
            feature = r.json()
            ids.add(str(feature.get("id")))
            names.update((feature.get("properties") or {}).keys())
            if feature.get("geometry"):
                geoms.append(feature["geometry"])
        if not ids:
            return absent(max(statuses) if statuses else None)
        from tests.leak_matrix.observe import communes_of

        return Observed(
            False, 200, frozenset(ids), len(ids), frozenset(names), communes_of(geoms, "ST_GeomFromGeoJSON")
        )


class RestCSV(Channel):
    name = "rest-csv"
    routes = ()  # ?format=csv of the REST list route

    def fetch(self, cell: Cell) -> Observed:
        r = cell.client.get(f"/api/v1/layers/{cell.slug}/features/", {"format": "csv", "limit": 10000})
        if r.status_code != 200:
            return absent(r.status_code)
        return csv_table(b"".join(r.streaming_content) if r.streaming else r.content, "id", "geometry")


class OgcItems(Channel):
    name = "ogc-items"
    policy = "ogc"
    routes = ("ogc/collections/<slug:collection_id>/items", "ogc/collections/<slug:collection_id>")

    def fetch(self, cell: Cell) -> Observed:
        r = cell.client.get(f"/ogc/collections/{cell.slug}/items", {"f": "json", "limit": 10000})
        if r.status_code != 200:
            return absent(r.status_code)
        return geojson_features(r.content)


class OgcItem(RestDetail):
    name = "ogc-item"
    policy = "ogc"
    routes = ("ogc/collections/<slug:collection_id>/items/<str:feature_id>",)
    url = "/ogc/collections/{slug}/items/{fid}"


class Export(Channel):
    """GET /api/v1/layers/<slug>/export?format=… read back with the format's own reader."""

    policy = "export"
    format: ClassVar[str]
    routes = ("api/v1/layers/<slug:slug>/export",)

    def serves(self, cell: Cell) -> bool:
        return _geometry(cell)

    def fetch(self, cell: Cell) -> Observed:
        r = cell.client.get(f"/api/v1/layers/{cell.slug}/export", {"format": self.format})
        if r.status_code != 200:
            return absent(r.status_code)
        body = b"".join(r.streaming_content) if r.streaming else r.content
        return self.read(body)

    def read(self, body: bytes) -> Observed:
        raise NotImplementedError


class ExportGeoJSON(Export):
    name = "export-geojson"
    format = "geojson"

    def read(self, body: bytes) -> Observed:
        return geojson_features(body)


class ExportCSV(Export):
    name = "export-csv"
    format = "csv"

    def read(self, body: bytes) -> Observed:
        return csv_table(body, None, "wkt")


class ExportXLSX(Export):
    name = "export-xlsx"
    format = "xlsx"

    def read(self, body: bytes) -> Observed:
        return xlsx_table(body)


class ExportGPKG(Export):
    name = "export-gpkg"
    format = "gpkg"

    def read(self, body: bytes) -> Observed:
        with tempfile.TemporaryDirectory(prefix="lm-") as tmp:
            return ogr_file(body, ".gpkg", Path(tmp))


class ExportSHP(Export):
    name = "export-shp"
    format = "shp"

    def read(self, body: bytes) -> Observed:
        with tempfile.TemporaryDirectory(prefix="lm-") as tmp:
            return ogr_file(body, ".zip", Path(tmp))

    def field_names(self, names: frozenset[str], cell: Cell) -> frozenset[str]:
        """GDAL's laundering of DBF names: 10 characters; a clash becomes the first 8 + "_1", "_2"…"""
        out: list[str] = []
        for attr in cell.layer.attributes:
            if attr["name"] not in names:
                continue
            short = attr["name"][:10]
            n = 1
            while short in out:
                short = f"{attr['name'][:8]}_{n}"
                n += 1
            out.append(short)
        return frozenset(out)


class ExportKML(Export):
    name = "export-kml"
    format = "kml"
    omits_nulls = True  # GDAL writes no SimpleData for an empty value

    def read(self, body: bytes) -> Observed:
        with tempfile.TemporaryDirectory(prefix="lm-") as tmp:
            return kml_file(body, Path(tmp))


class Notebook(Channel):
    """gis_ioc.notebook.load_layer(slug, user): the notebooks' door (channel "export")."""

    name = "notebook"
    policy = "export"
    person_only = True

    def fetch(self, cell: Cell) -> Observed:
        from gis_ioc import notebook

        if cell.persona.name == ANONYMOUS:
            user = None
        else:
            user = cell.user
        try:
            frame = notebook.load_layer(cell.slug, user)
        except (notebook.LayerNotFound, TypeError, LookupError) as exc:
            return absent(404, type(exc).__name__)
        from tests.leak_matrix.observe import communes_of

        ids = frozenset(str(v) for v in frame["id"]) if "id" in frame.columns else None
        wkts = [g.wkt for g in frame.geometry if g is not None]
        names = frozenset(c for c in frame.columns if c not in {"id", "geometry"})
        return Observed(False, 200, ids, len(frame), names, communes_of(wkts, "ST_GeomFromText"))


FEATURE_CHANNELS: list[type[Channel]] = [
    RestList,
    RestDetail,
    RestCSV,
    OgcItems,
    OgcItem,
    ExportGeoJSON,
    ExportCSV,
    ExportXLSX,
    ExportGPKG,
    ExportSHP,
    ExportKML,
    Notebook,
]
