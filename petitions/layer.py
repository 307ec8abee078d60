"""Keep the "petitions" catalog layer fresh: every new petition and status change bumps the layer's version
(part of every tile cache key) and purges the cached tiles around the petition once the transaction commits."""

from __future__ import annotations

from typing import Any

SLUG = "petitions"


def catalog_layer() -> Any:
    """The catalog row that publishes petitions (its visibility and field rules apply to every petition
    channel: feature APIs, Open311, photos), or None on a deployment without it."""
    from layers.models import Layer

    return Layer.objects.filter(slug=SLUG).first()


def petition_changed(petition: Any) -> None:
    """Record that a petition visible through the catalog changed at its location."""
    from layers.models import Layer

    layer = Layer.objects.filter(slug=SLUG).first()
    if layer is None:  # a deployment without the default catalog entry
        return
    layer.touch()
    try:
        from tiles.cache import invalidate
    except ImportError:  # tiles app not installed: the version bump alone retires cached tiles
        return
    invalidate(layer, [petition.geom])
