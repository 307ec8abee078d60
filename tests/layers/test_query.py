"""layers.query: the one place where features of a layer are selected for a user."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection

from layers import query as q
from layers.models import Layer
from tests.layers.test_query_data import sample_fixture, sample_module  # noqa: F401  (registers the fixtures)

pytestmark = pytest.mark.django_db


def page(slug: str, user, **kwargs) -> tuple[list[dict], q.Page]:
    result = q.features_page(Layer.objects.get(slug=slug), user, q.FeatureQuery(**kwargs), "rest")
    return json.loads(result.features_json), result


def names(features: list[dict]) -> set[str]:
    return {f["properties"]["name"] for f in features}


def test_a_bbox_keeps_only_the_features_inside_it(sample):
    s = sample.schools[0]
    box = (s.geom.x - 0.0001, s.geom.y - 0.0001, s.geom.x + 0.0001, s.geom.y + 0.0001)
    features, _ = page("schools", AnonymousUser(), bbox=box, limit=100)
    assert names(features) == {"Trường THCS Thạnh Mỹ"}


def test_a_bbox_in_vn2000_finds_the_same_feature(sample):
    s = sample.schools[3]
    with connection.cursor() as c:
        c.execute("SELECT ST_X(g), ST_Y(g) FROM (SELECT ST_Transform(%s::geometry, 5899) g) t", [s.geom.ewkt])
        x, y = c.fetchone()
    features, _ = page(
        "schools", AnonymousUser(), bbox=(x - 5, y - 5, x + 5, y + 5), bbox_crs=q.parse_crs("EPSG:5899"), limit=100
    )
    assert names(features) == {"Trường THPT Đơn Dương"}


def test_text_search_ignores_vietnamese_accents(sample):
    features, _ = page("schools", AnonymousUser(), text="da ron")
    assert names(features) == {"Trường Tiểu học Đạ Ròn"}
    features, _ = page("schools", AnonymousUser(), text="THANH MY")
    assert names(features) == {"Trường THCS Thạnh Mỹ"}


def test_attribute_filters_and_ranges_on_whitelisted_fields(sample):
    features, _ = page("schools", AnonymousUser(), filters=[("pupils", "gte", "400"), ("pupils", "lt", "900")])
    assert names(features) == {"Trường THCS Thạnh Mỹ", "Trường Tiểu học Đạ Ròn"}
    features, _ = page("schools", AnonymousUser(), filters=[("level", "in", ["thpt", "mam_non"])])
    assert len(features) == 2


def test_a_filter_on_a_hidden_field_is_refused(sample, field_officer):
    with pytest.raises(q.QueryError) as err:
        page("household-businesses", field_officer, filters=[("owner_phone", "eq", "0912345678")])
    assert err.value.parameter == "owner_phone"


def test_commune_filter_and_sorting(sample):
    features, _ = page("schools", AnonymousUser(), communes=["24937"], sortby=[("pupils", True)])
    assert [f["properties"]["name"] for f in features] == ["Trường THPT Đơn Dương", "Trường Tiểu học Đạ Ròn"]


def test_a_scoped_officer_only_gets_features_of_their_communes(sample, district):
    from tests.conftest import make_user

    officer = make_user("scoped_d", "field_officer", communes=["24937"])
    features, result = page("schools", officer, limit=100)
    assert {f["properties"]["commune_code"] for f in features} == {"24937"}
    assert result.number_matched == 2


def test_fields_hidden_from_a_role_are_absent(sample, field_officer, agency_staff):
    features, _ = page("household-businesses", field_officer)
    assert "owner_phone" not in features[0]["properties"] and "address" in features[0]["properties"]
    features, _ = page("household-businesses", agency_staff)
    assert features[0]["properties"]["owner_phone"] == "0912345678"


def test_a_private_layer_does_not_exist_for_anonymous(sample):
    with pytest.raises(q.LayerNotFound):
        q.get_layer("household-businesses", AnonymousUser())
    with pytest.raises(q.LayerNotFound):
        page("household-businesses", AnonymousUser())


def test_tabular_records_are_drawn_as_their_commune(sample, agency_staff):
    features, _ = page("dossiers", agency_staff)
    assert features[0]["geometry"]["type"] == "MultiPolygon"
    assert features[0]["properties"]["commune_code"] == "24928"


def test_layers_without_geometry_return_null_geometry(sample):
    features, _ = page("planning-plans", AnonymousUser())
    assert features[0]["geometry"] is None and features[0]["properties"]["name"].startswith("Quy hoạch")


def test_properties_selection_and_paging(sample):
    features, result = page("schools", AnonymousUser(), properties=["name"], limit=2, offset=0)
    assert set(features[0]["properties"]) == {"name"} and result.number_returned == 2
    assert result.number_matched == 5 and result.has_next
    features, result = page("schools", AnonymousUser(), limit=2, offset=4)
    assert result.number_returned == 1 and not result.has_next and result.number_matched == 5


def test_number_matched_is_an_estimate_above_the_threshold_and_exact_on_demand(sample, monkeypatch):
    monkeypatch.setattr(q, "EXACT_COUNT_BELOW", 2)
    with connection.cursor() as c:
        c.execute("ANALYZE layers_school")
    _f, result = page("schools", AnonymousUser(), limit=1)
    assert result.matched_is_estimate
    _f, result = page("schools", AnonymousUser(), limit=1, exact_count=True)
    assert result.number_matched == 5 and not result.matched_is_estimate


def test_output_in_epsg_4326_is_latitude_first(sample):
    s = sample.schools[0]
    features, _ = page("schools", AnonymousUser(), properties=["name"], crs=q.parse_crs("EPSG:4326"), limit=100)
    coords = next(f["geometry"]["coordinates"] for f in features if f["id"] == s.pk)
    assert coords == pytest.approx([s.geom.y, s.geom.x], abs=1e-6)


def test_commune_in_vn2000_matches_postgis_to_the_centimetre(district):
    commune = district.get(code="24931")
    text = q.feature_json(
        Layer.objects.get(slug="communes"), AnonymousUser(), str(commune.pk), q.parse_crs("EPSG:5899")
    )
    ours = json.loads(text)["geometry"]["coordinates"]
    with connection.cursor() as c:
        c.execute("SELECT ST_AsGeoJSON(ST_Transform(geom, 5899), 9) FROM gis_ioc_adminunit WHERE id = %s", [commune.pk])
        expected = json.loads(c.fetchone()[0])["coordinates"]
    ring, ring_expected = ours[0][0], expected[0][0]
    assert len(ring) == len(ring_expected)
    for (x, y), (ex, ey) in zip(ring, ring_expected, strict=True):
        assert abs(x - ex) < 0.01 and abs(y - ey) < 0.01
    # Lâm Đồng's TM-3 zone puts Đơn Dương near easting 570–604 km, northing 1,287–1,324 km.
    assert 560_000 < ring[0][0] < 610_000 and 1_280_000 < ring[0][1] < 1_330_000


def test_rows_for_tabular_outputs_carry_wkt(sample):
    rows = list(q.feature_rows(Layer.objects.get(slug="schools"), AnonymousUser(), q.FeatureQuery(limit=10), "rest"))
    assert rows[0][0] == "id" and rows[0][-1] == "geometry"
    assert len(rows) == 6 and rows[1][-1].startswith("POINT(")


@pytest.mark.parametrize(
    "value",
    ["1,2,3", "1,2,3,4,5", "3,2,1,4", "a,b,c,d"],
)
def test_bad_bboxes_are_refused(value):
    with pytest.raises(q.QueryError) as err:
        q.parse_bbox(value)
    assert err.value.parameter == "bbox"


def test_a_latitude_of_95_is_refused():
    with pytest.raises(q.QueryError):
        q.bbox_in_crs((100, 10, 110, 95), q.DEFAULT_CRS)


def test_an_unknown_crs_is_refused():
    with pytest.raises(q.QueryError) as err:
        q.parse_crs("http://www.opengis.net/def/crs/EPSG/0/999999", "bbox-crs")
    assert err.value.parameter == "bbox-crs"
