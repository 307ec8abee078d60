"""Units by date on every channel: the communes layer shows the units valid today, or on `datetime=`.

Demo: Pró (24955) and the old Quảng Lập (24946) merged on 2025-01-01 into a new Quảng Lập (24955)."""

from __future__ import annotations

import pytest

from tests.tiles.conftest import decode, tile_of

pytestmark = pytest.mark.django_db
TILE = tile_of(108.53, 11.78, 9)


def codes(fc: dict) -> list[str]:
    return sorted(f["properties"]["code"] for f in fc["features"])


def test_rest_and_ogc_serve_the_units_valid_today_or_on_the_asked_day(client, district):
    today = client.get("/api/v1/layers/communes/features/").json()
    assert len(today["features"]) == 9 and "24946" not in codes(today)
    for url in ("/api/v1/layers/communes/features/", "/ogc/collections/communes/items"):
        then = client.get(url, {"datetime": "2024-06-01"}).json()
        assert len(then["features"]) == 10 and "24946" in codes(then), url
        # Over a period that crosses the merger: both versions of 24955 and the old Quảng Lập.
        span = client.get(url, {"datetime": "2024-06-01/2025-06-01", "limit": 100}).json()
        assert codes(span).count("24955") == 2 and "24946" in codes(span), url
        assert len(client.get(url, {"datetime": "../2010-01-01"}).json()["features"]) == 10, url


def test_vector_tiles_draw_the_units_of_the_asked_day_and_cache_each_day_apart(client, district):
    z, x, y = TILE
    now = {
        f["properties"]["code"] for f in decode(client.get(f"/tiles/communes/{z}/{x}/{y}.mvt"))["communes"]["features"]
    }
    then_response = client.get(f"/tiles/communes/{z}/{x}/{y}.mvt", {"datetime": "2024-06-01"})
    then = {f["properties"]["code"] for f in decode(then_response)["communes"]["features"]}
    assert "24946" not in now and "24946" in then
    # A second request for today is not answered from the 2024 tile (the day is part of the cache key).
    again = {
        f["properties"]["code"] for f in decode(client.get(f"/tiles/communes/{z}/{x}/{y}.mvt"))["communes"]["features"]
    }
    assert again == now
    bad = client.get(f"/tiles/communes/{z}/{x}/{y}.mvt", {"datetime": "2024-02-30"})
    assert bad.status_code == 400 and "datetime" in bad.content.decode()
    both = client.get(f"/tiles/communes/{z}/{x}/{y}.mvt", {"datetime": "2024-06-01", "start": "2024-01-01"})
    assert both.status_code == 400
