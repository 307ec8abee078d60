"""gis_ioc.notebook: layers as GeoDataFrames with a user's permissions, publishing a GeoDataFrame, statistics."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pytest
from django.db import connection
from shapely.geometry import LineString, Point, Polygon

from gis_ioc import notebook as nb
from layers.models import Layer, School
from tests.analysis.factories import origin, point

pytestmark = pytest.mark.django_db


@pytest.fixture
def schools(district):
    School.objects.create(name="TH Thạnh Mỹ", level="tieu_hoc", geom=point(origin("24931"), 0, 0), pupils=300)
    School.objects.create(name="TH Ka Đô", level="tieu_hoc", geom=point(origin("24943"), 0, 0), pupils=200)


def test_load_layer_gives_what_the_user_may_see(schools, gis_staff, scoped_officer):
    everything = nb.load_layer("schools", user=gis_staff)
    assert isinstance(everything, gpd.GeoDataFrame) and everything.crs.to_epsg() == 4326
    assert sorted(everything["name"]) == ["TH Ka Đô", "TH Thạnh Mỹ"]
    assert "pupils" in everything.columns
    mine = nb.load_layer("schools", user=scoped_officer)
    assert list(mine["name"]) == ["TH Thạnh Mỹ"]  # limited to Thạnh Mỹ and Đạ Ròn
    assert list(nb.load_layer("schools", user=gis_staff, commune="24943")["name"]) == ["TH Ka Đô"]
    x, y = everything.geometry.iloc[0].x, everything.geometry.iloc[0].y
    boxed = nb.load_layer("schools", user="gis_staff", bbox=(x - 0.001, y - 0.001, x + 0.001, y + 0.001))
    assert len(boxed) == 1


def test_load_layer_hides_fields_and_layers_the_user_may_not_see(district, field_officer, administrator):
    Layer.objects.filter(slug="schools").update(visibility="roles", allowed_roles=["planner"])
    with pytest.raises(nb.LayerNotFound):
        nb.load_layer("schools", user=field_officer)
    with pytest.raises(nb.LayerNotFound):
        nb.load_layer("no-such-layer", user=administrator)
    layer = Layer.objects.get(slug="household-businesses")
    personal = {a["name"] for a in layer.attributes if a.get("visibility") == "roles"}
    frame = nb.load_layer("household-businesses", user=field_officer)
    assert "owner_name" in personal and not personal & set(frame.columns)
    assert "owner_name" in nb.load_layer("household-businesses", user=administrator).columns


def _squares(o):
    from pyproj import Transformer

    # Two 100 m squares in UTM 49N (the frame is published from a metric CRS).
    tr = Transformer.from_crs(4326, 32649, always_xy=True)
    ll = o.transform(4326, clone=True)
    x, y = tr.transform(ll.x, ll.y)
    polys = [Polygon([(x + dx, y), (x + dx + 100, y), (x + dx + 100, y + 100), (x + dx, y + 100)]) for dx in (0, 200)]
    return gpd.GeoDataFrame({"Tên khu": ["A", "B"], "Diện tích": [1.0, 1.0], "id": [7, 8]}, geometry=polys, crs=32649)


def test_publish_layer_registers_a_table_every_channel_serves(district, gis_staff):
    gdf = _squares(origin("24931"))
    layer = nb.publish_layer(gdf, "khu-thu-nghiem", "Khu thử nghiệm", user=gis_staff)
    assert (layer.source_table, layer.geometry_type, layer.visibility) == (
        "published_khu_thu_nghiem",
        "MultiPolygon",
        "staff",
    )
    back = nb.load_layer("khu-thu-nghiem", user=gis_staff)
    assert sorted(back["ten_khu"]) == ["A", "B"] and list(back["src_id"]) == [7, 8]
    assert set(back["commune_code"]) == {"24931"}
    assert back.to_crs(32649).area.tolist() == pytest.approx([10000, 10000], rel=1e-3)
    version = layer.version
    again = nb.publish_layer(gdf.iloc[:1], "khu-thu-nghiem", "Khu thử nghiệm", user=gis_staff)
    assert again.version > version and len(nb.load_layer("khu-thu-nghiem", user=gis_staff)) == 1


def test_publish_layer_refuses_bad_input_and_writes_nothing(district, gis_staff, leader):
    gdf = _squares(origin("24931"))
    with pytest.raises(PermissionError):
        nb.publish_layer(gdf, "khu-a", "A", user=leader)
    with pytest.raises(ValueError, match="another catalog layer"):
        nb.publish_layer(gdf, "schools", "A", user=gis_staff)
    mixed = gpd.GeoDataFrame({"k": [1, 2]}, geometry=[Point(0, 0), LineString([(0, 0), (1, 1)])], crs=4326)
    with pytest.raises(ValueError, match="one geometry kind"):
        nb.publish_layer(mixed, "khu-b", "B", user=gis_staff)
    with pytest.raises(ValueError, match="no CRS"):
        nb.publish_layer(gdf.set_crs(None, allow_override=True), "khu-c", "C", user=gis_staff)
    assert not Layer.objects.filter(slug__in=["khu-a", "khu-b", "khu-c"]).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('published_khu_b')")
        assert cursor.fetchone()[0] is None


def test_stats_gives_a_statistic_per_commune(schools):
    frame = nb.stats("schools", dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    values = dict(zip(frame["commune_code"], frame["value"], strict=True))
    assert values["24931"] == 1 and values["24943"] == 1 and values["24937"] == 0
    assert frame.attrs["title_vi"] == "Số trường học"


def test_stats_takes_a_unit_set_and_says_how_each_figure_was_obtained(schools):
    frame = nb.stats("schools", dt.date(2024, 1, 1), dt.date(2024, 12, 31), units="commune-2009-01-01")
    rows = frame.set_index("commune_code")
    # The 2009 communes: Pró and the old Quảng Lập are there again, under their own names.
    assert {"24946", "24955"} <= set(rows.index) and len(rows) == 10
    assert rows.loc["24946", "name"] == "Xã Quảng Lập" and rows.loc["24955", "name"] == "Xã Pró"
    assert set(frame["method"]) <= {"exact", "population"}
