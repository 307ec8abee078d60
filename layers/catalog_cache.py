"""The one catalog cache: this process's copy of each catalog row, revalidated on every request.

Loading a `Layer` through the ORM (JSON fields, arrays, model construction) and describing its source
costs more than a small tile or feature page, so every channel (feature APIs, exports, notebooks, vector
tiles, TileJSON) reads the catalog through this module. Each request still checks the copy against the
database with one short statement: `md5` of the whole catalog row and of its companion rows (the tile
cache state, registered by `tiles`), so *any* change — the admin, a queryset `update()` that skips
`auto_now`, `Layer.record_change()`, a new tile-cache generation or purge, raw SQL — makes the next
request of every process load the row again. A permission is therefore never served from a stale row;
the worst case is one extra load after a change. The check can also ride inside the statement that does
the work (`guard`: tiles render and check in one round trip).

The shared copy carries its memoised `layers.source.layer_source`, so an imported table is introspected
once per row version, not per request. Callers get shallow copies: what a request sets on its instance
stays in that request.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from django.db import connection

from layers.source import layer_source

if TYPE_CHECKING:
    from layers.models import Layer

# (database, slug) -> (row hash, Layer loaded when that hash was read). A hash read in one database means
# nothing in another (tests, notebooks pointed elsewhere), hence the database in the key.
_layers: dict[tuple[str, str], tuple[str, Layer]] = {}
# Models with a one-to-one `layer` whose row belongs to the catalog row's state (tiles.TileCacheState).
_companions: list[Any] = []
_stamp: list[str] = []  # the hash statement, written once per process (after the companions registered)


def register_companion(model: Any) -> None:
    """Include a model's row (one-to-one on `layer`) in every layer's hash and load it with the layer."""
    if model not in _companions:
        _companions.append(model)
        _stamp.clear()


def _stamp_sql() -> str:
    if _stamp:
        return _stamp[0]
    from layers.models import Layer

    q = connection.ops.quote_name
    parts, joins = ["l::text"], []
    for i, model in enumerate(_companions):
        alias = f"c{i}"
        parts.append(f"coalesce({alias}::text, '')")
        joins.append(f" LEFT JOIN {q(model._meta.db_table)} AS {alias} ON {alias}.layer_id = l.id")
    # Table names come from model metadata (quoted); the slug is a bound parameter.
    sql = (
        f"SELECT md5({' || '.join(parts)}) FROM {q(Layer._meta.db_table)} AS l"  # noqa: S608
        f"{''.join(joins)} WHERE l.slug = %s"
    )
    _stamp.append(sql)
    return sql


def _key(slug: str) -> tuple[str, str]:
    return str(connection.settings_dict["NAME"]), slug


def _read_stamp(slug: str) -> str | None:
    with connection.cursor() as cur:
        cur.execute(_stamp_sql(), [slug])
        row = cur.fetchone()
    return row[0] if row is not None else None


def current(slug: str) -> Layer | None:
    """The catalog layer with this slug (any kind), checked against its row; None when there is none."""
    from layers.models import Layer

    key = _key(slug)
    stamp = _read_stamp(slug)
    if stamp is None:
        _layers.pop(key, None)
        return None
    cached = _layers.get(key)
    if cached is not None and cached[0] == stamp:
        return copy.copy(cached[1])
    # Read after the hash: the loaded row is at least as new as the hash, so a change between the two
    # reads only costs one more load on the next request, never a stale layer.
    related = [m._meta.get_field("layer").related_query_name() for m in _companions]
    loaded = Layer.objects.select_related(*related).filter(slug=slug).first()
    if loaded is None:
        _layers.pop(key, None)
        return None
    if loaded.kind == Layer.Kind.VECTOR:
        try:
            layer_source(loaded)  # memoised on the shared instance: its copies share the description
        except Exception:  # noqa: BLE001 - not memoised: it raises again where it is asked, after the
            pass  # permission check (a private layer with a broken source stays a 404)
    _layers[key] = (stamp, loaded)
    return copy.copy(loaded)


def known(slug: str) -> tuple[str, Layer] | None:
    """This process's copy of a layer and the hash it was loaded at — unchecked: use it only with `guard`
    (a statement that checks the hash before it reads anything) or `is_current`."""
    entry = _layers.get(_key(slug))
    return (entry[0], copy.copy(entry[1])) if entry is not None else None


def guard(slug: str, stamp: str) -> tuple[str, list[str], str]:
    """(sql, params, expected value) of the check "the layer is still at `stamp`"."""
    return _stamp_sql(), [slug], stamp


def is_current(slug: str, stamp: str) -> bool:
    """Is the layer's row (and its companions) still at `stamp`? One short query."""
    return _read_stamp(slug) == stamp


def forget() -> None:
    """Drop every copy (tests that rebuild the database under the same name)."""
    _layers.clear()
