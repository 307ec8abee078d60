"""Who receives a live event, and what of it: the same policy as every other channel, applied per person.

A person receives an event only when
- he may see at least one of the layers it concerns (`Layer.objects.visible_to`), and
- its commune is within his scope (`gis_ioc.permissions.commune_scope`): a person limited to communes
  receives only events of those communes — never one without a commune (an import of a whole layer may
  have touched any commune; scopes fail closed), and
- the event names no recipients (`user_ids`) or names him: an alert's notification reaches its rule's
  recipients only;
and the payload he is sent names only those layers, and carries of each feature only the fields one of
them shows him on the dashboard channel (`permissions.visible_fields(user, layer, "dashboard")`).

The layers he may see are read once per connection (`Audience.load`, a database read: call it from sync
code) and again every REFRESH_SECONDS, so a layer made private stops reaching him within that time; the
checks on each event are plain Python (the stream's event loop runs them).
"""

from __future__ import annotations

import time
from typing import Any

from gis_ioc import permissions

REFRESH_SECONDS = 60.0


class Audience:
    """One signed-in person's view of the live events."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.scope: frozenset[str] | None = None
        self.fields: dict[str, frozenset[str]] = {}  # visible layer slug -> fields he may see
        self.loaded_at = 0.0

    def load(self) -> Audience:
        """Read his scope and the layers he may see with their fields (sync: touches the database)."""
        from layers.models import Layer

        self.scope = permissions.commune_scope(self.user)
        self.fields = {
            layer.slug: frozenset(permissions.visible_fields(self.user, layer, "dashboard"))
            for layer in Layer.objects.visible_to(self.user)
        }
        self.loaded_at = time.monotonic()
        return self

    @property
    def stale(self) -> bool:
        return time.monotonic() - self.loaded_at > REFRESH_SECONDS

    def view(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """What of this event (as `live.events.event_from_row` gives it) he receives, or None."""
        named = event.get("user_ids")
        if named and getattr(self.user, "pk", None) not in named:
            return None
        code = event.get("commune_code")
        if self.scope is not None and (code is None or code not in self.scope):
            return None
        slugs = [slug for slug in event.get("layer_slugs", ()) if slug in self.fields]
        if not slugs:
            return None
        payload = dict(event.get("payload") or {})
        if isinstance(payload.get("layers"), dict):  # versions per layer: only the layers he may see
            payload["layers"] = {slug: v for slug, v in payload["layers"].items() if slug in slugs}
        if isinstance(payload.get("features"), list):
            features = [self._cut(feature, slugs) for feature in payload["features"]]
            payload["features"] = [f for f in features if f is not None]
        return {
            "id": event["id"],
            "at": event.get("at"),
            "kind": event["kind"],
            "layers": slugs,
            "commune": code,
            "geometry": event.get("geometry"),
            "payload": payload,
        }

    def _cut(self, feature: Any, slugs: list[str]) -> dict[str, Any] | None:
        """A feature as he may see it: only if a layer he sees holds it (its `layers`; none named: every
        layer of the event), with the properties one of those layers shows him."""
        if not isinstance(feature, dict):
            return None
        named = feature.get("layers")
        mine = [s for s in named if s in self.fields] if isinstance(named, list) else slugs
        if not mine:
            return None
        fields = frozenset().union(*(self.fields[slug] for slug in mine))
        out = {k: v for k, v in feature.items() if k not in ("properties", "layers")}
        if isinstance(named, list):
            out["layers"] = mine
        properties = feature.get("properties")
        if isinstance(properties, dict):
            out["properties"] = {k: v for k, v in properties.items() if k in fields}
        return out
