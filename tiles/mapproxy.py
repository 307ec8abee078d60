"""MapProxy configuration generated from the catalog, and the WSGI app built from it.

MapProxy cannot read vector tiles, so its sources are the platform's PNG tile endpoints: rasters from their
COGs (`/tiles/raster/{slug}/{z}/{x}/{y}.png`), public vector layers drawn in their catalog style
(`/tiles/{slug}/{z}/{x}/{y}.png`, tiles/render.py) — and the administrative units once more per unit set,
as they were on its first day (`communes:2025-01-01`, drawn with `datetime=`) — plus an optional online
basemap that is off by default (district networks are often closed). It reprojects and caches them for
WMS 1.3.0, WMTS (KVP and REST) and TMS clients on three grids: EPSG:3857, EPSG:4326 and EPSG:5899 (VN-2000 /
TM-3 107-45, the cadastral zone of Lâm Đồng). MapProxy transforms coordinates with pyproj, i.e. PROJ's EPSG
database, which carries the VN-2000 → WGS 84 datum shift (tests/tiles/test_mapproxy.py checks it against
PostGIS). `manage.py mapproxy_config` writes the files again after the catalog or the unit sets change.

Two files are written:
- `mapproxy.yaml`: every raster layer and the public vector layers, for Django's `/mapproxy/` mount, which
  refuses private layers per user and has MapProxy filter its capabilities for that user
  (tiles/mapproxy_views.py). Its sources send a service token so the upstream tile endpoint serves private
  rasters to MapProxy only.
- `mapproxy-public.yaml`: public layers only and no token, for MapProxy running alone (compose service),
  where there is no user to ask about.
Plus `seed.yaml` (`mapproxy-seed`, limited to the district) and `district.geojson` (its coverage).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

from tiles import conf

log = logging.getLogger(__name__)

GRIDS: dict[str, dict[str, Any]] = {
    "webmercator": {"base": "GLOBAL_WEBMERCATOR"},
    "wgs84": {"base": "GLOBAL_GEODETIC", "origin": "nw"},  # WMTS needs a north-west origin
}
VN2000_GRID = "vn2000_tm3_10745"
WMS_SRS = ["EPSG:3857", "EPSG:4326", "EPSG:5899", "EPSG:4756", "EPSG:32648", "EPSG:900913"]
SEED_MAX_ZOOM = 14


def service_token() -> str:
    """The secret MapProxy presents to the raster tile endpoint (derived from SECRET_KEY)."""
    return hmac.new(settings.SECRET_KEY.encode(), b"ioc-mapproxy-upstream", hashlib.sha256).hexdigest()


def district_geometry() -> dict[str, Any] | None:
    """The district's boundary as GeoJSON (4326), from the current communes."""
    from django.contrib.gis.db.models import Union

    from gis_ioc.models import AdminUnit

    union = AdminUnit.objects.current().communes().aggregate(u=Union("geom"))["u"]
    return json.loads(union.json) if union else None


def _vn2000_grid(bbox4326: list[float]) -> dict[str, Any]:
    """A grid in EPSG:5899 over the district (+5 km), on round kilometres; 256 px tiles, 200 m → 0.4 m."""
    from django.contrib.gis.geos import Polygon

    poly = Polygon.from_bbox((bbox4326[0], bbox4326[1], bbox4326[2], bbox4326[3]))
    poly.srid = 4326
    minx, miny, maxx, maxy = poly.transform(5899, clone=True).extent
    km = 1000.0
    box = [
        (minx // km - 5) * km,
        (miny // km - 5) * km,
        (maxx // km + 6) * km,
        (maxy // km + 6) * km,
    ]
    return {"srs": "EPSG:5899", "bbox": box, "bbox_srs": "EPSG:5899", "origin": "nw", "min_res": 200, "num_levels": 10}


def clear_cache(slug: str) -> None:
    """Drop MapProxy's cached tiles of a layer (a raster replaced), on disk or on S3."""
    import shutil

    s3 = conf.mapproxy_s3()
    if s3 is None:
        for stale in conf.mapproxy_cache_dir().glob(f"{slug}_cache*"):
            shutil.rmtree(stale, ignore_errors=True)
        return
    import boto3

    bucket, prefix = s3
    client = boto3.client("s3", endpoint_url=conf.s3_endpoint_url() or None)
    start = "/".join(p for p in (prefix, f"{slug}_cache") if p)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=start):
        keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if keys:
            client.delete_objects(Bucket=bucket, Delete={"Objects": keys})


def published(layers: list[Any]) -> list[tuple[str, str, str, str]]:
    """(MapProxy layer name, Vietnamese title, English title, upstream path) of each catalog layer, and of
    the administrative units as they were in each administrative unit set (`<slug>:<the set's first day>`).

    Rasters come from their COG tiles; vector layers from their PNG drawing (tiles/render.py), which MapProxy
    fetches as nobody in particular, so only public vector layers are given here (see `write_config`).
    A versioned layer (units with a validity period) gets one more layer per administrative unit set of
    its level, drawn with `datetime=` the set's first day: QGIS can put 2009–2024 and 2025 side by side."""
    from gis_ioc.models import UnitSet, UnitSetKind

    out = []
    for lyr in layers:
        if lyr.kind == "raster":
            out.append((lyr.slug, lyr.title_vi, lyr.title_en, f"/tiles/raster/{lyr.slug}/%(z)s/%(x)s/%(y)s.png"))
            continue
        out.append((lyr.slug, lyr.title_vi, lyr.title_en, f"/tiles/{lyr.slug}/%(z)s/%(x)s/%(y)s.png"))
        level = (lyr.source_filter or {}).get("level")
        if not lyr.valid_to_field or not level:
            continue
        sets = UnitSet.objects.filter(kind=UnitSetKind.ADMINISTRATIVE, level=level).order_by("valid_from")
        for unit_set in sets:
            if unit_set.valid_from is None:
                continue  # an administrative set always has a first day; nothing to draw without one
            day = unit_set.valid_from.isoformat()
            out.append(
                (
                    f"{lyr.slug}:{day}",
                    f"{lyr.title_vi} – {unit_set.name}",
                    f"{lyr.title_en} – {unit_set.name_en or unit_set.name}",
                    f"/tiles/{lyr.slug}/%(z)s/%(x)s/%(y)s.png?datetime={day}",
                )
            )
    return out


# The offline base map as one WMS/WMTS layer for QGIS, the same content as the pages' MapLibre base
# (tiles/styles.py `base_style_document`), merged bottom first from the parts' own caches: the communes (their
# light fill and boundaries), the relief shading over them (translucent, as on the pages), water, roads.
# Only the parts that are published take part.
BASE_LAYER = "base"
BASE_PARTS = ("communes", "hillshade", "water", "roads")


def base_parts(names: set[str] | list[str]) -> list[str]:
    """The catalog layers the base layer is merged from, bottom first."""
    return [part for part in BASE_PARTS if part in names]


def catalog_slug(name: str) -> str:
    """The catalog layer behind a MapProxy layer name (`communes:2025-01-01` → `communes`)."""
    return name.split(":", 1)[0]


def build_config(
    layers: list[Any], upstream: str, bbox4326: list[float], *, token: str | None, basemap_url: str = ""
) -> dict[str, Any]:
    """The MapProxy configuration (as a dict) serving the given catalog layers (see `published`)."""
    cache_dir = str(conf.mapproxy_cache_dir())
    # Files under base_dir/<cache>_<grid>/ (register_cog clears them when a raster is replaced), or objects
    # under s3://bucket/prefix/<cache>/ when IOC_MAPPROXY_CACHE_S3 is set (machines share one cache).
    s3 = conf.mapproxy_s3()

    def tile_cache(name: str) -> dict[str, Any]:
        if s3 is None:
            return {"type": "file", "directory_layout": "tms"}
        return {"type": "s3", "directory": "/".join(p for p in (s3[1], name) if p), "directory_layout": "tms"}

    grids = dict(GRIDS) | {VN2000_GRID: _vn2000_grid(bbox4326)}
    grid_names = list(grids)
    http: dict[str, Any] = {"client_timeout": 60}
    if token:
        http["headers"] = {"X-IOC-Service-Token": token}
    coverage = {"bbox": bbox4326, "srs": "EPSG:4326"}
    sources: dict[str, Any] = {}
    caches: dict[str, Any] = {}
    mp_layers: list[dict[str, Any]] = []
    entries = [(name, title_vi, title_en, upstream + path) for name, title_vi, title_en, path in published(layers)]
    if basemap_url:
        entries.insert(0, ("basemap", "Bản đồ nền", "Basemap", basemap_url))
    for slug, title_vi, title_en, url in entries:
        # MapProxy reads "name:layers" in a source or cache reference as a layer selection: keys avoid ':'.
        key = slug.replace(":", "_at_")
        src = f"{key}_tiles"
        sources[src] = {
            "type": "tile",
            "url": url,
            "grid": "webmercator",
            "transparent": True,
            "http": http if slug != "basemap" else {"client_timeout": 30},
        }
        if slug != "basemap":
            sources[src]["coverage"] = coverage
        # A tile source serves only its own grid: the Web-Mercator cache fetches from it, and the caches on
        # the other grids are reprojected from that cache (so the upstream is asked once per tile).
        main = f"{key}_cache"
        caches[main] = {"grids": ["webmercator"], "sources": [src], "format": "image/png", "cache": tile_cache(main)}
        tile_sources = [main]
        for grid in grid_names[1:]:
            caches[f"{main}_{grid}"] = {
                "grids": [grid],
                "sources": [main],
                "format": "image/png",
                "cache": tile_cache(f"{main}_{grid}"),
            }
            tile_sources.append(f"{main}_{grid}")
        mp_layers.append(
            {"name": slug, "title": f"{title_vi} / {title_en}", "sources": [main], "tile_sources": tile_sources}
        )
    parts = base_parts([name for name, *_ in entries])
    if parts:
        # One more cache per grid, merged from the parts' caches of that grid (nothing fetched twice).
        suffixes = ["", *(f"_{grid}" for grid in grid_names[1:])]
        base_caches = []
        for grid, suffix in zip(grid_names, suffixes, strict=True):
            name = f"{BASE_LAYER}_cache{suffix}"
            caches[name] = {
                "grids": [grid],
                "sources": [f"{part}_cache{suffix}" for part in parts],
                "format": "image/png",
                "cache": tile_cache(name),
            }
            base_caches.append(name)
        title = "Bản đồ nền ngoại tuyến (địa hình, giao thông, ranh giới xã) / Offline base map"
        mp_layers.insert(
            0, {"name": BASE_LAYER, "title": title, "sources": [base_caches[0]], "tile_sources": base_caches}
        )
    cache_globals: dict[str, Any] = {
        "base_dir": cache_dir,
        "lock_dir": os.path.join(cache_dir, "locks"),
        "tile_lock_dir": os.path.join(cache_dir, "tile_locks"),
    }
    if s3 is not None:
        cache_globals["s3"] = {"bucket_name": s3[0]} | (
            {"endpoint_url": conf.s3_endpoint_url()} if conf.s3_endpoint_url() else {}
        )
    return {
        "globals": {
            "cache": cache_globals,
            "image": {"resampling_method": "bilinear", "paletted": False},
        },
        "services": {
            "wms": {
                "versions": ["1.3.0", "1.1.1"],
                "srs": WMS_SRS,
                "bbox_srs": ["EPSG:4326", "EPSG:3857", "EPSG:5899"],
                "image_formats": ["image/png", "image/jpeg"],
                # The gate (mapproxy_views) refuses a larger side first, with a message; this is MapProxy's own
                # limit behind it, so a larger image is never rendered whatever the route.
                "max_output_pixels": [conf.mapproxy_max_size()] * 2,
                "strict": True,
                "md": {
                    "title": "gis_ioc – Đơn Dương",
                    "abstract": "Lớp bản đồ của Trung tâm điều hành thông minh huyện Đơn Dương / IOC map layers",
                    "access_constraints": "Theo quyền của người dùng / per-user permissions",
                    "fees": "none",
                },
            },
            "wmts": {"restful": True, "kvp": True, "md": {"title": "gis_ioc WMTS"}},
            # TMS 1.0.0 as the spec says: the global-mercator profile (level = z - 1, rows from the south);
            # XYZ clients use WMTS REST (/wmts/<layer>/webmercator/{z}/{x}/{y}.png) instead.
            "tms": {"use_grid_names": True},
            # KML super-overlays for Google Earth; each request names its layer, so the gate checks it.
            "kml": {"use_grid_names": True},
        },
        "grids": grids,
        "sources": sources,
        "caches": caches,
        "layers": mp_layers or [{"name": "empty", "title": "—", "sources": []}],
    }


def seed_config(layers: list[Any], coverage_file: Path) -> dict[str, Any]:
    """`mapproxy-seed` configuration: every cache, Web Mercator to z14, only inside the district."""
    return {
        "coverages": {"district": {"datasource": str(coverage_file), "srs": "EPSG:4326"}},
        "seeds": {
            "district": {
                "caches": [f"{lyr.slug}_cache" for lyr in layers],
                "grids": ["webmercator"],
                "coverages": ["district"],
                "levels": {"from": 8, "to": SEED_MAX_ZOOM},
            }
        },
    }


def write_config(
    out_dir: Path | None = None,
    upstream: str | None = None,
    basemap_url: str | None = None,
    *,
    only_if_changed: bool = False,
) -> dict[str, Path]:
    """Write mapproxy.yaml, mapproxy-public.yaml, seed.yaml and district.geojson; validate them; return paths.
    `only_if_changed`: leave the files alone when both configurations would be written the same."""
    from layers.models import Layer
    from tiles.styles import district_bounds

    out = out_dir or conf.mapproxy_dir()
    out.mkdir(parents=True, exist_ok=True)
    upstream = (upstream or conf.mapproxy_upstream()).rstrip("/")
    basemap = conf.mapproxy_basemap_url() if basemap_url is None else basemap_url
    rasters = [lyr for lyr in Layer.objects.raster().order_by("sort_order", "slug") if lyr.raster_path]
    # Vector layers are drawn for nobody in particular (MapProxy's cache is shared): public ones only. Private
    # vector layers reach their users through the per-user channels (vector tiles, OGC API, REST).
    vectors = [
        lyr
        for lyr in Layer.objects.vector().filter(visibility="public").order_by("sort_order", "slug")
        if lyr.geometry_type
    ]
    public = [lyr for lyr in rasters if lyr.visibility == "public"] + vectors
    served = rasters + vectors
    bbox = district_bounds()
    paths = {
        "internal": out / "mapproxy.yaml",
        "public": out / "mapproxy-public.yaml",
        "seed": out / "seed.yaml",
        "coverage": out / "district.geojson",
    }
    geometry = district_geometry() or {
        "type": "Polygon",
        "coordinates": [
            [[bbox[0], bbox[1]], [bbox[2], bbox[1]], [bbox[2], bbox[3]], [bbox[0], bbox[3]], [bbox[0], bbox[1]]]
        ],
    }
    internal = _dump(build_config(served, upstream, bbox, token=service_token(), basemap_url=basemap))
    public_text = _dump(build_config(public, upstream, bbox, token=None, basemap_url=basemap))
    if only_if_changed and all(
        paths[key].exists() and paths[key].read_text(encoding="utf-8") == text
        for key, text in (("internal", internal), ("public", public_text))
    ):
        return paths
    _atomic_write(paths["coverage"], json.dumps({"type": "Feature", "properties": {}, "geometry": geometry}))
    _atomic_write(paths["internal"], internal)
    _atomic_write(paths["public"], public_text)
    _atomic_write(paths["seed"], _dump(seed_config(rasters, paths["coverage"])))
    for key in ("internal", "public"):
        load_app(paths[key], cached=False)  # raises on any configuration error or warning
    if paths["internal"].exists():
        os.chmod(paths["internal"], 0o600)  # holds the service token
    return paths


def refresh() -> None:
    """Write the configuration again, with the upstream and basemap it was written with, when one exists:
    after a catalog row or a unit set changes (tiles.apps connects it), so a new unit set or a layer made
    private reaches MapProxy without anyone running `mapproxy_config`."""
    internal = conf.mapproxy_dir() / "mapproxy.yaml"
    if not internal.exists():
        return  # MapProxy not set up here: nothing to keep in step
    sources = yaml.safe_load(internal.read_text(encoding="utf-8")).get("sources", {})
    upstream, basemap = None, ""
    for name, source in sources.items():
        url = str(source.get("url", ""))
        if name == "basemap_tiles":
            basemap = url
        elif "/tiles/" in url and upstream is None:
            upstream = url.split("/tiles/", 1)[0]
    try:
        write_config(upstream=upstream, basemap_url=basemap, only_if_changed=True)
    except Exception:  # noqa: BLE001 - a failed rewrite keeps the old files; the change itself stands
        log.exception("MapProxy configuration not rewritten after a catalog or unit set change")


def _dump(data: dict[str, Any]) -> str:
    header = "# Generated by `manage.py mapproxy_config` from the layer catalog. Do not edit: regenerate.\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


_apps: dict[str, tuple[float, Any]] = {}
_lock = threading.Lock()


def load_app(path: Path, cached: bool = True) -> Any:
    """MapProxy's WSGI app for a configuration file, validated strictly; rebuilt when the file changes."""
    from mapproxy.wsgiapp import make_wsgi_app

    mtime = path.stat().st_mtime
    key = str(path)
    with _lock:
        hit = _apps.get(key)
        if cached and hit and hit[0] == mtime:
            return hit[1]
        app = make_wsgi_app(str(path), ignore_config_warnings=False, reloader=False)
        _apps[key] = (mtime, app)
        return app


def layer_names(path: Path) -> set[str]:
    """Names of the layers a configuration file publishes (read again when the file changes)."""
    return set(_layer_names(str(path), path.stat().st_mtime))


@functools.lru_cache(maxsize=8)
def _layer_names(path: str, _mtime: float) -> frozenset[str]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return frozenset(entry["name"] for entry in data.get("layers", []))
