"""One sign-in, every channel: a staff-only layer is readable with an API token (`Authorization: Token`)
and with HTTP Basic (user name + token, what QGIS sends); a bad token is a 401 with both challenges; an
anonymous request does not see the layer."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from lxml import etree

from gis_ioc.models import ApiToken
from layers.models import Layer
from tests.factories import HouseholdBusinessFactory
from tests.tiles.conftest import decode, demo_cogs, demo_rasters, tile_dirs, tile_of  # noqa: F401 (fixtures)
from tiles import mapproxy

pytestmark = pytest.mark.django_db

SHOP = "Tạp hóa Bí Mật"
CHALLENGE = 'Token realm="gis_ioc", Basic realm="gis_ioc", charset="UTF-8"'


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def wms_names(response) -> set[str]:
    return {el.text for el in etree.fromstring(response.content).iter("{http://www.opengis.net/wms}Name")}


@dataclass
class Channel:
    url: str
    readable: Callable  # the private thing is in the response
    anonymous: Callable  # what an anonymous caller gets instead
    accept: str = "*/*"


def not_found(response) -> bool:
    return response.status_code == 404


def shop_in(response) -> bool:
    return response.status_code == 200 and SHOP.encode() in body_of(response)


def shop_in_tile(response) -> bool:
    features = decode(response).get("household-businesses", {}).get("features", [])
    return response.status_code == 200 and any(f["properties"].get("name") == SHOP for f in features)


TILE = tile_of(108.45, 11.75, 14)  # where the shop is (see `world`)
WMS_CAPS = "/mapproxy/service?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetCapabilities"
CHANNELS = {
    "rest-list": Channel("/api/v1/layers/household-businesses/features/", shop_in, not_found, "application/geo+json"),
    "ogc-items": Channel("/ogc/collections/household-businesses/items", shop_in, not_found, "application/geo+json"),
    "vector-tile": Channel("/tiles/household-businesses/{}/{}/{}.mvt".format(*TILE), shop_in_tile, not_found),
    "composite-tile": Channel(
        "/tiles/composite/{}/{}/{}.mvt?layers=schools,household-businesses".format(*TILE), shop_in_tile, not_found
    ),
    "raster-tile": Channel(
        "/tiles/raster/slope/{}/{}/{}.png".format(*tile_of(108.53, 11.78, 11)),
        lambda r: r.status_code == 200 and r["Content-Type"] == "image/png",
        not_found,
    ),
    "tilejson": Channel(
        "/tiles/household-businesses.json",
        lambda r: r.status_code == 200 and "name" in {f for v in r.json()["vector_layers"] for f in v["fields"]},
        not_found,
    ),
    "style": Channel(
        "/tiles/style.json",
        lambda r: "household-businesses" in r.json()["sources"],
        lambda r: r.status_code == 200 and "household-businesses" not in r.json()["sources"],
    ),
    "mapproxy-wms-capabilities": Channel(
        WMS_CAPS,
        lambda r: r.status_code == 200 and "slope" in wms_names(r),
        lambda r: r.status_code == 200 and "slope" not in wms_names(r) and "elevation" in wms_names(r),
    ),
    "export": Channel("/api/v1/layers/household-businesses/export?format=geojson", shop_in, not_found),
    "report-table": Channel(
        "/dashboard/tables/household-businesses.csv?start=2020-01-01&end=2020-12-31", shop_in, not_found
    ),
}


@pytest.fixture
def world(district, demo_rasters, gis_staff):  # noqa: F811 - the fixture imported above
    """A staff-only business and a staff-only raster (slope) published through MapProxy; a token of GIS staff."""
    HouseholdBusinessFactory(name=SHOP, geom="POINT(108.45 11.75)")
    Layer.objects.filter(slug="slope").update(visibility="staff")
    mapproxy.write_config(upstream="http://127.0.0.1:9")
    assert Layer.objects.get(slug="household-businesses").visibility == "staff"
    return ApiToken.issue(gis_staff, "QGIS")


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@pytest.mark.parametrize("name", CHANNELS)
def test_a_staff_layer_opens_with_a_token_or_basic_and_not_with_a_bad_token_or_anonymously(client, world, name):
    channel = CHANNELS[name]

    def get(authorization: str | None = None):
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        return client.get(channel.url, HTTP_ACCEPT=channel.accept, **headers)

    assert channel.readable(get(f"Token {world.key}")), "Token header"
    assert channel.readable(get(basic("gis_staff", world.key))), "HTTP Basic user + token"
    for bad in ("Token ioc_not-a-real-key", basic("gis_staff", "ioc_not-a-real-key"), basic("someone", world.key)):
        refused = get(bad)
        assert refused.status_code == 401, bad
        assert refused["WWW-Authenticate"] == CHALLENGE
        assert refused.json()["code"] == "Unauthorized" and "khóa api" in refused.json()["detail"].lower()
    assert channel.anonymous(get()), "anonymous"
