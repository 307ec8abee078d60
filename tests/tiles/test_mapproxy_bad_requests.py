"""Bad MapProxy requests are a 400 that says what is wrong, never MapProxy's 500, and never drawn."""

from __future__ import annotations

import pytest

from layers.models import Layer
from tiles import mapproxy

pytestmark = pytest.mark.django_db

WMS = "/mapproxy/service?SERVICE=WMS&VERSION=1.3.0&STYLES=&FORMAT=image/png&"
GETMAP = WMS + "REQUEST=GetMap&LAYERS=elevation&CRS=EPSG:4326&BBOX=11.63,108.38,11.94,108.69&"
FEATUREINFO = (
    WMS + "REQUEST=GetFeatureInfo&LAYERS=elevation&QUERY_LAYERS=elevation&CRS=EPSG:4326"
    "&BBOX=11.63,108.38,11.94,108.69&WIDTH=256&HEIGHT=256&INFO_FORMAT=text/plain&"
)
WMTS = (
    "/mapproxy/service?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=elevation&STYLE=default"
    "&TILEMATRIXSET=webmercator&TILEMATRIX=11&FORMAT=image/png&"
)


@pytest.fixture
def configured(demo_rasters):
    Layer.objects.filter(slug="slope").update(visibility="staff")
    # Nothing listens on port 9: a request that got as far as rendering would fail upstream (a 500).
    return mapproxy.write_config(upstream="http://127.0.0.1:9")


@pytest.mark.parametrize(
    "url, says",
    [
        (GETMAP + "WIDTH=-1&HEIGHT=256", "WIDTH×HEIGHT"),
        (GETMAP + "WIDTH=256&HEIGHT=abc", "WIDTH×HEIGHT"),
        (GETMAP + "WIDTH=0&HEIGHT=256", "WIDTH×HEIGHT"),
        (GETMAP + "WIDTH=256", "height"),
        (GETMAP + "WIDTH=2049&HEIGHT=256", "2048"),
        (GETMAP + "WIDTH=4000&HEIGHT=4000", "2048"),
        (GETMAP.replace("LAYERS=elevation", "LAYERS=no-such-layer") + "WIDTH=256&HEIGHT=256", "no-such-layer"),
        (GETMAP.replace("BBOX=11.63,108.38,11.94,108.69", "BBOX=a,b,c,d") + "WIDTH=256&HEIGHT=256", "BBOX"),
        (GETMAP.replace("EPSG:4326", "EPSG:99999") + "WIDTH=256&HEIGHT=256", "EPSG:99999"),
        (GETMAP.replace("image/png", "image/gif") + "WIDTH=256&HEIGHT=256", "image/gif"),
        (GETMAP + "WIDTH=256&HEIGHT=256&CRS=EPSG:3857", "CRS"),
        (FEATUREINFO + "I=abc&J=1", "I/J"),
        (WMS + "REQUEST=GetWhatever", "GetWhatever"),
        (WMS + "REQUEST=GetLegendGraphic&LAYER=no-such-layer&SLD_VERSION=1.1.0", "no-such-layer"),
        (WMTS + "TILEROW=abc&TILECOL=1641", "TILEROW"),
        (WMTS.replace("LAYER=elevation", "LAYER=no-such-layer") + "TILEROW=949&TILECOL=1641", "no-such-layer"),
    ],
)
def test_a_bad_request_is_a_400_that_says_what_is_wrong(client, configured, url, says):
    response = client.get(url)
    assert response.status_code == 400, response.content[:400]
    assert says.lower() in response.content.decode().lower()


def test_a_hidden_layer_is_answered_exactly_like_a_missing_one(client, configured):
    hidden = client.get(GETMAP.replace("LAYERS=elevation", "LAYERS=slope") + "WIDTH=256&HEIGHT=256")
    missing = client.get(GETMAP.replace("LAYERS=elevation", "LAYERS=nope1") + "WIDTH=256&HEIGHT=256")
    assert hidden.status_code == missing.status_code == 400
    assert hidden.content.replace(b"slope", b"nope1") == missing.content
    assert b"LayerNotDefined" in hidden.content


def test_the_image_size_cap_is_a_setting(client, configured, monkeypatch):
    monkeypatch.setenv("IOC_MAPPROXY_MAX_SIZE", "512")
    response = client.get(GETMAP + "WIDTH=600&HEIGHT=256")
    assert response.status_code == 400 and "512" in response.content.decode()


def test_a_bad_image_size_cap_stops_with_a_message_naming_it(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from tiles import conf

    monkeypatch.setenv("IOC_MAPPROXY_MAX_SIZE", "lots")
    with pytest.raises(ImproperlyConfigured, match="IOC_MAPPROXY_MAX_SIZE"):
        conf.mapproxy_max_size()


def test_a_refusal_is_a_readable_document_even_when_exceptions_are_asked_as_images(client, configured):
    response = client.get(GETMAP + "WIDTH=abc&HEIGHT=256&EXCEPTIONS=INIMAGE")
    assert response.status_code == 400
    assert b"ServiceException" in response.content


def test_the_message_follows_the_users_language(client, configured, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(GETMAP + "WIDTH=-1&HEIGHT=256")
    assert response.status_code == 400
    assert "must be whole numbers from 1 to 2048" in response.content.decode()
