"""The layer catalog as the tile views read it: a per-process copy of each `Layer` row, revalidated on
every request by a one-row hash.

Loading a layer through the ORM (select_related, JSON fields, model construction) cost ~1.5 ms per tile
request — a third of a warm-cache tile. The hash query costs one short round trip: `md5` of the whole
catalog row and of its `TileCacheState` row, so *any* change — a catalog edit in the admin, a queryset
`update()` that skips `auto_now`, `Layer.touch()`, a new cache generation or purge — makes the next
request load the layer again. Nothing here can serve a stale permission or a stale cache generation; the
worst case is one extra ORM load after a change. Deleted layers drop out on the next request.
"""

from __future__ import annotations

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
        return cached[1]
    # Read after the hash: the loaded row is at least as new as the hash, so a change between the two
    # reads only costs one more load on the next request, never a stale layer.
    loaded = Layer.objects.select_related("tile_cache_state").filter(slug=slug).first()
    if loaded is None:
        _layers.pop(slug, None)
        return None
    _layers[slug] = (row[0], loaded)
    return loaded


def forget() -> None:
    """Drop every cached layer (tests that swap databases)."""
    _layers.clear()
