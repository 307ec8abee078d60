"""The MapProxy gate reads a request the way MapProxy does: every alias, any key case, every value.

MapProxy's own WSGI app answers behind Django; its upstream is a small HTTP server handing out one PNG for
any tile, so an allowed request really renders, and the test can see which layers MapProxy fetched.
"""

from __future__ import annotations

import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from lxml import etree
from PIL import Image

from layers.models import Layer
from tests.tiles.conftest import tile_of
from tiles import mapproxy

pytestmark = pytest.mark.django_db

Z, X, Y = tile_of(108.53, 11.78, 11)  # inside the district: XYZ (north-west origin)
Y_TMS = (1 << Z) - 1 - Y  # TMS and KML count rows from the south
BBOX_130 = "11.63,108.38,11.94,108.69"  # WMS 1.3.0 + EPSG:4326: lat,lon
GETMAP = "SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&STYLES=&CRS=EPSG:4326&BBOX=" + BBOX_130 + "&FORMAT=image/png"
GETMAP_LOWER = "service=WMS&version=1.3.0&request=GetMap&styles=&crs=EPSG:4326&bbox=" + BBOX_130 + "&format=image/png"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (256, 256), (200, 30, 30, 255)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def upstream():
    """Stands in for the raster tile endpoint: any GET is one red tile; the paths asked are recorded."""
    asked: list[str] = []
    body = _png()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


@pytest.fixture
def configured(demo_rasters, upstream):
    """elevation is public, slope staff-only."""
    Layer.objects.filter(slug="slope").update(visibility="staff")
    url, asked = upstream
    paths = mapproxy.write_config(upstream=url)
    return paths, asked


def fetched(asked: list[str], layer: str) -> bool:
    return any(f"/tiles/raster/{layer}/" in path for path in asked)


# Every way MapProxy names one layer: (description, URL with {layer}).
ROUTES = [
    ("WMS GetMap on /service", "/mapproxy/service?" + GETMAP + "&LAYERS={layer}&WIDTH=256&HEIGHT=256"),
    ("WMS GetMap on /wms", "/mapproxy/wms?" + GETMAP + "&LAYERS={layer}&WIDTH=256&HEIGHT=256"),
    ("WMS GetMap on /ows", "/mapproxy/ows?" + GETMAP + "&LAYERS={layer}&WIDTH=256&HEIGHT=256"),
    ("WMS, lower-case keys", "/mapproxy/service?" + GETMAP_LOWER + "&layers={layer}&width=256&height=256"),
    ("WMS, mixed-case key", "/mapproxy/service?" + GETMAP + "&LaYeRs={layer}&WIDTH=256&HEIGHT=256"),
    ("WMS, the layer second", "/mapproxy/service?" + GETMAP + "&LAYERS=elevation,{layer}&WIDTH=256&HEIGHT=256"),
    ("WMTS KVP on /service", "/mapproxy/service?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default"
     f"&TILEMATRIXSET=webmercator&TILEMATRIX={Z}&TILEROW={Y}&TILECOL={X}&FORMAT=image/png"),
    ("WMTS KVP, lower-case keys", "/mapproxy/ows?service=wmts&request=GetTile&version=1.0.0&layer={layer}&style=default"
     f"&tilematrixset=webmercator&tilematrix={Z}&tilerow={Y}&tilecol={X}&format=image/png"),
    ("WMTS RESTful", f"/mapproxy/wmts/{{layer}}/webmercator/{Z}/{X}/{Y}.png"),
    ("TMS", f"/mapproxy/tms/1.0.0/{{layer}}/webmercator/{Z - 1}/{X}/{Y_TMS}.png"),  # global-mercator: z - 1
    ("/tiles alias", f"/mapproxy/tiles/{{layer}}/webmercator/{Z}/{X}/{Y}.png"),
    ("/tiles alias with version", f"/mapproxy/tiles/1.0.0/{{layer}}/webmercator/{Z}/{X}/{Y}.png"),
    ("KML tile", f"/mapproxy/kml/{{layer}}/webmercator/{Z}/{X}/{Y_TMS}.png"),
    ("KML super-overlay", f"/mapproxy/kml/{{layer}}/webmercator/{Z}/{X}/{Y_TMS}.kml"),
]  # fmt: skip
IDS = [name for name, _url in ROUTES]


@pytest.mark.parametrize("name, route", ROUTES, ids=IDS)
def test_an_anonymous_user_is_refused_a_staff_raster_on_every_route(client, configured, name, route):
    _paths, asked = configured
    response = client.get(route.format(layer="slope"))
    assert response.status_code in (400, 404), response.content[:300]
    assert b"slope" in response.content  # "Không có lớp slope." in the service's own exception format
    assert not fetched(asked, "slope")


@pytest.mark.parametrize("name, route", ROUTES, ids=IDS)
def test_an_anonymous_user_gets_a_public_raster_on_every_route(client, configured, name, route):
    response = client.get(route.format(layer="elevation"))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith(("image/png", "application/vnd.google-earth.kml+xml"))


@pytest.mark.parametrize("name, route", ROUTES, ids=IDS)
def test_staff_signed_in_get_the_staff_raster_on_every_route(client, configured, gis_staff, name, route):
    _paths, asked = configured
    client.force_login(gis_staff)
    response = client.get(route.format(layer="slope"))
    assert response.status_code == 200, response.content[:300]
    assert "private" in response["Cache-Control"]  # never kept by a shared cache for the next client
    if response["Content-Type"].startswith("image/png") and not name.startswith("KML super"):
        assert fetched(asked, "slope")


@pytest.mark.parametrize(
    "query",
    [
        "LAYERS=elevation&LAYERS=slope",
        "LAYERS=slope&LAYERS=elevation",
        "LAYERS=elevation&layers=slope",
        "layers=elevation&LaYeRs=slope",
        "LAYERS=elevation&LAYERS=",
    ],
)
def test_a_key_sent_twice_with_different_values_is_refused_as_ambiguous(client, configured, gis_staff, query):
    _paths, asked = configured
    for user in (None, gis_staff):  # refused whoever asks: the request itself cannot be read one way
        if user:
            client.force_login(user)
        response = client.get(f"/mapproxy/service?{GETMAP}&{query}&WIDTH=256&HEIGHT=256")
        assert response.status_code == 400
        assert "LAYERS" in response.content.decode()
    assert not fetched(asked, "slope")


def test_the_same_value_sent_twice_is_not_ambiguous(client, configured):
    response = client.get(f"/mapproxy/service?{GETMAP}&LAYERS=elevation&layers=elevation&WIDTH=256&HEIGHT=256")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"


def test_an_empty_layers_value_is_a_400_naming_the_problem(client, configured):
    response = client.get(f"/mapproxy/service?{GETMAP}&LaYeRs=&WIDTH=256&HEIGHT=256")
    assert response.status_code == 400
    assert b"LayerNotDefined" in response.content


def test_a_staff_raster_asked_through_a_forged_script_name_is_still_refused(client, configured):
    _paths, asked = configured
    route = f"/mapproxy/x/wmts/slope/webmercator/{Z}/{X}/{Y}.png"
    response = client.get(route, HTTP_X_SCRIPT_NAME="/x")  # MapProxy would strip /x and serve /wmts/slope
    assert response.status_code in (400, 404)
    assert not fetched(asked, "slope")


@pytest.mark.parametrize("path", ["/mapproxy/demo/", "/mapproxy/nothing/slope/1/1/1.png", "/mapproxy/x/tiles/slope"])
def test_a_path_mapproxy_has_no_service_for_is_a_400_listing_the_services(client, configured, path):
    response = client.get(path)
    assert response.status_code == 400
    text = response.content.decode()
    assert "/mapproxy/wmts" in text and "/mapproxy/tms" in text


def test_mapproxys_demo_page_if_enabled_is_only_for_users_who_see_every_layer(
    client, configured, gis_staff, administrator
):
    paths, _asked = configured
    config = yaml.safe_load(paths["internal"].read_text())
    config["services"]["demo"] = None
    paths["internal"].write_text(yaml.safe_dump(config))
    assert client.get("/mapproxy/demo/").status_code == 403
    client.force_login(administrator)
    response = client.get("/mapproxy/demo/")
    assert response.status_code == 200 and b"slope" in response.content


def test_capabilities_list_only_the_layers_the_user_may_see(client, configured, gis_staff):
    wms111 = client.get("/mapproxy/wms?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetCapabilities")
    names = {el.text for el in etree.fromstring(wms111.content).iter("Name")}
    assert "elevation" in names and "slope" not in names
    assert b"slope" not in client.get("/mapproxy/wmts/1.0.0/WMTSCapabilities.xml").content
    assert b"slope" not in client.get("/mapproxy/tms/1.0.0/").content
    assert client.get("/mapproxy/tms/1.0.0/slope/webmercator").status_code == 404  # the layer's TileMap
    client.force_login(gis_staff)
    assert b"slope" in client.get("/mapproxy/wmts/1.0.0/WMTSCapabilities.xml").content
    assert b"slope" in client.get("/mapproxy/tms/1.0.0/").content


def test_mapproxy_itself_refuses_a_layer_the_user_may_not_see_when_the_gate_is_bypassed(configured):
    """Second line: MapProxy asks the same answer (`mapproxy.authorize`) before drawing any layer."""
    from tiles.mapproxy_views import _call, authorizer

    paths, asked = configured
    app = mapproxy.load_app(paths["internal"])
    environ = {
        "REQUEST_METHOD": "GET", "SERVER_NAME": "testserver", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
        "SCRIPT_NAME": "/mapproxy", "PATH_INFO": f"/tiles/slope/webmercator/{Z}/{X}/{Y_TMS}.png", "QUERY_STRING": "",
        "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(),
        "mapproxy.authorize": authorizer({"elevation"}, everything=False),
    }  # fmt: skip
    status, _headers, _body = _call(app, environ)
    assert status.startswith("403")
    assert not fetched(asked, "slope")


@pytest.mark.parametrize(
    "query",
    [
        "REQUEST=GetFeatureInfo&LAYERS=elevation&QUERY_LAYERS=slope&CRS=EPSG:4326&BBOX="
        + BBOX_130
        + "&WIDTH=256&HEIGHT=256&I=10&J=10&INFO_FORMAT=text/plain&STYLES=&FORMAT=image/png",
        "REQUEST=GetLegendGraphic&LAYER=slope&FORMAT=image/png&SLD_VERSION=1.1.0",
    ],
    ids=["GetFeatureInfo QUERY_LAYERS", "GetLegendGraphic LAYER"],
)
def test_the_other_wms_requests_naming_a_staff_raster_are_refused_too(client, configured, query):
    response = client.get("/mapproxy/service?SERVICE=WMS&VERSION=1.3.0&" + query)
    assert response.status_code == 400
    assert b"LayerNotDefined" in response.content and b"slope" in response.content


def test_mapproxys_welcome_page_is_served(client, configured):
    assert client.get("/mapproxy/").status_code == 200
