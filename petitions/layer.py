"""Keep every catalog layer over petitions fresh: each new petition and status change goes through the one
change signal (every layer over the petitions table, whatever its slug, has its version bumped and the
cached tiles around the petition purged once the transaction commits)."""

from __future__ import annotations

from typing import Any


def readable_fields(user: Any, channel: str = "rest") -> frozenset[str] | None:
    """What the catalog lets this user read of petitions outside the feature APIs (Open311, the photo
    view, the public status page's photos): None when no catalog layer showing every petition (one over the
    model without a source filter) is visible to him, else the union of the fields those layers show him.

    A filtered layer is left out: it speaks only for part of the petitions."""
    from gis_ioc import permissions
    from layers.models import Layer
    from petitions.models import Petition

    fields: set[str] | None = None
    for layer in Layer.objects.showing_all_of(Petition):
        if not permissions.can_view_layer(user, layer):
            continue
        fields = (fields or set()) | set(permissions.visible_fields(user, layer, channel))
    return frozenset(fields) if fields is not None else None


def petition_changed(petition: Any) -> None:
    """Record that a petition changed at its location (and in its commune, for the live events)."""
    from layers.models import Layer

    Layer.objects.record_change(type(petition), [petition.geom], features=[(petition.pk, petition.commune_code)])
