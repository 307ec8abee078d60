"""The admin of the sector layers and the catalog, through the Django test client."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.urls import reverse

from layers.models import LandParcel, Layer, School
from tests import factories as f

SECTOR_MODELS = ["school", "healthfacility", "householdbusiness", "landparcel", "planningplan", "planningzone",
                 "dossier", "budgetrevenue", "indicator"]  # fmt: skip


@pytest.fixture
def admin_client_vi(client, db):
    user = User.objects.create_superuser("root", "root@example.org", "pw-root-123")
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "vi"
    return client


def changelist(name: str) -> str:
    return reverse(f"admin:layers_{name}_changelist")


@pytest.mark.parametrize("name", SECTOR_MODELS)
def test_every_sector_model_has_a_list_with_commune_and_status_filters(admin_client_vi, district, name):
    page = admin_client_vi.get(changelist(name), {"commune": "24931"} if name != "planningplan" else {})
    assert page.status_code == 200
    html = page.content.decode()
    if name != "planningplan":
        assert "Thị trấn Thạnh Mỹ" in html  # the commune filter lists the current communes
        assert "Xã Pró" not in html  # merged away in 2025


def test_search_ignores_accents(admin_client_vi, district):
    thanh_my = f.SchoolFactory(name="Trường Tiểu học Thạnh Mỹ")
    da_ron = f.SchoolFactory(name="Trường THCS Đạ Ròn", in_commune="24937")
    for term in ["thanh my", "Thạnh Mỹ", "THANH MY", "thạnh my"]:
        page = admin_client_vi.get(changelist("school"), {"q": term})
        assert list(page.context["cl"].result_list) == [thanh_my], term
        assert "Trường Tiểu học Thạnh Mỹ" in page.content.decode()
    page = admin_client_vi.get(changelist("school"), {"q": "da ron"})
    assert list(page.context["cl"].result_list) == [da_ron]


def test_a_parcel_is_found_by_commune_sheet_and_parcel_number(admin_client_vi, district):
    here = f.LandParcelFactory(sheet_number=12, parcel_number=345)
    there = f.LandParcelFactory(in_commune="24937", sheet_number=12, parcel_number=345)
    f.LandParcelFactory(sheet_number=12, parcel_number=346)
    page = admin_client_vi.get(changelist("landparcel"), {"q": "24931/12/345"})
    assert list(page.context["cl"].result_list) == [here]
    page = admin_client_vi.get(changelist("landparcel"), {"q": "tờ 12 thửa 345"})
    assert set(page.context["cl"].result_list) == {here, there}


def test_the_map_widget_uses_local_assets_only(admin_client_vi, district):
    html = admin_client_vi.get(reverse("admin:layers_landparcel_add")).content.decode()
    assert "vendor/ol/ol.js" in html
    assert "cdn" not in html.lower() and "https://" not in html.split("<body")[1].split("</body>")[0].replace(
        "https://www.w3.org", ""
    )


def test_adding_a_duplicate_parcel_in_the_admin_shows_an_error_not_a_crash(admin_client_vi, district):
    existing = f.LandParcelFactory(sheet_number=3, parcel_number=7)
    shape = f.square_at(f.point_in("24931", 99))
    response = admin_client_vi.post(
        reverse("admin:layers_landparcel_add"),
        {
            "sheet_number": 3,
            "parcel_number": 7,
            "area_m2": 500,
            "land_use": "CLN",
            "certificate_status": "none",
            "geom": shape.ewkt,
        },  # fmt: skip
    )
    assert response.status_code == 200
    assert "Trùng khóa thửa" in response.content.decode()
    assert LandParcel.objects.get() == existing


def test_adding_a_school_outside_the_district_explains_why(admin_client_vi, district):
    response = admin_client_vi.post(
        reverse("admin:layers_school_add"),
        {
            "name": "Trường ngoài huyện",
            "level": "thcs",
            "ownership": "public",
            "pupils": 10,
            "teachers": 1,
            "classrooms": 1,
            "figures_year": 2024,
            "geom": Point(106.7, 10.77, srid=4326).ewkt,
        },  # fmt: skip
    )
    assert response.status_code == 200
    assert "nằm ngoài mọi xã" in response.content.decode()
    assert not School.objects.exists()


def test_adding_a_school_inside_a_commune_assigns_it(admin_client_vi, district):
    response = admin_client_vi.post(
        reverse("admin:layers_school_add"),
        {
            "name": "Trường Mầm non Hoa Sen",
            "level": "mam_non",
            "ownership": "private",
            "pupils": 120,
            "teachers": 9,
            "classrooms": 6,
            "figures_year": 2024,
            "geom": f.point_in("24940", 5).ewkt,
        },  # fmt: skip
    )
    assert response.status_code == 302
    assert School.objects.get().commune_code == "24940"


def test_the_catalog_admin_lists_both_titles_and_rejects_an_unknown_attribute(admin_client_vi, db):
    html = admin_client_vi.get(reverse("admin:layers_layer_changelist")).content.decode()
    assert "Trường học" in html and "Schools" in html and "Thửa đất" in html and "Land parcels" in html
    layer = Layer.objects.get(slug="schools")
    url = reverse("admin:layers_layer_change", args=[layer.pk])
    form = admin_client_vi.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        attributes='[{"name": "name", "title_vi": "Tên", "title_en": "Name"}, {"name": "headmaster_phone"}]',
        style="{}", legend="[]", source_filter="{}", allowed_roles="", edit_roles="gis_staff", search_fields="name",
    )  # fmt: skip
    response = admin_client_vi.post(url, data)
    assert response.status_code == 200
    assert "headmaster_phone" in response.content.decode()
    data["attributes"] = '[{"name": "name", "title_vi": "Tên", "title_en": "Name"}]'
    data["visibility"] = "staff"
    response = admin_client_vi.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    layer.refresh_from_db()
    assert layer.visibility == "staff" and [a["name"] for a in layer.attributes] == ["name"]


def test_the_bump_version_action_invalidates_a_layers_tiles(admin_client_vi, db):
    layer = Layer.objects.get(slug="schools")
    before = layer.version
    admin_client_vi.post(
        reverse("admin:layers_layer_changelist"), {"action": "bump_version", "_selected_action": [layer.pk]}
    )
    layer.refresh_from_db()
    assert layer.version == before + 1 and layer.data_updated_at is not None


def test_an_admin_edit_is_audited_and_refreshes_the_layer(admin_client_vi, district):
    from layers.models import LayerChange

    school = f.SchoolFactory(name="Trường cũ")
    before = Layer.objects.get(slug="schools").version
    response = admin_client_vi.post(
        reverse("admin:layers_school_change", args=[school.pk]),
        {
            "name": "Trường mới",
            "level": "thcs",
            "ownership": "public",
            "pupils": 500,
            "teachers": 30,
            "classrooms": 14,
            "figures_year": 2024,
            "geom": school.geom.ewkt,
        },  # fmt: skip
    )
    assert response.status_code == 302
    layer = Layer.objects.get(slug="schools")
    assert layer.version == before + 1
    change = LayerChange.objects.get(layer=layer)
    assert change.action == "update" and change.feature_id == str(school.pk) and change.user.username == "root"


def test_the_catalog_admin_rejects_a_graduated_style_without_breaks(admin_client_vi, db):
    layer = Layer.objects.get(slug="schools")
    url = reverse("admin:layers_layer_change", args=[layer.pk])
    form = admin_client_vi.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        attributes='[{"name": "pupils", "title_vi": "Số học sinh", "title_en": "Pupils"}]',
        style='{"kind": "graduated", "field": "pupils"}',
        legend="[]",
        source_filter="{}",
        allowed_roles="",
        edit_roles="gis_staff",
        search_fields="name",
    )
    response = admin_client_vi.post(url, data)
    assert response.status_code == 200 and "breaks" in response.content.decode()
    data["style"] = '{"kind": "graduated", "field": "pupils", "breaks": [200, 500, 1000]}'
    assert admin_client_vi.post(url, data).status_code == 302
    layer.refresh_from_db()
    assert layer.style["breaks"] == [200, 500, 1000]


def test_the_import_history_opens_read_only_without_server_paths(admin_client_vi, db):
    from layers.models import ImportJob

    job = ImportJob.objects.create(
        original_name="truong.geojson", file_path="/srv/private/imports/abc/truong.geojson", status="succeeded",
        report={"inserted": 12, "updated": 3, "rejected": 1, "rejects_file": "/srv/private/imports/abc/rejects.csv"},
    )  # fmt: skip
    html = admin_client_vi.get(reverse("admin:layers_importjob_change", args=[job.pk])).content.decode()
    assert "truong.geojson" in html and "thêm 12, cập nhật 3, loại 1" in html
    assert "/srv/private" not in html
    assert admin_client_vi.get(reverse("admin:layers_importjob_add")).status_code == 403
    assert admin_client_vi.get(reverse("admin:layers_importjob_delete", args=[job.pk])).status_code == 403
