"""The SensorThings door (/sta/v1.1/): stations are the `monitoring-stations` layer's rows, observations the
`observations` layer's. Rows by @iot.id; the STA properties are fixed by the standard, not catalog fields, so
fields are not compared; a station's communes come from its Location."""

from __future__ import annotations

from tests.leak_matrix.channels import Cell, Channel, absent
from tests.leak_matrix.observe import Observed, communes_of

ENTITY_SET = {"monitoring-stations": "Things", "observations": "Observations"}


class SensorThings(Channel):
    name = "sensorthings"
    routes = ("sta/v1.1", r"^sta/v1\.1/(?P<path>.*)$")
    only_slugs = frozenset(ENTITY_SET)

    def fetch(self, cell: Cell) -> Observed:
        entity_set = ENTITY_SET[cell.slug]
        expand = {"$expand": "Locations"} if entity_set == "Things" else {}
        r = cell.client.get(f"/sta/v1.1/{entity_set}", {"$top": 10000, **expand})
        if r.status_code != 200:
            return absent(r.status_code)
        values = r.json()["value"]
        if not values:
            return absent(404, "no entity")
        rows = frozenset(str(v["@iot.id"]) for v in values)
        communes = None
        if entity_set == "Things":
            points = [loc["location"] for v in values for loc in v.get("Locations", [])]
            communes = communes_of(points, "ST_GeomFromGeoJSON")
        # One entity by id as well: a row outside the list must not be served by its address either.
        for row in cell.all_rows():
            if str(row.id) not in rows and cell.client.get(f"/sta/v1.1/{entity_set}({row.id})").status_code == 200:
                rows = rows | {str(row.id)}
        return Observed(False, 200, rows, len(rows), None, communes)


SENSOR_CHANNELS: list[type[Channel]] = [SensorThings]
