"""Live events: the one place an event is published, stored for replay and announced to the stream.

    publish(kind, payload, *, layer_slugs, commune_code, geometry=None, user_ids=None) -> LiveEvent

stores a row in `live_liveevent` and sends `pg_notify('ioc_live', <id>)` in one transaction: PostgreSQL
delivers a notification only when its transaction commits, so a rolled-back write publishes nothing, and
the row is there before any listener hears of it. Every data change reaches here through the one change
signal: `Layer.objects.record_change(...)` sends `layers.models.data_changed` on commit and
`on_data_changed` below publishes a `data.changed` event per commune the change names.

Who receives what is decided when an event is delivered (live/policy.py), never here: an event names the
layers it concerns and its commune; field values travel only under `payload["features"][i]["properties"]`,
which delivery cuts down to the fields the person may see (and a feature naming `layers` reaches only
people who see one of them). An event may also name its recipients (`user_ids`, an alert's notification):
then only they receive it, and only if the policy lets them. Other publishers (alerts…) follow the same shape.

The data-change events are published just after the writer's commit (on_commit), in their own short
transaction: a process killed between the two loses that one event (the data itself is committed and
every other cache is right); publishing inside the writer's transaction would need the one change signal
to fire before commit, which its other subscriber (the tile purge) must not do.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import FieldDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from live.models import LiveEvent

logger = logging.getLogger(__name__)

CHANNEL = "ioc_live"  # the LISTEN/NOTIFY channel; the notification carries the event id only
# pg_advisory_xact_lock key serialising publishers ("ioc_live" as a number): see `publish`.
PUBLISH_LOCK = 0x10C_11FE
KIND_CHANGED = "data.changed"
# Field values are sent for at most this many features of one change; beyond, ids only (a bulk edit).
MAX_FEATURES_WITH_PROPERTIES = 50
# The columns of an event as every reader gets them (the stream's async listener and the replay share it).
EVENT_SELECT = (
    "SELECT id, at, kind, payload::text, commune_code, layer_slugs, ST_AsGeoJSON(geom, 7), user_ids FROM live_liveevent"
)


class PublishError(ValueError):
    """An event that cannot be published as asked (no kind, no layer, a payload that is not a JSON object)."""


def publish(
    kind: str,
    payload: dict[str, Any],
    *,
    layer_slugs: Iterable[str],
    commune_code: str | None,
    geometry: GEOSGeometry | None = None,
    user_ids: Iterable[int] | None = None,
) -> LiveEvent:
    """Store an event and notify the listeners, in the caller's transaction when there is one (so nothing
    is published for a write that rolls back). Call it last in a transaction: see the lock below.

    Ids must become visible in increasing order, or a browser resuming after id 7 would never be sent an
    id 6 that committed later. A sequence alone does not promise that (two transactions draw 6 and 7, the
    7 commits first), so publishers take one transaction-scoped advisory lock before drawing the id; it is
    held until commit, which makes commit order = id order. Publishing is a small insert: the lock is held
    for microseconds, except by a caller that publishes early in a long transaction.

    `user_ids` names the only people who may receive it (None: everyone the policy lets); an empty list
    is refused, since an event for nobody is a caller's mistake, not a broadcast."""
    slugs = [str(s) for s in layer_slugs]
    recipients = None if user_ids is None else sorted({int(pk) for pk in user_ids})
    if recipients == []:
        raise PublishError("user_ids names no one: pass None to reach everyone the policy lets")
    if not kind or len(kind) > 60:
        raise PublishError("kind must be 1-60 characters")
    if not slugs:
        raise PublishError("an event concerns at least one layer (its audience is who may see them)")
    if not isinstance(payload, dict):
        raise PublishError("payload must be a JSON object")
    if geometry is not None and geometry.srid not in (None, 4326):
        geometry = geometry.transform(4326, clone=True)
    text = json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False)  # fails here, not at commit
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PUBLISH_LOCK])
        event = LiveEvent.objects.create(
            kind=kind,
            payload=json.loads(text),
            layer_slugs=slugs,
            commune_code=commune_code or None,
            geom=geometry,
            user_ids=recipients or [],
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, str(event.pk)])
    return event


# --- the one change signal -> events ----------------------------------------------------------------------
def on_data_changed(
    sender: Any,
    changes: list[tuple[int, int]],
    geometries: list[Any] | None = None,
    features: list[tuple[Any, str | None]] | None = None,
    **kwargs: Any,
) -> None:
    """Receiver of `layers.models.data_changed` (after the writing transaction committed): publish what
    changed. A failure is logged, never raised: the writer's data is committed and its answer must not
    turn into an error because a notification could not be sent."""
    try:
        publish_change(changes, features)
    except Exception:  # noqa: BLE001 - see docstring
        logger.exception("live event of a data change not published")


def publish_change(changes: list[tuple[int, int]], features: list[tuple[Any, str | None]] | None) -> list[LiveEvent]:
    """Publish a committed change: one event per commune of the named features (their ids and, for a
    few, their catalog fields and location), or one commune-less event when the writer named no feature
    (an import, an analysis result, a bulk edit)."""
    from layers.models import Layer

    layers = list(Layer.objects.filter(pk__in=[pk for pk, _v in changes]).order_by("sort_order", "slug"))
    versions = dict(changes)
    if not layers:
        return []
    base: dict[str, Any] = {"statistics": statistics_reading(layers[0].db_table())}
    if not features:
        whole = {**base, "layers": {layer.slug: versions[layer.pk] for layer in layers}}
        return [publish(KIND_CHANGED, whole, layer_slugs=[layer.slug for layer in layers], commune_code=None)]
    by_commune: dict[str | None, list[Any]] = defaultdict(list)
    for pk, code in features:
        by_commune[code or None].append(pk)
    events = []
    for code, ids in by_commune.items():
        ids = list(dict.fromkeys(ids))
        rows = _feature_rows(layers, ids, code) if len(ids) <= MAX_FEATURES_WITH_PROPERTIES else {}
        held = {layer.slug: _held(layer, ids) for layer in layers}
        holding = [layer for layer in layers if held[layer.slug]]
        if not holding:  # the features are in none of the layers' filtered views (a draft plan's zone)
            continue
        # Each feature names the layers that hold it: a person who sees only a filtered view (approved
        # zones) is sent only the features in it, with the fields of the layers he sees that hold it.
        described = [
            {
                "id": pk,
                "layers": [la.slug for la in holding if str(pk) in held[la.slug]],
                "properties": rows.get(str(pk), (None, {}))[1],
            }
            for pk in ids
        ]
        payload: dict[str, Any] = {
            **base,
            "layers": {layer.slug: versions[layer.pk] for layer in holding},
            "features": [f for f in described if f["layers"]],
        }
        geometry = rows.get(str(ids[0]), (None, {}))[0] if len(ids) == 1 else None
        slugs = [layer.slug for layer in holding]
        events.append(publish(KIND_CHANGED, payload, layer_slugs=slugs, commune_code=code, geometry=geometry))
    return events


def statistics_reading(table: str) -> list[str]:
    """Codes of the statistics whose SQL reads this table (layers.statistics.SOURCES): what a dashboard
    showing them must refetch. Formula names, not data: the dashboard shows only those it may."""
    from layers.statistics import STATISTICS

    return sorted(code for code, stat in STATISTICS.items() if table in stat.sources)


def _held(layer: Any, ids: list[Any]) -> set[str]:
    """Which of these features (ids as text) are in this layer? A layer over the whole table holds them
    all (a deleted one too); a filtered view (source_filter) those its filter keeps — asked now, after the
    commit."""
    if not layer.source_filter:
        return {str(pk) for pk in ids}
    try:
        return {str(pk) for pk in layer.base_queryset().filter(pk__in=ids).values_list("pk", flat=True)}
    except (LookupError, FieldDoesNotExist, ValueError):
        return set()


def _feature_rows(
    layers: list[Any], ids: list[Any], commune_code: str | None
) -> dict[Any, tuple[GEOSGeometry | None, dict[str, Any]]]:
    """{id as text: (geometry, {catalog field: value})} of the features, read from the layers' model: every field
    any of the layers whitelists (delivery cuts it down per person). Only rows now in this commune: the
    event of the commune a feature moved out of says that it changed, not what it became. Tables without
    a model: nothing."""
    model = layers[0].model_class()
    if model is None:
        return {}
    names: list[str] = []
    for layer in layers:
        for attr in layer.attributes or []:
            name = attr.get("name")
            if name and name not in names and _plain_field(model, name):
                names.append(name)
    geom_field = layers[0].geometry_field if _plain_field(model, layers[0].geometry_field, geometry=True) else None
    columns = ["pk", *names, *([geom_field] if geom_field else [])]
    rows = model._default_manager.filter(pk__in=ids)
    if _plain_field(model, "commune_code"):
        rows = rows.filter(commune_code=commune_code) if commune_code else rows.none()
    out: dict[Any, tuple[GEOSGeometry | None, dict[str, Any]]] = {}
    for row in rows.values(*columns):
        geom = row.pop(geom_field) if geom_field else None
        pk = row.pop("pk")
        out[str(pk)] = (geom, json.loads(json.dumps(row, cls=DjangoJSONEncoder)))
    return out


def _plain_field(model: Any, name: str, *, geometry: bool = False) -> bool:
    """A concrete column of the model (a geometry column when asked for one, else not a geometry)."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    is_geometry = getattr(field, "geom_type", None) is not None
    return bool(getattr(field, "concrete", False)) and is_geometry == geometry


# --- reading events back ----------------------------------------------------------------------------------
def event_from_row(row: Iterable[Any]) -> dict[str, Any]:
    """An event as a dict, from an EVENT_SELECT row (the same for the sync replay and the async listener)."""
    pk, at, kind, payload, commune_code, layer_slugs, geometry, user_ids = row
    return {
        "id": int(pk),
        "at": at.isoformat() if isinstance(at, dt.datetime) else str(at),
        "kind": kind,
        "payload": json.loads(payload) if isinstance(payload, str) else payload,
        "commune_code": commune_code,
        "layer_slugs": list(layer_slugs or ()),
        "geometry": json.loads(geometry) if isinstance(geometry, str) else geometry,
        "user_ids": list(user_ids or ()),
    }


def events_after(last_id: int, limit: int) -> list[dict[str, Any]]:
    """The events after this id, oldest first, at most `limit` (replay of a resumed connection)."""
    with connection.cursor() as cursor:
        cursor.execute(f"{EVENT_SELECT} WHERE id > %s ORDER BY id LIMIT %s", [last_id, limit])  # noqa: S608
        return [event_from_row(row) for row in cursor.fetchall()]


def bounds() -> tuple[int, int]:
    """(oldest kept id - 1, newest id): a resume from before the first is older than the retention."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(min(id) - 1, 0), coalesce(max(id), 0) FROM live_liveevent")
        low, high = cursor.fetchone()
    return int(low), int(high)


def prune(now: dt.datetime | None = None) -> int:
    """Delete the events older than IOC_LIVE_RETENTION_HOURS; returns how many. A browser away longer than
    that is told to reload (the stream's `reset`), not replayed."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.IOC_LIVE_RETENTION_HOURS)
    deleted, _detail = LiveEvent.objects.filter(at__lt=cutoff).delete()
    return int(deleted)
