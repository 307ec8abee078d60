"""Keep every catalog layer over petitions fresh: each new petition and status change goes through the one
change signal (every layer over the petitions table, whatever its slug, has its version bumped and the
cached tiles around the petition purged once the transaction commits)."""

from __future__ import annotations

from typing import Any


def petition_changed(petition: Any) -> None:
    """Record that a petition changed at its location."""
    from layers.models import Layer

    Layer.objects.record_change(type(petition), [petition.geom])
