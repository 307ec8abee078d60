"""The layer catalog as the tile views read it: a per-process copy of each `Layer` row, revalidated on
every request by a one-row hash — in a query of its own, or inside the tile query (`known` + `guard`).

Loading a layer through the ORM (select_related, JSON fields, model construction) cost ~1.5 ms per tile
request — a third of a warm-cache tile. The hash query costs one short round trip: `md5` of the whole
catalog row and of its `TileCacheState` row, so *any* change — a catalog edit in the admin, a queryset
`update()` that skips `auto_now`, `Layer.touch()`, a new cache generation or purge — makes the next
request load the layer again. Nothing here can serve a stale permission or a stale cache generation; the
worst case is one extra ORM load after a change. Deleted layers drop out on the next request.
(layers/query.py keeps the same kind of copy for the feature APIs, keyed by xmin/ctid of the layer row;
the tile views also need the cache state row in the check, hence the hash over both.)
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from django.db import connection

if TYPE_CHECKING:
    from layers.models import Layer

# slug -> (hash of the layer row and its tile cache state, the Layer loaded when that hash was read)
_layers: dict[str, tuple[str, Layer]] = {}


def _stamp_sql() -> str:
    from layers.models import Layer
    from tiles.models import TileCacheState

    layer_table = connection.ops.quote_name(Layer._meta.db_table)
    state_table = connection.ops.quote_name(TileCacheState._meta.db_table)
    # Table names come from model metadata (quoted); the slug is a bound parameter.
    return (
        f"SELECT md5(l::text || coalesce(s::text, '')) FROM {layer_table} AS l"  # noqa: S608
        f" LEFT JOIN {state_table} AS s ON s.layer_id = l.id WHERE l.slug = %s"
    )


def known(slug: str) -> tuple[str, Layer] | None:
    """This process's copy of a layer and the row hash it was loaded at — unchecked: use it only with
    `guard`, in a statement that checks the hash before it reads anything."""
    entry = _layers.get(slug)
    return (entry[0], copy.copy(entry[1])) if entry is not None else None


def guard(slug: str, stamp: str) -> tuple[str, list[str], str]:
    """(sql, params, expected value) of the check "the layer is still at `stamp`" (mvt.render_tile_if)."""
    return _stamp_sql(), [slug], stamp


def is_current(slug: str, stamp: str) -> bool:
    """Is the layer's row (and cache state) still at `stamp`? One short query."""
    with connection.cursor() as cur:
        cur.execute(_stamp_sql(), [slug])
        row = cur.fetchone()
    return row is not None and row[0] == stamp


def layer(slug: str) -> Layer | None:
    """The catalog layer with this slug, its tile cache state attached, or None if there is none."""
    from layers.models import Layer

    with connection.cursor() as cur:
        cur.execute(_stamp_sql(), [slug])
        row = cur.fetchone()
    if row is None:
        _layers.pop(slug, None)
        return None
    cached = _layers.get(slug)
    if cached is not None and cached[0] == row[0]:
        return copy.copy(cached[1])
    # Read after the hash: the loaded row is at least as new as the hash, so a change between the two
    # reads only costs one more load on the next request, never a stale layer.
    loaded = Layer.objects.select_related("tile_cache_state").filter(slug=slug).first()
    if loaded is None:
        _layers.pop(slug, None)
        return None
    if loaded.kind == Layer.Kind.VECTOR:
        from tiles import mvt

        try:
            # Memoised with the row: the hash covers the catalog fields it is built from, and an import that
            # re-creates a table touches the layer. SQL from a stale copy is caught (tiles.views).
            loaded._tile_source = mvt.resolve_source(loaded)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - not memoised: layer_source raises again where it is asked,
            pass  # after the permission check (a private layer with a broken source stays a 404)
    _layers[slug] = (row[0], loaded)
    # Each request gets its own shallow copy: what a request sets on its instance stays in that request.
    return copy.copy(loaded)
