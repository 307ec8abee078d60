"""MapProxy: configuration from the catalog, WMS/WMTS/TMS behind the permission module, bad requests."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import call_command
from lxml import etree

from layers.models import Layer
from tiles import demo, mapproxy

pytestmark = pytest.mark.django_db

WMS = "/mapproxy/service?SERVICE=WMS&VERSION=1.3.0&REQUEST="
DISTRICT_BBOX_130 = "11.63,108.38,11.94,108.69"  # WMS 1.3.0 + EPSG:4326: lat,lon axis order


@pytest.fixture
def configured(demo_rasters):
    Layer.objects.filter(slug="slope").update(visibility="staff")
    return mapproxy.write_config(upstream="http://127.0.0.1:9")


def wms_layer_names(body: bytes) -> set[str]:
    root = etree.fromstring(body)
    return {el.text for el in root.iter("{http://www.opengis.net/wms}Name")}


def test_the_command_writes_and_validates_every_file(demo_rasters, tile_dirs):
    out = io.StringIO()
    call_command("mapproxy_config", "--upstream", "http://web:8000", stdout=out)
    folder = tile_dirs / "mapproxy"
    config = yaml.safe_load((folder / "mapproxy.yaml").read_text())
    names = {lyr["name"] for lyr in config["layers"]}
    assert {"elevation", "slope", "population-density"} <= names  # every raster
    assert {"communes", "communes:2009-01-01", "communes:2025-01-01"} <= names  # public vectors, units by set
    assert "land-parcels" not in names  # a private vector layer: never in MapProxy's shared cache
    assert config["services"]["wms"]["max_output_pixels"] == [2048, 2048]
    assert {"wms", "wmts", "tms"} <= set(config["services"])
    assert set(config["grids"]) == {"webmercator", "wgs84", "vn2000_tm3_10745"}
    assert config["grids"]["vn2000_tm3_10745"]["srs"] == "EPSG:5899"
    assert config["sources"]["elevation_tiles"]["url"] == "http://web:8000/tiles/raster/elevation/%(z)s/%(x)s/%(y)s.png"
    assert "basemap_tiles" not in config["sources"]  # the online basemap is off by default
    seed = yaml.safe_load((folder / "seed.yaml").read_text())
    assert seed["seeds"]["district"]["coverages"] == ["district"]
    assert (folder / "district.geojson").exists()
    assert f"{len(names)} layer(s)" in out.getvalue()


def test_the_public_configuration_for_mapproxy_alone_has_no_private_layer(configured):
    public = mapproxy.layer_names(configured["public"])
    assert {"elevation", "population-density", "communes:2025-01-01"} <= public
    private = set(Layer.objects.exclude(visibility="public").values_list("slug", flat=True))
    assert "slope" in private and not public & private
    assert "X-IOC-Service-Token" not in configured["public"].read_text()


def test_an_online_basemap_is_added_only_when_asked(district, tile_dirs):
    paths = mapproxy.write_config(upstream="http://web:8000", basemap_url="https://tile.example/%(z)s/%(x)s/%(y)s.png")
    assert "basemap" in mapproxy.layer_names(paths["internal"])


def test_mapproxy_refuses_a_configuration_with_warnings(tile_dirs):
    bad = tile_dirs / "bad.yaml"
    bad.write_text("services:\n  wms:\n    no_such_option: 1\nlayers: []\n")
    with pytest.raises(Exception):  # noqa: B017 - MapProxy raises its own ConfigurationError types
        mapproxy.load_app(bad, cached=False)


def test_vn2000_coordinates_agree_with_postgis_including_the_datum_shift():
    from django.db import connection
    from mapproxy.srs import SRS
    from pyproj import Transformer

    mx, my = SRS("EPSG:4326").transform_to(SRS("EPSG:5899"), (108.53, 11.78))
    with connection.cursor() as cur:
        cur.execute("SELECT ST_X(g), ST_Y(g) FROM ST_Transform(ST_SetSRID(ST_MakePoint(108.53, 11.78), 4326), 5899) g")
        px, py = cur.fetchone()
    assert abs(mx - px) < 0.01 and abs(my - py) < 0.01
    # Without the VN-2000 datum shift the same projection lands hundreds of metres away.
    no_shift = Transformer.from_crs(
        "EPSG:4326", "+proj=tmerc +lon_0=107.75 +k=0.9999 +x_0=500000 +ellps=WGS84", always_xy=True
    ).transform(108.53, 11.78)
    assert abs(no_shift[0] - mx) + abs(no_shift[1] - my) > 50


def test_a_private_raster_is_absent_from_every_capabilities_document_for_anonymous_users(client, configured, gis_staff):
    wms = client.get(WMS + "GetCapabilities")
    assert wms.status_code == 200
    assert {"elevation", "population-density"} <= wms_layer_names(wms.content)
    assert "slope" not in wms_layer_names(wms.content)
    wmts = client.get("/mapproxy/wmts/1.0.0/WMTSCapabilities.xml").content.decode()
    assert "<ows:Identifier>elevation</ows:Identifier>" in wmts and "<ows:Identifier>slope</ows:Identifier>" not in wmts
    kvp = client.get("/mapproxy/service?SERVICE=WMTS&REQUEST=GetCapabilities").content.decode()
    assert "<ows:Identifier>slope</ows:Identifier>" not in kvp
    tms = client.get("/mapproxy/tms/1.0.0/").content.decode()
    assert "/elevation/" in tms and "/slope/" not in tms
    client.force_login(gis_staff)
    assert "slope" in wms_layer_names(client.get(WMS + "GetCapabilities").content)


def test_a_private_raster_is_refused_to_anonymous_users_on_every_protocol(client, configured):
    getmap = client.get(WMS + f"GetMap&LAYERS=slope&STYLES=&CRS=EPSG:4326&BBOX={DISTRICT_BBOX_130}"
                        "&WIDTH=256&HEIGHT=256&FORMAT=image/png")  # fmt: skip
    assert b"ServiceException" in getmap.content and b"slope" in getmap.content
    assert client.get("/mapproxy/wmts/slope/webmercator/11/1641/949.png").status_code == 404
    assert client.get("/mapproxy/tms/1.0.0/slope/webmercator/11/1641/1098.png").status_code == 404
    kvp = client.get("/mapproxy/service?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=slope&STYLE=default"
                     "&TILEMATRIXSET=webmercator&TILEMATRIX=11&TILEROW=949&TILECOL=1641&FORMAT=image/png")  # fmt: skip
    assert kvp.status_code == 400 and b"slope" in kvp.content


def test_wms_with_an_unknown_srs_is_a_service_exception(client, configured):
    response = client.get(WMS + "GetMap&LAYERS=elevation&STYLES=&CRS=EPSG:99999&BBOX=0,0,1,1"
                          "&WIDTH=256&HEIGHT=256&FORMAT=image/png")  # fmt: skip
    assert b"ServiceException" in response.content
    assert b"InvalidCRS" in response.content or b"InvalidSRS" in response.content


def test_wms_with_an_inverted_bbox_is_a_service_exception(client, configured):
    response = client.get(WMS + "GetMap&LAYERS=elevation&STYLES=&CRS=EPSG:4326&BBOX=11.94,108.69,11.63,108.38"
                          "&WIDTH=256&HEIGHT=256&FORMAT=image/png")  # fmt: skip
    assert b"ServiceException" in response.content and b"invalid bbox" in response.content


def test_a_100000_by_100000_pixel_request_is_a_service_exception_not_a_crash(client, configured):
    response = client.get(WMS + f"GetMap&LAYERS=elevation&STYLES=&CRS=EPSG:4326&BBOX={DISTRICT_BBOX_130}"
                          "&WIDTH=100000&HEIGHT=100000&FORMAT=image/png")  # fmt: skip
    assert response.status_code == 400
    assert b"ServiceException" in response.content and b"2048" in response.content
    assert len(response.content) < 10_000


def test_without_a_configuration_mapproxy_says_how_to_make_one(client, db, tile_dirs):
    response = client.get(WMS + "GetCapabilities")
    assert response.status_code == 503
    assert "mapproxy_config" in response.content.decode()


def test_mapproxy_seed_accepts_the_seed_file_and_stays_inside_the_district(configured):
    import subprocess
    import sys
    from pathlib import Path

    seed_cli = Path(sys.executable).parent / "mapproxy-seed"
    result = subprocess.run(
        [str(seed_cli), "-f", str(configured["internal"]), "-s", str(configured["seed"]), "--summary"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Limited to coverage in: 108.") == len(demo.SLUGS)  # one task per raster layer
    assert "Levels: [8, 9, 10, 11, 12, 13, 14]" in result.stdout
