"""The live stream's channel of the leak matrix: /live/events (server-sent events, live/stream.py).

The matrix's world lives in one transaction that is rolled back, so no NOTIFY is ever delivered and no
uvicorn can read it; the channel runs everything else the stream runs. Each row of the layer is changed
as a writer changes it — `live.events.publish_change` with the layers over its table and the row's id and
commune, the call `record_change(…, features=…)` leads to on commit — and the events are read back from
the table (the stream's replay path, `live.events.events_after`) and passed through the persona's
`live.policy.Audience`, which is what the stream sends for every event, replayed or live. What the persona
receives is compared with the oracle: rows (feature ids), fields (properties), communes (geometries).
Anonymous visitors ask the real route and must get a 401. The HTTP side itself (sign-in, Last-Event-ID,
live delivery, the same Audience) is tested against a running uvicorn in tests/live/test_stream.py.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.leak_matrix import oracle
from tests.leak_matrix.channels import Cell, Channel, absent
from tests.leak_matrix.observe import Expected, Observed, communes_of
from tests.leak_matrix.world import ANONYMOUS


def _published(cell: Cell) -> list[dict[str, Any]]:
    """The events of changing each row of this layer, one writer's call per row (memoised per layer)."""
    key = ("live-events", cell.slug)
    if key not in cell.world.memo:
        from layers.models import Layer
        from live import events

        table = cell.layer.db_table()
        over = Layer.objects.over(table) if table else [cell.layer]
        changes = [(layer.pk, layer.version) for layer in over if layer.kind == Layer.Kind.VECTOR]
        _low, start = events.bounds()
        for row in cell.all_rows():
            events.publish_change(changes, [(row.id, row.scope_commune)])
        cell.world.memo[key] = events.events_after(start, 100_000)
    return cell.world.memo[key]


class LiveEvents(Channel):
    name = "live-events"
    policy = "dashboard"
    routes = ("live/events",)
    person_only = True  # signed-in people only: a visitor's request is refused before any event
    denial_ok = True  # the route names no layer: a 401 reveals nothing

    def expect(self, cell: Cell) -> Expected:
        expected = super().expect(cell)
        if not expected.visible or expected.meta:
            return expected
        # A feature reaches a person with the fields of every layer he sees that holds it (a filtered view
        # and the whole table show the same row): those of the other visible layers over the table are his.
        from layers.models import Layer

        table = cell.layer.db_table()
        others = Layer.objects.over(table) if table else []
        allowed = frozenset().union(
            expected.fields, *(oracle.fields(cell.user, layer, self.policy) for layer in others)
        )
        return dataclasses.replace(expected, allowed_fields=allowed)

    def fetch(self, cell: Cell) -> Observed:
        if cell.persona.name == ANONYMOUS:
            response = cell.client.get("/live/events")
            return absent(response.status_code, "visitors are refused")
        from live.policy import Audience

        published = _published(cell)
        audience = cell.memo("live-audience", lambda: Audience(cell.user).load())
        ids: set[str] = set()
        names: set[str] = set()
        geometries = []
        for event in published:
            seen = audience.view(event)
            if seen is None:
                continue
            for feature in seen["payload"].get("features", []):
                if cell.slug not in feature.get("layers", ()):
                    continue
                ids.add(str(feature["id"]))
                names.update((feature.get("properties") or {}).keys())
                if seen["geometry"]:
                    geometries.append(seen["geometry"])
        if not ids:
            return absent(200, "no event of this layer reached him")
        has_model = cell.layer.model_class() is not None
        return Observed(
            False,
            200,
            frozenset(ids),
            len(ids),
            frozenset(names) if has_model else None,  # a table without a model: ids only, by design
            communes_of(geometries, "ST_GeomFromGeoJSON") if geometries else None,
        )


LIVE_CHANNELS: list[type[Channel]] = [LiveEvents]
