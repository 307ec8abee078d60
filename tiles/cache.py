"""Disk cache of rendered vector tiles, and its invalidation by the one change signal.

Layout: `<root>/<slug>/g<generation>/<z>/<x>/<y>/<class>[-<filters>].mvt.gz`, where `class` names what
the user may see (the attribute set of the "tiles" channel and the commune scope), so users who see the
same thing share tiles and nobody is ever served another class's tile.

Freshness, two ways:
- **A whole layer** (an import, or any version bump nobody accounted for): the tile key contains the
  cache *generation*, which moves whenever `Layer.version` moved without a per-tile purge. The next
  request renders from the database; old generations are deleted.
- **A feature edit**: every writer calls `Layer.objects.record_change(model, geometries=[old, new])`
  (layers.models.catalog), which bumps the version of *every* layer over that table and, on commit,
  sends `data_changed`; `on_data_changed` (connected in tiles.apps) deletes exactly the cached tiles
  whose area (with the MVT buffer) meets the bounding box of the old or new geometry, at every cached
  zoom, in every visibility class, and records that version bump as accounted for: every other tile
  stays cached. Any other bump falls back to a new generation (safe over-invalidation).

Storage: the folder under the private data root, or — `IOC_TILE_CACHE_S3=s3://bucket/prefix` — the same
layout as keys in an S3-compatible bucket, so several web machines share one cache and a purge made by one
reaches all (a per-machine disk would keep stale tiles: the purge marks the version as accounted for).

Races: the purge runs after the edit's transaction commits (`on_commit`). A request that read features
before the commit could still write its stale tile after the purge; so a request writes its tile, then
re-reads the purge counter, and deletes its own file if a purge happened meanwhile.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.contrib.gis.geos import GEOSGeometry
from django.db.models import F

from gis_ioc import permissions
from gis_ioc.permissions import AnyUser
from tiles import conf
from tiles.models import TileCacheState
from tiles.mvt import BUFFER, EXTENT, Tile, TileFilters

log = logging.getLogger(__name__)


def visibility_class(user: AnyUser, fields: list[str]) -> str:
    """A short name for what this user sees of a layer: its visible fields and its commune scope."""
    scope = permissions.commune_scope(user)
    text = ",".join(fields) + "|" + ("*" if scope is None else ",".join(sorted(scope)))
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def state_for(layer: Any) -> TileCacheState:
    """The layer's cache state, in step with `layer.version` (a new generation if it moved unaccounted)."""
    state = getattr(layer, "_tile_state", None)
    if state is None:
        try:
            state = layer.tile_cache_state
        except TileCacheState.DoesNotExist:
            state, _created = TileCacheState.objects.get_or_create(
                layer=layer, defaults={"synced_version": layer.version}
            )
    if state.synced_version != layer.version:
        old = state.generation
        # Conditional update: of several processes noticing at once, one moves the generation.
        TileCacheState.objects.filter(pk=state.pk, generation=old).update(
            generation=F("generation") + 1, synced_version=layer.version
        )
        state.refresh_from_db()
        _remove_tree(conf.cache_root() / layer.slug / f"g{old}")
    layer._tile_state = state
    return state


def tile_path(layer: Any, state: TileCacheState, cls: str, filters: TileFilters, tile: Tile) -> Path:
    """Where one tile of one visibility class and filter set lives on disk."""
    name = cls + (f"-{filters.key()}" if filters.key() else "") + ".mvt.gz"
    return conf.cache_root() / layer.slug / f"g{state.generation}" / str(tile.z) / str(tile.x) / str(tile.y) / name


def read(path: Path) -> bytes | None:
    """The cached gzip bytes (b"" for a cached empty tile), or None on a miss (or an unreadable cache)."""
    if (s3 := conf.tile_cache_s3()) is not None:
        return _s3_read(s3, path)
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:  # an I/O error on the cache disk: render from the database instead
        _log_cache_fault("read", path, exc)
        return None


def write(path: Path, data: bytes, layer: Any, purges_seen: int) -> bool:
    """Store a tile atomically; drop it again if a purge ran while it was being rendered (see module doc).

    A cache that cannot be written (disk full, read-only, a path that is not a directory) costs speed, not
    answers: the tile is served uncached, the fault logged, and False returned.
    """
    if (s3 := conf.tile_cache_s3()) is not None:
        if not _s3_write(s3, path, data):
            return False
        current = TileCacheState.objects.filter(pk=layer.pk).values_list("purges", flat=True).first()
        if current is not None and current != purges_seen:
            _s3_delete(s3, [_key(s3, path)])
        return True
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        _log_cache_fault("write", path, exc)
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False
    current = TileCacheState.objects.filter(pk=layer.pk).values_list("purges", flat=True).first()
    if current is not None and current != purges_seen:
        path.unlink(missing_ok=True)
    return True


_last_fault_log = 0.0


def _log_cache_fault(action: str, path: Path, exc: OSError) -> None:
    """One warning a minute per process: a full disk fails every tile, the log must stay readable."""
    global _last_fault_log
    now = time.monotonic()
    if now - _last_fault_log >= 60.0:
        _last_fault_log = now
        log.warning("tile cache %s failed, serving tiles uncached: %s (%s)", action, exc.strerror or exc, path.parent)


# --- invalidation --------------------------------------------------------------------------------------
def tile_range(bbox: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1), inclusive, of the tiles at zoom z whose buffered area meets a lon/lat bbox."""
    n = 1 << z
    margin = BUFFER / EXTENT

    def fx(lon: float) -> float:
        return (lon + 180.0) / 360.0 * n

    def fy(lat: float) -> float:
        lat = max(min(lat, 85.0511287798), -85.0511287798)
        rad = math.radians(lat)
        return (1.0 - math.asinh(math.tan(rad)) / math.pi) / 2.0 * n

    minx, miny, maxx, maxy = bbox
    x0 = max(0, math.floor(fx(minx) - margin))
    x1 = min(n - 1, math.floor(fx(maxx) + margin))
    y0 = max(0, math.floor(fy(maxy) - margin))
    y1 = min(n - 1, math.floor(fy(miny) + margin))
    return x0, y0, x1, y1


def _bbox_4326(geom: GEOSGeometry) -> tuple[float, float, float, float]:
    if geom.srid and geom.srid != 4326:
        geom = geom.transform(4326, clone=True)
    return geom.extent


def purge_tiles(layer: Any, geometries: Iterable[GEOSGeometry | None]) -> int:
    """Delete the cached tiles (every generation, class and filter) meeting the geometries; returns how many.

    Walks the cache directories that exist rather than every tile of the bbox, so a commune-sized box at
    z18 costs what is cached, not a million path checks.
    """
    boxes = [_bbox_4326(g) for g in geometries if g is not None and not g.empty]
    removed = 0
    layer_dir = conf.cache_root() / layer.slug
    if (s3 := conf.tile_cache_s3()) is not None:
        return _s3_purge(s3, layer_dir, boxes) if boxes else 0
    if not boxes or not layer_dir.is_dir():
        return 0
    for gen_dir in layer_dir.iterdir():
        for z_dir in _int_dirs(gen_dir):
            z = int(z_dir.name)
            ranges = [tile_range(b, z) for b in boxes]
            for x_dir in _int_dirs(z_dir):
                x = int(x_dir.name)
                if not any(r[0] <= x <= r[2] for r in ranges):
                    continue
                for y_dir in _int_dirs(x_dir):
                    y = int(y_dir.name)
                    if any(r[0] <= x <= r[2] and r[1] <= y <= r[3] for r in ranges):
                        removed += sum(1 for _ in y_dir.iterdir())
                        shutil.rmtree(y_dir, ignore_errors=True)
    return removed


def _int_dirs(parent: Path) -> list[Path]:
    try:
        return [p for p in parent.iterdir() if p.name.isdigit() and p.is_dir()]
    except (FileNotFoundError, NotADirectoryError):
        return []


def on_data_changed(
    sender: Any, changes: list[tuple[int, int]], geometries: list[GEOSGeometry] | None, **kwargs: Any
) -> None:
    """Receiver of `layers.models.data_changed` (after the writing transaction committed): purge the tiles
    the geometries touch in each changed layer, or the whole layer when `geometries` is None."""
    for layer_pk, version in changes:
        _invalidate_now(layer_pk, version, geometries)


def _invalidate_now(layer_pk: int, version: int, geometries: list[GEOSGeometry] | None) -> None:
    from layers.models import Layer

    layer = Layer.objects.filter(pk=layer_pk).first()
    if layer is None:  # deleted since
        return
    state, _created = TileCacheState.objects.get_or_create(layer=layer, defaults={"synced_version": version})
    if geometries is None:
        TileCacheState.objects.filter(pk=state.pk).update(
            generation=F("generation") + 1, synced_version=layer.version, purges=F("purges") + 1
        )
        _remove_tree(conf.cache_root() / layer.slug / f"g{state.generation}")
        return
    # Bump the purge counter *before* deleting: a concurrent writer then either sees the new counter and
    # removes its own file, or wrote before our deletion (see module doc). This change's bump is accounted
    # for when the cache was in step just before it; any other bump keeps the state behind, and the next
    # request starts a new generation.
    new_synced = version if state.synced_version in (version, version - 1) else state.synced_version
    TileCacheState.objects.filter(pk=state.pk).update(purges=F("purges") + 1, synced_version=new_synced)
    purge_tiles(layer, geometries)


def clear(layer: Any | None = None) -> None:
    """Delete cached tiles of one layer or of all layers (demo reset, tests)."""
    target = conf.cache_root() / layer.slug if layer is not None else conf.cache_root()
    _remove_tree(target)


# --- storage: the cache root's folder, or the same layout as keys in an S3 bucket -------------------------
def _remove_tree(path: Path) -> None:
    """Delete a folder of the cache (a generation, a layer, everything), on disk or in the bucket."""
    if (s3 := conf.tile_cache_s3()) is not None:
        key = _key(s3, path)
        _s3_delete(s3, [k for k, _ in _s3_list(s3, f"{key}/" if key else "")])
        return
    shutil.rmtree(path, ignore_errors=True)


@functools.lru_cache(maxsize=4)
def _client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint or None)


def _key(s3: tuple[str, str], path: Path) -> str:
    """The object key of a cache path: the same layout below the bucket's prefix."""
    relative = path.relative_to(conf.cache_root()).as_posix() if path != conf.cache_root() else ""
    return "/".join(p for p in (s3[1], relative) if p)


def _s3_read(s3: tuple[str, str], path: Path) -> bytes | None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return bytes(_client(conf.s3_endpoint_url()).get_object(Bucket=s3[0], Key=_key(s3, path))["Body"].read())
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            _log_cache_fault("read", path, OSError(str(exc)))
        return None
    except BotoCoreError as exc:  # the store unreachable: render from the database instead
        _log_cache_fault("read", path, OSError(str(exc)))
        return None


def _s3_write(s3: tuple[str, str], path: Path, data: bytes) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _client(conf.s3_endpoint_url()).put_object(Bucket=s3[0], Key=_key(s3, path), Body=data)
        return True
    except (BotoCoreError, ClientError) as exc:
        _log_cache_fault("write", path, OSError(str(exc)))
        return False


def _s3_list(s3: tuple[str, str], prefix: str) -> Iterator[tuple[str, list[str]]]:
    """(key, path parts below the cache root) of every object under a prefix."""
    skip = len(s3[1]) + 1 if s3[1] else 0
    pages = _client(conf.s3_endpoint_url()).get_paginator("list_objects_v2").paginate(Bucket=s3[0], Prefix=prefix)
    for page in pages:
        for item in page.get("Contents", []):
            yield item["Key"], item["Key"][skip:].split("/")


def _s3_delete(s3: tuple[str, str], keys: list[str]) -> None:
    client = _client(conf.s3_endpoint_url())
    for start in range(0, len(keys), 1000):  # S3 deletes at most 1,000 keys per request
        client.delete_objects(Bucket=s3[0], Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]]})


def _s3_purge(s3: tuple[str, str], layer_dir: Path, boxes: list[tuple[float, float, float, float]]) -> int:
    """purge_tiles on the bucket: the layer's keys (slug/g<n>/z/x/y/class) whose tile meets a box."""
    doomed = []
    ranges_at: dict[int, list[tuple[int, int, int, int]]] = {}
    for key, parts in _s3_list(s3, _key(s3, layer_dir) + "/"):
        if len(parts) != 6 or not all(p.isdigit() for p in parts[2:5]):
            continue
        z, x, y = int(parts[2]), int(parts[3]), int(parts[4])
        ranges = ranges_at.setdefault(z, [tile_range(b, z) for b in boxes])
        if any(r[0] <= x <= r[2] and r[1] <= y <= r[3] for r in ranges):
            doomed.append(key)
    _s3_delete(s3, doomed)
    return len(doomed)
