"""Writes through the REST API: permission module decides, model validation applies, every change is audited."""

from __future__ import annotations

import json

import pytest

from layers.models import Layer, LayerChange, School
from tests.factories import SchoolFactory, point_in
from tests.layers.test_query_data import body

pytestmark = pytest.mark.django_db
SCHOOLS = "/api/v1/layers/schools/features/"


def post(client, url, data):
    return client.post(url, json.dumps(data), content_type="application/json")


def feature(point, **props):
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [point.x, point.y]}, "properties": props}


@pytest.fixture
def school(district) -> School:
    return SchoolFactory(name="Trường THCS Ka Đô", pupils=480, in_commune="24943")


def test_gis_staff_creates_a_school_and_the_change_is_recorded(client, district, gis_staff):
    client.force_login(gis_staff)
    version = Layer.objects.get(slug="schools").version
    point = point_in("24934", 7)
    response = post(client, SCHOOLS, feature(point, name="Trường Tiểu học Lạc Xuân 2", level="tieu_hoc", pupils=210))
    assert response.status_code == 201, response.content
    data = body(response)
    school = School.objects.get(pk=data["id"])
    assert school.commune_code == "24934" and data["properties"]["commune_code"] == "24934"
    change = LayerChange.objects.get(layer__slug="schools", feature_id=str(school.pk))
    assert change.action == "create" and change.user == gis_staff and change.before is None
    assert change.after["name"] == "Trường Tiểu học Lạc Xuân 2" and change.after["geometry"]["type"] == "Point"
    assert Layer.objects.get(slug="schools").version == version + 1


def test_update_and_delete_keep_before_and_after(client, school, gis_staff):
    client.force_login(gis_staff)
    url = f"{SCHOOLS}{school.pk}/"
    response = client.patch(url, json.dumps({"properties": {"pupils": 520}}), content_type="application/json")
    assert response.status_code == 200 and body(response)["properties"]["pupils"] == 520
    change = LayerChange.objects.filter(feature_id=str(school.pk)).latest("at")
    assert change.action == "update" and change.before["pupils"] == 480 and change.after["pupils"] == 520
    assert client.delete(url).status_code == 204
    assert not School.objects.filter(pk=school.pk).exists()
    deleted = LayerChange.objects.filter(feature_id=str(school.pk), action="delete").get()
    assert deleted.before["name"] == "Trường THCS Ka Đô" and deleted.after is None


def test_a_geometry_outside_the_district_is_rejected(client, district, gis_staff):
    client.force_login(gis_staff)
    hanoi = type("P", (), {"x": 105.85, "y": 21.03})
    response = post(client, SCHOOLS, feature(hanoi, name="Trường ngoài huyện", level="thcs"))
    assert response.status_code == 400
    assert "geometry" in body(response)
    assert not School.objects.filter(name="Trường ngoài huyện").exists()
    assert not LayerChange.objects.filter(layer__slug="schools").exists()


def test_a_geometry_of_the_wrong_type_is_rejected(client, school, gis_staff):
    client.force_login(gis_staff)
    x, y = school.geom.x, school.geom.y
    polygon = {"type": "Polygon", "coordinates": [[[x, y], [x + 0.001, y], [x + 0.001, y + 0.001], [x, y]]]}
    response = client.put(
        f"{SCHOOLS}{school.pk}/",
        json.dumps({"type": "Feature", "geometry": polygon, "properties": {"name": "X", "level": "thcs"}}),
        content_type="application/json",
    )
    assert response.status_code == 400 and "geometry" in body(response)
    school.refresh_from_db()
    assert school.name == "Trường THCS Ka Đô" and school.geom.geom_type == "Point"


def test_invalid_values_are_400_with_the_field_named(client, school, gis_staff):
    client.force_login(gis_staff)
    response = client.patch(
        f"{SCHOOLS}{school.pk}/",
        json.dumps({"properties": {"pupils": -3, "level": "dai_hoc"}}),
        content_type="application/json",
    )
    assert response.status_code == 400
    errors = body(response)
    assert "pupils" in errors or "level" in errors
    school.refresh_from_db()
    assert school.pupils == 480


def test_a_field_the_user_may_not_see_cannot_be_written(client, district, agency_staff, field_officer):
    from tests.factories import HouseholdBusinessFactory

    biz = HouseholdBusinessFactory(in_commune="24931")
    client.force_login(agency_staff)
    url = f"/api/v1/layers/household-businesses/features/{biz.pk}/"
    assert (
        client.patch(
            url, json.dumps({"properties": {"owner_phone": "0900000000"}}), content_type="application/json"
        ).status_code
        == 200
    )
    biz.refresh_from_db()
    assert biz.owner_phone == "0900000000"


def test_roles_without_edit_rights_get_403_and_anonymous_cannot_write(client, school, leader):
    response = post(client, SCHOOLS, feature(school.geom, name="A", level="thcs"))
    assert response.status_code in (401, 403)
    client.force_login(leader)
    assert client.delete(f"{SCHOOLS}{school.pk}/").status_code == 403
    assert School.objects.filter(pk=school.pk).exists()


def test_a_scoped_editor_cannot_edit_or_move_features_outside_their_communes(client, district):
    from tests.conftest import make_user

    editor = make_user("scoped_gis", "gis_staff", communes=["24931"])
    client.force_login(editor)
    outside = SchoolFactory(in_commune="24943")
    assert client.delete(f"{SCHOOLS}{outside.pk}/").status_code == 404
    inside = SchoolFactory(in_commune="24931")
    target = point_in("24943", 11)
    response = client.patch(
        f"{SCHOOLS}{inside.pk}/",
        json.dumps({"geometry": {"type": "Point", "coordinates": [target.x, target.y]}}),
        content_type="application/json",
    )
    assert response.status_code == 403
    inside.refresh_from_db()
    assert inside.commune_code == "24931"


def test_tabular_records_are_placed_by_commune_code(client, district, agency_staff):
    client.force_login(agency_staff)
    data = {
        "properties": {
            "procedure_code": "2.000001",
            "procedure_name": "Đăng ký khai sinh",
            "field": "Hộ tịch",
            "received_date": "2024-05-02",
            "due_date": "2024-05-05",
            "status": "received",
            "commune_code": "24937",
        }
    }
    response = post(client, "/api/v1/layers/dossiers/features/", data)
    assert response.status_code == 201, response.content
    created = body(response)
    assert created["properties"]["commune_code"] == "24937" and created["geometry"]["type"] == "MultiPolygon"


def test_an_unreadable_geometry_is_400(client, district, gis_staff):
    client.force_login(gis_staff)
    bad = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [108.5]},
        "properties": {"name": "X", "level": "thcs"},
    }
    response = post(client, SCHOOLS, bad)
    assert response.status_code == 400 and "geometry" in body(response)
    assert not School.objects.filter(name="X").exists()


# --- workflow-managed layers (petitions): state changes go through the workflow, never raw edits ---------
PETITIONS = "/api/v1/layers/petitions/features/"


def _petition(district):
    from tests.petitions.conftest import new_petition

    return new_petition(description="Rác thải đổ trộm bên đường")


def _patch(client, url, props):
    return client.patch(url, json.dumps({"properties": props}), content_type="application/json")


@pytest.mark.parametrize("persona", ["agency_staff", "administrator"])
def test_workflow_fields_of_a_petition_cannot_be_patched(client, district, persona, request):
    from petitions.models import Petition, PetitionEvent

    petition = _petition(district)
    client.force_login(request.getfixturevalue(persona))
    url = f"{PETITIONS}{petition.pk}/"
    for props in (
        {"status": "resolved"},
        {"received_at": "2020-01-01T00:00:00+07:00"},
        {"resolved_at": "2030-01-01T00:00:00+07:00"},
        {"category": "dat_dai"},
    ):
        response = _patch(client, url, props)
        assert response.status_code == 400, (props, response.content)
        [field] = props
        message = body(response)[field][0]
        assert "quy trình" in message and f"/api/v1/petitions/{petition.tracking_code}/transition/" in message
    after = Petition.objects.get(pk=petition.pk)
    assert (after.status, after.category, after.received_at) == ("received", "moi_truong", petition.received_at)
    assert list(PetitionEvent.objects.filter(petition=petition).values_list("action", flat=True)) == ["receive"]
    assert not LayerChange.objects.filter(layer__slug="petitions").exists()


def test_a_put_may_resend_workflow_fields_unchanged_and_fix_the_text(client, district, agency_staff):
    from petitions.models import Petition

    petition = _petition(district)
    client.force_login(agency_staff)
    url = f"{PETITIONS}{petition.pk}/"
    props = {"status": "received", "category": "moi_truong", "description": "Rác thải đổ trộm cạnh cầu"}
    response = client.put(
        url,
        json.dumps({"type": "Feature", "geometry": json.loads(petition.geom.geojson), "properties": props}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert Petition.objects.get(pk=petition.pk).description == "Rác thải đổ trộm cạnh cầu"
    props["status"] = "closed"
    response = client.put(
        url,
        json.dumps({"type": "Feature", "geometry": json.loads(petition.geom.geojson), "properties": props}),
        content_type="application/json",
    )
    assert response.status_code == 400 and "status" in body(response)
    assert Petition.objects.get(pk=petition.pk).status == "received"


@pytest.mark.parametrize("persona", ["agency_staff", "administrator"])
def test_petitions_cannot_be_deleted_or_created_through_the_layer_api(client, district, persona, request):
    from petitions.models import Petition

    petition = _petition(district)
    client.force_login(request.getfixturevalue(persona))
    response = client.delete(f"{PETITIONS}{petition.pk}/")
    assert response.status_code == 403
    assert f"/api/v1/petitions/{petition.tracking_code}/transition/" in body(response)["detail"]
    assert Petition.objects.filter(pk=petition.pk).exists()
    created = post(client, PETITIONS, feature(petition.geom, category="khac", description="Tạo thẳng"))
    assert created.status_code == 403 and "quy trình" in body(created)["detail"]
    assert Petition.objects.count() == 1
    assert not LayerChange.objects.filter(layer__slug="petitions").exists()


def test_any_catalog_layer_over_the_petition_model_is_workflow_managed(client, district, administrator):
    """The refusal follows the model, not the slug: a second layer over petitions refuses the same writes."""
    from petitions.models import Petition

    base = Layer.objects.get(slug="petitions")
    Layer.objects.create(
        slug="petitions-open",
        title_vi="Phản ánh đang xử lý",
        title_en="Open petitions",
        source_model="petitions.Petition",
        geometry_field="geom",
        geometry_type="Point",
        visibility=base.visibility,
        edit_roles=["agency_staff"],
        attributes=base.attributes,
    )
    petition = _petition(district)
    client.force_login(administrator)
    url = f"/api/v1/layers/petitions-open/features/{petition.pk}/"
    assert _patch(client, url, {"status": "closed"}).status_code == 400
    assert client.delete(url).status_code == 403
    assert Petition.objects.get(pk=petition.pk).status == "received"
