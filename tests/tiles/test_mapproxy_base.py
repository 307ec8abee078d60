"""MapProxy serves the offline base map (relief, water, roads, commune boundaries: the pages' MapLibre base)
as one WMS/WMTS layer, `base`, to a real client (GDAL's WMS driver, as QGIS uses it) — issue 18, item 2.
The gate gives it only to those who may see every layer it is made of."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from django.contrib.auth.models import AnonymousUser

from layers.models import Layer
from tests.tiles.test_real_clients import gdal_translate
from tiles import mapproxy
from tiles.mapproxy_views import allowed_layers
from tiles.styles import district_bounds

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_qgis_style_clients_get_the_offline_base_with_relief_and_boundaries(demo_rasters, live_server, tmp_path):
    mapproxy.write_config(upstream=live_server.url)
    names = mapproxy.layer_names(mapproxy.conf.mapproxy_dir() / "mapproxy.yaml")
    assert mapproxy.BASE_LAYER in names and {"hillshade", "communes"} <= set(mapproxy.base_parts(names))
    x0, y0, x1, y1 = district_bounds()
    cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, 0.06
    bbox = f"{cx - half},{cy - half},{cx + half},{cy + half}"
    out = tmp_path / "base.tif"
    gdal_translate(
        f"WMS:{live_server.url}/mapproxy/service?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS=base"
        f"&SRS=EPSG:4326&BBOX={bbox}&FORMAT=image/png&TRANSPARENT=TRUE",
        out,
        "-outsize",
        "400",
        "400",
    )
    with rasterio.open(out) as src:
        rgba = src.read().astype(float)
    alpha = rgba[3] if rgba.shape[0] == 4 else np.full(rgba.shape[1:], 255.0)
    drawn = alpha > 0
    assert drawn.mean() > 0.9  # the middle of the district is covered
    red, blue = rgba[0], rgba[2]
    grey = drawn & (np.abs(blue - red) < 12)
    # Relief: the shading darkens the communes' light fill in many steps (the fill alone is one colour).
    assert len(np.unique(rgba[:3].mean(axis=0)[grey].round())) > 40
    assert (rgba[:3].mean(axis=0)[grey] < 225).mean() > 0.05
    # Commune boundaries: lines much bluer than the ground.
    assert (drawn & (blue - red > 40)).sum() > 200


def test_the_base_is_given_only_to_those_who_may_see_all_of_it(demo_rasters):
    published = {"base", "hillshade", "communes", "schools"}
    assert "base" in allowed_layers(AnonymousUser(), published)
    Layer.objects.filter(slug="hillshade").update(visibility="staff")
    assert "base" not in allowed_layers(AnonymousUser(), published)
